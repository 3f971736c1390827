"""The router's contract with the pipeline and the CLI: fallbacks, the LLM hook, and `assistant ask --json`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant.app.router import build_router
from assistant.brain.router import Router
from assistant.cli.main import build_parser
from assistant.config.schema import RouterConfig
from assistant.events import Reply
from support.config import make_config


def test_unmatched_requests_get_the_configured_acknowledgement(tmp_path: Path) -> None:
    config = make_config({"router": {"acknowledgement": "Sorry, I didn't catch that."},
                          "skills": {"timers_file": str(tmp_path / "t.json")}})
    reply = build_router(config).route("tell me a story")
    assert (reply.text, reply.handled_by, reply.intent) == ("Sorry, I didn't catch that.", "fallback", None)


def test_unmatched_requests_go_to_the_llm_when_there_is_one(tmp_path: Path) -> None:
    asked: list[str] = []

    def llm(text: str, context: object) -> Reply:
        asked.append(text)
        return Reply("Shakespeare wrote it.", handled_by="llm")

    router = build_router(make_config({"skills": {"timers_file": str(tmp_path / "t.json")}}), fallback=llm)
    assert router.route("who wrote hamlet").text == "Shakespeare wrote it."
    assert router.route("repeat").text == "Shakespeare wrote it."  # LLM answers can be repeated too
    assert router.route("what time is it").handled_by == "skill"
    assert router.route("what's the weather like").intent == "live_data.weather"  # never the model's guess
    assert asked == ["who wrote hamlet"]


def test_the_plain_constructor_still_answers_builtins() -> None:
    router = Router(RouterConfig(acknowledgement="I heard: {text}"))
    assert router.route("what time is it").intent == "time"
    assert router.route("set a timer for 5 minutes").handled_by == "fallback"  # no timer store: timers are off
    assert router.route("  tell me a story ").text == "I heard: tell me a story"


def _run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    args = build_parser().parse_args(argv)  # the real command line, as `assistant ...` parses it
    status = args.handler(args)
    return status, capsys.readouterr().out


def test_ask_prints_the_documented_json(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config.yaml"
    # no LLM: what no command or skill handles gets the configured acknowledgement
    config.write_text("router:\n  acknowledgement: \"Sorry, I didn't catch that.\"\nllm:\n  backend: none\n")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    status, out = _run_cli(["--config", str(config), "ask", "What time is it?", "--json"], capsys)
    answer = json.loads(out)
    assert status == 0
    assert set(answer) == {"intent", "slots", "reply", "action", "handled_by"}
    assert (answer["intent"], answer["handled_by"], answer["action"]) == ("time", "skill", None)
    status, out = _run_cli(["--config", str(config), "ask", "set a timer for ten minutes", "--json"], capsys)
    answer = json.loads(out)
    assert answer["slots"] == {"timer_duration": 600} and answer["action"]["type"] == "timer"
    assert (tmp_path / "state" / "assistant" / "timers.json").is_file()
    _, out = _run_cli(["--config", str(config), "ask", "sing me a song", "--json"], capsys)
    assert json.loads(out) == {"intent": None, "slots": {}, "reply": "Sorry, I didn't catch that.", "action": None,
                               "handled_by": "fallback"}


def test_commands_lists_builtin_skills(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("{}\n")
    status, out = _run_cli(["--config", str(config), "commands", "--json"], capsys)
    listed = json.loads(out)
    assert status == 0 and listed["commands"] == []
    assert {s["skill"] for s in listed["skills"]} == {"time", "date", "timers", "stop", "repeat", "help", "volume",
                                                     "calendar", "world_clock", "math", "convert", "spell",
                                                     "small_talk", "live_data", "vision"}


@pytest.mark.parametrize("question, intent", [
    ("What is seven times eight?", "math"),
    ("How many tablespoons are in a cup?", "convert"),
    ("How many days until Christmas?", "calendar.until"),
    ("What time is it in Tokyo?", "world_clock.time"),  # near the time skill's "what time is it", but not that
    ("How do you spell necessary?", "spell"),
    ("What time is it?", "time"),
    ("What's the date today?", "date"),
    ("Set a timer for 5 minutes.", "timer.set"),
    ("What's the weather like?", "live_data.weather"),
    ("Turn off the kitchen light.", "live_data.action"),
    ("Do I have any new emails?", "live_data.personal"),
    ("Are you a human?", "small_talk.what_am_i"),
])
def test_exact_answers_come_before_the_model_and_after_exact_phrases(tmp_path: Path, question: str,
                                                                      intent: str) -> None:
    asked: list[str] = []
    router = build_router(make_config({"skills": {"timers_file": str(tmp_path / "t.json")}}),
                          fallback=lambda text, context: asked.append(text) or Reply("A model's guess.", "llm"))
    reply = router.route(question)
    assert (reply.handled_by, reply.intent) == ("skill", intent) and asked == []


def test_a_configured_command_keeps_its_requests_from_the_refusals(tmp_path: Path) -> None:
    config = make_config({
        "commands": {"slots": {"room": {"type": "list", "values": {"light.kitchen": ["kitchen"]}}},
                     "commands": [{"name": "lights", "templates": ["turn off the {room} light"],
                                   "action": {"type": "say", "reply": "Off."}}]},
        "skills": {"timers_file": str(tmp_path / "t.json")}})
    asked: list[str] = []
    router = build_router(config, fallback=lambda text, context: asked.append(text) or Reply("Done by a tool.", "llm"))
    assert router.route("Turn off the kitchen light.").intent == "lights"
    # said differently: not a phrase of the command, but about its kitchen: the model may call it as a tool
    assert router.route("Could you switch the kitchen light off?").text == "Done by a tool."
    assert router.route("Open the garage door.").intent == "live_data.action"  # nothing is about a garage
