"""The endpointer on real recordings with known speech regions, and webrtcvad's reference decisions."""

from __future__ import annotations

import csv
import itertools
from pathlib import Path

import pytest
import webrtcvad

from assistant.audio.sources import WavSource
from assistant.config.schema import VadConfig
from assistant.events import SAMPLE_RATE, AudioFrame
from assistant.hearing.vad import Endpointer, Segment, segments


def wav_frames(path: Path, frame_ms: int = 30, pad_s: float = 0.0) -> list[AudioFrame]:
    source = WavSource(path, tail_silence_s=pad_s)
    pcm = b"".join(iter(source.read, None))
    size = SAMPLE_RATE * frame_ms // 1000 * 2
    return [AudioFrame(pcm[i : i + size], i / 2 / SAMPLE_RATE, i / 2 / SAMPLE_RATE)
            for i in range(0, len(pcm) - size + 1, size)]


def labels(data_dir: Path, name: str) -> tuple[list[Segment], Segment]:
    with open(data_dir / "vad_labels.tsv", newline="") as f:
        rows = [r for r in csv.DictReader(f, delimiter="\t") if r["file"] == name]
    speech = [Segment(float(r["start_s"]), float(r["end_s"])) for r in rows if r["label"] != "annotated_region"]
    region = [Segment(float(r["start_s"]), float(r["end_s"])) for r in rows if r["label"] == "annotated_region"]
    return speech, region[0] if region else Segment(0.0, max(s.end for s in speech))


def overlap(a: Segment, b: Segment) -> float:
    return max(0.0, min(a.end, b.end) - max(a.start, b.start))


@pytest.mark.parametrize("name", ["speechbrain_vad_train.wav", "speechbrain_vad_valid.wav",
                                  "ami_ES2011a_headset0_40-46s.wav"])
def test_endpointer_finds_labelled_speech(data_dir: Path, name: str) -> None:
    config = VadConfig()
    speech, region = labels(data_dir, name)
    found = segments(wav_frames(data_dir / name), config)
    # What the recognizer receives: each segment plus the pre-roll before and the hangover after it.
    delivered = [Segment(s.start - config.preroll_ms / 1000, s.end + config.hangover_ms / 1000) for s in found]
    labelled = sum(s.end - s.start for s in speech)
    covered = sum(min(s.end - s.start, sum(overlap(s, d) for d in delivered)) for s in speech)
    assert covered / labelled >= 0.95, (found, speech)
    # every labelled onset after a real pause is found within 150 ms
    onsets = [s.start for i, s in enumerate(speech) if i == 0 or s.start - speech[i - 1].end > 1.0]
    for onset in onsets:
        assert min(abs(f.start - onset) for f in found) <= 0.15, (onset, found)
    # inside the annotated region, long stretches without speech stay silent
    gaps = [Segment(a.end, b.start) for a, b in itertools.pairwise(speech) if b.start - a.end > 1.0]
    for gap in gaps:
        assert sum(overlap(gap, f) for f in found) < 0.2 * (gap.end - gap.start), (gap, found)
    assert all(region.start - 0.5 <= f.start for f in found)


def test_hangover_splits_and_joins_utterances(data_dir: Path) -> None:
    frames = wav_frames(data_dir / "speechbrain_vad_valid.wav")
    # 0.38-2.70 and 4.10-5.88 are separated by 1.4 s: one hangover splits them, a longer one joins them
    assert len(segments(frames, VadConfig(hangover_ms=500))) >= 2
    joined = segments(frames, VadConfig(hangover_ms=1500))
    assert any(s.start < 0.5 and s.end > 5.5 for s in joined), joined


def test_preroll_and_timestamps_of_utterance(data_dir: Path) -> None:
    config = VadConfig(preroll_ms=300)
    endpointer = Endpointer(config)
    utterances = [u for f in wav_frames(data_dir / "whatstheweatherlike.wav", pad_s=1.0)
                  if (u := endpointer.feed(f)) is not None]
    assert len(utterances) == 1
    u = utterances[0]
    assert 0.0 <= u.start_s < u.end_s <= 2.1
    # audio handed to ASR starts up to preroll before the onset and runs on through the hangover
    assert u.duration_s >= (u.end_s - u.start_s) + config.hangover_ms / 1000 - 0.05
    assert u.voiced_s >= config.min_speech_ms / 1000


def test_min_speech_and_max_utterance(data_dir: Path) -> None:
    frames = wav_frames(data_dir / "jfk.wav", pad_s=1.0)
    assert segments(frames, VadConfig()) != []
    strict = Endpointer(VadConfig(min_speech_ms=5000, hangover_ms=300))
    kept = [u for f in frames if (u := strict.feed(f)) is not None]
    assert all(u.voiced_s >= 5.0 for u in kept)
    assert strict.discarded >= 1  # the short phrases of the speech were dropped as too short
    endpointer = Endpointer(VadConfig(max_utterance_s=3.0, hangover_ms=2000))
    cut = [u for f in frames if (u := endpointer.feed(f)) is not None]
    assert cut and all(u.duration_s <= 3.0 + 0.031 for u in cut)
    assert any(u.truncated for u in cut)


def test_webrtcvad_reference_decisions(data_dir: Path) -> None:
    raw = (data_dir / "test-audio-8k.raw").read_bytes()
    with open(data_dir / "webrtcvad_expected.tsv", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    assert len(rows) == 4
    for row in rows:
        rate, frame_ms, mode = int(row["sample_rate"]), int(row["frame_ms"]), int(row["mode"])
        size = rate * frame_ms // 1000 * 2
        vad = webrtcvad.Vad(mode)
        decided = "".join("1" if vad.is_speech(raw[i : i + size], rate) else "0"
                          for i in range(0, len(raw) - size + 1, size))
        assert decided == row["expected_is_speech_per_frame"], f"mode {mode}"
    # our endpointer classifies frames with the same detector and settings
    config = VadConfig(aggressiveness=3)
    endpointer = Endpointer(config)
    assert endpointer.is_speech(AudioFrame(bytes(960), 0.0, 0.0)) is False
