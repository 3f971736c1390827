"""Choosing a command by how it sounds: rescoring near-miss commands against the utterance's audio.

When a transcript is not exactly a command ("Set the memory light to 50%."), the fuzzy matcher's nearest
commands are written out as sentences, with every value of their list slots ("Set the bedroom light to
50 percent.", "Set the kitchen light to ..."), and Whisper scores each against the audio it just heard
(``SentenceScorer``). The most likely sentence wins if it is nearly as likely as Whisper's own transcript
and clearly more likely than any sentence meaning something else; otherwise nothing is chosen and the
request goes on as before (fuzzy match, LLM, or "sorry"), except that a fuzzy match is dropped when no
near-miss command is plausible at all ("What's the weather like?" is not "what's the heater like").
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, replace
from typing import Any

from assistant.brain.matcher import UNREAD, IntentMatcher, Match
from assistant.brain.slots import ListSlotType
from assistant.brain.templates import SlotRef
from assistant.brain.text import normalise
from assistant.events import SentenceScorer

FLOOR = 0.45  # fuzzy score a command needs to be worth scoring (unrelated questions stay below it)
EXPANSIONS = 12  # near-miss template expansions aligned (the best-sharing ones) and scored
MAX_SENTENCES = 32  # sentences scored at most (about 3-5 ms each on 2 cores, tiny.en)
MAX_DEFICIT = 6.5  # nats below Whisper's own transcript the chosen sentence may be (right rescues: <= 6.0)
MIN_LEAD = 3.0  # nats over the best sentence that means something else (wrong rescues led by 2.2-2.6)


_CLAUSE_END = re.compile(r"[,.;!?]+(?:\s+|$)")


@dataclass(frozen=True)
class Scored:
    match: Match
    sentence: str
    log_likelihood: float


def clauses(text: str) -> list[str]:
    """``text``, then any clause it repeats: Whisper loops on noisy commands ("turn the volume down, turn
    the volume down.") and the fuzzy matcher rightly refuses so many extra words. Clauses said once are not
    tried alone: a short sentence scored against a longer utterance ("forget it" for "set the timer for
    work, how it") is likely only because it leaves most of the audio unexplained."""
    parts = [p.strip().casefold() for p in _CLAUSE_END.split(text) if p.strip()]
    repeated = [p for p in dict.fromkeys(parts) if parts.count(p) > 1]
    return [text, *repeated]


def candidates(matcher: IntentMatcher, text: str, scorer: SentenceScorer | None = None) -> list[tuple[Match, str]]:
    """Near-miss commands of ``text`` as sentences, list slots tried with each of their values.

    With a ``scorer``, a number/duration/time slot whose words could not be read is read again by
    Whisper, made to start its transcript with the command's words before the slot, and the slot's usual
    values are tried too. Without one, such near misses are left out.
    """
    out: dict[str, Match] = {}
    near_misses = [m for part in clauses(text) for m in matcher.near_misses(part, FLOOR, EXPANSIONS, unread=True)]
    for near in sorted(near_misses, key=lambda m: m.score, reverse=True)[:EXPANSIONS]:
        readings = [near]
        if any(v is UNREAD for v in near.slots.values()):
            readings = _reread(matcher, near, scorer) if scorer is not None else []
        for reading in readings:
            lists = [t.name for t in dict.fromkeys(reading.expansion) if isinstance(t, SlotRef)
                     and isinstance(matcher.slot_type(t.name), ListSlotType)]
            choices = [list(_sayable(matcher, name).items()) for name in lists]
            for combo in itertools.islice(itertools.product(*choices), MAX_SENTENCES):
                values = {**reading.slots, **{n: canonical for n, (_, canonical) in zip(lists, combo, strict=True)}}
                sentence = matcher.render(reading, values)
                if sentence and sentence not in out:
                    out[sentence] = replace(reading, slots=values)
    return [(match, sentence) for sentence, match in out.items()][:MAX_SENTENCES]


def _reread(matcher: IntentMatcher, near: Match, scorer: SentenceScorer) -> list[Match]:
    """``near`` with its first unread slot filled: with what Whisper writes when forced to begin like the
    command, and with the slot type's common values ("1 hour", "6 am"), for the audio to choose from."""
    prefix: list[str] = []
    for token in near.expansion:
        if not isinstance(token, SlotRef):
            prefix.append(token)
            continue
        value = near.slots[token.name]
        if value is not UNREAD:
            prefix.append(matcher.slot_type(token.name).say(value))
            continue
        slot = matcher.slot_type(token.name)
        if not prefix:
            return []  # nothing to lead Whisper to the slot, nor to tell which value the audio holds
        values: list[Any] = []
        heard = normalise(scorer.continuation(" ".join(prefix).capitalize())).split()
        for length in range(min(slot.max_words, len(heard)), 0, -1):
            parsed = slot.parse(" ".join(heard[:length]))
            if parsed is not None:
                values.append(parsed)
                break
        values += [v for v in slot.common_values() if v not in values]
        readings = [replace(near, slots={**near.slots, token.name: v}) for v in values]
        return [r for r in readings if not any(v is UNREAD for v in r.slots.values())]
    return []


def _sayable(matcher: IntentMatcher, slot: str) -> dict[str, Any]:
    slot_type = matcher.slot_type(slot)
    assert isinstance(slot_type, ListSlotType)
    # One spoken form per value: synonyms of one value would only compete with each other.
    return {slot_type.say(value): value for value in dict.fromkeys(slot_type.sayable().values())}


def choose(matcher: IntentMatcher, text: str, scorer: SentenceScorer) -> tuple[Match | None, dict[str, Any]] | None:
    """The command the audio most likely said (None when it is not clear) and what decided it.

    None when there was nothing to score. ``evidence["plausible"]`` is False when not even the best
    near-miss command is anywhere near as likely as Whisper's own transcript: the audio said something else.
    """
    options = candidates(matcher, text, scorer)
    if not options:
        return None
    heard, *scores = scorer.log_likelihoods([text, *(sentence for _, sentence in options)])
    ranked = sorted((Scored(m, s, ll) for (m, s), ll in zip(options, scores, strict=True)),
                    key=lambda c: c.log_likelihood, reverse=True)
    best = ranked[0]
    rival = next((c for c in ranked[1:] if (c.match.intent, c.match.slots) != (best.match.intent, best.match.slots)),
                 None)
    deficit = heard - best.log_likelihood
    lead = best.log_likelihood - rival.log_likelihood if rival is not None else float("inf")
    evidence = {"sentence": best.sentence, "deficit": round(deficit, 2), "lead": round(min(lead, 99.0), 2),
                "scored": len(options), "plausible": deficit <= MAX_DEFICIT}
    if deficit > MAX_DEFICIT or lead < MIN_LEAD:
        return None, evidence
    return best.match, evidence
