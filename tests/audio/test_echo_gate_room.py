"""The echo gate in a simulated room (no sound server): our real espeak-ng reply comes back as echo and real
recordings talk over it. The gate must never take its own voice for a user, and must find the user."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.audio.echo_gate import EchoGate
from assistant.audio.resample import resample
from assistant.bench.bargein import REPLIES, frames_of, gate_decision, read_16k, room_mic
from assistant.config.schema import TtsConfig
from assistant.events import SAMPLE_RATE, AudioFrame
from assistant.service.room import RoomMemory
from assistant.speech.pyttsx3_engine import Pyttsx3Synthesizer

USER_AT = SAMPLE_RATE  # the user starts talking 1 s into the reply


@pytest.fixture(scope="module")
def reply() -> tuple[bytes, int]:
    synthesizer = Pyttsx3Synthesizer(TtsConfig())
    try:
        return synthesizer.synthesize(REPLIES[0])
    finally:
        synthesizer.close()


def mic_for(reply: tuple[bytes, int], gain: float, delay_ms: int, rt60_ms: int = 0) -> np.ndarray:
    return room_mic(*reply, delay_ms=delay_ms, gain=gain, rt60_ms=rt60_ms)[1]


@pytest.mark.parametrize(("gain", "delay_ms"), [(0.5, 90), (1.0, 90), (1.0, 400)])
def test_own_voice_never_triggers(reply: tuple[bytes, int], gain: float, delay_ms: int) -> None:
    assert gate_decision(EchoGate(), *reply, mic_for(reply, gain, delay_ms)) is None


@pytest.mark.parametrize("name", ["kws_computer_whatstheweatherlike.wav", "turn_on_the_living_room_lamp.wav"])
def test_a_user_talking_over_the_echo_is_found(reply: tuple[bytes, int], data_dir: Path, name: str) -> None:
    mic = mic_for(reply, 0.5, 90)
    user = read_16k(str(data_dir / name))[: len(mic) - USER_AT]
    mic[USER_AT : USER_AT + len(user)] += user
    gate = EchoGate()
    decided = gate_decision(gate, *reply, mic)
    assert decided is not None and 1.0 < decided < 1.0 + len(user) / SAMPLE_RATE  # while they talk
    # what the gate hands the endpointer starts before its decision: the onset of the user's words
    assert gate.onset is not None and 1.0 <= gate.onset.start_s < decided


def fractional_echo(played: np.ndarray, delay_s: float, gain: float) -> np.ndarray:
    """``played`` as a sound server's loopback returns it: ``delay_s`` late, which is rarely a whole number of
    samples (a windowed-sinc fractional delay), and a little coloured (a gentle low-pass, as a speaker)."""
    whole, fraction = divmod(delay_s * SAMPLE_RATE, 1.0)
    taps = np.arange(-16, 17)
    kernel = np.sinc(taps - fraction) * np.hamming(len(taps))
    kernel = np.convolve(kernel, [0.25, 0.5, 0.25])  # the speaker's colour
    echo = np.convolve(played, kernel)[16 : 16 + len(played)] * gain
    return np.concatenate([np.zeros(int(whole)), echo])


def energy(frames: list[AudioFrame]) -> float:
    samples = np.frombuffer(b"".join(f.pcm for f in frames), dtype="<i2").astype(np.float64)
    return float(samples @ samples) + 1.0


def test_an_echo_off_the_sample_grid_is_removed(reply: tuple[bytes, int]) -> None:
    """A loopback 90.47 ms late and coloured: one gain at the best whole-sample delay leaves ~-10 dB of our
    voice; the gate's short filter takes it below -25 dB, and hears no user in it."""
    played = np.frombuffer(resample(reply[0], reply[1], SAMPLE_RATE), dtype="<i2").astype(np.float64)
    mic = fractional_echo(played, 0.09047, 0.8)
    gate, t0 = EchoGate(), 1000.0
    gate.add_reference(*reply, t0)
    heard, left = [], []
    for frame in frames_of(mic, t0):
        assert not gate.feed(frame)
        cleaned = gate.last_cleaned
        assert cleaned is not None
        if energy([frame]) / (len(frame.pcm) // 2) > 1e5:  # frames with our voice in them (above -40 dBFS)
            heard.append(frame)
            left.append(cleaned)
    assert len(heard) > 50
    assert 10 * np.log10(energy(left) / energy(heard)) < -25


def test_after_a_cut_the_echo_still_arriving_is_removed(reply: tuple[bytes, int], data_dir: Path) -> None:
    """Barge-in: the device plays on what it was handed (here 0.12 s past the decision) and the room returns
    it 90 ms later, over the user's first words. ``clean`` removes most of that echo, and hands frames on
    untouched once nothing we played can arrive."""
    played = np.frombuffer(resample(reply[0], reply[1], SAMPLE_RATE), dtype="<i2").astype(np.float64)
    cut = round(1.5 * SAMPLE_RATE)  # samples of the reply the device was handed before the cut
    echo = fractional_echo(played[:cut], 0.09047, 0.8)
    user = read_16k(str(data_dir / "turn_on_the_living_room_lamp.wav"))
    mic = np.random.default_rng(0).normal(0, 30, cut + 2 * SAMPLE_RATE)
    mic[: len(echo)] += echo
    mic[USER_AT : USER_AT + len(user)] += user[: len(mic) - USER_AT]
    gate, t0 = EchoGate(), 1000.0
    gate.add_reference(*reply, t0)
    frames = frames_of(mic, t0)
    decided_at = t0 + 1.38  # the decision: the device has already been handed 0.12 s more
    for frame in frames:
        if frame.captured_at <= decided_at:
            gate.feed(frame)
    gate.stop_reference(decided_at, handed_s=cut / SAMPLE_RATE)
    gate.reset(keep_mic=True)
    after = [f for f in frames if f.captured_at > decided_at]
    cleaned = [gate.clean(f) if gate.echo_may_arrive(f) else f for f in after]
    user_only = np.concatenate([mic[: len(echo)] - echo, mic[len(echo) :]])
    first = len(frames) - len(after)
    tail = slice(first, len(echo) // 480 + 1)  # the frames the last of our echo arrives in
    echo_left = [np.frombuffer(c.pcm, "<i2") - np.round(user_only[i * 480 : (i + 1) * 480])
                 for i, c in zip(range(tail.start, tail.stop), cleaned, strict=False)]
    left_db = 10 * np.log10((sum(float(e @ e) for e in echo_left) + 1) / energy(frames_of(echo, t0)[tail]))
    assert left_db < -12  # measured -20 dB (the user's words in the fitting window cost some); uncleaned: 0
    # once nothing we played can arrive, frames go on untouched (a fit on no echo would add our voice)
    assert gate.echo_may_arrive(after[0]) and not gate.echo_may_arrive(after[-1])


def warmed_up(reply: tuple[bytes, int], room: np.ndarray) -> EchoGate:
    """A gate that has heard our replies alone in this room until it learnt what our voice leaves (a reply
    it takes for a user is cut short, as in the daemon: it learns from less of that one)."""
    gate = EchoGate()
    for t0 in (100.0, 200.0, 300.0, 400.0, 500.0):
        gate_decision(gate, *reply, room, t0)
        if gate.learnt:
            return gate
    raise AssertionError("the gate never learnt the room")


@pytest.mark.parametrize("rt60_ms", [300, 600])
def test_once_the_room_is_learnt_its_ringing_is_not_a_user(reply: tuple[bytes, int], data_dir: Path,
                                                            rt60_ms: int) -> None:
    """One delay and a short filter cannot model reverberation: the room rings on after our words, where
    the echo estimate is small. Compared with that estimate, a fresh gate took the ringing for a user on
    every reply at RT60 600; compared with the echo's envelope it does not, before or after it has learnt
    the room, and still hears a user."""
    room = mic_for(reply, 0.5, 90, rt60_ms)
    assert gate_decision(EchoGate(), *reply, room) is None
    gate = warmed_up(reply, room)
    assert gate.leak_db > -10  # this room leaves a lot of our voice
    assert gate_decision(gate, *reply, room, 1000.0) is None
    mic = room.copy()
    # a recording the learnt gate finds 0.2 s in (the lamp one takes 0.5-0.8 s at RT60 600: too near a miss)
    user = read_16k(str(data_dir / "whatstheweatherlike.wav"))[: len(mic) - USER_AT]
    mic[USER_AT : USER_AT + len(user)] += user
    decided = gate_decision(gate, *reply, mic, 2000.0)
    assert decided is not None and 1.0 < decided < 1.0 + len(user) / SAMPLE_RATE


def test_once_a_dry_room_is_learnt_a_user_quieter_than_our_echo_is_heard(reply: tuple[bytes, int],
                                                                         data_dir: Path) -> None:
    """In a dry room our voice leaves little once cleaned, so a user 12 dB under a full-level echo is heard
    by a gate that has learnt that. A fresh one wants the user louder than the echo's envelope until it has
    heard ~0.5 s of our voice, and misses them when they start right away; from then on it uses what it
    has learnt so far (3 dB more until ~2 s): by 1 s it hears them."""
    room = mic_for(reply, 1.0, 90)
    early = SAMPLE_RATE // 5  # 0.2 s into the reply
    user = read_16k(str(data_dir / "turn_on_the_living_room_lamp.wav"))[: len(room) - USER_AT] * 0.25
    for at in (early, USER_AT):
        mic = room.copy()
        mic[at : at + len(user)] += user
        decided = gate_decision(EchoGate(), *reply, mic)
        if at == early:
            assert decided is None
        else:
            assert decided is not None and 1.0 < decided < 1.0 + len(user) / SAMPLE_RATE
    gate = warmed_up(reply, room)
    assert gate.leak_db < -15
    mic = room.copy()
    mic[early : early + len(user)] += user
    decided = gate_decision(gate, *reply, mic, 1000.0)
    assert decided is not None and 0.2 < decided < 0.2 + len(user) / SAMPLE_RATE


def test_a_gate_given_the_saved_room_hears_what_the_learnt_one_hears(reply: tuple[bytes, int], data_dir: Path,
                                                                     tmp_path: Path) -> None:
    """A restarted daemon's new gate takes the room its predecessor learnt (service.room), and hears the
    user 12 dB under a full-level echo from its first reply."""
    room = mic_for(reply, 1.0, 90)
    user = read_16k(str(data_dir / "turn_on_the_living_room_lamp.wav"))[: len(room) - USER_AT] * 0.25
    mic = room.copy()
    mic[USER_AT : USER_AT + len(user)] += user
    learnt = warmed_up(reply, room)
    RoomMemory(tmp_path / "room.json", "devices").save(learnt.room)
    restarted = EchoGate()
    assert restarted.learn_room(RoomMemory(tmp_path / "room.json", "devices").load()) == len(learnt.room)
    assert restarted.learnt and abs(restarted.leak_db - learnt.leak_db) < 0.01
    decided = gate_decision(restarted, *reply, mic)
    assert decided is not None and 1.0 < decided < 1.0 + len(user) / SAMPLE_RATE


def test_a_gate_told_of_nothing_we_play_takes_nothing_for_a_user(data_dir: Path) -> None:
    """A gate swapped in by a reload while the last reply's echo still rings: it cannot tell that echo from
    a user, so it must not cut anything (our own tail would come back as a turn)."""
    user = read_16k(str(data_dir / "turn_on_the_living_room_lamp.wav"))
    gate = EchoGate()
    assert not any(gate.feed(frame) for frame in frames_of(user, 1000.0))


def test_a_users_words_over_the_reply_are_not_learnt_as_our_voice(reply: tuple[bytes, int], data_dir: Path) -> None:
    """In half duplex the reply plays on while the user talks over it (a "stop" check): their words must not
    raise what the gate expects of our voice, or their next word would no longer be heard."""
    room = mic_for(reply, 0.5, 90)
    gate = warmed_up(reply, room)
    learnt = gate.leak_db
    user = read_16k(str(data_dir / "turn_on_the_living_room_lamp.wav"))[: len(room) - USER_AT]
    mic = room.copy()
    mic[USER_AT : USER_AT + len(user)] += user
    gate.reset()
    gate.add_reference(*reply, 1000.0)
    triggered = [gate.feed(frame) for frame in frames_of(mic, 1000.0)]
    assert any(triggered)
    assert gate.leak_db < learnt + 3, (learnt, gate.leak_db)


def test_a_trigger_that_no_words_followed_is_learnt_as_our_voice(reply: tuple[bytes, int], data_dir: Path) -> None:
    """What made the gate cut the reply is learnt when the daemon finds nobody spoke (assistant/barge_in.py):
    here a real voice stands in for a reverberant room's ringing, which fools a fresh gate the same way."""
    room = mic_for(reply, 0.5, 90)
    gate = warmed_up(reply, room)
    mic = room.copy()
    user = read_16k(str(data_dir / "turn_on_the_living_room_lamp.wav"))[: len(mic) - USER_AT]
    mic[USER_AT : USER_AT + len(user)] += user
    assert gate_decision(gate, *reply, mic, 1000.0) is not None
    gate.reset(keep_mic=True)  # as after the cut; the verdict comes later, from the turn worker
    before, leaks = gate.room, gate._leak_levels()
    learnt = gate.false_alarm()
    assert learnt >= 3 and gate.room[: len(before)] == before and len(gate.room) == len(before) + learnt
    # louder than our voice's usual leftover, over the frame or in its bands: why it triggered
    assert sum(frame > leaks[0] or bands > leaks[1] for frame, bands in gate.room[len(before):]) >= 3
    assert gate.false_alarm() == 0  # learnt once
