"""Render the config schema as documented YAML: every key, its default, and its one-line description.

config/assistant.yaml is this output (a test keeps them equal), so the documented default can't drift
from the code.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel

from assistant.config.schema import Config

HEADER = """\
# The assistant's configuration, with every key at its default value.
# Copy this file to ~/.config/assistant/config.yaml (or /etc/assistant/config.yaml, or point
# $ASSISTANT_CONFIG / --config at it) and change what you need; keys you leave out keep their default.
# Strings may use ${ENV_VAR} or ${ENV_VAR:-default}. Check a file with `assistant config check`.
"""


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return json.dumps(value, ensure_ascii=False)


def _render(model: BaseModel, indent: int, lines: list[str]) -> None:
    pad = "  " * indent
    for name, field in type(model).model_fields.items():
        value = getattr(model, name)
        description = field.description or ""
        if isinstance(value, BaseModel):
            if indent == 0:
                lines.append("")
            lines.append(f"{pad}# {description}")
            lines.append(f"{pad}{name}:")
            _render(value, indent + 1, lines)
        else:
            lines.append(f"{pad}{name}: {_scalar(value)}  # {description}")


def documented_default() -> str:
    lines: list[str] = []
    _render(Config(), 0, lines)
    return HEADER + "\n".join(lines) + "\n"
