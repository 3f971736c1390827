"""Choosing near-miss commands by how they sound: Whisper scores candidate sentences against real audio."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from assistant.audio.sources import read_wav_pcm
from assistant.brain.acoustic import candidates, choose, clauses
from assistant.brain.intents import CommandSet, build_matcher
from assistant.brain.matcher import UNREAD, IntentMatcher
from assistant.brain.router import Router
from assistant.brain.slots import DurationSlotType, ListSlotType, TimeOfDaySlotType
from assistant.brain.text import say_duration
from assistant.config.commands import Command, DurationSlot, ListSlot
from assistant.config.hearing import GuardsConfig
from assistant.config.schema import RouterConfig
from assistant.events import Transcript, TranscriptSegment
from assistant.hearing.guards import Guards, prompt_runs
from assistant.hearing.rescore import scorer_for_request
from assistant.hearing.whisper import WhisperRecognizer

ROOMS = ListSlot(values={"light.living_room": ["living room", "lounge"], "light.kitchen": ["kitchen"],
                         "light.bedroom": ["bedroom"], "light.hall": ["hallway"]})
STATES = ListSlot(values=["on", "off"])


def lamp_router() -> Router:
    commands = CommandSet(
        slots={"room": ROOMS, "state": STATES},
        commands=[
            Command.model_validate({"name": "lamp", "templates": ["turn {state} the {room} lamp"],
                                    "action": {"type": "say", "reply": "Turning {state} the {room} lamp."}}),
            Command.model_validate({"name": "temperature", "templates": ["what's the temperature in the {room}"],
                                    "action": {"type": "say", "reply": "It is warm in the {room}."}}),
        ])
    return Router(RouterConfig(acknowledgement="Sorry, I didn't catch that."), matcher=build_matcher(commands, []),
                  commands=commands, dry_run=True)


def test_a_misheard_room_is_chosen_by_the_audio(data_dir: Path, recognizer: WhisperRecognizer) -> None:
    transcript = recognizer.transcribe(read_wav_pcm(data_dir / "turn_on_the_living_room_lamp.wav"))
    assert transcript.scorer is not None
    router = lamp_router()
    garbled = "Burn in the giving broom clamp."  # what a noisy room makes of it
    assert router.route(garbled).handled_by == "fallback"  # too far from any command as text
    reply = router.route(garbled, transcript.scorer)
    assert (reply.intent, reply.slots) == ("lamp", {"state": "on", "room": "light.living_room"})
    evidence = reply.extra["acoustic"]
    assert evidence["sentence"] == "Turn on the living room lamp." and evidence["lead"] >= 2.0
    # The wrong state is one word away in text, and far away in sound.
    scores = transcript.scorer.log_likelihoods(["Turn on the living room lamp.", "Turn off the living room lamp."])
    assert scores[0] > scores[1] + 2.0


def test_speech_that_is_no_command_is_not_made_into_one(data_dir: Path, recognizer: WhisperRecognizer) -> None:
    transcript = recognizer.transcribe(read_wav_pcm(data_dir / "whatstheweatherlike.wav"))
    assert transcript.text.lower().startswith("what's the weather like") and transcript.scorer is not None
    commands = CommandSet(commands=[Command.model_validate(
        {"name": "heater", "templates": ["what's the heater like"], "action": {"type": "say", "reply": "Warm."}})])
    router = Router(RouterConfig(acknowledgement="Sorry."), matcher=build_matcher(commands, []), commands=commands,
                    dry_run=True)
    assert router.route(transcript.text).intent == "heater"  # one letter off as text: fuzzy matching takes it
    chosen = choose(router.matcher, transcript.text, transcript.scorer)
    assert chosen is not None and chosen[0] is None and chosen[1]["plausible"] is False
    assert router.route(transcript.text, transcript.scorer).handled_by == "fallback"  # the sound says otherwise


def test_rescoring_can_be_switched_off(data_dir: Path, recognizer: WhisperRecognizer) -> None:
    transcript = recognizer.transcribe(read_wav_pcm(data_dir / "turn_on_the_living_room_lamp.wav"))
    router = lamp_router()
    router._acoustic = False
    assert router.route("Burn in the giving broom clamp.", transcript.scorer).handled_by == "fallback"
    router = lamp_router()
    router.matcher.fuzzy = False  # commands.matching.fuzzy: false turns near-miss choices off altogether
    assert router.route("Burn in the giving broom clamp.", transcript.scorer).handled_by == "fallback"
    assert lamp_router().route("Burn in the giving broom clamp.", transcript.scorer).intent == "lamp"


def test_long_recordings_get_no_scorer(data_dir: Path, recognizer: WhisperRecognizer) -> None:
    long_pcm = read_wav_pcm(data_dir / "jfk.wav") * 4  # 44 s: more than one Whisper window
    assert recognizer.transcribe(long_pcm).scorer is None


def test_clauses_split_whisper_loops() -> None:
    assert clauses("turn the volume down, turn the volume down.") == [
        "turn the volume down, turn the volume down.", "turn the volume down"]
    assert clauses("What time is it?") == ["What time is it?"]
    assert clauses("set the timer for work, how it") == ["set the timer for work, how it"]
    assert clauses("Set it to 4.5 now.") == ["Set it to 4.5 now."]


def test_candidates_try_every_value_of_a_list_slot() -> None:
    router = lamp_router()
    sentences = [s for _, s in candidates(router.matcher, "turn on the memory lamp")]
    assert "Turn on the bedroom lamp." in sentences and "Turn off the kitchen lamp." in sentences
    assert not any("light." in s for s in sentences)  # canonical ids are not said
    assert len(sentences) == len(set(sentences))


def test_slot_values_are_written_the_way_whisper_writes_them() -> None:
    assert say_duration(3600, joined=False) == "1 hour" and say_duration(90, joined=False) == "1 minute 30 seconds"
    assert DurationSlotType.from_spec(DurationSlot()).say(300) == "5 minutes"
    assert TimeOfDaySlotType().say("07:30") == "7:30 am" and TimeOfDaySlotType().say("18:00") == "6 pm"
    rooms = ListSlotType.from_spec(ROOMS)
    assert rooms.say("light.living_room") == "living room" and "light living room" not in rooms.sayable()
    matcher = IntentMatcher({"room": rooms})
    matcher.add("lamp", ["dim the {room} lamp[s]"])
    near = matcher.near_misses("dim the kitchen lamp", 0.5, 4)[0]
    assert matcher.render(near) == "Dim the kitchen lamp."


def _transcript(text: str) -> Transcript:
    return Transcript(text, (TranscriptSegment(0.0, 1.0, text),), "tiny.en", 0.1)


def test_a_transcript_reciting_the_prompt_is_dropped() -> None:
    prompt = "kitchen, bedroom, open the garage door, lock the screen, lock my session."
    assert "lock the screen lock my session" in prompt_runs(prompt)
    guards = Guards(GuardsConfig(), prompt)
    assert guards.check(_transcript("Lock the screen, lock my session.")).reason is not None
    assert guards.check(_transcript("Lock the screen.")).reason is None  # one command is just a command
    assert guards.check(_transcript("Kitchen, bedroom.")).reason is None  # short pairs are ordinary speech
    assert Guards(GuardsConfig()).check(_transcript("Lock the screen, lock my session.")).reason is None


@pytest.mark.parametrize("prompt", [None, "", "one.", "a, b, c."])
def test_prompt_runs_of_short_prompts(prompt: str | None) -> None:
    assert prompt_runs(prompt) == ()


def test_whisper_made_to_start_with_the_command_words_reads_the_rest(data_dir: Path,
                                                                     recognizer: WhisperRecognizer) -> None:
    transcript = recognizer.transcribe(read_wav_pcm(data_dir / "turn_on_the_living_room_lamp.wav"))
    assert transcript.scorer is not None
    assert "living room lamp" in transcript.scorer.continuation("Turn on the").lower()


def test_an_unreadable_slot_value_is_left_for_the_audio_to_decide() -> None:
    matcher = IntentMatcher({"d": DurationSlotType.from_spec(DurationSlot())})
    matcher.add("timer.set", ["set a timer for {d}"])
    assert matcher.match("set a timer for well hired") is None
    near = matcher.near_misses("set a timer for well hired", 0.45, 4, unread=True)
    assert near and near[0].slots["d"] is UNREAD
    assert matcher.near_misses("set a timer for well hired", 0.45, 4) == []  # only when asked for
    assert candidates(matcher, "set a timer for well hired") == []  # without the audio there is nothing to read


def test_questions_are_written_with_a_question_mark() -> None:
    matcher = IntentMatcher({})
    matcher.add("uptime", ["what's the uptime", "show the uptime"])
    rendered = {matcher.render(m) for m in matcher.near_misses("what's the uptime", 0.0, 4)}
    assert {"What's the uptime?", "Show the uptime."} <= rendered


class _Echo:
    """Records what it was asked to score (the real scorer is exercised above)."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def log_likelihoods(self, sentences: Sequence[str]) -> list[float]:
        self.asked += sentences
        return [0.0] * len(sentences)

    def continuation(self, prefix: str) -> str:
        self.asked.append(prefix)
        return ""


def test_after_a_wake_phrase_sentences_are_scored_as_the_whole_utterance() -> None:
    echo = _Echo()
    transcript = Transcript("Computer, turn on the lamp.", (), "tiny.en", 0.1, scorer=echo)
    assert scorer_for_request(transcript, "Computer, turn on the lamp.") is echo
    prefixed = scorer_for_request(transcript, "turn on the lamp.")
    assert prefixed is not None
    prefixed.log_likelihoods(["Turn off the lamp."])
    prefixed.continuation("Turn on the")
    assert echo.asked == ["Computer, Turn off the lamp.", "Computer, Turn on the"]
    assert scorer_for_request(transcript, "something else") is None  # not part of what was heard: no rescoring
    assert scorer_for_request(Transcript("hi", (), "tiny.en", 0.1), "hi") is None


def test_usual_values_are_offered_for_an_unreadable_duration_or_time() -> None:
    durations = DurationSlotType.from_spec(DurationSlot(min_s=60, max_s=3600))
    assert 3600 in durations.common_values() and all(60 <= s <= 3600 for s in durations.common_values())
    times = TimeOfDaySlotType().common_values()
    assert len(times) == 24 and TimeOfDaySlotType().say(times[6]) == "6 am"
    assert ListSlotType.from_spec(ROOMS).common_values() == list(ROOMS.values)
    echo = _Echo()
    matcher = IntentMatcher({"d": durations})
    matcher.add("timer.set", ["set a timer for {d}"])
    sentences = [s for _, s in candidates(matcher, "set a timer for well hired", echo)]
    assert echo.asked == ["Set a timer for"]  # Whisper was asked to read the slot again first
    assert "Set a timer for 1 hour." in sentences and "Set a timer for 5 minutes." in sentences
