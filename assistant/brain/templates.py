"""Sentence templates: ``turn (on|off) the {room} light[s]`` -> a regex and a list of word sequences.

Syntax: ``(a|b)`` one of the alternatives, ``[words]`` optional (``[a|b]`` optional alternatives),
``{slot}`` a declared slot. Literal words are normalised like transcripts. A template is compiled once
into a regex over normalised text (exact matching) and expanded into token sequences (fuzzy matching).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass

from assistant.brain.slots import SlotType
from assistant.brain.text import normalise

MAX_EXPANSIONS = 128  # per template; enough for real phrasing, bounded for speed
# Bounds on what a template may be: real phrasings are far inside them, and past them the regex built from
# a template could backtrack for seconds on a transcript, and parsing could recurse without end.
MAX_TEMPLATE_CHARS = 400
MAX_NESTING = 8  # ( ) and [ ] inside each other
MAX_CHOICES = 32  # ( ) and [ ] groups in one template


class TemplateError(ValueError):
    """A template that can't be parsed or uses an undeclared slot."""


@dataclass(frozen=True)
class SlotRef:
    name: str


Token = str | SlotRef  # a literal word or a slot
Sequence_ = tuple["Node", ...]


@dataclass(frozen=True)
class Choice:
    options: tuple[Sequence_, ...]  # an empty option makes the choice optional


Node = str | SlotRef | Choice

_LEXER = re.compile(r"\s*(?:(?P<punct>[()\[\]|])|\{(?P<slot>[^{}]*)\}|(?P<word>[^\s()\[\]|{}]+))")


def _lex(template: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    while pos < len(template):
        match = _LEXER.match(template, pos)
        if match is None or match.end() == pos:
            if template[pos:].strip() == "":
                break
            raise TemplateError(f"template {template!r}: unexpected {template[pos:pos + 10]!r}")
        pos = match.end()
        if match.group("punct"):
            tokens.append(("punct", match.group("punct")))
        elif match.group("slot") is not None:
            name = match.group("slot").strip()
            if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
                raise TemplateError(f"template {template!r}: bad slot name {{{name}}}")
            tokens.append(("slot", name))
        elif match.group("word"):
            for word in normalise(match.group("word")).split():
                tokens.append(("word", word))
    return tokens


GLUED_SUFFIX = re.compile(r"([\w']+)\[([\w']+)\]")


def parse(template: str) -> Sequence_:
    if len(template) > MAX_TEMPLATE_CHARS:
        raise TemplateError(f"template {template[:40]!r}... is longer than {MAX_TEMPLATE_CHARS} characters")
    # "light[s]" (an optional suffix glued to a word) means "(light|lights)".
    tokens = _lex(GLUED_SUFFIX.sub(r"(\1|\1\2)", template))
    depth = choices = 0
    for kind, value in tokens:
        if kind == "punct" and value in "([":
            depth, choices = depth + 1, choices + 1
            if depth > MAX_NESTING:
                raise TemplateError(f"template {template!r}: ( ) and [ ] nested more than {MAX_NESTING} deep")
        elif kind == "punct" and value in ")]":
            depth -= 1
    if choices > MAX_CHOICES:
        raise TemplateError(f"template {template!r}: more than {MAX_CHOICES} ( ) and [ ] groups")
    pos = 0

    def sequence(closers: str) -> list[Sequence_]:
        nonlocal pos
        options: list[Sequence_] = []
        current: list[Node] = []
        while pos < len(tokens):
            kind, value = tokens[pos]
            if kind == "punct" and value in closers:
                break
            pos += 1
            if kind == "word":
                current.append(value)
            elif kind == "slot":
                current.append(SlotRef(value))
            elif value == "|":
                if not closers:
                    raise TemplateError(f"template {template!r}: '|' outside ( ) or [ ]")
                options.append(tuple(current))
                current = []
            elif value in "([":
                closer = ")" if value == "(" else "]"
                inner = sequence(closer)
                if pos >= len(tokens) or tokens[pos][1] != closer:
                    raise TemplateError(f"template {template!r}: missing '{closer}'")
                pos += 1
                if value == "[":
                    inner.append(())
                current.append(Choice(tuple(inner)))
            else:
                raise TemplateError(f"template {template!r}: unmatched '{value}'")
        options.append(tuple(current))
        return options

    result = sequence("")
    if pos != len(tokens):
        raise TemplateError(f"template {template!r}: unmatched '{tokens[pos][1]}'")
    if not _has_words(result[0]):
        raise TemplateError(f"template {template!r} is empty")
    return result[0]


def _has_words(seq: Sequence_) -> bool:
    return any(not isinstance(n, Choice) or any(_has_words(o) for o in n.options) for n in seq)


def slot_names(seq: Sequence_) -> set[str]:
    names: set[str] = set()
    for node in seq:
        if isinstance(node, SlotRef):
            names.add(node.name)
        elif isinstance(node, Choice):
            for option in node.options:
                names |= slot_names(option)
    return names


def expand(seq: Sequence_, limit: int = MAX_EXPANSIONS) -> list[tuple[Token, ...]]:
    """Every way of saying the template, as tokens (first ``limit``)."""
    parts: list[list[tuple[Token, ...]]] = []
    for node in seq:
        if isinstance(node, Choice):
            parts.append([e for option in node.options for e in expand(option, limit)][:limit])
        else:
            parts.append([(node,)])
    out: list[tuple[Token, ...]] = []
    for combo in itertools.product(*parts):
        out.append(tuple(t for piece in combo for t in piece))
        if len(out) >= limit:
            break
    return out


@dataclass(frozen=True)
class CompiledTemplate:
    source: str
    regex: re.Pattern[str]
    groups: tuple[tuple[str, str], ...]  # regex group name -> slot name
    expansions: tuple[tuple[Token, ...], ...]


def compile_template(template: str, slots: Mapping[str, SlotType]) -> CompiledTemplate:
    seq = parse(template)
    missing = sorted(slot_names(seq) - set(slots))
    if missing:
        raise TemplateError(f"template {template!r} uses undefined slot(s): {', '.join(missing)}")
    groups: list[tuple[str, str]] = []

    def to_regex(nodes: Sequence_) -> str:
        out = []
        for node in nodes:
            if isinstance(node, str):
                out.append(" " + re.escape(node))
            elif isinstance(node, SlotRef):
                group = f"s{len(groups)}"
                groups.append((group, node.name))
                out.append(f" (?P<{group}>{slots[node.name].pattern})")
            else:
                out.append("(?:" + "|".join(to_regex(o) for o in node.options) + ")")
        return "".join(out)

    # Every token carries its leading space, so optional parts never leave double spaces.
    regex = re.compile(to_regex(seq))
    return CompiledTemplate(template, regex, tuple(groups), tuple(expand(seq)))
