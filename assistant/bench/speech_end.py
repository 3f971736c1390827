"""Where speech really ends in a recording, for latencies measured from the user's last sound rather than
from the VAD's last voiced frame (which trails it: webrtcvad calls the frames around a fading word voiced).

The end is a labelled one where ``vad_labels.tsv`` (beside the manifest) gives speech segments for the file,
else the end of the last run of at least ``RUN_S`` of 10 ms frames that are ``margin_db`` above the
recording's noise floor (the 10th percentile of its frame energies: recordings begin and end with some room)
and no more than ``BELOW_PEAK_DB`` below its speech (the 95th percentile). Without the run and the peak, a
room's fluctuating noise after the last word was taken for speech (measured: the end of "turn on the living
room lamp" at 2.98 s instead of 1.38 s, of "go forward ten meters" at 2.65 s instead of 2.40 s).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from assistant.events import SAMPLE_RATE

FRAME_S = 0.010
MARGIN_DB = 10.0
BELOW_PEAK_DB = 30.0
RUN_S = 0.05
SPEECH_LABELS = frozenset({"speech", "transcript_segment"})


def energy_end_s(samples: np.ndarray, rate: int = SAMPLE_RATE, margin_db: float = MARGIN_DB) -> float | None:
    """Stream time (s) where the last run of loud frames ends (see above); None if there is none."""
    size = int(rate * FRAME_S)
    frames = len(samples) // size
    if frames == 0:
        return None
    blocks = samples[: frames * size].astype(np.float64).reshape(frames, size)
    level = 10 * np.log10(np.mean(blocks**2, axis=1) + 1.0)  # +1: digital silence is 0 dB, not -inf
    floor, peak = float(np.percentile(level, 10)), float(np.percentile(level, 95))
    loud = level > max(floor + margin_db, peak - BELOW_PEAK_DB)
    need, run, end = round(RUN_S / FRAME_S), 0, None
    for index, frame_is_loud in enumerate(loud):
        run = run + 1 if frame_is_loud else 0
        if run >= need:
            end = index + 1
    return None if end is None else float(end * size / rate)


def labelled_end_s(labels: Path, recording: Path) -> float | None:
    """The end of the last labelled speech segment of ``recording`` (named relative to the labels' folder)."""
    if not labels.is_file():
        return None
    try:
        name = recording.resolve().relative_to(labels.parent.resolve()).as_posix()
    except ValueError:
        return None
    ends = []
    with labels.open(encoding="utf-8", newline="") as f:
        for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            if row.get("file") == name and row.get("label") in SPEECH_LABELS:
                ends.append(float(row["end_s"]))
    return max(ends) if ends else None


def true_end_s(recording: Path, samples: np.ndarray, rate: int = SAMPLE_RATE) -> tuple[float | None, str]:
    """(end of speech in seconds, "label" or "energy")."""
    labelled = labelled_end_s(recording.parent.parent / "vad_labels.tsv", recording)
    if labelled is not None:
        return labelled, "label"
    return energy_end_s(samples, rate), "energy"
