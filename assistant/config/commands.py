"""Config sections for spoken commands (`commands:`) and built-in skills (`skills:`).

Only pydantic here, so `config check` stays fast. Cross-cutting checks that need the whole tree (includes,
programs on disk, ambiguous templates) live in :mod:`assistant.brain.check`.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator

from assistant.config.base import StrictModel
from assistant.config.speakers import speaker_name

SLOT_NAME = r"^[a-z_][a-z0-9_]*$"


class ListSlot(StrictModel):
    type: Literal["list"] = Field(default="list", description="the value is one of a fixed set of words")
    values: dict[str, list[str]] = Field(
        default_factory=dict, description="canonical value -> spoken synonyms (the canonical value is also accepted)"
    )

    @field_validator("values", mode="before")
    @classmethod
    def _plain_list_is_no_synonyms(cls, value: Any) -> Any:
        # `values: [kitchen, hall]` is shorthand for values without synonyms.
        if isinstance(value, list):
            return {str(v): [] for v in value}
        if isinstance(value, dict):  # synonyms: a list of words (anything else is left for the error)
            return {str(k): [] if v is None else [str(s) for s in v] if isinstance(v, list) else v
                    for k, v in value.items()}
        return value


class NumberSlot(StrictModel):
    type: Literal["number"] = Field(default="number", description="a spoken number, digits or words")
    min: float = Field(default=0, description="smallest accepted value")
    max: float = Field(default=100, description="largest accepted value")
    integer: bool = Field(default=True, description="reject fractions like 2.5")


class DurationSlot(StrictModel):
    type: Literal["duration"] = Field(default="duration", description="a spoken duration; the value is in seconds")
    min_s: float = Field(default=1, ge=0, description="shortest accepted duration in seconds")
    max_s: float = Field(default=86400, gt=0, description="longest accepted duration in seconds")


SlotSpec = Annotated[ListSlot | NumberSlot | DurationSlot, Field(discriminator="type")]


class ExecAction(StrictModel):
    type: Literal["exec"] = Field(default="exec", description="run a program directly, never through a shell")
    argv: list[str] = Field(
        default_factory=list, description="program and arguments; '{slot}' fills in within its own argument"
    )
    cwd: str | None = Field(default=None, description="working directory (default: the daemon's)")
    env: dict[str, str] = Field(default_factory=dict, description="extra environment variables for the program")
    timeout_s: float = Field(
        default=10.0, gt=0, le=3600, description="the program's process group is killed after this"
    )
    max_output_bytes: int = Field(
        default=65536, ge=0, le=16 * 1024 * 1024, description="stdout beyond this is discarded"
    )
    reply: str = Field(default="Done.", description="spoken on exit status 0; may use {slots}, {stdout}, {exit_status}")
    error_reply: str = Field(
        default="That didn't work.",
        description="spoken on failure or timeout; may use {slots}, {stdout}, {exit_status}",
    )


class HttpAction(StrictModel):
    type: Literal["http"] = Field(default="http", description="send an HTTP request (e.g. Home Assistant's REST API)")
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE"] = Field(default="POST", description="HTTP method")
    url: str = Field(default="", description="http(s) URL; '{slot}' is replaced URL-encoded")
    json_body: Any = Field(
        default=None, description="JSON body; a string '{slot}' becomes the slot's value with its type"
    )
    headers: dict[str, str] = Field(default_factory=dict, description="request headers; use ${ENV} for secrets")
    timeout_s: float = Field(default=10.0, gt=0, le=300, description="seconds to wait for the server")
    max_response_bytes: int = Field(
        default=65536, ge=0, le=16 * 1024 * 1024, description="response body beyond this is dropped"
    )
    reply: str = Field(default="Done.", description="spoken on a 2xx answer; may use {slots}, {status}, {body}, "
                                                    "and {json.key.subkey} for one value of a JSON answer")
    error_reply: str = Field(
        default="The request failed.", description="spoken otherwise; may use {slots}, {status}, {body}, {error}"
    )


class SayAction(StrictModel):
    type: Literal["say"] = Field(default="say", description="only speak a reply")
    reply: str = Field(default="", description="the reply; may use {slots}")


Action = Annotated[ExecAction | HttpAction | SayAction, Field(discriminator="type")]


class Command(StrictModel):
    name: str = Field(
        default="", pattern=r"^[A-Za-z_][A-Za-z0-9_.-]*$", description="intent name reported for this command"
    )
    description: str = Field(default="", description="what it does, read out by 'what can you do'")
    templates: list[str] = Field(
        default_factory=list, description="sentences: (a|b) alternatives, [optional] words, {slot} values"
    )
    confirm: bool = Field(default=False, description="ask 'Are you sure?' and wait for yes or no before acting")
    speakers: list[str] = Field(
        default_factory=list, description="only these enrolled people may run it, by voice (empty: anyone)"
    )
    action: Action = Field(default_factory=lambda: SayAction(), description="what happens when the command is spoken")

    @field_validator("speakers")
    @classmethod
    def _speaker_names(cls, value: list[str]) -> list[str]:
        return [speaker_name(name) for name in value]

    @field_validator("action", mode="before")
    @classmethod
    def _infer_action_type(cls, value: Any) -> Any:
        # `type:` may be left out when the keys make it obvious (argv -> exec, url -> http, else say).
        if isinstance(value, dict) and "type" not in value:
            kind = "exec" if "argv" in value else "http" if "url" in value else "say"
            return {"type": kind, **value}
        return value


class MatchingConfig(StrictModel):
    fuzzy: bool = Field(default=True, description="also accept near-misses (ASR errors) above the threshold")
    threshold: float = Field(
        default=0.8, ge=0.0, le=1.0, description="fuzzy score (0-1) a near-miss needs to be accepted"
    )
    acoustic: bool = Field(
        default=True, description="choose among near-miss commands by how they sound to Whisper (needs fuzzy)"
    )


class CommandsConfig(StrictModel):
    include: list[str] = Field(
        default_factory=list, description="glob patterns of more command files, relative to the config file"
    )
    slots: dict[str, SlotSpec] = Field(default_factory=dict, description="slot name -> its type and domain")
    commands: list[Command] = Field(default_factory=list, description="user commands")
    matching: MatchingConfig = Field(
        default_factory=lambda: MatchingConfig(), description="how transcripts are matched"
    )

    @field_validator("slots")
    @classmethod
    def _slot_names(cls, value: dict[str, Any]) -> dict[str, Any]:
        for name in value:
            if not re.match(SLOT_NAME, name):
                raise ValueError(f"slot name {name!r} must be lower-case letters, digits and underscores")
        return value


class CommandFile(StrictModel):
    """One included `commands.d/*.yaml` file: more slots and commands."""

    slots: dict[str, SlotSpec] = Field(default_factory=dict, description="slot name -> its type and domain")
    commands: list[Command] = Field(default_factory=list, description="user commands")


# From "calendar" on they answer exactly (date arithmetic, the time in other places, arithmetic, unit
# conversions, spelling, who the assistant is) or refuse honestly what needs live data or an unconfigured
# action, before the model runs.
SkillName = Literal["time", "date", "timers", "stop", "repeat", "help", "volume", "calendar", "world_clock",
                    "math", "convert", "spell", "small_talk", "live_data", "vision"]
SKILL_NAMES: tuple[SkillName, ...] = ("time", "date", "timers", "stop", "repeat", "help", "volume", "calendar",
                                      "world_clock", "math", "convert", "spell", "small_talk", "live_data",
                                      "vision")


class SkillsConfig(StrictModel):
    enabled: list[SkillName] = Field(
        default_factory=lambda: list(SKILL_NAMES), description="built-in skills that answer"
    )
    timers_file: str | None = Field(
        default=None, description="where timers persist over restarts (default: $XDG_STATE_HOME/assistant/timers.json)"
    )
    volume_step: float = Field(default=0.1, gt=0, le=1, description="how much 'louder'/'quieter' changes the volume")
    confirm_timeout_s: float = Field(default=30.0, gt=0, description="a pending 'Are you sure?' expires after this")
