"""A whole config built from a dict, as the commands and skills tests write them."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from assistant.config.commands import CommandsConfig, SkillsConfig
from assistant.config.schema import Config, expand_env


class FullConfig(Config):
    """The root config with the command sections (the root Config gains these fields in the real tree)."""

    commands: CommandsConfig = Field(default_factory=lambda: CommandsConfig(), description="spoken commands")
    skills: SkillsConfig = Field(default_factory=lambda: SkillsConfig(), description="built-in skills")


def make_config(data: dict[str, Any]) -> FullConfig:
    return FullConfig.model_validate(expand_env(data))
