"""Which utterances are requests: listening modes, wake-phrase matching and the follow-up window.

The pipeline asks one ``Listener`` three things per utterance: is there really speech in it (second-stage
VAD, before Whisper runs), what to prompt Whisper with (vocabulary biasing), and, given the transcript,
what to route (guards against hallucinations, then the listening mode). Modes:

* ``always``: every utterance that passes the guards is a request.
* ``wake_phrase``: only utterances that start with a wake phrase; the rest of the utterance is the request.
  The phrase is matched on the transcript, tolerantly ("hey computer", "Hey, Computer!", "hey komputer").
  A wake phrase said alone makes the next utterance a request if it starts within ``wake_only_window_s``.
* ``wake_word``: only utterances heard after an acoustic wake word (turn/wake.py: the detector runs on
  every frame and Whisper hears only what follows it); the utterance carries the model's name. Should the
  transcript still start with the wake phrase (a detection that fired before the word ended), it is cut.
* ``push_to_talk``: only the utterance after a trigger (control socket / CLI calls ``push_to_talk``).

In every mode but ``always``, ``follow_up_s`` > 0 lets the user answer a reply without the wake phrase.
Windows are judged by when the utterance's speech *started*, not when Whisper finished with it.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from assistant.config.hearing import GuardsConfig, ListenConfig
from assistant.events import RequestContext, Transcript, Utterance
from assistant.hearing.biasing import build_initial_prompt
from assistant.hearing.distance import edit_distance
from assistant.hearing.guards import Guards
from assistant.hearing.silero import SileroVad

if TYPE_CHECKING:
    from assistant.config.schema import Config

log = logging.getLogger(__name__)

# Words people (or Whisper) put before a wake phrase: "Okay, hey computer", "Um, computer".
_FILLERS = frozenset({"oh", "ok", "okay", "um", "uh", "erm", "hmm", "so", "well", "and", "ah"})
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_LEADING_PUNCTUATION = " \t\n,.;:!?-–—…'\"’"


def _fold(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("'", "").replace("’", "")


def words(text: str) -> list[str]:
    """Lower-case words without accents or punctuation: "Hey, Lumière!" -> ["hey", "lumiere"]."""
    return [_fold(m.group()) for m in _WORD.finditer(text)]


@dataclass(frozen=True, slots=True)
class WakeMatch:
    phrase: str  # the configured phrase that matched
    heard: str  # what the transcript said instead ("Hey, Computer")
    remainder: str  # the request after the phrase, original spelling ("what's the weather like?")
    edits: int


def match_wake(text: str, phrases: Sequence[str], tolerance: float = 0.25) -> WakeMatch | None:
    """The wake phrase ``text`` starts with, if any.

    Words are compared with spaces removed, so Whisper splitting or joining words ("hey mycroft" heard as
    "Hey, My Croft") costs nothing; up to ``tolerance`` x letters of single-letter edits are forgiven. The
    first word heard must belong to the phrase: "a computer is ..." does not start with "computer".
    """
    tokens = list(_WORD.finditer(text))
    folded = [_fold(t.group()) for t in tokens]
    starts = [0, 1] if folded and folded[0] in _FILLERS else [0]
    best: tuple[int, int, str, int, int] | None = None  # (edits, -length, phrase, first, last)
    for phrase in phrases:
        target = "".join(words(phrase))
        if not target:
            continue
        allowed = int(tolerance * len(target))
        n = len(words(phrase))
        for first in starts:
            for count in range(1, n + 3):
                last = first + count
                if last > len(tokens):
                    break
                candidate = "".join(folded[first:last])
                if len(candidate) > len(target) + allowed:
                    break
                edits = edit_distance(candidate, target)
                if edits > allowed:
                    continue
                if count > 1 and edit_distance("".join(folded[first + 1 : last]), target) <= edits:
                    continue  # the first word is not part of the phrase ("a computer is ..." is not "computer")
                key = (edits, -len(target), phrase, first, last)
                if best is None or key[:2] < best[:2]:
                    best = key
    if best is None:
        return None
    edits, _, phrase, first, last = best
    heard = text[tokens[first].start() : tokens[last - 1].end()]
    remainder = text[tokens[last - 1].end() :].lstrip(_LEADING_PUNCTUATION).strip()
    return WakeMatch(phrase=phrase, heard=heard, remainder=remainder if words(remainder) else "", edits=edits)


def heard_in(text: str, phrase: str, tolerance: float = 0.25) -> bool:
    """Whether ``phrase`` is said anywhere in ``text`` ("So I said, okay Nabu." holds "okay nabu")."""
    tokens = list(_WORD.finditer(text))
    return any(match_wake(text[token.start():], [phrase], tolerance) is not None for token in tokens)


@dataclass(frozen=True, slots=True)
class Decision:
    request: str | None  # text to route (wake phrase removed), or None: nothing to answer
    reason: str  # why it was dropped, or what was accepted and why
    wake_only: bool = False  # a lone wake phrase opened a window: a good moment for a "listening" earcon
    noise: bool = False  # dropped by the guards: no words in it (empty, a hallucination, noise)


def speech_started_at(utterance: Utterance) -> float:
    """Monotonic time the utterance's speech began (its end time minus its speech length)."""
    return utterance.speech_end_at - max(0.0, utterance.end_s - utterance.start_s)


class Listener:
    """Everything between the endpointer and the router that decides what was really said to us."""

    def __init__(self, listen: ListenConfig | None = None, guards: GuardsConfig | None = None, *,
                 engine: str = "webrtc", initial_prompt: str | None = None,
                 wake_word_phrases: dict[str, str] | None = None) -> None:
        self.config = listen or ListenConfig()
        self._wake_word_phrases = wake_word_phrases or {}  # model name -> what is said ("Okay Nabu")
        self.guards = Guards(guards or GuardsConfig(), initial_prompt)
        self.engine = engine
        self._initial_prompt = initial_prompt
        self._silero = SileroVad(self.guards.config.silero_threshold) if engine in ("silero", "both") else None
        self._lock = threading.Lock()  # push_to_talk comes from the control socket's thread
        self._open_from = 0.0
        self._open_until = float("-inf")  # no-wake-phrase window (follow-up or after a lone wake phrase)
        self._push_from = 0.0
        self._push_until = float("-inf")

    @property
    def initial_prompt(self) -> str | None:
        return self._initial_prompt

    # ---- before ASR ------------------------------------------------------------------------------

    def confirm_speech(self, utterance: Utterance) -> str | None:
        """Second-stage VAD: a reason to skip ASR for this utterance, or None if it holds speech."""
        if self._silero is None:
            return None  # webrtc only: the endpointer already decided
        seconds = self._silero.speech_seconds(utterance.pcm)
        need = self.guards.config.silero_min_speech_s
        reason = None
        if seconds < need:
            reason = f"Silero heard {seconds:.2f} s of speech < {need} s"
        elif self.engine == "both" and seconds < self._min_fraction(utterance) * utterance.voiced_s:
            # webrtc called far more of it speech than Silero did: music or noise with a few word-like bits
            reason = (f"Silero confirmed {seconds:.2f} s of webrtc's {utterance.voiced_s:.2f} s voiced "
                      f"< {self._min_fraction(utterance):.0%}")
        if reason is not None:
            log.info("dropped utterance at %.2f s: %s", utterance.start_s, reason)
        return reason

    def _min_fraction(self, utterance: Utterance) -> float:
        """Short utterances may be a command in noise (webrtc calls the noise around it voiced); a long one
        with little Silero speech is music (see config/hearing.py)."""
        guards = self.guards.config
        short = utterance.voiced_s <= guards.silero_short_s
        return guards.silero_min_fraction_short if short else guards.silero_min_fraction

    # ---- after ASR -------------------------------------------------------------------------------

    def request_text(self, text: str) -> str:
        """``text`` without a leading wake phrase: what would be routed, were the transcript accepted (so
        that adaptive end of turn knows "Computer, what time is it?" for a whole command)."""
        if self.config.mode == "always":
            return text
        wake = match_wake(text, self.spoken_wake_phrases(), self.config.wake_tolerance)
        return wake.remainder if wake is not None else text

    def spoken_wake_phrases(self) -> list[str]:
        """The wake phrases a transcript may start with (wake_word mode: the models' phrases)."""
        if self.config.mode == "wake_word":
            return list(self._wake_word_phrases.values())
        return self.config.wake_phrases

    def expects_request(self, now: float) -> bool:
        """Whether a follow-up or push-to-talk window is open (wake_word mode: the endpointer must hear)."""
        with self._lock:
            return now <= max(self._open_until, self._push_until)

    def context_for(self, utterance: Utterance) -> RequestContext | None:
        """Who the request was said to: the wake word's persona and conversation, if configured."""
        if utterance.wake_word is None:
            return None
        persona = self.config.wake_word.personas.get(utterance.wake_word)
        if persona is None:
            return RequestContext(wake_word=utterance.wake_word)
        return RequestContext(utterance.wake_word, persona.persona, persona.conversation)

    def accept(self, transcript: Transcript, utterance: Utterance, now: float) -> Decision:
        decision = self._decide(transcript, utterance, now)
        if decision.request is None:
            log.info("dropped %r: %s", transcript.text, decision.reason)
        else:
            log.debug("request %r (%s)", decision.request, decision.reason)
        return decision

    def _decide(self, transcript: Transcript, utterance: Utterance, now: float) -> Decision:
        verdict = self.guards.check(transcript, utterance)
        for removed in verdict.removed:
            log.info("removed segment %s", removed)
        if verdict.reason is not None:
            return Decision(None, verdict.reason, noise=True)
        text = verdict.text
        mode = self.config.mode
        if mode == "always":
            return Decision(text, "always listening")
        started = speech_started_at(utterance)
        with self._lock:
            if mode == "push_to_talk" and self._push_from <= utterance.speech_end_at and started <= self._push_until:
                self._push_until = float("-inf")  # one trigger, one request
                return Decision(text, "push-to-talk")
            in_window = self._open_from <= utterance.speech_end_at and started <= self._open_until
            wake = match_wake(text, self.spoken_wake_phrases(), self.config.wake_tolerance)
            if mode == "wake_word" and utterance.wake_word is not None:
                request = wake.remainder if wake is not None else text
                if not request:
                    return Decision(None, f"wake word {utterance.wake_word!r}, then only its own name")
                return Decision(request, f"wake word {utterance.wake_word!r}")
            if wake is not None and not wake.remainder and mode == "wake_phrase":
                window = self.config.wake_only_window_s
                self._open_from, self._open_until = utterance.speech_end_at, max(now, utterance.speech_end_at) + window
                return Decision(None, f"wake phrase only: listening for {window:g} s", wake_only=True)
            if in_window:
                self._open_until = float("-inf")  # the window is for one answer
                return Decision(wake.remainder if wake else text, "follow-up window")
            if mode == "wake_phrase" and wake is not None:
                return Decision(wake.remainder, f"wake phrase {wake.phrase!r} (heard {wake.heard!r})")
        if mode == "push_to_talk":
            return Decision(None, "push-to-talk not triggered")
        return Decision(None, "no wake word" if mode == "wake_word" else "no wake phrase")

    # ---- events from the rest of the daemon ------------------------------------------------------

    def on_reply_finished(self, now: float) -> bool:
        """The assistant finished speaking: open the follow-up window, if configured (True when it did)."""
        if self.config.follow_up_s <= 0 or self.config.mode == "always":
            return False
        with self._lock:
            self._open_from, self._open_until = now, now + self.config.follow_up_s
        return True

    def push_to_talk(self, now: float) -> None:
        """The next utterance (ending after now, starting within the window) is a request."""
        with self._lock:
            self._push_from, self._push_until = now, now + self.config.push_to_talk_window_s


def prompt_for(listen: ListenConfig, hotwords: Iterable[str] = (), vocabulary: Iterable[str] = ()) -> str | None:
    """Whisper's initial prompt: wake phrases (if used) first, then configured hotwords, then the vocabulary.

    Whisper reads the prompt as text said just before the audio, so a phrase at the very *end* of the
    prompt can be taken as already said and left out ("Hey Mycroft, Computer." turned "Computer, what's
    the weather like?" into "What's the weather like?"): wake phrases go first, other terms after them.
    """

    # Whisper spells names as the prompt does, and capitalised names work better ("Hey Mycroft"
    # is heard as such; "hey mycroft" as "He mightcroft"): title-case the all-lower-case phrases.
    wake = [p.title() if p.islower() else p for p in listen.wake_phrases] if listen.mode == "wake_phrase" else []
    return build_initial_prompt([*wake, *hotwords, *vocabulary])


def build_listener(config: Config, *, vocabulary: Iterable[str] = (),
                   wake_word_phrases: dict[str, str] | None = None) -> Listener:
    """The Listener the config asks for; ``vocabulary`` (command phrases, slot values) biases Whisper;
    ``wake_word_phrases`` (model name -> phrase) are the acoustic wake words' (wake_word mode)."""
    prompt = prompt_for(config.listen, config.asr.hotwords, vocabulary) if config.asr.bias_vocabulary else None
    return Listener(config.listen, config.guards, engine=config.vad.engine, initial_prompt=prompt,
                    wake_word_phrases=wake_word_phrases)
