"""`assistant wake-words`: the bundled models, where the configured ones fire in a recording, and a model
that does not exist refused in one line (also by `simulate`, which builds the daemon's stages)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from assistant.config.schema import EX_CONFIG
from support.cli import run_cli
from support.wav import read_wav, write_wav


def test_lists_the_bundled_models() -> None:
    result = run_cli("wake-words", "--json")
    assert result.returncode == 0, result.stderr
    listed = {(m["engine"], m["name"]): m for m in json.loads(result.stdout)["wake_words"]}
    assert listed["micro", "okay_nabu"]["phrase"] == "Okay Nabu" and ("openwakeword", "hey_rhasspy") in listed
    table = run_cli("wake-words").stdout
    assert 'okay_nabu      micro         "Okay Nabu" (threshold 0.85)' in table


def test_finds_the_configured_words_in_a_recording(data_dir: Path, tmp_path: Path) -> None:
    silence = np.zeros(16000, dtype=np.int16)
    parts = [silence, read_wav(data_dir / "alexa_test.wav")[0], silence, silence, silence,
             read_wav(data_dir / "hey_mycroft_test.wav")[0], silence]
    wav = write_wav(tmp_path / "both.wav", np.concatenate(parts))
    result = run_cli("wake-words", str(wav), "--model", "alexa", "--model", "hey_mycroft", "--json")
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)["detections"]
    assert [d["model"] for d in found] == ["alexa", "hey_mycroft"] and found[0]["end_s"] < found[1]["end_s"]
    only = run_cli("wake-words", str(wav), "--model", "okay_nabu", "--json")
    assert json.loads(only.stdout)["detections"] == []


def test_a_model_that_does_not_exist_is_one_clear_line(data_dir: Path, tmp_path: Path) -> None:
    result = run_cli("wake-words", str(data_dir / "alexa_test.wav"), "--model", "hey_computer")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip() == ("error: no bundled micro wake word 'hey_computer'; bundled: alexa, hey_jarvis, "
                                     "hey_mycroft, okay_nabu (or give the path of a model's .json file)")
    config = tmp_path / "config.yaml"
    config.write_text("listen:\n  mode: wake_word\n  wake_word:\n    models: [hey_computer]\ntts:\n  engine: null\n"
                      "llm:\n  backend: none\n")
    simulated = run_cli("--config", str(config), "simulate", str(data_dir / "alexa_test.wav"))
    assert simulated.returncode == EX_CONFIG and "Traceback" not in simulated.stderr
    assert "listen.wake_word.models: no bundled micro wake word 'hey_computer'" in simulated.stderr
