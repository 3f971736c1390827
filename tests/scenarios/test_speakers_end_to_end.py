"""Who speaks, end to end on real recordings of two people (SpeechBrain's test speakers) and a third
stranger, through the whole pipeline with the real encoder and Whisper: a command only Alice may run is
done for her voice, refused for Bob's and for a voice nobody enrolled; `assistant speakers` and
`simulate --json` as a user runs them."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import numpy as np
import pytest

from assistant.app.build import Kept, build_pipeline
from assistant.audio.sinks import NullSink
from assistant.audio.sources import WavSource, read_wav_pcm
from assistant.config.schema import Config
from assistant.events import TurnReport
from assistant.hearing.speakers.encoder import shared_encoder
from assistant.hearing.speakers.store import VoiceStore
from assistant.hearing.whisper import Recognizer
from assistant.service.logs import format_turn
from support.cli import run_cli
from support.wav import write_wav

# "Mend the coat before you go out" (spk2_snt4) and "The lamp" speaker's "turn on the living room lamp"
RESTRICTED = [{"name": "mend_coat", "templates": ["mend the coat before you go out"], "speakers": ["alice"],
               "action": {"type": "say", "reply": "Mending it now."}},
              {"name": "lamp_on", "templates": ["turn on the living room lamp"], "speakers": ["alice"],
               "action": {"type": "say", "reply": "Lamp on."}}]


def enrol(store: VoiceStore, data_dir: Path, name: str, person: int) -> None:
    encoder = shared_encoder()
    found = [encoder.embed(read_wav_pcm(data_dir / f"speechbrain_spk{person}_snt{n}.wav")) for n in (1, 2, 3)]
    store.enroll(name, [e for e in found if e is not None])


@pytest.fixture
def state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> VoiceStore:
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    monkeypatch.delenv("STATE_DIRECTORY", raising=False)
    return VoiceStore()


def said(tmp_path: Path, recognizer: Recognizer, data_dir: Path, recording: str) -> TurnReport:
    pcm = np.frombuffer(read_wav_pcm(data_dir / recording), dtype=np.int16)
    silence = np.zeros(16000, dtype=np.int16)
    wav = write_wav(tmp_path / "room.wav", np.concatenate([silence, pcm, silence, silence]))
    config = Config.model_validate({"tts": {"engine": "null"}, "llm": {"backend": "none"},
                                    "commands": {"commands": RESTRICTED},
                                    "skills": {"timers_file": str(tmp_path / "timers.json")}})
    pipeline = build_pipeline(config, WavSource(wav, realtime=False), NullSink(), kept=Kept(recognizer=recognizer))
    try:
        pipeline.run()
    finally:
        pipeline.close()
    assert len(pipeline.stats.last_turns) == 1, [t.as_dict() for t in pipeline.stats.last_turns]
    return pipeline.stats.last_turns[0]


def test_the_named_voice_may_run_it(tmp_path: Path, recognizer: Recognizer, data_dir: Path,
                                    state: VoiceStore) -> None:
    enrol(state, data_dir, "alice", 2)  # the speaker of the command recording is alice here...
    enrol(state, data_dir, "bob", 1)
    turn = said(tmp_path, recognizer, data_dir, "speechbrain_spk2_snt4.wav")
    assert (turn.speaker, turn.intent, turn.reply) == ("alice", "mend_coat", "Mending it now."), turn.as_dict()
    assert turn.as_dict()["speaker"] == "alice" and " speaker=alice " in format_turn(turn)


def test_another_enrolled_voice_is_refused(tmp_path: Path, recognizer: Recognizer, data_dir: Path,
                                           state: VoiceStore) -> None:
    enrol(state, data_dir, "alice", 1)  # ...and bob here: the same words, another person
    enrol(state, data_dir, "bob", 2)
    turn = said(tmp_path, recognizer, data_dir, "speechbrain_spk2_snt4.wav")
    assert (turn.speaker, turn.intent, turn.reply) == ("bob", "mend_coat", "Sorry, only Alice can do that."), \
        turn.as_dict()


def test_an_unknown_voice_is_refused(tmp_path: Path, recognizer: Recognizer, data_dir: Path,
                                     state: VoiceStore) -> None:
    enrol(state, data_dir, "alice", 1)
    enrol(state, data_dir, "bob", 2)
    turn = said(tmp_path, recognizer, data_dir, "turn_on_the_living_room_lamp.wav")  # nobody enrolled
    assert (turn.speaker, turn.intent, turn.reply) == (None, "lamp_on", "Sorry, only Alice can do that."), \
        turn.as_dict()
    assert turn.speaker_score is not None and " speaker=unknown " in format_turn(turn)


def test_enrol_list_identify_simulate_and_remove_from_the_command_line(tmp_path: Path, data_dir: Path) -> None:
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state")}
    env.pop("STATE_DIRECTORY", None)
    files = [str(data_dir / f"speechbrain_spk1_snt{n}.wav") for n in (1, 2, 3)]
    enrolled = run_cli("speakers", "enroll", "Alice", *files, env=env)
    assert enrolled.returncode == 0 and "enrolled alice from 3 utterances" in enrolled.stdout, enrolled.stderr
    voices = tmp_path / "state" / "assistant" / "voices.json"
    assert stat.S_IMODE(voices.stat().st_mode) == 0o600
    listed = json.loads(run_cli("speakers", "list", "--json", env=env).stdout)
    assert [(s["name"], s["utterances"]) for s in listed["speakers"]] == [("alice", 3)]
    known = json.loads(run_cli("speakers", "identify", "--json", str(data_dir / "speechbrain_spk1_snt4.wav"),
                               str(data_dir / "whatstheweatherlike.wav"), env=env).stdout)
    assert [r["speaker"] for r in known["results"]] == ["alice", None]
    config = tmp_path / "config.yaml"
    config.write_text("tts: {engine: null}\nllm: {backend: none}\n")
    wav = write_wav(tmp_path / "said.wav", np.concatenate([
        np.zeros(8000, dtype=np.int16), np.frombuffer(read_wav_pcm(data_dir / "speechbrain_spk1_snt4.wav"),
                                                      dtype=np.int16), np.zeros(16000, dtype=np.int16)]))
    simulated = run_cli("-c", str(config), "simulate", str(wav), "--json", env=env)
    assert simulated.returncode == 0, simulated.stderr
    assert [t["speaker"] for t in json.loads(simulated.stdout)["turns"]] == ["alice"]
    bad = run_cli("speakers", "enroll", "bob", str(data_dir / "nope.wav"), env=env)
    assert bad.returncode == 1 and bad.stderr.startswith("error: ") and "no such file" in bad.stderr
    assert run_cli("speakers", "remove", "alice", env=env).returncode == 0
    assert json.loads(run_cli("speakers", "list", "--json", env=env).stdout)["speakers"] == []
    gone = run_cli("speakers", "remove", "alice", env=env)
    assert gone.returncode == 1 and "no voice enrolled as 'alice'" in gone.stderr


def test_enrol_by_recording_prompted_sentences(tmp_path: Path, data_dir: Path) -> None:
    """--record takes one utterance per prompt from the configured input (here a WAV file as the microphone)."""
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state")}
    env.pop("STATE_DIRECTORY", None)
    gap = np.zeros(16000, dtype=np.int16)
    parts = [np.frombuffer(read_wav_pcm(data_dir / f"speechbrain_spk2_snt{n}.wav"), dtype=np.int16) for n in (1, 2, 3)]
    mic = write_wav(tmp_path / "mic.wav", np.concatenate([gap, parts[0], gap, parts[1], gap, parts[2], gap, gap]))
    config = tmp_path / "config.yaml"
    config.write_text(f"audio: {{source: wav, input_wav: '{mic}', realtime: false}}\n")
    recorded = run_cli("-c", str(config), "speakers", "enroll", "bob", "--record", env=env)
    assert recorded.returncode == 0, recorded.stderr
    assert recorded.stdout.count("Say: ") == 3 and "enrolled bob from 3 utterances" in recorded.stdout
    known = json.loads(run_cli("speakers", "identify", "--json", str(data_dir / "speechbrain_spk2_snt4.wav"),
                               env=env).stdout)
    assert known["results"][0]["speaker"] == "bob"
    short = run_cli("-c", str(config), "speakers", "enroll", "bob", "--record", "--count", "4", env=env)
    assert short.returncode == 1 and "the input ended after 3 of 4 sentences" in short.stderr, short.stderr
