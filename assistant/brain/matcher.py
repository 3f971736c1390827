"""Transcript -> intent and slot values: exact template regexes first, then a word-level fuzzy alignment.

The fuzzy pass tolerates ASR slips ("turn of the kitchen lites") by aligning the transcript's words against
each template's expansions with an edit distance: a misheard word costs ``1 - similarity``, a missing or
extra word 1 (half for small filler words). A slot consumes one or more words and only yields a value its
type accepts, never skipped; a misheard list value costs double. The score is ``1 - cost / tokens``; below
the threshold nothing matches, so the request goes to the LLM or the fallback.
"""

from __future__ import annotations

import difflib
import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from assistant.brain.slots import ListSlotType, SlotType
from assistant.brain.templates import CompiledTemplate, SlotRef, Token, compile_template
from assistant.brain.text import normalise

FUZZY_CANDIDATES = 8  # intents whose expansions are considered, chosen by words shared with the transcript
FUZZY_ALIGNMENTS = 16  # of their expansions, how many (most words in common first) get the full alignment
MIN_SLOT_SIMILARITY = 0.5  # a fuzzily heard list value must be at least this close to a real one
MIN_WORD_SIMILARITY = 0.5  # below this a heard word counts as plainly different
# Words that flip a request's meaning: a near-miss may not simply ignore them ("don't turn on...", "minus 5").
NEVER_IGNORED = frozenset({"not", "don't", "dont", "never", "minus", "negative", "no"})
# Small words ASR drops or adds all the time; missing or extra, they cost half a word.
FILLERS = frozenset({"the", "a", "an", "my", "please", "to", "for", "is", "it", "me", "uh", "um", "and", "of"})
QUESTION_WORDS = frozenset({"what", "what's", "whats", "how", "how's", "when", "where", "who", "why", "which", "is",
                            "are", "can", "could", "do", "does", "did", "will", "would", "should", "have", "has"})
MAX_FUZZY_WORDS = 48  # longer transcripts are questions or dictation, never a near-miss of a command


class _Unread:
    def __repr__(self) -> str:
        return "UNREAD"


UNREAD: Any = _Unread()  # the value of a slot whose words near_misses(unread=True) could not read


@dataclass(frozen=True)
class Intent:
    name: str
    templates: tuple[CompiledTemplate, ...]
    vocabulary: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class Match:
    intent: str
    slots: dict[str, Any]
    score: float  # 1.0 for an exact match
    exact: bool
    template: str
    expansion: tuple[Token, ...] = field(default=(), compare=False, repr=False)  # the words a fuzzy match aligned


@functools.lru_cache(maxsize=65536)
def _word_cost(heard: str, expected: str) -> float:
    if heard == expected:
        return 0.0
    if heard in NEVER_IGNORED:
        return math.inf  # nor may they be taken for another word
    if heard in FILLERS and expected in FILLERS:
        return 0.25  # "the" heard for "a": the sentence still means the same
    similarity = difflib.SequenceMatcher(None, heard, expected).ratio()
    cost = 1.0 if similarity < MIN_WORD_SIMILARITY else 1.0 - similarity
    if expected in FILLERS and len(heard) <= 3:
        return min(cost, 0.5)  # "de" for "the": a short slip on a small word matters no more than dropping it
    return cost


def _gap_cost(word: str) -> float:
    return 0.5 if word in FILLERS else 1.0


CHEAPEST_GAP = 0.5  # every extra heard word costs at least this


class IntentMatcher:
    def __init__(self, slots: Mapping[str, SlotType], threshold: float = 0.8, fuzzy: bool = True) -> None:
        self._slots = dict(slots)
        self._intents: list[Intent] = []
        self._longest: dict[tuple[Token, ...], int] = {}  # words an expansion can cover at most
        self.threshold = threshold
        self.fuzzy = fuzzy

    def add(self, name: str, templates: Sequence[str]) -> None:
        """Register an intent; raises TemplateError for a bad template or an undefined slot."""
        compiled = tuple(compile_template(t, self._slots) for t in templates)
        vocabulary: set[str] = set()
        for template in compiled:
            for expansion in template.expansions:
                self._longest[expansion] = sum(
                    self._slots[t.name].max_words if isinstance(t, SlotRef) else 1 for t in expansion)
                for token in expansion:
                    if isinstance(token, str):
                        vocabulary.add(token)
                    elif isinstance(slot := self._slots[token.name], ListSlotType):
                        vocabulary.update(w for said in slot.spoken for w in said.split())
        self._intents.append(Intent(name, compiled, frozenset(vocabulary)))

    @property
    def intents(self) -> list[Intent]:
        return list(self._intents)

    def vocabulary(self) -> list[str]:
        """Every word the templates and list slots can contain (e.g. to bias the recognizer towards them)."""
        return sorted({w for intent in self._intents for w in intent.vocabulary})

    def match(self, text: str) -> Match | None:
        said = normalise(text)
        if not said:
            return None
        exact = self.match_exact(said)
        if exact is not None or not self.fuzzy:
            return exact
        best = self.match_fuzzy(said)
        return best if best is not None and best.score >= self.threshold else None

    def match_exact(self, said: str) -> Match | None:
        padded = " " + said
        for intent in self._intents:
            for template in intent.templates:
                found = template.regex.fullmatch(padded)
                if found is None:
                    continue
                values = self._values(template, found.groupdict())
                if values is not None:
                    return Match(intent.name, values, 1.0, True, template.source)
        return None

    def _values(self, template: CompiledTemplate, groups: dict[str, str | None]) -> dict[str, Any] | None:
        values: dict[str, Any] = {}
        for group, slot in template.groups:
            words = groups.get(group)
            if words is None:
                continue
            value = self._slots[slot].parse(words.strip())
            if value is None:
                return None  # matched the shape but not the domain (e.g. a number out of range)
            values[slot] = value
        return values

    def match_fuzzy(self, said: str) -> Match | None:
        ranked = self._ranked(said, FUZZY_ALIGNMENTS, self.threshold)
        return ranked[0] if ranked else None

    def near_misses(self, text: str, floor: float, limit: int, unread: bool = False) -> list[Match]:
        """The best fuzzy alignments of ``text`` scoring at least ``floor``, best first (at most ``limit``).

        With ``unread``, a number, duration or time slot whose words don't parse still aligns (as a misheard
        value would) and holds ``UNREAD``: the caller finds the value some other way (acoustic rescoring).
        """
        return [m for m in self._ranked(normalise(text), limit, floor, unread) if m.score >= floor]

    def render(self, match: Match, values: Mapping[str, Any] | None = None) -> str:
        """The sentence a fuzzy match stands for, as Whisper would write it: "Turn on the kitchen lights."."""
        values = match.slots if values is None else values
        words = [self._slots[t.name].say(values[t.name]) if isinstance(t, SlotRef) else t for t in match.expansion]
        text = " ".join(w for w in words if w)
        if not text:
            return ""
        # Whisper punctuates, and its scores notice: "What's the uptime." loses to "What's the time?".
        end = "?" if text.split()[0] in QUESTION_WORDS else "."
        return text[:1].upper() + text[1:] + end

    def slot_type(self, name: str) -> SlotType:
        return self._slots[name]

    def _ranked(self, said: str, alignments: int, floor: float, unread: bool = False) -> list[Match]:
        words = tuple(said.split())
        if len(words) > MAX_FUZZY_WORDS:
            return []
        heard = set(words)
        ranked = sorted(self._intents, key=lambda i: len(heard & i.vocabulary), reverse=True)
        candidates: list[tuple[float, int, Intent, CompiledTemplate, tuple[Token, ...]]] = []
        for intent in ranked[:FUZZY_CANDIDATES]:
            if not heard & intent.vocabulary:
                break
            for template in intent.templates:
                for expansion in template.expansions:
                    if self._too_long(len(words), expansion, floor):
                        continue
                    shared = sum(1 for t in expansion if isinstance(t, SlotRef) or t in heard) / len(expansion)
                    candidates.append((shared, -len(candidates), intent, template, expansion))
        candidates.sort(key=lambda c: c[:2], reverse=True)
        matches: list[Match] = []
        heard_slots: dict[tuple[str, str], tuple[Any, float] | None] = {}  # the same spans recur across expansions
        for _, _, intent, template, expansion in candidates[:alignments]:
            score, values = self._align(words, expansion, heard_slots, unread)
            if values is not None:
                matches.append(Match(intent.name, values, score, False, template.source, expansion))
        return sorted(matches, key=lambda m: m.score, reverse=True)  # stable: ties keep the earlier candidate

    def _too_long(self, n: int, tokens: tuple[Token, ...], floor: float) -> bool:
        """True if the extra words alone already push the score below ``floor`` (skips the alignment)."""
        longest = self._longest[tokens]
        return n > longest and 1.0 - CHEAPEST_GAP * (n - longest) / max(len(tokens), 1) < floor

    def _align(self, words: tuple[str, ...], tokens: tuple[Token, ...],
               heard_slots: dict[tuple[str, str], tuple[Any, float] | None],
               unread: bool = False) -> tuple[float, dict[str, Any] | None]:
        n, m = len(words), len(tokens)
        inf = math.inf
        # cost[i][j]: cheapest alignment of words[:i] with tokens[:j]; slots[i][j]: the slot values on that path
        cost = [[inf] * (m + 1) for _ in range(n + 1)]
        slots: list[list[dict[str, Any]]] = [[{} for _ in range(m + 1)] for _ in range(n + 1)]
        cost[0][0] = 0.0
        for i in range(n + 1):
            for j in range(m + 1):
                here = cost[i][j]
                if here == inf:
                    continue
                if i < n and words[i] not in NEVER_IGNORED:  # an extra heard word
                    step = here + _gap_cost(words[i])
                    if step < cost[i + 1][j]:
                        cost[i + 1][j], slots[i + 1][j] = step, slots[i][j]
                if j == m:
                    continue
                token = tokens[j]
                if isinstance(token, SlotRef):
                    self._align_slot(words, i, j, token, cost, slots, heard_slots, unread)
                    continue
                if here + _gap_cost(token) < cost[i][j + 1]:  # a template word that wasn't heard
                    cost[i][j + 1], slots[i][j + 1] = here + _gap_cost(token), slots[i][j]
                if i < n:
                    step = here + _word_cost(words[i], token)
                    if step < cost[i + 1][j + 1]:
                        cost[i + 1][j + 1], slots[i + 1][j + 1] = step, slots[i][j]
                merge = i + 1 < n and len(token) > 3 and not NEVER_IGNORED.intersection(words[i:i + 2])
                if merge:  # "up time" heard for "uptime": two words written as one
                    step = here + _word_cost(words[i] + words[i + 1], token)
                    if step < cost[i + 2][j + 1]:
                        cost[i + 2][j + 1], slots[i + 2][j + 1] = step, slots[i][j]
        total = cost[n][m]
        if total == inf:
            return 0.0, None
        return max(0.0, 1.0 - total / max(m, 1)), slots[n][m]

    def _align_slot(self, words: tuple[str, ...], i: int, j: int, token: SlotRef, cost: list[list[float]],
                    slots: list[list[dict[str, Any]]], heard_slots: dict[tuple[str, str], tuple[Any, float] | None],
                    unread: bool = False) -> None:
        slot = self._slots[token.name]
        for k in range(1, min(slot.max_words, len(words) - i) + 1):
            span = " ".join(words[i:i + k])
            key = (token.name, span)
            if key not in heard_slots:
                heard_slots[key] = slot.parse_fuzzy(span)
            parsed = heard_slots[key]
            if parsed is None and unread and not isinstance(slot, ListSlotType):
                parsed = (UNREAD, MIN_SLOT_SIMILARITY)  # costs what the worst acceptable misheard value costs
            if parsed is None or parsed[1] < MIN_SLOT_SIMILARITY:
                continue
            value, similarity = parsed
            # A misheard slot value costs double: acting on the wrong room is worse than asking the LLM.
            step = cost[i][j] + min(1.0, 2.0 * (1.0 - similarity))
            if step < cost[i + k][j + 1]:
                cost[i + k][j + 1] = step
                slots[i + k][j + 1] = {**slots[i][j], token.name: value}
