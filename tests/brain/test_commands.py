"""Spoken commands: templates, spoken values, matching, config validation, and the examples in config/."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import pytest
import yaml

from assistant.app.router import build_router
from assistant.brain.check import check_commands
from assistant.brain.matcher import IntentMatcher
from assistant.brain.slots import ListSlotType, NumberSlotType
from assistant.brain.templates import TemplateError, compile_template
from assistant.brain.text import normalise, parse_duration, parse_number, parse_time_of_day
from assistant.config.commands import ListSlot, NumberSlot
from support.config import make_config
from support.paths import REPO

ROOMS = ListSlot(values={"living room": ["lounge", "front room"], "kitchen": [], "bedroom": []})
STATES = ListSlot(values=["on", "off"])


def light_matcher(threshold: float = 0.8) -> IntentMatcher:
    matcher = IntentMatcher(
        {"room": ListSlotType.from_spec(ROOMS), "state": ListSlotType.from_spec(STATES),
         "level": NumberSlotType.from_spec(NumberSlot(min=0, max=100))},
        threshold=threshold,
    )
    matcher.add("lights", ["turn {state} the {room} light[s]", "switch {state} [the] {room} light[s]"])
    matcher.add("brightness", ["set [the] {room} light[s] to {level} [percent]"])
    return matcher


# --- spoken text -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("heard", "expected"), [
    ("Set a timer for 5 minutes.", "set a timer for 5 minutes"),
    ("Wake me at 7:30 a.m.", "wake me at 7:30 am"),
    ("Turn ON the living-room lights!", "turn on the living room lights"),
    ("What\u2019s the time?", "what's the time"),
    ("Set it to 50%", "set it to 50 percent"),
    ("rm -rf $(ls); `id`", "rm rf ls id"),
])
def test_normalise_makes_transcripts_comparable(heard: str, expected: str) -> None:
    assert normalise(heard) == expected


@pytest.mark.parametrize(("said", "seconds"), [
    ("5 minutes", 300), ("a minute", 60), ("half an hour", 1800), ("an hour and a half", 5400),
    ("1 hour 30 minutes", 5400), ("two and a half minutes", 150), ("ninety seconds", 90), ("5 parsecs", None),
])
def test_durations(said: str, seconds: float | None) -> None:
    assert parse_duration(said) == seconds


@pytest.mark.parametrize(("said", "hour_minute"), [
    ("7:30 am", (7, 30)), ("seven thirty pm", (19, 30)), ("6 o'clock", (6, 0)), ("noon", (12, 0)),
    ("12 am", (0, 0)), ("seven oh five am", (7, 5)), ("13 pm", None), ("25:00", None),
])
def test_times_of_day(said: str, hour_minute: tuple[int, int] | None) -> None:
    assert parse_time_of_day(said) == hour_minute


def test_numbers_in_words_and_digits() -> None:
    assert parse_number("forty two") == 42
    assert parse_number("one hundred twenty") == 120
    assert parse_number("2.5") == 2.5
    assert parse_number("forty banana") is None


# --- templates ---------------------------------------------------------------------------------------


def test_template_alternatives_optionals_and_glued_suffix() -> None:
    slots = {"room": ListSlotType.from_spec(ROOMS)}
    compiled = compile_template("(turn|switch) on the {room} light[s] [please]", slots)
    for said in ("turn on the kitchen light", "switch on the lounge lights please", "turn on the front room lights"):
        assert compiled.regex.fullmatch(" " + said), said
    for said in ("turn on the light", "turn on the kitchen lightss", "on the kitchen light"):
        assert not compiled.regex.fullmatch(" " + said), said
    assert len(compiled.expansions) == 8  # 2 verbs x 2 plurals x 2 (please or not)


@pytest.mark.parametrize("bad", ["turn (on", "turn on)", "a | b", "[]", "turn {room light", "{Room}", "{nope}"])
def test_bad_templates_are_rejected(bad: str) -> None:
    with pytest.raises(TemplateError):
        compile_template(bad, {"room": ListSlotType.from_spec(ROOMS)})


# --- matching ----------------------------------------------------------------------------------------


def test_exact_match_maps_synonyms_to_canonical_values() -> None:
    match = light_matcher().match("Turn on the lounge lights.")
    assert match is not None and match.exact
    assert (match.intent, match.slots) == ("lights", {"state": "on", "room": "living room"})


def test_number_outside_its_domain_does_not_match() -> None:
    matcher = light_matcher()
    assert matcher.match("set the kitchen light to 40 percent").slots == {"room": "kitchen", "level": 40}  # type: ignore[union-attr]
    assert matcher.match("set the kitchen light to 400 percent") is None


def test_fuzzy_match_tolerates_asr_slips() -> None:
    match = light_matcher().match("turn of the kitchen lites")
    assert match is not None and not match.exact
    assert match.intent == "lights" and match.slots == {"state": "off", "room": "kitchen"}
    assert 0.8 <= match.score < 1.0
    slip = light_matcher().match("turn on the living rum lights")
    assert slip is not None and slip.slots["room"] == "living room"


def test_unrelated_requests_do_not_match() -> None:
    matcher = light_matcher()
    for said in ("what's the weather like", "how old is the brooklyn bridge", "turn on the", "lights"):
        assert matcher.match(said) is None, said


def test_threshold_decides_near_misses() -> None:
    said = "please turn on the kitchen lights now"
    assert light_matcher(threshold=0.95).match(said) is None
    assert light_matcher(threshold=0.6).match(said) is not None


# --- validation --------------------------------------------------------------------------------------


def _commands(*commands: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"commands": {"slots": {"room": {"type": "list", "values": ["kitchen", "hall"]}}, "commands": list(commands),
                         **extra}}


def test_valid_config_has_no_problems(tmp_path: Path) -> None:
    config = make_config(_commands(
        {"name": "light", "templates": ["light the {room}"], "action": {"type": "exec", "argv": ["touch", "{room}"]}},
        {"name": "ha", "templates": ["dim the {room}"], "action": {"type": "http", "url": "http://h:8123/x/{room}"}},
    ))
    assert check_commands(config, tmp_path / "config.yaml") == []


def test_validation_catches_each_problem(tmp_path: Path) -> None:
    not_executable = tmp_path / "script"
    not_executable.write_text("#!/bin/sh\n")
    config = make_config(_commands(
        {"name": "dup1", "templates": ["open the {room} door"]},
        {"name": "dup2", "templates": ["open the {room} door"]},
        {"name": "overlap", "templates": ["(close|shut) [the] {room} window"]},
        {"name": "overlap2", "templates": ["close the {room} window[s]"]},
        {"name": "undefined", "templates": ["heat the {zone}"]},
        {"name": "unfilled", "templates": ["ping"], "action": {"type": "say", "reply": "pong {room}"}},
        {"name": "missing", "templates": ["run missing"], "action": {"type": "exec", "argv": ["no-such-program-x"]}},
        {"name": "noexec", "templates": ["run script"], "action": {"type": "exec", "argv": [str(not_executable)]}},
        {"name": "slotprog", "templates": ["run {room}"], "action": {"type": "exec", "argv": ["{room}"]}},
        {"name": "badurl", "templates": ["call home"], "action": {"type": "http", "url": "ftp//nowhere"}},
        {"name": "builtin", "templates": ["what time is it"]},
        {"name": "timer.set", "templates": ["egg timer"]},
    ))
    problems = "\n".join(check_commands(config, tmp_path / "config.yaml"))
    for expected in ("undefined slot(s) zone", "'unfilled' uses {room}", "'no-such-program-x' is not found",
                     "is not executable", "program itself can't be a slot", "not an http(s) URL",
                     "'timer.set': the name is used by a built-in skill"):
        assert expected in problems, expected
    # Overlaps are checked once the individual commands are valid.
    config = make_config(_commands(
        {"name": "dup1", "templates": ["open the {room} door"]},
        {"name": "dup2", "templates": ["open the {room} door"]},
        {"name": "overlap", "templates": ["(close|shut) [the] {room} window"]},
        {"name": "overlap2", "templates": ["close the {room} window[s]"]},
        {"name": "builtin", "templates": ["what time is it"]},
    ))
    problems = "\n".join(check_commands(config, tmp_path / "config.yaml"))
    assert "duplicates one in 'dup1'" in problems
    assert "also matches command 'overlap2'" in problems
    assert "also matches built-in 'time'" in problems


def test_includes_are_relative_to_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "commands.d").mkdir()
    (tmp_path / "commands.d" / "extra.yaml").write_text(yaml.safe_dump({
        "slots": {"colour": {"type": "list", "values": ["red", "blue"]}},
        "commands": [{"name": "paint", "templates": ["paint it {colour}"],
                      "action": {"type": "say", "reply": "Painting it {colour}."}}],
    }))
    (tmp_path / "commands.d" / "broken.yaml").write_text("commands: [{name: x, bogus: 1}]\n")
    config = make_config({"commands": {"include": ["commands.d/extra.yaml"]}})
    assert check_commands(config, tmp_path / "config.yaml") == []
    router = build_router(config, config_path=tmp_path / "config.yaml")
    assert router.route("paint it blue").text == "Painting it blue."
    broken = make_config({"commands": {"include": ["commands.d/*.yaml"]}})
    assert any("broken.yaml" in p for p in check_commands(broken, tmp_path / "config.yaml"))


@pytest.mark.parametrize("name", ["home-assistant.yaml", "desktop-commands.yaml"])
def test_example_configs_pass_the_check(name: str) -> None:
    path = REPO / "config" / "examples" / name
    config = make_config(yaml.safe_load(path.read_text()))
    assert check_commands(config, path) == []


def test_home_assistant_example_routes_to_the_right_service(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HASS_URL", "http://ha.test:8123")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    path = REPO / "config" / "examples" / "home-assistant.yaml"
    router = build_router(make_config(yaml.safe_load(path.read_text())), config_path=path, dry_run=True)
    reply = router.route("Turn off the lounge lights.")
    assert reply.intent == "light_power" and reply.slots == {"state": "off", "room": "light.living_room"}
    assert reply.action == {"type": "http", "method": "POST", "dry_run": True,
                            "url": "http://ha.test:8123/api/services/light/turn_off"}


def test_executable_check_accepts_an_executable(tmp_path: Path) -> None:
    script = tmp_path / "script"
    script.write_text("#!/bin/sh\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    config = make_config(_commands({"name": "s", "templates": ["run it"], "action": {"argv": [str(script)]}}))
    assert check_commands(config, None) == []
    assert os.access(script, os.X_OK)
