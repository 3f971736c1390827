"""The base of every config section. Kept apart from config.py so that feature modules can define
their sections without importing the root config (which imports them)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """A config section: unknown keys are errors, values are validated on assignment too."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)


# libyaml's parser where PyYAML has it (the wheels do): a large file parses in a fraction of the time.
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MAX_FILE_BYTES = 1024 * 1024  # a config or commands file larger than this is refused unread
MAX_NODES = 200_000  # values in a document once aliases are expanded ("billion laughs" expands to 10^9)
MAX_DEPTH = 64  # nesting of mappings and lists


class ConfigFileError(ValueError):
    """A YAML document that is too large, too deep or self-referencing to be a config."""


class _Yaml12Loader(_SafeLoader):  # type: ignore[valid-type,misc]
    """YAML 1.2 booleans: only true/false. In YAML 1.1 (PyYAML's default) on, off, yes and no are booleans,
    so a slot list ``values: [on, off]`` or a reply ``"no"`` written bare would silently become True/False;
    pydantic still reads "yes"/"on" as true where a field is a boolean."""


_Yaml12Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Yaml12Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def read_config_text(path: Path) -> str:
    """A config file's text; one larger than MAX_FILE_BYTES is read only that far (load_yaml refuses it)."""
    with path.open(encoding="utf-8") as f:
        return f.read(MAX_FILE_BYTES + 1)


def load_yaml(text: str) -> Any:
    """Parse one YAML document the way users expect (see _Yaml12Loader). Raises yaml.YAMLError for bad
    YAML and ConfigFileError for a document no config is: too large, too deeply nested, or expanding
    (through aliases) into more values than any config has, or into itself."""
    if len(text) > MAX_FILE_BYTES:
        raise ConfigFileError(f"the file is larger than {MAX_FILE_BYTES // 1024} KiB: no config is nearly as "
                              "large (is it the right file?)")
    try:
        data = yaml.load(text, Loader=_Yaml12Loader)
    except RecursionError:
        raise ConfigFileError(f"values are nested too deeply (more than {MAX_DEPTH} levels)") from None
    _check_shape(data)
    return data


def _check_shape(data: Any) -> None:
    """Walk the document as the validators will, counting each alias as many times as it is used, and stop
    at the first limit: the walk costs at most MAX_NODES steps whatever the aliases multiply to."""
    nodes = 0
    stack: list[tuple[Any, int, tuple[int, ...]]] = [(data, 1, ())]
    while stack:
        value, depth, path = stack.pop()
        nodes += 1
        if nodes > MAX_NODES:
            raise ConfigFileError(f"the document expands to more than {MAX_NODES} values (YAML aliases "
                                  "repeating aliases?)")
        if depth > MAX_DEPTH:
            raise ConfigFileError(f"values are nested too deeply (more than {MAX_DEPTH} levels)")
        if isinstance(value, dict | list):
            if id(value) in path:
                raise ConfigFileError("a YAML alias refers to a value that contains it (an endless value)")
            children = [*value.keys(), *value.values()] if isinstance(value, dict) else value
            inner = (*path, id(value))
            stack.extend((child, depth + 1, inner) for child in children)
