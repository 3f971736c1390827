"""Knowing who speaks, with the real encoder on real recordings of two people (SpeechBrain's test speakers,
tests/data/LICENSES.md) and a third, unknown one: enrolment on disk (embeddings only, 0600), identification
with the calibrated threshold, and the identification run during the hangover, beside Whisper."""

from __future__ import annotations

import json
import stat
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from assistant.audio.sources import read_wav_pcm
from assistant.config.schema import Config, ConfigError
from assistant.events import AudioFrame, RequestContext, TurnReport, Utterance
from assistant.hearing.speakers.encoder import SpeakerEncoder, shared_encoder
from assistant.hearing.speakers.frontend import Floats
from assistant.hearing.speakers.identify import DEFAULT_THRESHOLD, Identifier
from assistant.hearing.speakers.store import VoiceStore, VoiceStoreError
from assistant.hearing.speakers.watch import SpeakerWatch, build_speaker_watch, with_speaker


@pytest.fixture(scope="module")
def encoder() -> SpeakerEncoder:
    return shared_encoder()


@pytest.fixture(scope="module")
def pcm(data_dir: Path) -> dict[str, bytes]:
    names = [f"speechbrain_spk{p}_snt{n}" for p in (1, 2) for n in (1, 2, 3, 4)] + ["turn_on_the_living_room_lamp",
                                                                                   "whatstheweatherlike"]
    return {name: read_wav_pcm(data_dir / f"{name}.wav") for name in names}


def embeddings(encoder: SpeakerEncoder, pcm: dict[str, bytes], person: int) -> list[Floats]:
    found = [encoder.embed(pcm[f"speechbrain_spk{person}_snt{n}"]) for n in (1, 2, 3)]
    assert all(e is not None for e in found)
    return [e for e in found if e is not None]


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, encoder: SpeakerEncoder, pcm: dict[str, bytes]) -> VoiceStore:
    voices = VoiceStore(tmp_path_factory.mktemp("state") / "voices.json")
    voices.enroll("Alice", embeddings(encoder, pcm, 1))
    voices.enroll("bob", embeddings(encoder, pcm, 2))
    return voices


def test_voices_are_stored_as_embeddings_only_readable_by_their_owner(store: VoiceStore) -> None:
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    data = json.loads(store.path.read_text())
    assert set(data["voices"]) == {"alice", "bob"}  # names are stored lower case
    assert all(len(e) == 256 for v in data["voices"].values() for e in v["embeddings"])
    assert len(data["voices"]["alice"]["embeddings"]) == 3
    assert store.path.stat().st_size < 30_000  # 6 x 256 numbers: no audio (3 s of which alone is 96 kB)
    assert not list(store.path.parent.glob("*.tmp"))


def test_enrol_again_replaces_or_adds_and_remove_forgets(tmp_path: Path, encoder: SpeakerEncoder,
                                                         pcm: dict[str, bytes]) -> None:
    voices = VoiceStore(tmp_path / "state" / "voices.json")
    voices.enroll("carol", embeddings(encoder, pcm, 1))
    assert len(voices.enroll("carol", embeddings(encoder, pcm, 1)[:1]).embeddings) == 1
    assert len(voices.enroll("carol", embeddings(encoder, pcm, 1)[:2], add=True).embeddings) == 3
    assert voices.remove("Carol") and not voices.remove("carol")
    assert voices.load() == {}
    with pytest.raises(VoiceStoreError, match="not a usable name"):
        voices.enroll("../etc/passwd", [])
    with pytest.raises(VoiceStoreError, match="not a usable name"):
        voices.enroll("unknown", [])  # the log's word for nobody


def test_a_damaged_voices_file_is_one_sentence(tmp_path: Path) -> None:
    path = tmp_path / "voices.json"
    path.write_text('{"voices": {"alice": {"embeddings": [[1, 2]], "enrolled_at": 0}}}')
    with pytest.raises(VoiceStoreError, match="not a voices file"):
        VoiceStore(path).load()
    config = Config.model_validate({"speakers": {"enabled": True}})
    with pytest.raises(ConfigError, match=r"speakers: .*remove it and enrol again"):
        build_speaker_watch(config, VoiceStore(path))


def test_each_person_is_told_apart_and_a_stranger_is_nobody(store: VoiceStore, encoder: SpeakerEncoder,
                                                           pcm: dict[str, bytes]) -> None:
    identifier = Identifier(encoder, store.load())
    assert identifier.threshold == DEFAULT_THRESHOLD
    alice = identifier.identify(pcm["speechbrain_spk1_snt4"])  # sentences not enrolled
    bob = identifier.identify(pcm["speechbrain_spk2_snt4"])
    assert (alice.speaker, bob.speaker) == ("alice", "bob"), (alice, bob)
    for stranger in ("turn_on_the_living_room_lamp", "whatstheweatherlike"):
        found = identifier.identify(pcm[stranger])
        assert found.speaker is None and found.score is not None and found.score < DEFAULT_THRESHOLD, found
    assert alice.score is not None and bob.score is not None and min(alice.score, bob.score) > DEFAULT_THRESHOLD
    assert alice.cpu_ms > 0


def test_the_threshold_decides(store: VoiceStore, encoder: SpeakerEncoder, pcm: dict[str, bytes]) -> None:
    strict = Identifier(encoder, store.load(), threshold=0.99).identify(pcm["speechbrain_spk1_snt4"])
    assert strict.speaker is None and strict.closest == "alice"
    lax = Identifier(encoder, store.load(), threshold=0.0).identify(pcm["turn_on_the_living_room_lamp"])
    assert lax.speaker is not None


def test_nothing_enrolled_or_turned_off_costs_nothing(tmp_path: Path, store: VoiceStore) -> None:
    on = Config.model_validate({})
    assert on.speakers.enabled and on.speakers.threshold is None  # the documented defaults
    assert build_speaker_watch(on, VoiceStore(tmp_path / "none.json")) is None
    off = Config.model_validate({"speakers": {"enabled": False}})
    assert build_speaker_watch(off, store) is None
    with pytest.raises(ConfigError, match=r"speakers.threshold: must be <= 1"):
        from assistant.config.schema import validate

        validate({"speakers": {"threshold": 1.5}})
    watch = build_speaker_watch(Config.model_validate({"speakers": {"threshold": 0.5}}), store)
    assert watch is not None and watch.identifier.threshold == 0.5
    watch.close()


@dataclass
class FakeEndpointer:
    """The endpointer as the speculator sees it, driven by the test."""

    in_speech: bool = True
    trailing_silence_ms: int = 0
    vad_silence_ms: int = 0
    pcm: bytes = b""

    def current_pcm(self) -> bytes:
        return self.pcm


def frame() -> AudioFrame:
    return AudioFrame(bytes(960), 0.0, time.monotonic())


def utterance(pcm: bytes) -> Utterance:
    now = time.monotonic()
    return Utterance(pcm, 0.0, len(pcm) / 32000, len(pcm) / 32000, now, now)


def test_identification_starts_in_the_hangover_and_the_turn_takes_it(store: VoiceStore, encoder: SpeakerEncoder,
                                                                    pcm: dict[str, bytes]) -> None:
    watch = SpeakerWatch(Identifier(encoder, store.load()), after_ms=90, wait_s=5.0)
    try:
        speech = pcm["speechbrain_spk2_snt4"]
        endpointer = FakeEndpointer(pcm=speech[:16000])
        endpointer.trailing_silence_ms = 120  # a pause...
        watch.observe(frame(), endpointer)
        endpointer.trailing_silence_ms = 0  # ...then more words: that snapshot is not the utterance
        watch.observe(frame(), endpointer)
        endpointer.pcm, endpointer.trailing_silence_ms = speech, 90
        watch.observe(frame(), endpointer)  # 90 ms of silence: identification starts on the whole speech
        endpointer.in_speech = False
        watch.observe(frame(), endpointer)
        job = watch.begin(utterance(speech + bytes(16000)))  # the utterance: that speech + the hangover
        assert job.pcm == speech  # the job from the hangover, not a new one
        report = TurnReport(0.0, 1.0)
        assert job.tell(report) == "bob" and report.speaker == "bob" and report.speaker_score is not None
        assert report.as_dict()["speaker"] == "bob" and "speaker_wait" in report.latency_ms
        other = watch.begin(utterance(pcm["speechbrain_spk1_snt4"]))  # no hangover job: started now
        assert other.tell(TurnReport(0.0, 1.0)) == "alice"
    finally:
        watch.close()


def test_a_late_identification_leaves_the_speaker_unknown(store: VoiceStore, encoder: SpeakerEncoder,
                                                          pcm: dict[str, bytes]) -> None:
    class Slow(Identifier):
        def identify(self, pcm: bytes):  # type: ignore[no-untyped-def]
            release.wait(10)
            return super().identify(pcm)

    release = threading.Event()
    watch = SpeakerWatch(Slow(encoder, store.load()), wait_s=0.05)
    try:
        report = TurnReport(0.0, 1.0)
        assert watch.begin(utterance(pcm["speechbrain_spk1_snt4"])).tell(report) is None
        assert report.speaker is None and report.speaker_score is None and report.as_dict()["speaker"] is None
        assert "speaker_wait" in report.latency_ms  # it waited its bound, not for the result
    finally:
        release.set()
        watch.close()


def test_the_request_context_carries_the_speaker() -> None:
    assert with_speaker(None, None) is None
    assert with_speaker(None, "alice") == RequestContext(speaker="alice")
    woken = RequestContext("hey_jarvis", "Jarvis", "jarvis")
    assert with_speaker(woken, "bob") == RequestContext("hey_jarvis", "Jarvis", "jarvis", "bob")
