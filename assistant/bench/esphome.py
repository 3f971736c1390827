"""The ESPHome satellite's own latency, with a local fake of Home Assistant's pipeline (aioesphomeapi's client).

Each run: a real recording of the wake word and a request, played in real time through our pipeline
(WavSource -> Capture -> wake word), streams to the fake; it "hears" the end of speech as soon as the audio up
to the request's last voiced sample has arrived, then sends STT_VAD_END ... TTS_END (a URL on a local HTTP
server) ... RUN_END at once. Measured on the satellite's side:

    speech end -> first pipeline event: the capture time of the frame holding the last voiced sample to
        the arrival of HA's STT_VAD_END (our capture, listen loop, event loop, TCP both ways, the client)
    TTS URL -> first sample: TTS_END's arrival to the first sample handed to the (real-time null) sink
        (fetch, decode, the pipeline's queue)

A real Home Assistant adds its own VAD's silence and its STT/intent/TTS time; those are not ours.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.server
import io
import json
import socket
import tempfile
import threading
import wave
from pathlib import Path
from typing import Any

import numpy as np

from assistant.app.build import Kept, build_pipeline, build_satellite
from assistant.audio.sinks import NullSink
from assistant.audio.sources import WavSource, read_wav_pcm
from assistant.bench.stats import summary
from assistant.config.schema import Config
from assistant.events import Transcript, TranscriptSegment

DATA = Path(__file__).resolve().parents[2] / "tests" / "data"
WAKE, REQUEST, REPLY = "hey_mycroft_test.wav", "whatstheweatherlike.wav", "capital_of_italy_piper.wav"
LEAD_S = 1.0  # silence before the first wake word
GAP_S = 4.0  # between runs: the reply (1.6 s) plays out before the next wake word


class NoRecognizer:
    model_name = "none"

    def transcribe(self, pcm: bytes, *, vad_filter: bool = False, initial_prompt: str | None = None) -> Transcript:
        return Transcript("", (TranscriptSegment(0.0, 0.0, ""),), "none", 0.0)


def last_voiced(samples: np.ndarray, rate: int = 16000) -> int:
    """Index just past the last 10 ms window with speech-like energy."""
    window = rate // 100
    rms = np.sqrt(np.mean(samples[: len(samples) // window * window].astype(np.float64).reshape(-1, window) ** 2,
                          axis=1))
    voiced = np.nonzero(rms > 0.05 * rms.max())[0]
    return int((voiced[-1] + 1) * window) if len(voiced) else len(samples)


def encoded_reply(pcm: bytes, audio_format: str) -> bytes:
    if audio_format == "wav":
        out = io.BytesIO()
        with wave.open(out, "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(16000)
            wav.writeframes(pcm)
        return out.getvalue()
    import av

    out = io.BytesIO()
    with av.open(out, mode="w", format=audio_format) as target:
        stream: Any = target.add_stream(audio_format, rate=16000, layout="mono")
        frame = av.AudioFrame.from_ndarray(np.frombuffer(pcm, dtype="<i2").reshape(1, -1), format="s16",
                                           layout="mono")
        frame.sample_rate = 16000
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            target.mux(packet)
    return out.getvalue()


def serve(body: bytes) -> tuple[http.server.ThreadingHTTPServer, str]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/tts/reply"


async def fake_home_assistant(port: int, runs: int, spoken: bytes, url: str, timeout_s: float) -> int:
    from aioesphomeapi.client import APIClient
    from aioesphomeapi.model import VoiceAssistantEventType

    events = VoiceAssistantEventType
    client = APIClient("127.0.0.1", port, None, client_info="fake Home Assistant")
    await client.connect(login=True)
    heard: list[bytearray] = []
    done = asyncio.Event()

    async def handle_start(conversation_id: str, flags: int, settings: Any, phrase: str | None) -> int | None:
        heard.append(bytearray())
        client.send_voice_assistant_event(events.VOICE_ASSISTANT_RUN_START, None)
        return 0

    async def handle_stop(abort: bool) -> None:
        pass

    async def handle_audio(data: bytes, data2: bytes | None) -> None:
        audio = heard[-1]
        if spoken in audio:
            return  # already answered; the rest until our end of speech reaches us is ignored
        audio.extend(data)
        if spoken in audio:  # the fake VAD: the request has been heard up to its last voiced sample
            for kind, payload in ((events.VOICE_ASSISTANT_STT_VAD_END, None),
                                  (events.VOICE_ASSISTANT_STT_END, {"text": "what's the weather like"}),
                                  (events.VOICE_ASSISTANT_INTENT_START, None),
                                  (events.VOICE_ASSISTANT_INTENT_END, {"conversation_id": "bench"}),
                                  (events.VOICE_ASSISTANT_TTS_START, None),
                                  (events.VOICE_ASSISTANT_TTS_END, {"url": url}),
                                  (events.VOICE_ASSISTANT_RUN_END, None)):
                client.send_voice_assistant_event(kind, payload)
            if len(heard) >= runs:
                done.set()

    client.subscribe_voice_assistant(handle_start=handle_start, handle_stop=handle_stop, handle_audio=handle_audio)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(done.wait(), timeout_s)
    await asyncio.sleep(GAP_S)  # the last reply plays
    await client.disconnect()
    return len(heard)


def run(runs: int, audio_format: str, data: Path) -> dict[str, Any]:
    wake, request = read_wav_pcm(data / WAKE), read_wav_pcm(data / REQUEST)
    reply = read_wav_pcm(data / REPLY)
    request_samples = np.frombuffer(request, dtype="<i2")
    spoken = request_samples[: last_voiced(request_samples)].tobytes()
    gap = bytes(int(GAP_S * 16000) * 2)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    config = Config.model_validate({
        "tts": {"engine": "null"}, "llm": {"backend": "none"},
        "earcons": {"listening": False, "thinking": False, "error": False},
        "listen": {"mode": "wake_word", "wake_word": {"models": ["hey_mycroft"], "confirm_from": None}},
        "satellite": {"esphome": {"enabled": True, "host": "127.0.0.1", "port": port, "name": "bench"}}})
    server, url = serve(encoded_reply(reply, audio_format))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "room.wav"
        with wave.open(str(path), "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(16000)
            wav.writeframes(bytes(int(LEAD_S * 16000) * 2) + (wake + request + gap) * runs)
        pipeline = build_pipeline(config, WavSource(path, realtime=True, tail_silence_s=GAP_S), NullSink(True),
                                  kept=Kept(recognizer=NoRecognizer()))
        satellite = build_satellite(config, pipeline, advertise=False)
        assert satellite is not None
        thread = threading.Thread(target=pipeline.run, daemon=True)
        thread.start()
        try:
            started = asyncio.run(fake_home_assistant(port, runs, spoken, url, runs * 8.0 + 10))
        finally:
            satellite.stop()
            pipeline.stop()
            thread.join(10)
            pipeline.close()
            server.shutdown()
    first_event: list[float] = []
    first_sample: list[float] = []
    for index, record in enumerate(satellite.voice.runs):
        speech_end_s = LEAD_S + index * (len(wake + request + gap) / 32000) + (len(wake) + len(spoken)) / 32000
        captured = next((at for end_s, at in record.sent if end_s >= speech_end_s - 1e-6), None)
        vad_end = next((at for kind, at in record.events if kind == 12), None)  # STT_VAD_END
        if captured is not None and vad_end is not None:
            first_event.append((vad_end - captured) * 1000)
        if record.tts_url_at is not None and record.first_sample_at is not None:
            first_sample.append((record.first_sample_at - record.tts_url_at) * 1000)
    return {"format": audio_format, "runs": runs, "started": started,
            "speech_end_to_first_event_ms": summary(first_event), "tts_url_to_first_sample_ms": summary(first_sample)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="benchmarks/esphome_latency.py", description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="turns per reply format")
    parser.add_argument("--format", dest="formats", action="append", choices=["wav", "flac", "mp3"],
                        help="what the TTS URL serves (repeatable; default wav and flac)")
    parser.add_argument("--data", type=Path, default=DATA, help="folder with the recordings (tests/data)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    results = [run(args.runs, audio_format, args.data) for audio_format in args.formats or ["wav", "flac"]]
    if args.json:
        print(json.dumps(results, indent=2))
        return 0
    print("| reply format | runs | speech end -> first event: median | p90 | TTS URL -> first sample: median | p90 |")
    print("|---|---|---|---|---|---|")
    for result in results:
        event, sample = result["speech_end_to_first_event_ms"], result["tts_url_to_first_sample_ms"]
        print(f"| {result['format']} | {result['runs']} | {event.get('median', float('nan')):.1f} | "
              f"{event.get('p90', float('nan')):.1f} | {sample.get('median', float('nan')):.1f} | "
              f"{sample.get('p90', float('nan')):.1f} |")
    return 0
