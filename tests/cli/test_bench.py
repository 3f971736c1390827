"""`assistant bench`: each benchmark runs on real recordings and reports sane, self-consistent numbers."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from assistant.cli.bench import main

LAMP = "turn on the living room lamp"


@pytest.fixture
def config(tmp_path: Path) -> str:
    path = tmp_path / "config.yaml"
    path.write_text("logging:\n  level: WARNING\nllm:\n  backend: none\n")  # commands and skills only
    return str(path)


def run_json(capsys: pytest.CaptureFixture[str], what: str, *args: str) -> dict[str, Any]:
    assert main(what, [*args, "--json"]) == 0
    result: dict[str, Any] = json.loads(capsys.readouterr().out)
    return result


def test_latency_table_on_a_real_command(capsys: pytest.CaptureFixture[str], config: str, data_dir: Path) -> None:
    result = run_json(capsys, "latency", "-c", config, str(data_dir / "turn_on_the_living_room_lamp.wav"),
                      "--reference", LAMP)
    [utterance] = result["utterances"]
    assert result["wer"] == 0.0 and utterance["transcript"].lower().startswith("turn on the living room lamp")
    lat = utterance["latency_ms"]
    # each stage ends after the one before it; the endpoint waits at least latency.adaptive_min_ms (200 ms: a
    # finished sentence ends the turn then, hearing/end_of_turn.py) or the hangover (a late wake-up of the
    # capture thread on a loaded machine shortens what is measured by up to ~100 ms)
    assert 100 <= lat["endpoint"] <= lat["transcript"] <= lat["reply_text"] <= lat["reply_audio"]
    assert result["summary"]["reply_audio"]["median"] == lat["reply_audio"]
    assert utterance["cpu_s"] > 0 and result["peak_rss_mib"] > 100
    assert result["config"]["vad"]["hangover_ms"] == 500


def test_hangover_override_moves_the_endpoint(capsys: pytest.CaptureFixture[str], config: str,
                                              data_dir: Path) -> None:
    result = run_json(capsys, "latency", "-c", config, "--hangover-ms", "300",
                      str(data_dir / "whatstheweatherlike.wav"), "--reference", "what's the weather like")
    lat = result["utterances"][0]["latency_ms"]
    assert result["config"]["vad"]["hangover_ms"] == 300 and 200 <= lat["endpoint"] < 450


def test_barge_in_is_detected_on_a_real_voice_and_not_on_our_own(capsys: pytest.CaptureFixture[str],
                                                                 config: str, data_dir: Path) -> None:
    result = run_json(capsys, "barge-in", "-c", config, str(data_dir / "turn_on_the_living_room_lamp.wav"),
                      str(data_dir / "whatstheweatherlike.wav"))
    for state in ("cold", "warm"):  # a fresh gate, and one that has heard a reply in this room
        assert result[state]["false_trigger_on_own_voice"] is False and result[state]["missed"] == 0
        assert all(0 < row[f"{state}_ms"] < 1000 for row in result["utterances"])


def test_tts_first_audio_is_measured(capsys: pytest.CaptureFixture[str], config: str) -> None:
    result = run_json(capsys, "tts", "-c", config, "--runs", "3")
    for row in result["runs"]:
        assert row["n"] == 3 and 0 < row["median"] <= row["max"] and math.isfinite(row["p90"])


def test_idle_pipeline_on_silence(capsys: pytest.CaptureFixture[str], config: str) -> None:
    result = run_json(capsys, "idle", "-c", config, "--seconds", "3")
    assert result["turns"] == 0 and 2.5 <= result["seconds"] <= 10
    assert 0 <= result["cpu_percent_of_one_core"] < 100 and result["rss_mib"] > 50


def test_missing_manifest_is_one_clear_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main("latency", ["--manifest", str(tmp_path / "none.tsv")]) == 1
    assert "no manifest at" in capsys.readouterr().err
