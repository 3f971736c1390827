"""Whisper's second opinion on a wake-word candidate: was the phrase said in this audio?

A candidate is a model's detection below its own cut-off (``listen.wake_word.confirm_from``). Whisper
transcribes the last two seconds (greedy, capped, and without a prompt: primed with the phrase, it writes it
for anything that sounds a little like it). The phrase is heard if the transcript holds it, or if Whisper
finds the transcript with the phrase in place of its last words nearly as likely as its own (a forced
decode against the same encoder output, as for near-miss commands): tiny.en writes "Hey Mycroft" as "Hit my
crossed." but scores "Hey Mycroft." only 7 nats below it, while "Okay Nabu" in place of "Okay Google,
stream stream." (a real false accept of okay_nabu) scores 22 below, and 34-42 below for ordinary speech.
"""

from __future__ import annotations

from assistant.hearing.listen import heard_in, words
from assistant.hearing.whisper import BoundedRecognizer, Recognizer

MARGIN_NATS = 12.0  # between the phrase's sentence and Whisper's own: 1.7-7 when said, 22+ when not


def hears_phrase(recognizer: Recognizer, pcm: bytes, phrase: str, tolerance: float = 0.25) -> tuple[bool, str]:
    """(whether ``phrase`` was said at the end of ``pcm``, what Whisper heard and how the phrase scored)."""
    if isinstance(recognizer, BoundedRecognizer):
        transcript = recognizer.transcribe_bounded(pcm)
        if transcript is None:
            return False, "(a repetition loop)"
    else:
        transcript = recognizer.transcribe(pcm)
    text = transcript.text
    if heard_in(text, phrase, tolerance):
        return True, text
    if transcript.scorer is None or not text:
        return False, text
    said = text.split()
    options = [phrase] + [" ".join([*said[: len(said) - n], phrase])
                          for n in range(1, min(len(said), len(words(phrase)) + 2) + 1)]
    own, *scores = transcript.scorer.log_likelihoods([text, *options])
    gap = own - max(scores)
    return gap <= MARGIN_NATS, f"{text} (the phrase {gap:.1f} nats less likely)"
