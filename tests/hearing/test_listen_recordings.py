"""Wake phrases on real recordings, through the daemon's endpointer and the real tiny.en model."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.bench.hearing import endpoint
from assistant.config.hearing import ListenConfig
from assistant.config.schema import Config
from assistant.hearing.listen import Decision, Listener, prompt_for
from assistant.hearing.whisper import WhisperRecognizer

BUILT_IN_PHRASES = ["what time is it", "set a timer"]


def decisions(path: Path, recognizer: WhisperRecognizer, phrases: list[str]) -> list[Decision]:
    config = Config()
    listen = ListenConfig(mode="wake_phrase", wake_phrases=phrases)
    # as build_listener does in wake_phrase mode, with a few built-in command phrases as the vocabulary
    listener = Listener(listen, initial_prompt=prompt_for(listen, vocabulary=BUILT_IN_PHRASES))
    out = []
    for utterance in endpoint(path, config):
        transcript = recognizer.transcribe(utterance.pcm, initial_prompt=listener.initial_prompt)
        out.append(listener.accept(transcript, utterance, utterance.ended_at))
    return out


def triggered(found: list[Decision]) -> bool:
    return any(d.request is not None or d.reason.startswith("wake phrase only") for d in found)


@pytest.mark.slow
@pytest.mark.parametrize(("clip", "phrase"), [("hey_mycroft_test.wav", "hey mycroft"), ("alexa_test.wav", "alexa")])
def test_wake_clips_trigger_when_their_phrase_is_configured(clip: str, phrase: str, data_dir: Path,
                                                            recognizer: WhisperRecognizer) -> None:
    found = decisions(data_dir / clip, recognizer, ["hey computer", phrase])
    assert [d.reason for d in found] == ["wake phrase only: listening for 8 s"]
    assert not triggered(decisions(data_dir / clip, recognizer, ["hey computer"]))


@pytest.mark.slow
def test_wake_phrase_then_request_in_one_utterance(data_dir: Path, recognizer: WhisperRecognizer) -> None:
    found = decisions(data_dir / "kws_computer_whatstheweatherlike.wav", recognizer, ["hey mycroft", "computer"])
    assert len(found) == 1
    assert found[0].request is not None and found[0].request.lower().startswith("what's the weather")
    assert found[0].reason.startswith("wake phrase 'computer'")


@pytest.mark.slow
def test_ordinary_speech_triggers_nothing(data_dir: Path, recognizer: WhisperRecognizer) -> None:
    found = decisions(data_dir / "negative_reference.wav", recognizer, ["hey computer", "computer", "alexa",
                                                                         "hey mycroft"])
    assert found, "the endpointer should find the speech"
    assert not triggered(found)
    assert {d.reason for d in found} == {"no wake phrase"}
