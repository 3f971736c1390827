"""The voice-assistant flow with Home Assistant's pipeline (brain: home_assistant), driven by Home Assistant's
own client: a real recording of the wake word and a request, fed through our audio source, wakes the
satellite; HA gets the start request with the wake phrase and the request's audio, sends its pipeline events
and a TTS URL served by a local HTTP server, and the reply plays on our sink. Then a conversation that goes
on (a second run without a wake word), an announcement, timers and the media player."""

from __future__ import annotations

import asyncio
import socket
import struct
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from aioesphomeapi import APIClient, MediaPlayerCommand, VoiceAssistantEventType, VoiceAssistantTimerEventType
from aioesphomeapi.model import VoiceAssistantAudioSettings

from assistant.remote.esphome.device import MEDIA_PLAYER_KEY
from assistant.remote.esphome.frames import Plaintext
from assistant.remote.esphome.messages import VA_API_AUDIO, message_type, pb
from assistant.speech.streaming import scale
from support.esphome import RecordingSink, RoomSpeaker, Running, running, serving
from support.wav import read_wav

E = VoiceAssistantEventType
T = VoiceAssistantTimerEventType


def gap(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * 16000), dtype=np.int16)


class HomeAssistant:
    """The voice-assistant side of Home Assistant's ESPHome integration, as far as these tests need it."""

    def __init__(self, port: int) -> None:
        self.client = APIClient("127.0.0.1", port, None, client_info="Home Assistant test")
        self.starts: list[str | None] = []
        self.stops: list[bool] = []
        self.audio = bytearray()
        self.offsets: list[int] = []  # where each run's audio begins in ``audio``

    async def connect(self) -> None:
        await self.client.connect(login=True)
        await self.client.device_info()

        async def handle_start(conversation_id: str, flags: int, settings: VoiceAssistantAudioSettings,
                               wake_word_phrase: str | None) -> int | None:
            self.starts.append(wake_word_phrase)
            self.offsets.append(len(self.audio))
            return 0  # the audio comes over the API

        async def handle_stop(abort: bool) -> None:
            self.stops.append(abort)

        async def handle_audio(data: bytes, data2: bytes | None) -> None:
            self.audio.extend(data)

        self.client.subscribe_voice_assistant(handle_start=handle_start, handle_stop=handle_stop,
                                              handle_audio=handle_audio)

    def send(self, *events: tuple[E, dict[str, str] | None]) -> None:
        for kind, data in events:
            self.client.send_voice_assistant_event(kind, data)


async def until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        await asyncio.sleep(0.02)


def played(sink: RecordingSink) -> list[tuple[bytes, int]]:
    return [(pcm, rate) for pcm, rate, _ in sink.played]


@pytest.fixture(scope="module")
def clips(data_dir: Path) -> dict[str, np.ndarray]:
    names = ["hey_mycroft_test", "whatstheweatherlike", "capital_of_italy_piper", "what_time_is_it_espeak"]
    return {name: read_wav(data_dir / f"{name}.wav")[0] for name in names}


def test_a_turn_answered_by_home_assistant(tmp_path: Path, clips: dict[str, np.ndarray]) -> None:
    request = clips["whatstheweatherlike"]
    reply = clips["capital_of_italy_piper"]  # Piper's voice: what HA's TTS URL would serve
    audio = np.concatenate([gap(1.0), clips["hey_mycroft_test"], request, gap(1.0)])
    files = {"/tts/reply.wav": (Path(__file__).parents[2] / "data" / "capital_of_italy_piper.wav").read_bytes()}

    async def session(sat: Running, url: str) -> HomeAssistant:
        sink, voice = sat.sink, sat.satellite.voice
        ha = HomeAssistant(sat.port)
        await ha.connect()
        sat.start_audio()
        await until(lambda: len(ha.starts) == 1)
        assert ha.starts == ["Hey Mycroft"]
        await until(lambda: request.tobytes() in ha.audio)  # HA's VAD would hear the end of it now
        tts = url + "/tts/reply.wav"  # HA's streaming TTS: announced at RUN_START, started mid-intent
        ha.send((E.VOICE_ASSISTANT_RUN_START, {"url": tts}), (E.VOICE_ASSISTANT_STT_START, None),
                (E.VOICE_ASSISTANT_STT_VAD_START, None), (E.VOICE_ASSISTANT_STT_VAD_END, None),
                (E.VOICE_ASSISTANT_STT_END, {"text": "What's the weather like?"}),
                (E.VOICE_ASSISTANT_INTENT_START, None),
                (E.VOICE_ASSISTANT_INTENT_PROGRESS, {"tts_start_streaming": "1"}),
                (E.VOICE_ASSISTANT_INTENT_END, {"conversation_id": "c1", "continue_conversation": "1"}),
                (E.VOICE_ASSISTANT_TTS_START, {"tts_input": "It is sunny."}),
                (E.VOICE_ASSISTANT_TTS_END, {"url": tts}), (E.VOICE_ASSISTANT_RUN_END, None))
        await until(lambda: len(sink.played) >= 1)
        sent = len(voice.runs[0].sent)
        await asyncio.sleep(0.3)
        assert len(voice.runs[0].sent) == sent  # the first run's streaming stopped at HA's end of speech
        streamed = len(ha.audio)
        # the conversation goes on: a second run, without a wake word, once the reply has played
        await until(lambda: len(ha.starts) == 2)
        assert ha.starts[1] is None
        await until(lambda: len(ha.audio) > streamed)  # the follow-up's audio streams
        ha.send((E.VOICE_ASSISTANT_RUN_START, None), (E.VOICE_ASSISTANT_ERROR, {"code": "stt-no-text-recognized",
                                                                               "message": "No text"}),
                (E.VOICE_ASSISTANT_RUN_END, None))
        await ha.client.disconnect()
        return ha

    with running(tmp_path, audio=audio) as sat, serving(files) as web:
        asyncio.run(session(sat, web.url))
        assert web.requests == ["/tts/reply.wav"]  # fetched once: TTS_END repeats the streamed URL
        assert played(sat.sink) == [(reply.tobytes(), 16000)]  # exactly the served reply, once
        assert sat.pipeline.stats.turns == 0  # the local pipeline answered nothing
        assert not sat.satellite.voice.streaming.is_set()
        run = sat.satellite.voice.runs[0]
        assert run.tts_url_at is not None and run.first_sample_at is not None and run.sent


def test_announcement_timers_and_the_media_player(tmp_path: Path, clips: dict[str, np.ndarray]) -> None:
    data = Path(__file__).parents[2] / "data"
    files = {"/announce.wav": (data / "what_time_is_it_espeak.wav").read_bytes(),
             "/chime.wav": (data / "capital_of_italy_piper.wav").read_bytes()}

    async def session(port: int, sat_sink: RecordingSink, url: str, volume: Callable[[], float]) -> None:
        ha = HomeAssistant(port)
        await ha.connect()
        finished = await ha.client.send_voice_assistant_announcement_await_response(
            url + "/announce.wav", 30, text="What time is it?", preannounce_media_id=url + "/chime.wav")
        assert finished.success
        assert played(sat_sink) == [(clips["capital_of_italy_piper"].tobytes(), 16000),
                                    (clips["what_time_is_it_espeak"].tobytes(), 16000)]
        ha.client.send_voice_assistant_timer_event(T.VOICE_ASSISTANT_TIMER_STARTED, "t1", "pasta",
                                                   600, 600, True)
        ha.client.send_voice_assistant_timer_event(T.VOICE_ASSISTANT_TIMER_FINISHED, "t1", "pasta",
                                                   600, 0, False)
        await until(lambda: len(sat_sink.played) == 3)
        ring, rate = played(sat_sink)[2]
        assert rate == 22050 and len(ring) > 22050  # rung here, over a second of it
        ha.client.media_player_command(MEDIA_PLAYER_KEY, volume=0.5)
        await until(lambda: volume() == 0.5)
        ha.client.media_player_command(MEDIA_PLAYER_KEY, media_url=url + "/announce.wav", announcement=True)
        await until(lambda: len(sat_sink.played) == 4)
        assert played(sat_sink)[3] == (scale(clips["what_time_is_it_espeak"].tobytes(), 0.5), 16000)
        await ha.client.disconnect()

    with running(tmp_path) as sat, serving(files) as web:
        asyncio.run(session(sat.port, sat.sink, web.url, lambda: sat.pipeline.volume))
        assert web.requests == ["/chime.wav", "/announce.wav", "/announce.wav"]
        assert sat.satellite.voice.announcements == 1


def test_home_assistant_gone_mid_stream(tmp_path: Path, clips: dict[str, np.ndarray]) -> None:
    """A client that drops while the request streams: the satellite stops streaming, keeps listening, and
    the next Home Assistant connection gets the next wake word."""
    wake, request = clips["hey_mycroft_test"], clips["whatstheweatherlike"]
    audio = np.concatenate([gap(1.0), wake, request, gap(3.0), wake, request, gap(1.0)])

    async def first(sat: Running) -> None:  # HA's messages on a raw socket, so that it can vanish with a reset
        framing = Plaintext()
        reader, writer = await asyncio.open_connection("127.0.0.1", sat.port)
        for message in (pb.HelloRequest(client_info="vanishing"), pb.SubscribeVoiceAssistantRequest(
                subscribe=True, flags=VA_API_AUDIO)):
            writer.write(framing.encode(message_type(message), message.SerializeToString()))
        await framing.read(reader)  # the HelloResponse: the subscription has been taken too
        sat.start_audio()
        audio = 0
        while audio < 8000:
            msg_type, payload = await framing.read(reader)
            if msg_type == message_type(pb.VoiceAssistantRequest()):
                writer.write(framing.encode(message_type(pb.VoiceAssistantResponse()), b""))  # port 0: the API
            elif msg_type == message_type(pb.VoiceAssistantAudio()):
                audio += len(payload)
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # close = reset
        writer.transport.abort()

    async def second(port: int) -> list[str | None]:
        ha = HomeAssistant(port)
        await ha.connect()
        await until(lambda: len(ha.starts) == 1)
        await until(lambda: request.tobytes() in ha.audio)
        ha.send((E.VOICE_ASSISTANT_STT_VAD_END, None), (E.VOICE_ASSISTANT_RUN_END, None))
        await ha.client.disconnect()
        return ha.starts

    with running(tmp_path, audio=audio) as sat:
        asyncio.run(first(sat))
        deadline = time.monotonic() + 10
        while sat.satellite.voice.subscriber is not None and time.monotonic() < deadline:
            time.sleep(0.05)  # the server notices the reset on its own loop
        assert sat.satellite.voice.subscriber is None and not sat.satellite.voice.streaming.is_set()
        assert asyncio.run(second(sat.port)) == ["Hey Mycroft"]


def test_a_local_brain_answers_itself_while_home_assistant_can_announce(tmp_path: Path,
                                                                        clips: dict[str, np.ndarray]) -> None:
    audio = np.concatenate([gap(1.0), clips["hey_mycroft_test"], clips["whatstheweatherlike"], gap(1.0)])
    files = {"/announce.wav": (Path(__file__).parents[2] / "data" / "what_time_is_it_espeak.wav").read_bytes()}

    async def session(sat: Running, url: str) -> HomeAssistant:
        turns = lambda: sat.pipeline.stats.turns  # noqa: E731
        ha = HomeAssistant(sat.port)
        await ha.connect()
        sat.start_audio()
        await until(lambda: turns() >= 1)  # our own pipeline heard the request
        finished = await ha.client.send_voice_assistant_announcement_await_response(url + "/announce.wav", 30)
        assert finished.success
        await ha.client.disconnect()
        return ha

    with running(tmp_path, audio=audio, brain="local", heard="what time is it") as sat, serving(files) as web:
        ha = asyncio.run(session(sat, web.url))
        assert ha.starts == [] and not ha.audio  # Home Assistant's pipeline was never asked
        turn = sat.pipeline.stats.last_turns[0]
        assert turn.wake_word == "hey_mycroft" and turn.intent == "time", turn.as_dict()
        assert played(sat.sink)[-1] == (clips["what_time_is_it_espeak"].tobytes(), 16000)


def test_the_wake_word_over_home_assistants_reply_cuts_it_and_starts_a_run(tmp_path: Path, data_dir: Path,
                                                                           clips: dict[str, np.ndarray]) -> None:
    """Our barge-in rule on HA's reply: the wake word said while it plays (from a speaker in the room) cuts it,
    and what follows goes to Home Assistant as a new run."""
    wake, request = clips["hey_mycroft_test"], clips["whatstheweatherlike"]
    audio = np.concatenate([gap(1.0), wake, request, gap(1.5), wake, request, gap(1.0)])
    files = {"/tts/long.wav": (data_dir / "jfk.wav").read_bytes()}  # 11 s: still playing at the second wake word

    async def session(sat: Running, url: str) -> list[str | None]:
        ha = HomeAssistant(sat.port)
        await ha.connect()
        sat.start_audio()
        await until(lambda: len(ha.starts) == 1 and request.tobytes() in ha.audio)
        ha.send((E.VOICE_ASSISTANT_STT_VAD_END, None), (E.VOICE_ASSISTANT_TTS_END, {"url": url + "/tts/long.wav"}),
                (E.VOICE_ASSISTANT_RUN_END, None))
        await until(lambda: len(ha.starts) == 2)
        # the second request streams; its first moments may be lost while our cut reply's echo dies away
        # (turn.echo_tail_ms: the mic is still deaf then)
        await until(lambda: request[8000:].tobytes() in ha.audio[ha.offsets[1]:])
        ha.send((E.VOICE_ASSISTANT_STT_VAD_END, None), (E.VOICE_ASSISTANT_RUN_END, None))
        await ha.client.disconnect()
        return ha.starts

    speaker = RoomSpeaker()
    with running(tmp_path, audio=audio, sink=speaker) as sat, serving(files) as web:
        assert asyncio.run(session(sat, web.url)) == ["Hey Mycroft", "Hey Mycroft"]
        speaker.wait_for(1)
    assert speaker.cut == [True]  # the reply was cut by the wake word


def test_the_media_players_stop_cuts_what_plays_and_timers_are_kept(tmp_path: Path, data_dir: Path) -> None:
    files = {"/long.wav": (data_dir / "jfk.wav").read_bytes()}  # 11 s

    async def session(sat: Running, url: str) -> None:
        ha = HomeAssistant(sat.port)
        await ha.connect()
        ha.client.send_voice_assistant_timer_event(T.VOICE_ASSISTANT_TIMER_STARTED, "t1", "tea", 300, 300, True)
        ha.client.send_voice_assistant_timer_event(T.VOICE_ASSISTANT_TIMER_STARTED, "t2", "eggs", 420, 420, True)
        ha.client.send_voice_assistant_timer_event(T.VOICE_ASSISTANT_TIMER_UPDATED, "t1", "tea", 300, 120, False)
        ha.client.send_voice_assistant_timer_event(T.VOICE_ASSISTANT_TIMER_CANCELLED, "t2", "eggs", 420, 400, False)

        def timers() -> dict[str, tuple[str, int, int, bool]]:
            # Copied first: the satellite's thread adds and removes timers while we look.
            known = dict(sat.satellite.voice.timers)
            return {key: (t.name, t.total_s, t.left_s, t.active) for key, t in known.items()}

        # Waits for the last event's effect: "t2 gone" alone is also true before t2 has started.
        await until(lambda: timers() == {"t1": ("tea", 300, 120, False)})
        ha.client.media_player_command(MEDIA_PLAYER_KEY, media_url=url + "/long.wav")
        await until(lambda: len(sat.sink.played) == 1)
        ha.client.media_player_command(MEDIA_PLAYER_KEY, command=MediaPlayerCommand.STOP)
        await until(lambda: len(speaker.cut) == 1)
        await ha.client.disconnect()

    speaker = RoomSpeaker()
    with running(tmp_path, sink=speaker) as sat, serving(files) as web:
        asyncio.run(session(sat, web.url))
    assert speaker.cut == [True]
