"""satellite: the documented keys, a key that is a real 32-byte base64 PSK, unknown keys refused, and the
deeper check that brain: home_assistant has a wake word to start Home Assistant's pipeline with."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from assistant.app.checks import deep_check
from assistant.config.schema import Config, load_file
from support.paths import REPO

KEY = "px7tsbK3C7bpXHr2OevEV2ZMg/FrNpw7L0Ts0tnJF4k="


def test_the_documented_keys() -> None:
    config = Config.model_validate({"satellite": {"esphome": {
        "enabled": True, "host": "0.0.0.0", "port": 6053, "name": "kitchen", "encryption_key": KEY},
        "brain": "local"}})
    esphome = config.satellite.esphome
    assert (esphome.enabled, esphome.host, esphome.port, esphome.name, esphome.encryption_key) == (
        True, "0.0.0.0", 6053, "kitchen", KEY)
    assert config.satellite.brain == "local"
    default = Config().satellite
    assert not default.esphome.enabled and default.esphome.encryption_key is None
    assert default.brain == "home_assistant" and default.esphome.port == 6053


@pytest.mark.parametrize("satellite", [
    {"esphome": {"encryption_key": "not base64!"}},
    {"esphome": {"encryption_key": "c2hvcnQ="}},  # 5 bytes
    {"esphome": {"name": "Kitchen Speaker"}},
    {"esphome": {"port": 70000}},
    {"esphome": {"colour": "red"}},
    {"brain": "cloud"},
])
def test_bad_values_are_errors(satellite: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        Config.model_validate({"satellite": satellite})


def test_home_assistant_brain_needs_the_wake_word_mode() -> None:
    on = {"esphome": {"enabled": True}, "brain": "home_assistant"}
    problems = deep_check(Config.model_validate({"satellite": on}), None)
    assert any(p.startswith("satellite.brain:") for p in problems)
    fine = Config.model_validate({"satellite": on, "listen": {"mode": "wake_word"}})
    assert not [p for p in deep_check(fine, None) if p.startswith("satellite")]
    local = Config.model_validate({"satellite": {**on, "brain": "local"}})
    assert not [p for p in deep_check(local, None) if p.startswith("satellite")]


def test_the_example_file(monkeypatch: pytest.MonkeyPatch) -> None:
    example = REPO / "config" / "examples" / "ha-satellite.yaml"
    monkeypatch.delenv("ESPHOME_KEY", raising=False)
    config = load_file(example)
    assert config.satellite.esphome.enabled and config.satellite.esphome.encryption_key is None
    assert not [p for p in deep_check(config, example) if p.startswith("satellite")]
    monkeypatch.setenv("ESPHOME_KEY", KEY)
    assert load_file(example).satellite.esphome.encryption_key == KEY
