"""Streamed speech: real espeak-ng synthesis, played through PortAudio into the virtual speaker."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from assistant.audio.resample import resample
from assistant.audio.sinks import NullSink, PyAudioSink, WavSink
from assistant.config.schema import TtsConfig
from assistant.speech.base import SynthesisError
from assistant.speech.pyttsx3_engine import Pyttsx3Synthesizer
from assistant.speech.streaming import SentenceStream, Speaker, sentences_of
from support.textnorm import normalise, wer
from support.vaudio import VirtualAudio
from support.wav import read_wav

REPLY = ["The kitchen light is on.", "The front door is locked.", "The music is playing."]


@pytest.fixture(scope="module")
def synthesizer() -> Pyttsx3Synthesizer:
    return Pyttsx3Synthesizer(TtsConfig())


def test_first_sentence_plays_before_the_third_is_synthesized(vaudio: VirtualAudio, tmp_path: Path,
                                                              synthesizer: Pyttsx3Synthesizer,
                                                              recognizer) -> None:
    out = tmp_path / "spoken.wav"
    recorder = vaudio.record(out)
    time.sleep(0.5)
    sink = PyAudioSink(None)
    try:
        timeline = Speaker(synthesizer, sink, lookahead=1).say(REPLY)
    finally:
        sink.close()
    time.sleep(0.5)
    recorder.terminate()
    recorder.wait(5)
    first, second, third = timeline.sentences
    assert first.first_sample is not None and third.first_sample is not None
    # order on the monotonic clock: sentence 1 was already sounding before sentence 3 was even started
    assert first.synth_ended <= first.first_sample < third.synth_started <= third.synth_ended
    assert second.synth_ended <= second.first_sample <= third.first_sample  # type: ignore[operator]
    assert not timeline.cancelled and timeline.error is None
    pcm, _ = read_wav(out)
    heard = recognizer.transcribe(pcm.tobytes(), vad_filter=True).text
    assert wer(" ".join(REPLY), heard) <= 0.25, heard
    words = normalise(heard)  # and in the order they were written
    assert words.index("kitchen") < words.index("door") < words.index("music"), heard


def test_cancel_cuts_the_reply_and_drops_the_rest(synthesizer: Pyttsx3Synthesizer) -> None:
    sink = NullSink(realtime=True)
    speaker = Speaker(synthesizer, sink, lookahead=1)
    started = threading.Event()
    speaker.on_audio = lambda pcm, rate, at: started.set()
    def cut() -> None:
        if started.wait(10):
            speaker.cancel()

    timer = threading.Thread(target=cut)
    timer.start()
    timeline = speaker.say(REPLY)
    timer.join()
    assert timeline.cancelled
    played = [s for s in timeline.sentences if s.first_sample is not None]
    assert len(played) == 1 and played[0].text == REPLY[0]


def test_a_cancel_just_before_a_sentence_starts_is_not_lost(synthesizer: Pyttsx3Synthesizer,
                                                            tmp_path: Path) -> None:
    """A barge-in between the speaker's last check and the sink starting the sentence (here: from the
    echo gate's tap, which runs right then) must cut that sentence, not let it play to its end."""
    for sink in (WavSink(tmp_path / "cut.wav"), NullSink(realtime=True)):
        speaker = Speaker(synthesizer, sink, lookahead=1)
        speaker.on_audio = lambda pcm, rate, at, speaker=speaker: speaker.cancel()  # type: ignore[misc]
        timeline = speaker.say(REPLY)
        # not a sample of it played (the lost cancel let it play to its end)
        assert timeline.cancelled and [s.first_sample for s in timeline.sentences] == [None], sink.name
        sink.close()
    assert read_wav(tmp_path / "cut.wav")[0].size == 0  # nothing of it was written


def test_empty_and_markup_only_text_play_nothing(synthesizer: Pyttsx3Synthesizer) -> None:
    for text in ["", "   ", "\x00\x07\n", "<speak></speak>"]:
        timeline = Speaker(synthesizer, NullSink()).say_text(text)
        assert timeline.first_sample is None and timeline.error is None, text


def test_markup_and_control_characters_are_not_read_out(synthesizer: Pyttsx3Synthesizer,
                                                        recognizer) -> None:
    text = "<speak>The oven is <emphasis>hot</emphasis>.<break time='1s'/></speak>\x00\x1b[31m Be careful.\x07"
    assert sentences_of(text) == ["The oven is hot.", "Be careful."]
    chunks = list(SentenceStream(synthesizer, sentences_of(text)))
    pcm = b"".join(resample(c.pcm, c.rate, 16000) for c in chunks)
    heard = normalise(recognizer.transcribe(pcm).text)
    assert not {"speak", "emphasis", "break", "time"} & set(heard), heard
    assert wer("the oven is hot be careful", " ".join(heard)) <= 0.2, heard


def test_ten_thousand_characters_stream_without_synthesizing_everything(synthesizer: Pyttsx3Synthesizer) -> None:
    text = " ".join(f"This is sentence number {i} of a very long reply." for i in range(250))
    assert len(text) > 10_000
    sentences = sentences_of(text, max_chars=4000)
    assert sum(len(s) for s in sentences) <= 4000 and len(sentences) < 100
    speaker = Speaker(synthesizer, NullSink(), lookahead=2)
    seen: list[float] = []

    def tap(pcm: bytes, rate: int, at: float) -> None:
        seen.append(at)
        if len(seen) == 3:
            speaker.cancel()

    speaker.on_audio = tap
    timeline = speaker.say(sentences)
    assert timeline.cancelled and len(seen) == 3
    # cancelled early: at most `lookahead` sentences were made beyond those played
    assert len(timeline.sentences) <= 3 + 2


def test_unsupported_voice_is_a_clear_error() -> None:
    with pytest.raises(SynthesisError, match=r"no voice matches 'klingon-warrior'.*assistant voices"):
        Pyttsx3Synthesizer(TtsConfig(voice="klingon-warrior"))


def test_a_second_synthesizer_while_the_first_lives_does_not_hang() -> None:
    """A reload builds the new voice while the old one is still in use (pyttsx3 shares one engine)."""
    made: list[tuple[bytes, int]] = []

    def build_two() -> None:
        first = Pyttsx3Synthesizer(TtsConfig())
        second = Pyttsx3Synthesizer(TtsConfig(rate=200))
        made.extend([second.synthesize("The new voice."), first.synthesize("The old voice.")])

    worker = threading.Thread(target=build_two, daemon=True)
    worker.start()
    worker.join(30)
    assert not worker.is_alive(), "building a second synthesizer hung"
    assert len(made) == 2 and all(len(pcm) > 10_000 and rate == 22050 for pcm, rate in made)


def test_no_voice_configured_is_the_default_voice_even_after_another() -> None:
    """pyttsx3 shares one engine: a synthesizer with a voice set must not leave it to the next one that has
    none (a reload back to the default voice, or tests run in another order)."""
    default = Pyttsx3Synthesizer(TtsConfig())
    default.synthesize("Hello.")
    default_voice = default._engine.getProperty("voice")
    other = next(v["id"] for v in default.voices() if v["id"] != default_voice)
    Pyttsx3Synthesizer(TtsConfig(voice=other)).synthesize("Hello.")
    assert default._engine.getProperty("voice") == other  # the engine is shared...
    Pyttsx3Synthesizer(TtsConfig()).synthesize("Hello.")
    assert default._engine.getProperty("voice") == default_voice  # ...and one without a voice speaks the default


def test_two_synthesizers_at_once_each_speak_with_their_own_voice(monkeypatch: pytest.MonkeyPatch) -> None:
    """They share one pyttsx3 engine: a reload's new voice synthesizing while the old one finishes a
    sentence (or a cut reply's look-ahead thread) must neither mix their audio nor swap their voices.

    pyttsx3 cancels espeak-ng before each synthesis if espeak's thread is still busy, and a cancel puts back
    the previous synthesis's rate: CI saw the new voice at the old rate. That race is timing-bound (about one
    synthesis in 13 here without the fix), so the test also counts the cancels, which it sees far more often
    than a wrong length."""
    from pyttsx3.drivers import _espeak

    cancels: list[float] = []
    real_cancel = _espeak.Cancel

    def counted_cancel() -> int:
        cancels.append(time.monotonic())
        return int(real_cancel())

    monkeypatch.setattr(_espeak, "Cancel", counted_cancel)
    # each one's length alone, measured before the other exists: espeak-ng is not bit-exact (a few samples
    # from run to run, up to 0.8 % after some other voices), but the other rate (200 against 175 words a
    # minute) makes a swapped voice ~12 % shorter or longer
    first = Pyttsx3Synthesizer(TtsConfig())
    alone = {"first": len(first.synthesize("The old voice finishes.")[0])}
    other = next(v["id"] for v in first.voices() if v["id"] != first._settings["voice"])
    second = Pyttsx3Synthesizer(TtsConfig(voice=other, rate=200))
    alone["second"] = len(second.synthesize("The new one.")[0])
    assert alone["first"] > 1.3 * alone["second"]
    heard: list[tuple[str, tuple[bytes, int]]] = []

    def speak(name: str, synthesizer: Pyttsx3Synthesizer, text: str) -> None:
        for _ in range(8):
            heard.append((name, synthesizer.synthesize(text)))

    threads = [threading.Thread(target=speak, args=("first", first, "The old voice finishes.")),
               threading.Thread(target=speak, args=("second", second, "The new one."))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(heard) == 16
    lengths = [(name, len(pcm), rate) for name, (pcm, rate) in heard]
    assert not cancels, f"espeak was cancelled {len(cancels)} times, dropping queued settings; {lengths}"
    assert all(abs(length - alone[name]) < 0.05 * alone[name] and rate == 22050 for name, length, rate in lengths), \
        (alone, lengths)


def test_synthesis_leaves_no_files_behind(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # A daemon reloads for weeks and tests make many synthesizers: none of them may leave a folder in /tmp.
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path))
    synthesizer = Pyttsx3Synthesizer(TtsConfig())
    pcm, rate = synthesizer.synthesize("The lamp is on.")
    assert len(pcm) > rate  # real speech came back
    assert list(tmp_path.iterdir()) == []
