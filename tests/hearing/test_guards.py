"""Hallucination guards: each rule on its own, then on real noise and music through the real model."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from assistant.bench.hearing import endpoint
from assistant.config.hearing import GuardsConfig
from assistant.config.schema import Config
from assistant.events import Transcript, TranscriptSegment, Utterance
from assistant.hearing.guards import Guards, plain
from assistant.hearing.listen import Listener
from assistant.hearing.whisper import WhisperRecognizer


def seg(text: str, no_speech: float = 0.02, logprob: float = -0.3, ratio: float = 1.2) -> TranscriptSegment:
    return TranscriptSegment(0.0, 1.0, text, no_speech, logprob, ratio)


def tr(*segments: TranscriptSegment) -> Transcript:
    return Transcript(" ".join(s.text for s in segments), tuple(segments), "tiny.en", 0.1)


def utt(voiced_s: float = 1.0) -> Utterance:
    return Utterance(b"\0\0" * 16000, 0.0, 1.0, voiced_s, 1.5, 1.0)


GUARDS = Guards(GuardsConfig())


def test_good_speech_passes() -> None:
    verdict = GUARDS.check(tr(seg("Turn on the Lumière lamp.")), utt())
    assert verdict.reason is None and verdict.text == "Turn on the Lumière lamp."


@pytest.mark.parametrize(
    ("segment", "words"),
    [
        (seg("Whoo!", no_speech=0.61, logprob=-0.98), "no-speech probability 0.61 > 0.6"),
        (seg(".", logprob=-1.05), "average log-probability -1.05 < -1.0"),
        (seg("shoot, shoot, shoot, shoot, shoot, shoot, shoot.", logprob=-0.5, ratio=2.6), "compression ratio 2.60"),
        # what Whisper's temperature fallback made of real noise (picovoice_empty_noise.wav): its greedy "Whoo!"
        # at -1.03 failed, and resampling re-rolled until a guess passed -1.0
        (TranscriptSegment(0.0, 1.0, "Whoa!", 0.594, -0.99, 1.0, temperature=0.4), "resampled at temperature 0.4"),
    ],
)
def test_each_segment_rule_drops(segment: TranscriptSegment, words: str) -> None:
    verdict = GUARDS.check(tr(segment), utt())
    assert verdict.text == "" and verdict.reason is not None and words in verdict.reason


def test_a_resampled_segment_is_kept_when_whisper_is_sure_there_is_speech() -> None:
    segment = TranscriptSegment(0.0, 1.0, "Turn on the lamp.", 0.05, -0.9, 1.1, temperature=0.2)
    assert GUARDS.check(tr(segment), utt()).text == "Turn on the lamp."
    greedy = seg("Whoa!", no_speech=0.594, logprob=-0.99)  # the same doubt without resampling: Whisper's own rule
    assert GUARDS.check(tr(greedy), utt()).text == "Whoa!"


def test_bad_segments_are_removed_and_good_ones_kept() -> None:
    verdict = GUARDS.check(tr(seg("Set a timer for five minutes."), seg("Thank you.", no_speech=0.9)), utt())
    assert verdict.reason is None and verdict.text == "Set a timer for five minutes."
    assert len(verdict.removed) == 1 and "no-speech" in verdict.removed[0]


def test_too_little_voiced_audio() -> None:
    verdict = GUARDS.check(tr(seg("Yes.")), utt(voiced_s=0.2))
    assert verdict.reason is not None and "voiced" in verdict.reason


@pytest.mark.parametrize("text", ["Thank you.", "you", "Thanks for watching!", "Bye.", "[Music]", "(upbeat music)",
                                  "♪ la la la ♪", "*sighs*", "...", "Subtitles by the Amara.org community"])
def test_known_hallucinations_and_annotations(text: str) -> None:
    verdict = GUARDS.check(tr(seg(text)), utt())
    assert verdict.text == "" and verdict.reason is not None


def test_annotations_are_cut_from_real_words() -> None:
    verdict = GUARDS.check(tr(seg("[Music] Turn it down.")), utt())
    assert verdict.reason is None and verdict.text == "Turn it down."


def test_guards_can_be_disabled_and_lists_configured() -> None:
    assert Guards(GuardsConfig(enabled=False)).check(tr(seg("Thank you.", no_speech=0.99)), utt()).text == "Thank you."
    custom = Guards(GuardsConfig(hallucinations=["Okay then"]))
    assert custom.check(tr(seg("Okay, then.")), utt()).reason is not None
    assert custom.check(tr(seg("Thank you.")), utt()).reason is None
    assert plain("  Ça, c'est   BON! ") == "ca cest bon"


# ---- real noise and music through the endpointer and tiny.en ---------------------------------------

NOISE = ["picovoice_empty_noise.wav", "speechbrain_noise4.wav", "music_brahms_hungarian_dance5.wav"]


@pytest.fixture(scope="module")
def raw_recognizer() -> WhisperRecognizer:
    # Without the lead-in silence Whisper invents text for all three files: the guards must catch it.
    from assistant.config.schema import AsrConfig

    return WhisperRecognizer(AsrConfig(lead_in_ms=0))


@pytest.mark.slow
@pytest.mark.parametrize("name", NOISE)
def test_noise_that_whisper_transcribes_is_dropped(name: str, data_dir: Path, raw_recognizer: WhisperRecognizer,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    recognizer = raw_recognizer
    config = Config()
    listener = Listener()  # defaults: guards on, mode always, vad.engine webrtc
    heard = []
    with caplog.at_level(logging.INFO, logger="assistant.hearing.listen"):
        for utterance in endpoint(data_dir / name, config):
            transcript = recognizer.transcribe(utterance.pcm)
            heard.append((transcript.text, listener.accept(transcript, utterance, utterance.ended_at)))
    # Whisper does write something for this file: without the guards it would reach the router...
    assert any(text.strip() for text, _ in heard), heard
    # ...and with them nothing does, each drop logged with its reason.
    assert all(decision.request is None for _, decision in heard), heard
    assert caplog.text.count("dropped") >= len(heard)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["whatstheweatherlike.wav", "turn_on_the_living_room_lamp.wav", "jfk.wav"])
def test_real_speech_passes_the_guards(name: str, data_dir: Path, recognizer: WhisperRecognizer) -> None:
    config = Config()
    listener = Listener()
    requests = []
    for utterance in endpoint(data_dir / name, config):
        decision = listener.accept(recognizer.transcribe(utterance.pcm), utterance, utterance.ended_at)
        assert decision.request is not None, decision.reason
        requests.append(decision.request)
    assert requests
