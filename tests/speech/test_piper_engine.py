"""The optional Piper voice: the real bundled en_US joe model (installed by .ci/run), heard back by Whisper."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numpy as np
import pytest

from assistant.app.checks import deep_check
from assistant.audio.resample import resample
from assistant.audio.sinks import NullSink
from assistant.config.schema import Config, TtsConfig
from assistant.speech.base import SynthesisError
from assistant.speech.piper_engine import PiperSynthesizer, piper_voice_files
from assistant.speech.pyttsx3_engine import Pyttsx3Synthesizer
from assistant.speech.streaming import Speaker
from support.cli import run_cli
from support.textnorm import normalise, wer
from support.wav import read_wav

REPLY = ["The kitchen light is on.", "The front door is locked.", "The music is playing."]


@pytest.fixture(scope="module")
def piper() -> PiperSynthesizer:
    return PiperSynthesizer(TtsConfig(engine="piper"))


@pytest.fixture
def voice_copy(tmp_path: Path) -> Path:
    """The bundled voice's files, linked into a folder of their own (as a user's downloaded voice would be)."""
    model, config = piper_voice_files(None)
    folder = tmp_path / "voices"
    folder.mkdir()
    (folder / model.name).symlink_to(model)
    (folder / config.name).symlink_to(config)
    return folder / model.name


def test_reply_streams_sentence_by_sentence_and_whisper_understands_it(piper: PiperSynthesizer,
                                                                      recognizer) -> None:
    heard: list[np.ndarray] = []
    speaker = Speaker(piper, NullSink(), lookahead=1)
    speaker.on_audio = lambda pcm, rate, at: heard.append(np.frombuffer(resample(pcm, rate, 16000), "<i2"))
    timeline = speaker.say(REPLY)
    first, _, third = timeline.sentences
    assert timeline.error is None and first.first_sample is not None
    assert first.synth_ended <= first.first_sample < third.synth_started  # the first plays while the third waits
    text = recognizer.transcribe(np.concatenate(heard).tobytes()).text
    assert wer(" ".join(REPLY), text) <= 0.2, text
    words = normalise(text)
    assert words.index("kitchen") < words.index("door") < words.index("music"), text


def test_rate_and_volume_follow_the_config(piper: PiperSynthesizer) -> None:
    def spoken(**settings: object) -> np.ndarray:
        pcm, rate = PiperSynthesizer(TtsConfig(engine="piper", **settings)).synthesize("The front door is locked.")
        assert rate == 22050
        return np.frombuffer(pcm, "<i2")

    natural, fast = spoken(), spoken(rate=250)
    # phoneme lengths scale by 175/250 = 0.70; the silence around the words does not, hence the margin
    assert 0.6 < len(fast) / len(natural) < 0.85, (len(fast), len(natural))
    assert np.abs(natural).max() > 30_000  # Piper normalises each sentence to full scale...
    assert 0.45 < np.abs(spoken(volume=0.5)).max() / np.abs(natural).max() < 0.55  # ...then applies the volume


def test_nothing_to_say_is_silence_and_markup_is_not_read_out(piper: PiperSynthesizer, recognizer) -> None:
    for text in ["", "   ", "...", "?!"]:
        assert piper.synthesize(text)[0] == b"", text
    pcm, rate = piper.synthesize("The oven is hot, be careful.\x07")
    heard = normalise(recognizer.transcribe(resample(pcm, rate, 16000)).text)
    assert wer("the oven is hot be careful", " ".join(heard)) <= 0.2, heard


def test_a_voice_by_its_file_or_folder(voice_copy: Path) -> None:
    for spec in (voice_copy, voice_copy.parent):
        synthesizer = PiperSynthesizer(TtsConfig(engine="piper", piper_model=str(spec)))
        assert synthesizer.voices() == [{"id": "en_US-joe-medium", "name": "en_US-joe-medium",
                                         "languages": "en-us"}]
        assert len(synthesizer.synthesize("Hello.")[0]) > 10_000
    # a voice named by (part of) its id is that voice; any other name is a clear error
    assert PiperSynthesizer(TtsConfig(engine="piper", voice="joe")).synthesize("Hello.")[0]
    with pytest.raises(SynthesisError, match=r"no voice matches 'amy'.*assistant voices"):
        PiperSynthesizer(TtsConfig(engine="piper", voice="amy"))


def test_broken_voice_files_are_plain_errors(voice_copy: Path, tmp_path: Path) -> None:
    config_file = voice_copy.with_name(voice_copy.name + ".json")
    cases: list[tuple[Path, str]] = [(tmp_path / "nope.onnx", "does not exist")]
    empty = tmp_path / "empty"
    empty.mkdir()
    cases.append((empty, "holds 0 .onnx files"))
    lonely = tmp_path / "lonely"
    lonely.mkdir()
    (lonely / "v.onnx").symlink_to(voice_copy)
    cases.append((lonely / "v.onnx", "v.onnx.json is missing"))
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "v.onnx").write_bytes(b"not a model" * 100)
    (broken / "v.onnx.json").write_text(config_file.read_text())
    cases.append((broken / "v.onnx", "onnxruntime could not load"))
    bad_json = tmp_path / "bad_json"
    bad_json.mkdir()
    (bad_json / "v.onnx").symlink_to(voice_copy)
    (bad_json / "v.onnx.json").write_text("{not json")
    cases.append((bad_json / "v.onnx", "is not a usable Piper voice"))
    for spec, message in cases:
        with pytest.raises(SynthesisError, match=message):
            PiperSynthesizer(TtsConfig(engine="piper", piper_model=str(spec)))
    # `assistant config check` names the key and the problem without loading the voice
    config = Config.model_validate({"tts": {"engine": "piper", "piper_model": str(tmp_path / "nope.onnx")}})
    assert [p for p in deep_check(config, None) if p.startswith("tts.")] == \
        [f"tts.piper_model: {tmp_path / 'nope.onnx'} does not exist (a Piper voice is a .onnx file with its "
         ".onnx.json beside it)"]


def test_speakers_of_a_multi_speaker_voice(voice_copy: Path) -> None:
    """The joe voice has one speaker; its config rewritten to name three shows how tts.voice picks one."""
    folder = voice_copy.parent
    settings = json.loads(voice_copy.with_name(voice_copy.name + ".json").read_text())
    settings.update(num_speakers=3, speaker_id_map={"amy": 0, "bob": 1, "bobby": 2})
    (folder / "many.onnx").symlink_to(voice_copy.resolve())
    (folder / "many.onnx.json").write_text(json.dumps(settings))
    many = str(folder / "many.onnx")
    listed = PiperSynthesizer(TtsConfig(engine="piper", piper_model=many)).voices()
    assert [v["id"] for v in listed] == ["amy", "bob", "bobby"]
    assert PiperSynthesizer(TtsConfig(engine="piper", piper_model=many, voice="BOB"))._synthesis.speaker_id == 1
    assert PiperSynthesizer(TtsConfig(engine="piper", piper_model=many, voice="2"))._synthesis.speaker_id == 2
    assert PiperSynthesizer(TtsConfig(engine="piper", piper_model=many, voice="am"))._synthesis.speaker_id == 0
    with pytest.raises(SynthesisError, match="no voice matches 'bo'"):  # bob or bobby: say which
        PiperSynthesizer(TtsConfig(engine="piper", piper_model=many, voice="bo"))


def test_piper_and_espeak_share_a_process(piper: PiperSynthesizer) -> None:
    """Piper carries its own espeak-ng for phonemes; pyttsx3 loads the system one. Neither may break the other
    (a reload from one engine to the other keeps the process), and two threads may synthesize at once."""
    espeak = Pyttsx3Synthesizer(TtsConfig())
    before = len(espeak.synthesize("The front door is locked.")[0])
    lengths: dict[str, list[int]] = {"piper": [], "espeak": []}

    def speak(name: str, synthesize: object) -> None:
        for _ in range(3):
            lengths[name].append(len(synthesize("The front door is locked.")[0]))  # type: ignore[operator]

    threads = [threading.Thread(target=speak, args=("piper", piper.synthesize)),
               threading.Thread(target=speak, args=("espeak", espeak.synthesize))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert all(abs(n - before) < 0.05 * before for n in lengths["espeak"]), (before, lengths)
    assert len(lengths["piper"]) == 3 and all(n > 40_000 for n in lengths["piper"]), lengths


def test_say_and_voices_from_the_command_line(tmp_path: Path, recognizer) -> None:
    config = tmp_path / "piper.yaml"
    config.write_text("tts:\n  engine: piper\n")
    out = tmp_path / "said.wav"
    result = run_cli("--config", str(config), "say", "--output", str(out), "Dinner is ready.", timeout=120)
    assert result.returncode == 0, result.stderr
    pcm, rate = read_wav(out)
    heard = recognizer.transcribe(resample(pcm.tobytes(), rate, 16000)).text
    assert wer("dinner is ready", heard) <= 0.34, heard
    result = run_cli("--config", str(config), "voices", "--json", timeout=120)
    assert result.returncode == 0 and json.loads(result.stdout)["voices"][0]["id"] == "en_US-joe-medium"
    config.write_text("tts:\n  engine: piper\n  piper_model: /no/such/voice.onnx\n")
    result = run_cli("--config", str(config), "say", "Hello.", timeout=120)
    assert result.returncode != 0 and "tts.piper_model: /no/such/voice.onnx does not exist" in result.stderr
    assert "Traceback" not in result.stderr
