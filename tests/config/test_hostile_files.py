"""Broken and extreme config files: `assistant config check` answers each with problems that name the key
(exit 78) in well under two seconds, and never with a traceback or a hang. Property-based: hypothesis
writes the files."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.app.checks import deep_check
from assistant.config.base import MAX_FILE_BYTES
from assistant.config.schema import ConfigError, load_file

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=True),
                    st.text(max_size=30), st.sampled_from(["http://[::1", "http://[zz]:80/x", "ftp://x", "${NOPE}",
                                                           "(a|", "{slot}", "[", "{room}", "-1", "1e999"]))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                      max_leaves=12)
SLOT = st.one_of(VALUES, st.fixed_dictionaries({"type": st.sampled_from(["list", "number", "duration", "x"]),
                                                "values": VALUES, "min": VALUES, "max": VALUES}))
ACTION = st.one_of(VALUES, st.fixed_dictionaries({"type": st.sampled_from(["exec", "http", "say"]),
                                                  "argv": VALUES, "url": VALUES, "method": VALUES,
                                                  "reply": VALUES, "body": VALUES, "headers": VALUES}))
COMMAND = st.one_of(VALUES, st.fixed_dictionaries({"name": VALUES, "templates": VALUES, "action": ACTION}))
COMMANDS = st.fixed_dictionaries({"slots": st.dictionaries(st.text(max_size=8), SLOT, max_size=3),
                                  "commands": st.lists(COMMAND, max_size=3), "include": VALUES})


def check(path: Path) -> list[str]:
    """What `assistant config check` does with the file: load (schema), then the deeper checks."""
    started = time.monotonic()
    try:
        problems = deep_check(load_file(path), path)
    except ConfigError as exc:
        problems = exc.problems
    assert time.monotonic() - started < 2.0, path.read_text()[:500]
    return problems


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(commands=COMMANDS)
def test_any_commands_section_is_checked_without_a_crash(tmp_path: Path, commands: dict[str, Any]) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump({"commands": commands}, allow_unicode=True))
    check(path)  # raises if anything but a ConfigError escapes


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.dictionaries(st.sampled_from(["audio", "vad", "asr", "tts", "listen", "guards", "llm", "camera",
                                              "memory", "router", "service", "turn", "barge_in", "latency"]),
                            VALUES, max_size=4))
def test_any_section_values_are_checked_without_a_crash(tmp_path: Path, data: dict[str, Any]) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    check(path)


BILLION_LAUGHS = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(8))


@pytest.mark.parametrize(("text", "problem"), [
    ("router:\n" + "".join("  " + line + "\n" for line in BILLION_LAUGHS.splitlines()), "expands to more than"),
    ("commands: &x\n  slots:\n    a: *x\n", "refers to a value that contains it"),
    ("commands: " + "[" * 3000 + "]" * 3000 + "\n", "nest"),
    ("".join(f"unknown_{i}: {i}\n" for i in range(MAX_FILE_BYTES // 10)), "larger than 1024 KiB"),
    ("commands:\n  commands:\n    - name: deep\n      templates: ['" + "(" * 30 + "a" + ")" * 30 + "']\n",
     "nested more than"),
    ("commands:\n  commands:\n    - name: many\n      templates: ['" + "[a] " * 40 + "b']\n", "more than 32"),
    ("commands:\n  include: [does-not-exist.yaml]\n", "does-not-exist.yaml"),
    ("commands:\n  commands:\n    - name: ha\n      templates: [lights on]\n      action: {url: 'http://[::1/x'}\n",
     "Invalid IPv6 URL"),
    ("commands:\n  slots:\n    room:\n      values: {kitchen: {a: 1}}\n", "commands.slots.room"),
])
def test_extreme_files_get_a_clear_problem_quickly(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    problems = check(path)
    assert any(problem in p for p in problems), problems
