"""The base of every config section. Kept apart from config.py so that feature modules can define
their sections without importing the root config (which imports them)."""

from __future__ import annotations

import re
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """A config section: unknown keys are errors, values are validated on assignment too."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class _Yaml12Loader(yaml.SafeLoader):
    """YAML 1.2 booleans: only true/false. In YAML 1.1 (PyYAML's default) on, off, yes and no are booleans,
    so a slot list ``values: [on, off]`` or a reply ``"no"`` written bare would silently become True/False;
    pydantic still reads "yes"/"on" as true where a field is a boolean."""


_Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def load_yaml(text: str) -> Any:
    """Parse one YAML document the way users expect (see _Yaml12Loader); raises yaml.YAMLError."""
    return yaml.load(text, Loader=_Yaml12Loader)
