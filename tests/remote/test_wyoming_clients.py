"""Our Wyoming clients against the real other side: pip wyoming-faster-whisper and wyoming-piper, started
here with the bundled Whisper tiny.en and Piper joe voice, as our remote recognizer and voice; a whole
spoken turn through them; a server killed mid-turn; a server that is not there."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.hearing.whisper import WhisperRecognizer
from assistant.remote.wyoming.asr_client import WyomingRecognizer
from assistant.remote.wyoming.link import RemoteError
from assistant.remote.wyoming.tts_client import WyomingSynthesizer
from assistant.speech.base import SynthesisError
from support.cli import run_cli
from support.paths import DATA
from support.textnorm import normalise, wer
from support.wav import read_wav
from support.wyoming_peer import free_port, wav_pcm
from support.wyoming_refs import RefServer, faster_whisper, piper


@pytest.fixture(scope="module")
def refs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RefServer, RefServer]]:
    tmp = tmp_path_factory.mktemp("wyoming-refs")
    asr, tts = faster_whisper(tmp), piper(tmp)
    try:
        yield asr.wait_ready(), tts.wait_ready()
    finally:
        asr.kill()
        tts.kill()


def _to_16k(pcm: bytes, rate: int) -> bytes:
    from wyoming.audio import AudioChunk, AudioChunkConverter

    return AudioChunkConverter(rate=16000, width=2, channels=1).convert(
        AudioChunk(rate=rate, width=2, channels=1, audio=pcm)).audio


def test_remote_recognizer_is_wyoming_faster_whisper(refs: tuple[RefServer, RefServer]) -> None:
    recognizer = WyomingRecognizer(refs[0].uri)
    pcm, _, _, _ = wav_pcm(DATA / "turn_on_the_living_room_lamp.wav")
    transcript = recognizer.transcribe(pcm, initial_prompt="Lumière lamp, Spotify.")
    assert normalise(transcript.text) == normalise("turn on the living room lamp")
    assert transcript.segments and transcript.model == f"wyoming {refs[0].uri}"


def test_remote_voice_is_wyoming_piper(refs: tuple[RefServer, RefServer], recognizer: WhisperRecognizer) -> None:
    voice = WyomingSynthesizer(refs[1].uri, voice="en_US-joe-medium")
    pcm, rate = voice.synthesize("What is the capital of Italy?")
    assert rate == 22050
    assert normalise(recognizer.transcribe(_to_16k(pcm, rate)).text) == normalise("what is the capital of italy")
    assert "en_US-joe-medium" in [v["id"] for v in voice.voices()]


def _simulate(tmp_path: Path, wav: Path, config: str) -> tuple[list[dict[str, object]], Path]:
    path = tmp_path / "config.yaml"
    path.write_text(config)
    out = tmp_path / "replies.wav"
    result = run_cli("--config", str(path), "simulate", str(wav), "--output", str(out), "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)["turns"], out


def test_a_whole_spoken_turn_through_the_reference_servers(refs: tuple[RefServer, RefServer], tmp_path: Path,
                                                           recognizer: WhisperRecognizer) -> None:
    config = (f"asr:\n  engine: wyoming\n  uri: {refs[0].uri}\n"
              f"tts:\n  engine: wyoming\n  uri: {refs[1].uri}\n  voice: en_US-joe-medium\n"
              "llm:\n  backend: none\n")
    turns, out = _simulate(tmp_path, DATA / "what_time_is_it_espeak.wav", config)
    assert len(turns) == 1, turns
    turn = turns[0]
    assert wer("what time is it", str(turn["transcript"])) == 0.0 and turn["handled_by"] == "skill", turn
    pcm, rate = read_wav(out)
    heard = recognizer.transcribe(pcm.tobytes() if rate == 16000 else _to_16k(pcm.tobytes(), rate)).text
    said = re.match(r"It's (\d+):(\d+)", str(turn["reply"]))
    assert said is not None, turn
    # The time came back in the voice: Whisper writes "It's 4:40 PM." as "It's 440 p.m.", "at 6.06pm." or
    # "It's by 44pm." (the hour or the minutes lead a number it heard), or in words
    numbers = re.findall(r"\d+", heard)
    assert any(number.startswith(part) for number in numbers for part in said.groups()) or wer(
        str(turn["reply"]), heard) <= 0.5, (turn["reply"], heard)


def test_a_server_that_is_not_there_fails_the_turn_with_an_apology(tmp_path: Path,
                                                                  recognizer: WhisperRecognizer) -> None:
    config = f"asr:\n  engine: wyoming\n  uri: tcp://127.0.0.1:{free_port()}\nllm:\n  backend: none\n"
    turns, out = _simulate(tmp_path, DATA / "what_time_is_it_espeak.wav", config)
    # the speculative pass found it unreachable; the turn then found it backing off: either is said plainly
    assert len(turns) == 1 and re.search(r"speech recognizer at .* (cannot be reached|is down)",
                                         str(turns[0]["error"])), turns
    pcm, rate = read_wav(out)  # the error earcon, then the local voice's apology
    heard = recognizer.transcribe(_to_16k(pcm.tobytes(), rate) if rate != 16000 else pcm.tobytes()).text
    assert "sorry" in normalise(heard), heard


def test_a_server_killed_mid_turn(tmp_path: Path, recognizer: WhisperRecognizer) -> None:
    server = faster_whisper(tmp_path, threads=1).wait_ready()
    try:
        remote = WyomingRecognizer(server.uri, timeout_s=60)
        pcm, _, _, _ = wav_pcm(DATA / "jfk.wav")  # 11 s: the server is still transcribing when it dies
        failure: list[BaseException] = []

        def turn() -> None:
            try:
                remote.transcribe(pcm)
            except BaseException as exc:
                failure.append(exc)

        worker = threading.Thread(target=turn)
        worker.start()
        time.sleep(0.5)
        server.kill()
        worker.join(timeout=60)
        assert len(failure) == 1 and isinstance(failure[0], RemoteError), failure
        assert str(server.port) in str(failure[0])
        with pytest.raises(RemoteError, match=r"is down|cannot be reached"):  # backing off, or refused: in words
            remote.transcribe(pcm)
    finally:
        server.kill()
    # with a local fallback, the turn is answered anyway
    with_fallback = WyomingRecognizer(server.uri, timeout_s=60, fallback=lambda: recognizer)
    text = with_fallback.transcribe(wav_pcm(DATA / "whatstheweatherlike.wav")[0]).text
    assert normalise(text) == normalise("what's the weather like")


def test_a_voice_server_that_is_not_there_is_a_synthesis_error_or_the_fallback() -> None:
    uri = f"tcp://127.0.0.1:{free_port()}"
    with pytest.raises(SynthesisError, match="cannot be reached"):
        WyomingSynthesizer(uri).synthesize("Hello.")
    from assistant.config.schema import TtsConfig
    from assistant.speech.pyttsx3_engine import Pyttsx3Synthesizer

    pcm, rate = WyomingSynthesizer(uri, fallback=lambda: Pyttsx3Synthesizer(TtsConfig())).synthesize("Hello.")
    assert len(pcm) > rate  # more than half a second of the local voice


def test_a_server_that_accepts_but_never_answers_counts_as_down(caplog: pytest.LogCaptureFixture) -> None:
    import socket

    with socket.socket() as silent:  # listens, accepts (the kernel does), reads nothing, answers nothing
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        remote = WyomingRecognizer(f"tcp://127.0.0.1:{silent.getsockname()[1]}", timeout_s=1.0)
        with pytest.raises(RemoteError, match=r"did not answer within 1 s"):
            remote.transcribe(bytes(32000))
    assert "did not answer within 1 s; trying again in 1 s" in caplog.text
