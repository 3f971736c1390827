"""End of turn for every utterance: is the user done, or only pausing? Judged from the speculative transcript.

The endpointer's fixed hangover (vad.hangover_ms) is a compromise: too long for "what time is it", too short
for "remind me to... call mum". Whisper's first guess at the words said so far, made a moment into the
silence (hearing/speculative.py), answers better:

- ``DONE``: a whole command or skill request, or a finished sentence (Whisper closed it with . ? or !, was
  sure of it, and its last word can end one). The turn ends after ``latency.adaptive_min_ms`` of silence.
- ``MORE``: the user is trailing off: Whisper wrote "...", a comma or a dash, or the last word cannot end a
  request ("turn on the", "um", "remind me to"), or a number is all there is ("seven..."). The turn waits
  up to ``latency.max_pause_ms``.
- ``MAYBE``: the words could end here, but the language model finds an end unlikely (below): the turn waits
  ``latency.maybe_pause_ms``, longer than the hangover and shorter than ``max_pause_ms``.
- ``UNSURE``: anything else (no punctuation, nothing written, an unsure guess): the hangover decides.

A language model (hearing/sentence_end.py), where one is loaded, turns UNSURE into MORE when a sentence mark
after these words is very unlikely ("the pencils have", "what joy there"), and into MAYBE when it is only
unlikely ("why is it one", "the horizon").

Why words and not only punctuation: tiny.en ends almost every guess with a period, "Turn on the." included.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable


class Verdict(enum.Enum):
    DONE = "done"
    MORE = "more"
    MAYBE = "maybe"
    UNSURE = "unsure"


# Words a request does not end on: articles and possessives, conjunctions, subjects still waiting for their
# verb, hesitations. Kept short on purpose: "what time is it", "what's the weather like", "turn the lights
# on", "tell me more" and "yes I do" all end on words that often start a phrase.
TRAILING_WORDS = frozenset({
    "a", "an", "the", "my", "your", "our", "their", "every", "each",
    "and", "or", "but", "nor", "because", "if", "than", "whether",
    "i", "we", "they", "he", "she", "i'm", "it's", "you're", "we're", "they're", "what's", "there's", "that's", "let's",
    "um", "uh", "er", "erm", "hmm",
    # prepositions, even before a question mark: tiny.en writes "What is the capital of?" for a pause there
    "to", "for", "of", "with", "from", "at", "into", "onto", "about", "by",
})
# Whole answers in one word: Whisper is rarely sure of a single word ("Yes." -0.89), but nobody trails off
# after one of these alone.
ONE_WORD_ANSWERS = frozenset({"yes", "no", "yeah", "yep", "nope", "okay", "ok", "sure", "thanks", "stop", "cancel"})
# A number said alone is the start of something ("seven... of clubs", "two... thirty pm", "one... two, three"),
# not a request: measured, these were half of what the end of turn still cut off.
_NUMBER = re.compile(r"\d+([.:,]\d+)?|zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|"
                     r"(thir|four|fif|six|seven|eigh|nine)teen|(twen|thir|for|fif|six|seven|eigh|nine)ty|hundred")
_CONTINUES = re.compile(r"(\.\.\.|…|[,;:\-–—])[\"'”’)\]]*$")  # Whisper's "she said..." or "first,"
_ENDS = re.compile(r"[.?!][\"'”’)\]]*$")
_WORD = re.compile(r"[\w']+")


# A finished-looking sentence counts only if Whisper was this sure of it (its lowest segment's average token
# log-probability): cut inside a word, tiny.en finishes the sentence itself, less surely ("Turn on the lip."
# -0.42, "The horizon." -0.49; the whole sentences of the shared set mostly -0.03 to -0.25).
SURE_LOGPROB = -0.3


# Below this log10 probability of a sentence mark next, the words are a phrase still going on. Measured with
# SmolLM2-135M-Instruct on the shared set's 43 requests and read sentences: no whole one scored under -2.2;
# 23 of their first halves did (hearing/sentence_end.py).
UNLIKELY_END = -2.5
# Below this (and not below UNLIKELY_END), an end is possible but unlikely: a longer wait than the hangover. The
# unsure first halves of the shared set's paused recordings that UNLIKELY_END lets go scored -0.6 to -2.5, 8 of
# 15 under -1.5; the unsure whole requests -0.5 to -2.9, of the short commands only "1, 2, 3." (-1.51) under it.
# The everyday commands under it (6 of 30, e.g. "turn the heating up" -2.12) wait for it only when Whisper
# left them unfinished (no sentence mark, or unsure).
POSSIBLE_END = -1.5


def judge(text: str, is_request: Callable[[str], bool] | None = None, logprob: float | None = None,
          sentence_end: Callable[[str], float] | None = None) -> Verdict:
    """The verdict on a transcript of everything said so far (see the module's docstring); ``logprob``: how
    sure Whisper was of it (None: sure enough); ``sentence_end``: log10 P(a sentence mark next | the words),
    asked only when the words alone leave it open."""
    text = text.strip()
    words = _WORD.findall(text.lower().replace("’", "'"))
    if not words:
        return Verdict.UNSURE
    if is_request is not None and is_request(text):
        return Verdict.DONE
    alone_a_number = len(words) == 1 and _NUMBER.fullmatch(words[0]) is not None
    if _CONTINUES.search(text) or words[-1] in TRAILING_WORDS or alone_a_number:
        return Verdict.MORE
    if len(words) == 1 and words[0] in ONE_WORD_ANSWERS:
        return Verdict.DONE
    if _ENDS.search(text) and (logprob is None or logprob >= SURE_LOGPROB):
        # Not asked of the language model: its 45-100 ms here (2 cores, right after Whisper) delayed every
        # finished sentence by as much (13 commands: median 542 -> 618 ms), for 2 of the 43 cut-offs.
        return Verdict.DONE
    if sentence_end is not None:
        score = sentence_end(text)
        if score < UNLIKELY_END:
            return Verdict.MORE
        if score < POSSIBLE_END:
            return Verdict.MAYBE
    return Verdict.UNSURE
