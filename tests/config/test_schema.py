"""Config loading: defaults, the documented default file, search order, env expansion, clear errors."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest

from assistant.config.doc import documented_default
from assistant.config.schema import EX_CONFIG, Config, ConfigError, load, validate
from support.cli import run_cli
from support.paths import REPO

ROOT = REPO


def test_documented_default_file_is_current_and_complete() -> None:
    text = (ROOT / "config" / "assistant.yaml").read_text()
    assert text == documented_default(), "regenerate with: assistant config default > config/assistant.yaml"
    import yaml

    data = yaml.safe_load(text)
    assert validate(data) == Config()
    # every key of every section is present in the file, each with a comment
    for section in Config.model_fields:
        assert section in data
        for key in type(getattr(Config(), section)).model_fields:
            assert key in data[section], f"{section}.{key} missing"
    lines = text.splitlines()
    for previous, line in itertools.pairwise(lines):
        if not line.strip() or line.strip().startswith("#"):
            continue
        if line.rstrip().endswith(":"):  # a section: its description is the comment line above
            assert previous.strip().startswith("# "), f"no comment above: {line}"
        else:
            assert "  # " in line, f"no comment on: {line}"


def test_unknown_keys_and_bad_values_name_the_key_path(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("vad:\n  hangover_ms: -5\n  hangvoer_ms: 3\naudio:\n  sink: speakers\nasr:\n  beam_size: two\n")
    with pytest.raises(ConfigError) as info:
        load(str(bad))
    problems = info.value.problems
    assert "vad.hangover_ms: must be >= 0" in problems
    assert any(p.startswith("vad.hangvoer_ms: unknown key") for p in problems)
    assert any(p.startswith("audio.sink: must be one of") for p in problems)
    assert "asr.beam_size: must be a whole number" in problems


def test_search_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    xdg = tmp_path / "xdg"
    (xdg / "assistant").mkdir(parents=True)
    (xdg / "assistant" / "config.yaml").write_text("vad:\n  hangover_ms: 700\n")
    env_file = tmp_path / "env.yaml"
    env_file.write_text("vad:\n  hangover_ms: 800\n")
    explicit = tmp_path / "explicit.yaml"
    explicit.write_text("vad:\n  hangover_ms: 900\n")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(xdg))
    monkeypatch.delenv("ASSISTANT_CONFIG", raising=False)
    assert load()[0].vad.hangover_ms == 700
    monkeypatch.setenv("ASSISTANT_CONFIG", str(env_file))
    assert load()[0].vad.hangover_ms == 800
    assert load(str(explicit))[0].vad.hangover_ms == 900
    monkeypatch.delenv("ASSISTANT_CONFIG")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "empty"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    config, path = load()
    assert (path is None and config == Config()) or path == Path("/etc/assistant/config.yaml")


def test_env_expansion(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_MODEL", "/models/whisper")
    config = validate({"asr": {"model": "${MY_MODEL}"}, "router": {"acknowledgement": "${NOPE:-ok}"}})
    assert config.asr.model == "/models/whisper"
    assert config.router.acknowledgement == "ok"
    monkeypatch.delenv("UNSET_VAR", raising=False)
    with pytest.raises(ConfigError, match=r"asr\.model: environment variable UNSET_VAR is not set"):
        validate({"asr": {"model": "${UNSET_VAR}"}})


def test_yaml_null_and_empty_sections() -> None:
    config = validate({"audio": {"sink": None}, "tts": {"engine": None}, "vad": None})
    assert config.audio.sink == "null" and config.tts.engine == "null"
    assert config.vad == Config().vad


def test_config_check_cli(tmp_path: Path) -> None:
    good = run_cli("config", "check", str(ROOT / "config" / "assistant.yaml"))
    assert good.returncode == 0, good.stdout + good.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("vad:\n  hangover_ms: -1\n  frame_ms: 25\nasr:\n  model: /no/such/model\n")
    result = run_cli("config", "check", str(bad))
    assert result.returncode == EX_CONFIG
    lines = result.stdout.strip().splitlines()
    assert any("vad.hangover_ms: must be >= 0" in line for line in lines)
    assert any("vad.frame_ms: must be one of 10, 20 or 30" in line for line in lines)
    broken = tmp_path / "broken.yaml"
    broken.write_text("vad: [unclosed\n")
    result = run_cli("config", "check", str(broken))
    assert result.returncode == EX_CONFIG and "not valid YAML at line" in result.stdout
    model = tmp_path / "model.yaml"
    model.write_text("asr:\n  model: /no/such/model\n")
    result = run_cli("config", "check", str(model))
    assert result.returncode == EX_CONFIG and "asr.model: Whisper model folder /no/such/model does not exist" \
        in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_config_show_prints_effective_yaml(tmp_path: Path) -> None:
    custom = tmp_path / "c.yaml"
    custom.write_text("vad:\n  hangover_ms: 650\n")
    result = run_cli("--config", str(custom), "config", "show")
    assert result.returncode == 0
    import yaml

    shown = yaml.safe_load(result.stdout)
    assert shown["vad"]["hangover_ms"] == 650 and shown["asr"]["model"] == "tiny.en"


def test_bare_on_off_yes_no_stay_words(tmp_path: Path) -> None:
    """YAML 1.1 would read `values: [on, off]` as [True, False]: a command "turn {state} ..." then never
    matches. Only true/false are booleans here; boolean fields still take yes/no/on/off."""
    path = tmp_path / "config.yaml"
    path.write_text("asr:\n  bias_vocabulary: no\ncommands:\n  slots:\n    state:\n      type: list\n"
                    "      values: [on, off]\n  commands:\n    - name: lamp\n"
                    "      templates: ['turn {state} the lamp']\n      action: {type: say, reply: 'Lamp {state}.'}\n")
    config, _ = load(str(path))
    assert config.asr.bias_vocabulary is False
    assert config.commands.slots["state"].values == {"on": [], "off": []}
