"""Half duplex, except for "stop": hear a stop phrase over our own voice, and nothing else.

With ``turn.policy: half_duplex`` the mic is kept from the endpointer while the assistant speaks, so it
never answers itself or a half-heard request. "Stop" must still work. The echo gate (audio/echo_gate.py)
finds mic audio that our own voice, as played, does not explain; ``StopWordListener`` collects that short
utterance, echo reduced and at most ``MAX_S`` long, as crops to try in turn; ``StopCheck`` transcribes
them off the listen thread, and the pipeline cuts the reply only when ``is_stop_request`` accepts a
transcript. What is heard here never becomes a turn.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Sequence

from assistant.audio.echo_gate import EchoGate
from assistant.events import AudioFrame, Transcript
from assistant.hearing.guards import Guards
from assistant.hearing.listen import match_wake
from assistant.hearing.whisper import Recognizer

log = logging.getLogger(__name__)

# The margins matter: Whisper hears what the gate leaves of our echo as words ("It stopped me."), and
# misses a "stop" whose start is cut off. Tuned with tests/test_stop_words.py and the virtual room of
# tests/test_half_duplex_pipeline.py.
PREROLL_MS = 500  # the gate is often sure only on the vowel, or later: the word starts before that
# Kept after the last frame that sounded like the user, one crop each, tried in turn: a short tail keeps
# out our echo's next syllable ("Stop me."), but the gate may stop hearing the user before the word ends.
TAILS_MS = (100, 300)
END_MS = 500  # this long without user speech over our voice ends the utterance
MAX_S = 1.5  # stop phrases are short; longer speech is cut here (its start is still checked)
# A one-word transcript's average token log-probability is noisy: "Stop!" heard over our echo scored
# -0.9 to -1.12 in the virtual-room tests, around the -1.0 that turns use; -1.5 still drops the worst.
MIN_AVG_LOGPROB = -1.5


# When Whisper writes nothing (or a fragment) for a clipped "stop" over our echo, the sound still tells:
# scored against the crop, a real "stop" gave "Stop." -1.4 to -4.7 nats, other speech and echo below -6
# (tests/test_stop_words.py mixes). Only for short transcripts: next to a long (hallucinated) one any short
# sentence looks likely, since it leaves most of the audio unexplained.
STOP_SOUNDS = ("Stop.", "Stop it.", "Be quiet.", "Quiet.", "Shut up.", "Enough.")
MIN_STOP_LOG_LIKELIHOOD = -5.0
MAX_FRAGMENT_WORDS = 2


def sounds_like_stop(transcript: Transcript) -> bool:
    """Whether a crop whose transcript is empty or a fragment still sounds like a stop phrase."""
    if transcript.scorer is None or len(transcript.text.split()) > MAX_FRAGMENT_WORDS:
        return False
    return max(transcript.scorer.log_likelihoods(STOP_SOUNDS)) >= MIN_STOP_LOG_LIKELIHOOD


class StopWordListener:
    """Collects user speech found over our own voice, one short utterance at a time (listen thread only).

    The utterance is cropped to the user's voice (plus margins): whatever of our echo the gate leaves in
    is heard by Whisper as words, and "stop" with a word of ours around it is no stop phrase.
    """

    def __init__(self, gate: EchoGate) -> None:
        self.gate = gate
        self._frames: list[AudioFrame] = []  # echo-reduced, from PREROLL_MS before the onset
        self._last_user = 0  # how many of them run to the last frame that sounded like the user
        self._quiet_ms = 0.0

    @property
    def collecting(self) -> bool:
        return bool(self._frames)

    def reset(self) -> None:
        """A new stretch of our own sound: forget the mic history of the last one."""
        self.gate.reset()
        self._frames = []
        self._quiet_ms = 0.0

    def feed(self, frame: AudioFrame) -> tuple[bytes, ...] | None:
        """One mic frame captured while we play; once the utterance is complete, its echo-reduced PCM
        (crops of it to transcribe in turn, see TAILS_MS)."""
        confirmed = self.gate.feed(frame)  # also makes the gate's echo-reduced copy of this frame
        if not self._frames:
            if confirmed:  # user speech over our voice: start a little before its onset
                self._frames = self.gate.frames_since_onset(PREROLL_MS)
                self._last_user = len(self._frames)
                self._quiet_ms = 0.0
            return None
        cleaned = self.gate.last_cleaned
        self._frames.append(cleaned if cleaned is not None else frame)
        if self.gate.last_user:
            self._last_user = len(self._frames)
        self._quiet_ms = 0.0 if confirmed else self._quiet_ms + frame.duration_s * 1000
        if self._quiet_ms >= END_MS or sum(f.duration_s for f in self._frames) >= MAX_S:
            return self.flush()
        return None

    def flush(self) -> tuple[bytes, ...] | None:
        """What was collected so far (our sound ended mid-utterance), or None; starts over either way."""
        if not self._frames:
            return None
        frame_s = self._frames[-1].duration_s
        ends = [min(len(self._frames), self._last_user + round(tail / 1000 / frame_s)) for tail in TAILS_MS]
        crops = tuple(b"".join(f.pcm for f in self._frames[:end]) for end in dict.fromkeys(ends))
        self._frames = []
        self._quiet_ms = 0.0
        self.gate.reset()  # the next detection starts from scratch, not mid-run of this one
        return crops


def stop_guards(turn_guards: Guards) -> Guards:
    """The turns' hallucination guards with a lower log-probability floor: here precision comes from the
    echo gate and the exact phrase, and a real "stop" must not be dropped for being short."""
    floor = min(turn_guards.config.min_avg_logprob, MIN_AVG_LOGPROB)
    return Guards(turn_guards.config.model_copy(update={"min_avg_logprob": floor}))


# Words said around a stop phrase that leave it a stop request ("Okay, stop it now."). Whisper also hears a
# syllable of our echo next to the user's word as one of these ("So stop."). Never "don't".
LEADING = frozenset({"oh", "ok", "okay", "so", "um", "uh", "ah", "well", "and", "hey", "please", "just", "now"})
TRAILING = frozenset({"please", "now", "it", "that", "already", "there"})
_TOKEN = re.compile(r"[\w'’]+")


def _core(text: str) -> str:
    """``text`` without the LEADING and TRAILING words around it, lower case."""
    words = _TOKEN.findall(text.lower())
    while words and words[0] in LEADING:
        words.pop(0)
    while words and words[-1] in TRAILING:
        words.pop()
    return " ".join(words)


def is_stop_request(text: str, is_stop_phrase: Callable[[str], bool], wake_phrases: Sequence[str] = ()) -> bool:
    """Whether ``text`` asks us to be quiet: "Stop.", "Computer, stop!", "Okay, stop it.", "Stop. Be quiet."
    (not "Don't stop.", "Stop the timer.").

    ``is_stop_phrase`` decides for one phrase (the router's stop skill phrases); a leading wake phrase is
    allowed, as it is for any request, and so are several stop phrases in a row.
    """
    wake = match_wake(text, wake_phrases) if wake_phrases else None
    if wake is not None:
        text = wake.remainder
    whole = _core(text)
    if whole and is_stop_phrase(whole):
        return True
    clauses = [c for c in map(_core, re.split(r"[,.!?;]+", text)) if c]  # "Okay," leaves nothing
    return len(clauses) > 1 and all(is_stop_phrase(c) for c in clauses)


def stop_request_in(crops: Sequence[bytes], recognizer: Recognizer, guards: Guards,
                    is_stop_phrase: Callable[[str], bool], wake_phrases: Sequence[str] = ()) -> str | None:
    """What was heard in the first crop that asks us to stop (its words or its sound), or None.

    Crops are tried in turn (see TAILS_MS); ``guards`` keep a hallucination on our echo from counting.
    """
    heard = []
    for pcm in crops:
        transcript = recognizer.transcribe(pcm)
        verdict = guards.check(transcript)
        if is_stop_request(verdict.text, is_stop_phrase, wake_phrases):
            return transcript.text
        if sounds_like_stop(transcript):
            return f"{transcript.text or '(nothing written)'}, but it sounds like a stop phrase"
        heard.append(transcript.text if verdict.reason is None else f"{transcript.text} ({verdict.reason})")
    log.info("heard %s while speaking: not a stop phrase, ignored", " / ".join(map(repr, heard)))
    return None


class StopCheck:
    """Transcribes speech heard over our reply on a thread of its own, so the listen loop keeps up; one
    check at a time (on a small box the reply is still being synthesized)."""

    def __init__(self) -> None:
        self._running = threading.Event()

    @property
    def running(self) -> bool:
        return self._running.is_set()

    def start(self, crops: Sequence[bytes], recognizer: Recognizer, turn_guards: Guards,
              is_stop_phrase: Callable[[str], bool], wake_phrases: Sequence[str],
              on_stop: Callable[[str], None]) -> bool:
        """Check ``crops`` and call ``on_stop`` with what was heard if it asks us to stop; False when a
        check is running already (these crops are then ignored)."""
        if self._running.is_set():
            log.info("speech over the reply while a stop check runs: ignored")
            return False
        self._running.set()
        threading.Thread(target=self._run, args=(crops, recognizer, turn_guards, is_stop_phrase, wake_phrases,
                                                  on_stop), name="stop-words", daemon=True).start()
        return True

    def _run(self, crops: Sequence[bytes], recognizer: Recognizer, turn_guards: Guards,
             is_stop_phrase: Callable[[str], bool], wake_phrases: Sequence[str],
             on_stop: Callable[[str], None]) -> None:
        try:
            # the turns' guards, loosened for one short word: no stop from a hallucination on our echo
            heard = stop_request_in(crops, recognizer, stop_guards(turn_guards), is_stop_phrase, wake_phrases)
            if heard is not None:
                on_stop(heard)
        except Exception as exc:  # a failed check must not end the daemon; the reply plays on
            log.warning("stop check failed: %s: %s", type(exc).__name__, exc)
        finally:  # only now: "not checking" then means whatever was heard has been acted on
            self._running.clear()
