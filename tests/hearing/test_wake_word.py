"""The acoustic wake-word detector on real recordings (tests/data/LICENSES.md): each bundled model fires on
its own word, not on another's or on ordinary speech, once per word, with either engine."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from assistant.hearing.wake_word import Detection, WakeWordError, WakeWords, bundled_models
from support.wav import read_wav

SILENCE = np.zeros(16000, dtype=np.int16)  # 1 s: the models need some audio before the word


def clip(data_dir: Path, name: str) -> np.ndarray:
    samples, rate = read_wav(data_dir / name)
    assert rate == 16000
    return samples


def detections(detector: WakeWords, audio: np.ndarray, chunk: int = 480) -> list[Detection]:
    pcm = audio.astype("<i2").tobytes()
    found = [detector.feed(pcm[i : i + 2 * chunk]) for i in range(0, len(pcm), 2 * chunk)]
    return [d for d in found if d is not None]


@pytest.mark.parametrize("engine", ["micro", "openwakeword"])
def test_each_model_fires_on_its_own_word_only(data_dir: Path, engine: str) -> None:
    mycroft = np.concatenate([SILENCE, clip(data_dir, "hey_mycroft_test.wav"), SILENCE])
    alexa = np.concatenate([SILENCE, clip(data_dir, "alexa_test.wav"), SILENCE])
    speech = clip(data_dir, "negative_reference.wav")  # 8.7 s of read speech, no wake word
    detector = WakeWords(engine, ["hey_mycroft", "alexa"])
    heard = detections(detector, np.concatenate([mycroft, speech, alexa]))
    assert [d.model for d in heard] == ["hey_mycroft", "alexa"]
    # each where its word was: hey mycroft's clip ends 1.95 s in, alexa's 1.63 s before the end
    total_s = (len(mycroft) + len(speech) + len(alexa)) / 16000
    assert 1.3 < heard[0].end_s < 2.3 and total_s - 1.9 < heard[1].end_s < total_s - 0.7
    assert heard[0].phrase == "Hey Mycroft" and all(d.probability > 0.5 for d in heard)


def test_one_word_wakes_once_and_the_next_word_again(data_dir: Path) -> None:
    word = clip(data_dir, "hey_mycroft_test.wav")
    once = np.concatenate([SILENCE, word, SILENCE])
    assert len(detections(WakeWords("micro", ["hey_mycroft"], refractory_s=0.2), once)) > 1  # the model fires on and on
    assert len(detections(WakeWords("micro", ["hey_mycroft"], refractory_s=2.0), once)) == 1  # one word, one wake
    apart = np.concatenate([SILENCE, word, SILENCE, SILENCE, SILENCE, word, SILENCE])
    assert len(detections(WakeWords("micro", ["hey_mycroft"], refractory_s=2.0), apart)) == 2


def test_the_clock_is_the_audio_not_the_chunking(data_dir: Path) -> None:
    audio = np.concatenate([SILENCE, clip(data_dir, "alexa_test.wav"), SILENCE])
    by_frame = detections(WakeWords("micro", ["alexa"]), audio, chunk=480)
    at_once = detections(WakeWords("micro", ["alexa"]), audio, chunk=len(audio))
    assert len(by_frame) == len(at_once) == 1
    assert by_frame[0].end_s <= at_once[0].end_s == pytest.approx(len(audio) / 16000)


def test_a_threshold_of_one_s_own_makes_a_model_deaf(data_dir: Path) -> None:
    audio = np.concatenate([SILENCE, clip(data_dir, "hey_mycroft_test.wav"), SILENCE])
    assert detections(WakeWords("micro", ["hey_mycroft"], threshold=0.9999), audio) == []


def test_a_model_file_of_ones_own_loads_by_path(data_dir: Path, tmp_path: Path) -> None:
    bundled = next(m for m in bundled_models() if m.engine == "micro" and m.name == "hey_mycroft")
    assert bundled.source == "bundled"
    import pymicro_wakeword

    models = Path(pymicro_wakeword.__file__).parent / "models"
    for name in ("hey_mycroft.json", "hey_mycroft.tflite"):
        shutil.copy(models / name, tmp_path / name.replace("hey_mycroft", "my_word"))
    json_file = tmp_path / "my_word.json"
    json_file.write_text(json_file.read_text().replace('"hey_mycroft.tflite"', '"my_word.tflite"'))
    detector = WakeWords("micro", [str(json_file)])
    assert detector.models[0].name == "my_word" and detector.models[0].source == str(json_file)
    audio = np.concatenate([SILENCE, clip(data_dir, "hey_mycroft_test.wav"), SILENCE])
    assert [d.model for d in detections(detector, audio)] == ["my_word"]


@pytest.mark.parametrize(("engine", "models", "says"), [
    ("micro", ["okay_nabu", "hey_computer"], "no bundled micro wake word 'hey_computer'; bundled: alexa, hey_jarvis"),
    ("openwakeword", ["melspectrogram"], "no bundled openwakeword wake word 'melspectrogram'"),
    ("micro", ["/nowhere/word.json"], "/nowhere/word.json does not exist"),
    ("micro", ["alexa", "alexa"], "configured twice"),
    ("micro", [], "no wake word models"),
    ("porcupine", ["alexa"], "unknown wake word engine 'porcupine'"),
])
def test_bad_models_are_refused_in_plain_words(engine: str, models: list[str], says: str) -> None:
    with pytest.raises(WakeWordError, match=None) as error:
        WakeWords(engine, models)
    assert says in str(error.value)


def test_every_bundled_model_is_listed_with_its_phrase() -> None:
    listed = {(m.engine, m.name): m for m in bundled_models()}
    assert {name for engine, name in listed if engine == "micro"} == {"okay_nabu", "hey_jarvis", "hey_mycroft", "alexa"}
    assert ("openwakeword", "hey_rhasspy") in listed and ("openwakeword", "embedding_model") not in listed
    assert listed["micro", "okay_nabu"].phrase == "Okay Nabu" and listed["micro", "okay_nabu"].threshold == 0.85


def test_a_candidate_is_given_once_its_peak_is_known_and_a_sure_word_at_once(data_dir: Path) -> None:
    audio = np.concatenate([SILENCE, clip(data_dir, "hey_mycroft_test.wav"), SILENCE])
    sure = detections(WakeWords("micro", ["hey_mycroft"], confirm_from=0.5), audio)
    plain = detections(WakeWords("micro", ["hey_mycroft"]), audio)
    assert [(d.sure, d.end_s) for d in sure] == [(True, plain[0].end_s)]  # no later than without candidates
    # nothing reaches 0.9999: the word is a candidate, given when its probability has been watched 0.3 s
    (candidate,) = detections(WakeWords("micro", ["hey_mycroft"], threshold=0.9999, confirm_from=0.5), audio)
    assert not candidate.sure and candidate.probability > 0.95  # its peak, not where it crossed 0.5
    assert plain[0].end_s < candidate.end_s <= plain[0].end_s + 0.35
    # confirm_below raises the cut-off only for firing at once: the word is the same candidate
    (below,) = detections(WakeWords("micro", ["hey_mycroft"], confirm_from=0.5, confirm_below=0.9999), audio)
    assert (below.sure, below.end_s) == (False, candidate.end_s)
    assert detections(WakeWords("micro", ["hey_mycroft"], threshold=0.9999), audio) == []
    # confirm_below raises the cut-off only for firing at once: the word is the same candidate
    (below,) = detections(WakeWords("micro", ["hey_mycroft"], confirm_from=0.5, confirm_below=0.9999), audio)
    assert (below.sure, below.end_s) == (False, candidate.end_s)
    # ordinary speech gives no candidate either
    speech = clip(data_dir, "negative_reference.wav")
    assert detections(WakeWords("micro", ["hey_mycroft", "alexa"], confirm_from=0.5), speech) == []
