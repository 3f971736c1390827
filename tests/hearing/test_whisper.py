"""faster-whisper tiny.en (the bundled model) on real speech, and model resolution."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.hearing.models import ModelNotFound, resolve_whisper
from support.cli import run_cli
from support.textnorm import wer
from support.wav import read_wav

REFERENCES = {
    "jfk.wav": "And so my fellow Americans, ask not what your country can do for you, "
               "ask what you can do for your country.",
    "whatstheweatherlike.wav": "What's the weather like?",
    "turn_on_the_living_room_lamp.wav": "turn on the living room lamp",
}


@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_transcribes_real_speech(recognizer, data_dir: Path, name: str) -> None:  # type: ignore[no-untyped-def]
    pcm, rate = read_wav(data_dir / name)
    assert rate == 16000
    transcript = recognizer.transcribe(pcm.tobytes(), vad_filter=True)
    assert wer(REFERENCES[name], transcript.text) <= 0.1, transcript.text
    assert transcript.segments and transcript.asr_s > 0
    assert transcript.model == "tiny.en"


def test_transcribe_cli_json(data_dir: Path) -> None:
    result = run_cli("transcribe", str(data_dir / "jfk.wav"), "--json")
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["model"] == "tiny.en"
    assert wer(REFERENCES["jfk.wav"], out["text"]) <= 0.1
    assert [set(s) for s in out["segments"]] == [{"start", "end", "text"}] * len(out["segments"])
    assert out["segments"][0]["start"] < out["segments"][-1]["end"] <= 11.0


def test_model_resolution(tmp_path: Path) -> None:
    bundled = resolve_whisper("tiny.en")
    assert bundled.kind == "bundled" and (Path(bundled.location) / "model.bin").is_file()
    local = resolve_whisper(bundled.location)
    assert local.kind == "path"
    assert resolve_whisper("Systran/faster-whisper-small").kind == "hub"
    with pytest.raises(ModelNotFound, match="does not exist"):
        resolve_whisper(str(tmp_path / "missing"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelNotFound, match=r"missing model\.bin"):
        resolve_whisper(str(tmp_path / "empty"))
