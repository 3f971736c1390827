"""Listening modes, tolerant wake-phrase matching and the follow-up / push-to-talk windows."""

from __future__ import annotations

import logging

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistant.config.hearing import ListenConfig
from assistant.config.schema import Config
from assistant.events import Transcript, TranscriptSegment, Utterance
from assistant.hearing.distance import edit_distance
from assistant.hearing.listen import Listener, build_listener, match_wake, words

PHRASES = ["hey computer", "computer", "hey mycroft", "alexa"]


@pytest.mark.parametrize(
    ("text", "phrase", "remainder"),
    [
        ("hey computer what time is it", "hey computer", "what time is it"),
        ("Hey, Computer! What time is it?", "hey computer", "What time is it?"),
        ("Hey computer.", "hey computer", ""),
        ("HEY COMPUTER, turn on the lamp", "hey computer", "turn on the lamp"),
        ("Hey komputer, turn on the lamp.", "hey computer", "turn on the lamp."),
        ("Hay computer - set a timer", "hey computer", "set a timer"),
        ("Heycomputer set a timer", "hey computer", "set a timer"),
        ("Hi computer, stop.", "hey computer", "stop."),
        ("Okay, hey computer, stop.", "hey computer", "stop."),
        ("Um, computer: next track", "computer", "next track"),
        ("Computer, what's the weather like?", "computer", "what's the weather like?"),
        ("Computers, what's the weather like?", "computer", "what's the weather like?"),
        ("Commuter, play music", "computer", "play music"),
        ("Hey Mycroft.", "hey mycroft", ""),
        ("Hey, My Croft, lights off", "hey mycroft", "lights off"),
        ("Hit Mycroft.", "hey mycroft", ""),
        ("Hey Microft what's up", "hey mycroft", "what's up"),
        ("Alexa.", "alexa", ""),
        ("Alexa, play Spotify", "alexa", "play Spotify"),
        ("Alexia, play Spotify", "alexa", "play Spotify"),
        ("…Alexa…", "alexa", ""),
    ],
)
def test_wake_phrase_spellings_match(text: str, phrase: str, remainder: str) -> None:
    match = match_wake(text, PHRASES, 0.25)
    assert match is not None, text
    assert match.phrase == phrase
    assert match.remainder == remainder


@pytest.mark.parametrize(
    "text",
    [
        "what time is it",
        "turn on the computer",  # the phrase must start the utterance
        "a computer is a machine",
        "hey",
        "hey there computer",
        "he might croft",
        "",
        "...",
        "computation is hard",
        "The base shoe on the waters of the lock impressed all",
        "Hello, what is new",
    ],
)
def test_other_speech_does_not_match(text: str) -> None:
    assert match_wake(text, PHRASES, 0.25) is None


def test_tolerance_zero_needs_the_exact_words() -> None:
    assert match_wake("Hey, Computer!", ["hey computer"], 0.0) is not None  # punctuation/case never count
    assert match_wake("Hey komputer", ["hey computer"], 0.0) is None
    assert match_wake("Hey komputer", ["hey computer"], 0.1) is not None


def test_longest_exact_phrase_wins_and_accents_are_ignored() -> None:
    match = match_wake("Hey computer, dim the Lumière lamp", ["computer", "hey computer"], 0.25)
    assert match is not None and match.phrase == "hey computer" and match.remainder == "dim the Lumière lamp"
    assert words("Hey, Lumière!") == ["hey", "lumiere"]
    accented = match_wake("Lumière, on", ["lumiere"], 0.0)
    assert accented is not None and accented.remainder == "on"


@given(st.text(alphabet="abcdefghij ", max_size=12), st.text(alphabet="abcdefghij", max_size=12))
def test_edit_distance_is_a_metric(a: str, b: str) -> None:
    assert edit_distance(a, b) == edit_distance(b, a)
    assert (edit_distance(a, b) == 0) == (a == b)
    assert edit_distance(a, b) <= max(len(a), len(b))


@given(st.sampled_from(PHRASES), st.text(alphabet="abcdefgh ,.!?", max_size=30))
def test_a_phrase_followed_by_anything_matches(phrase: str, rest: str) -> None:
    match = match_wake(f"{phrase.title()}, {rest}", PHRASES, 0.25)
    assert match is not None
    assert match.phrase == phrase and match.edits == 0
    assert words(match.remainder) == words(rest)


# ---- the Listener's decisions -------------------------------------------------------------------


def transcript(text: str) -> Transcript:
    return Transcript(text=text, segments=(TranscriptSegment(0.0, 1.0, text, 0.01, -0.3, 1.0),), model="t", asr_s=0.1)


def utterance(start: float, length: float = 1.5) -> Utterance:
    """Speech that started at monotonic time ``start`` and lasted ``length`` seconds."""
    return Utterance(pcm=bytes(int(length * 32000)), start_s=start, end_s=start + length, voiced_s=length,
                     ended_at=start + length + 0.5, speech_end_at=start + length)


def test_always_mode_routes_everything_as_said() -> None:
    listener = Listener(ListenConfig(mode="always"))
    decision = listener.accept(transcript("Computer, what's the weather like?"), utterance(0), 2)
    assert decision.request == "Computer, what's the weather like?"


def test_wake_phrase_mode_routes_only_the_rest(caplog: pytest.LogCaptureFixture) -> None:
    listener = Listener(ListenConfig(mode="wake_phrase"))
    with caplog.at_level(logging.INFO, logger="assistant.hearing.listen"):
        dropped = listener.accept(transcript("What's the weather like?"), utterance(0), 2)
    assert dropped.request is None and dropped.reason == "no wake phrase"
    assert "no wake phrase" in caplog.text  # every drop is logged with its reason
    decision = listener.accept(transcript("Hey, computer! What's the weather like?"), utterance(10), 12)
    assert decision.request == "What's the weather like?"


def test_wake_phrase_alone_opens_a_window_for_one_request() -> None:
    listener = Listener(ListenConfig(mode="wake_phrase", wake_only_window_s=5))
    alone = listener.accept(transcript("Hey computer."), utterance(0), 2.0)
    assert alone.request is None and alone.reason == "wake phrase only: listening for 5 s" and alone.wake_only
    assert listener.accept(transcript("Set a timer."), utterance(4.0), 6).request == "Set a timer."
    # the window served one request; the next utterance needs the phrase again
    assert listener.accept(transcript("And another."), utterance(7.0), 9).request is None


def test_wake_window_expires() -> None:
    listener = Listener(ListenConfig(mode="wake_phrase", wake_only_window_s=5))
    listener.accept(transcript("Computer"), utterance(0), 1.5)
    late = listener.accept(transcript("Set a timer."), utterance(1.5 + 5.5), 9)
    assert late.request is None and late.reason == "no wake phrase"


def test_follow_up_window_after_a_reply() -> None:
    listener = Listener(ListenConfig(mode="wake_phrase", follow_up_s=4))
    listener.on_reply_finished(100.0)
    follow = listener.accept(transcript("And tomorrow?"), utterance(102.0), 104)
    assert follow.request == "And tomorrow?" and follow.reason == "follow-up window"
    listener.on_reply_finished(200.0)
    assert listener.accept(transcript("And tomorrow?"), utterance(205.0), 207).request is None
    # speech that was over before the reply ended cannot answer it
    listener.on_reply_finished(300.0)
    assert listener.accept(transcript("Earlier words."), utterance(297.0), 301).request is None


def test_follow_up_off_by_default_and_in_always_mode() -> None:
    listener = Listener(ListenConfig(mode="wake_phrase"))
    listener.on_reply_finished(100.0)
    assert listener.accept(transcript("And tomorrow?"), utterance(101.0), 103).request is None


def test_push_to_talk() -> None:
    listener = Listener(ListenConfig(mode="push_to_talk", push_to_talk_window_s=5))
    untriggered = listener.accept(transcript("Hey computer, lights on"), utterance(0), 2)
    assert untriggered.request is None and untriggered.reason == "push-to-talk not triggered"
    listener.push_to_talk(10.0)
    assert listener.accept(transcript("Lights on."), utterance(11.0), 13).request == "Lights on."
    assert listener.accept(transcript("Lights off."), utterance(14.0), 16).request is None  # one trigger, one request
    listener.push_to_talk(20.0)
    assert listener.accept(transcript("Too late."), utterance(26.0), 28).request is None


def test_guards_run_before_the_mode() -> None:
    listener = Listener(ListenConfig(mode="always"))
    decision = listener.accept(transcript("Thank you."), utterance(0), 2)
    assert decision.request is None and "hallucination" in decision.reason


def test_build_listener_from_the_config() -> None:
    config = Config()
    listener = build_listener(config, vocabulary=["Lumière lamp", "Spotify", "{room}"])
    assert listener.config.mode == "always"
    assert listener.engine == getattr(config.vad, "engine", "webrtc")
    assert listener.initial_prompt == "Lumière lamp, Spotify."
    assert build_listener(config, vocabulary=[]).initial_prompt is None
    assert Listener(engine="webrtc").confirm_speech(utterance(0)) is None  # webrtc only: nothing to confirm
    assert Listener(engine="both").confirm_speech(utterance(0)) is not None  # digital silence is no speech


def test_wake_phrase_config_is_validated() -> None:
    with pytest.raises(ValueError, match="at least one letter"):
        ListenConfig(wake_phrases=["hey computer", "!!"])


def test_request_text_is_what_would_be_routed() -> None:
    """Adaptive end of turn asks whether the request, not the transcript, is a whole command."""
    wake = Listener(ListenConfig(mode="wake_phrase"))
    assert wake.request_text("Hey, Computer! What time is it?") == "What time is it?"
    assert wake.request_text("what time is it") == "what time is it"  # no wake phrase: as heard
    always = Listener(ListenConfig(mode="always"))
    assert always.request_text("Computer, what time is it?") == "Computer, what time is it?"


# ---- wake_word mode ----------------------------------------------------------------------------


def woken(start: float, model: str | None) -> Utterance:
    plain = utterance(start)
    return Utterance(plain.pcm, plain.start_s, plain.end_s, plain.voiced_s, plain.ended_at, plain.speech_end_at,
                     wake_word=model)


def wake_word_listener(**listen: object) -> Listener:
    config = ListenConfig.model_validate({"mode": "wake_word", **listen})
    return Listener(config, wake_word_phrases={"hey_mycroft": "Hey Mycroft", "okay_nabu": "Okay Nabu"})


def test_wake_word_mode_takes_what_the_detector_woke_for() -> None:
    listener = wake_word_listener()
    said = listener.accept(transcript("What's the weather like?"), woken(0, "okay_nabu"), 2)
    assert said.request == "What's the weather like?" and said.reason == "wake word 'okay_nabu'"
    unheard = listener.accept(transcript("What's the weather like?"), woken(10, None), 12)
    assert unheard.request is None and unheard.reason == "no wake word"
    # a detection that fired early lets the word's end reach Whisper: the phrase is cut, as in wake_phrase mode
    assert listener.accept(transcript("Hey, Mycroft, lights on."), woken(20, "hey_mycroft"), 22).request == "lights on."
    alone = listener.accept(transcript("Okay, Nabu."), woken(30, "okay_nabu"), 32)
    assert alone.request is None and "only its own name" in alone.reason
    assert listener.request_text("Okay Nabu, what time is it?") == "what time is it?"


def test_wake_word_mode_keeps_follow_up_and_push_to_talk_windows() -> None:
    listener = wake_word_listener(follow_up_s=4)
    assert not listener.expects_request(100.0)
    listener.on_reply_finished(100.0)
    assert listener.expects_request(103.0) and not listener.expects_request(105.0)
    assert listener.accept(transcript("And tomorrow?"), woken(102.0, None), 104).request == "And tomorrow?"
    listener.push_to_talk(200.0)
    assert listener.expects_request(201.0)


def test_each_wake_word_may_have_its_persona_and_conversation() -> None:
    listener = wake_word_listener(wake_word={"models": ["okay_nabu", "hey_mycroft"], "personas": {
        "hey_mycroft": {"persona": "Mycroft, a butler", "conversation": "butler"}}})
    butler = listener.context_for(woken(0, "hey_mycroft"))
    assert butler is not None and (butler.persona, butler.conversation) == ("Mycroft, a butler", "butler")
    plain = listener.context_for(woken(0, "okay_nabu"))
    assert plain is not None and plain.wake_word == "okay_nabu" and plain.persona is plain.conversation is None
    assert listener.context_for(woken(0, None)) is None


def test_wake_word_config_is_validated() -> None:
    with pytest.raises(ValueError, match=r"personas for models that are not configured: \['alexa'\]"):
        ListenConfig.model_validate({"wake_word": {"models": ["okay_nabu"], "personas": {"alexa": {}}}})
    with pytest.raises(ValueError, match="at least 1 item"):
        ListenConfig.model_validate({"wake_word": {"models": []}})
    with pytest.raises(ValueError, match="Input should be 'micro', 'openwakeword' or 'wyoming'"):
        ListenConfig.model_validate({"wake_word": {"engine": "porcupine"}})
    # a path's stem names its persona
    ListenConfig.model_validate({"wake_word": {"models": ["/x/my_word.json"], "personas": {"my_word": {}}}})
