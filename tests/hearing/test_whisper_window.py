"""Whisper on a short encoder window (adaptive end of turn's first guess): fast, but refused whenever it
may be wrong, so the full 30 s window decides; and the bounded pass speculative recognition uses, which
cannot loop through the temperature fallback. Real model, real recordings."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np

from assistant.hearing.whisper import looks_like_a_loop, needs_full_window, short_window, token_budget
from support.textnorm import normalise
from support.wav import read_wav


def decoded(text: str, logprob: float = -0.3, no_speech: float = 0.05, tokens: int = 8,
            ratio: float = 1.0) -> tuple[str, list[SimpleNamespace]]:
    segment = SimpleNamespace(tokens=list(range(tokens)), avg_logprob=logprob, no_speech_prob=no_speech,
                              compression_ratio=ratio)
    return text, [segment]


def test_the_window_covers_the_audio_and_a_second_more_and_never_exceeds_whisper_s() -> None:
    assert short_window(2 * 16000, 10.0) == 1000  # a 2 s command: the 10 s floor
    assert short_window(12 * 16000, 10.0) == 1300  # 12 s + 1 s
    assert short_window(12 * 16000 + 160, 10.0) == 1302  # always even: the encoder halves it
    assert short_window(29 * 16000, 10.0) is None  # as long as Whisper's own window: use that


def test_doubtful_or_looping_guesses_are_refused() -> None:
    budget = token_budget(2.0)
    assert not needs_full_window(decoded("Turn on the living room lamp."), budget)
    assert needs_full_window(decoded(""), budget)  # nothing written for speech
    assert needs_full_window(decoded("Yes.", logprob=-1.2), budget)  # the guards would have to judge
    assert needs_full_window(decoded("Yes.", no_speech=0.5), budget)
    assert needs_full_window(decoded("a a a", tokens=budget), budget)  # the whole budget: a loop
    assert needs_full_window(decoded("lamp", ratio=2.6), budget)
    assert needs_full_window(decoded("10 of clubs, 10 of clubs"), budget)
    assert needs_full_window(decoded("no no no"), budget)
    assert not needs_full_window(decoded("no no"), budget)  # said twice is still speech
    assert not needs_full_window(decoded("set a timer for ten minutes and ten seconds"), budget)


def test_a_short_command_is_read_on_a_short_window(data_dir: Path, recognizer) -> None:  # type: ignore[no-untyped-def]
    pcm, _ = read_wav(data_dir / "turn_on_the_living_room_lamp.wav")
    quick = recognizer.transcribe_quick(pcm.tobytes())
    assert quick is not None and normalise(quick.text) == ["turn", "on", "the", "living", "room", "lamp"]
    assert quick.scorer is not None  # rescoring works on the short encoding too


def test_the_encoder_reads_only_the_window_asked_for(recognizer) -> None:  # type: ignore[no-untyped-def]
    model = recognizer._model
    features = np.zeros((80, 3000), dtype=np.float32)  # one padded Whisper window, as faster-whisper makes
    model.encoding_window(1000)
    try:
        short = np.asarray(model.encode(features))
    finally:
        model.encoding_window(None)
    full = np.asarray(model.encode(features))
    assert short.shape[1] == 500 and full.shape[1] == 1500  # encoder positions: 20 ms each


def test_noise_gets_no_quick_guess(data_dir: Path, recognizer) -> None:  # type: ignore[no-untyped-def]
    pcm, _ = read_wav(data_dir / "picovoice_empty_noise.wav")
    assert recognizer.transcribe_quick(pcm[: 16000 * 3].tobytes()) is None
    silence = np.zeros(16000, dtype="<i2")
    assert recognizer.transcribe_quick(silence.tobytes()) is None


def test_the_bounded_pass_refuses_only_loops() -> None:
    budget = token_budget(2.0)
    assert not looks_like_a_loop(decoded("Yes.", logprob=-1.2), budget)  # doubt is the guards' to judge
    assert not looks_like_a_loop(decoded("Turn on the living room lamp."), budget)
    assert looks_like_a_loop(decoded("a a a", tokens=budget), budget)
    assert looks_like_a_loop(decoded("lamp", ratio=2.6), budget)
    assert looks_like_a_loop(decoded("10 of clubs, 10 of clubs"), budget)


def test_the_bounded_pass_reads_speech_as_the_full_one_does(data_dir: Path, recognizer) -> None:  # type: ignore[no-untyped-def]
    for name in ("turn_on_the_living_room_lamp.wav", "whatstheweatherlike.wav"):
        pcm = read_wav(data_dir / name)[0].tobytes()
        bounded = recognizer.transcribe_bounded(pcm)
        assert bounded is not None and normalise(bounded.text) == normalise(recognizer.transcribe(pcm).text)


def test_a_pass_stopped_by_the_cap_is_told_from_one_whisper_ended(data_dir: Path, recognizer) -> None:  # type: ignore[no-untyped-def]
    """A capped pass must not pass for the whole utterance ("8 of spades, 4 of clubs, 7 of" was taken as
    the transcript once): only a segment that ends on a timestamp token is finished."""
    pcm = read_wav(data_dir / "turn_on_the_living_room_lamp.wav")[0].tobytes()
    audio = recognizer._with_lead_in(pcm)
    capped = recognizer._decode(audio, max_new_tokens=6, temperature=0.0, beam_size=1)
    whole = recognizer._decode(audio, max_new_tokens=60, temperature=0.0, beam_size=1)
    assert recognizer._cut_short(capped) and capped[0] != whole[0]
    assert not recognizer._cut_short(whole)
