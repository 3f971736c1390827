"""Small helpers shared by the benchmarks: percentiles, WER, resource usage, a manifest reader."""

from __future__ import annotations

import csv
import math
import re
import resource
import statistics
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from assistant.hearing.distance import edit_distance

DEFAULT_MANIFEST = Path(__file__).resolve().parents[2].parent / "shared" / "speech" / "manifest.tsv"
COMMAND_CATEGORIES = ("asr_command", "wakeword_plus_command")
_NUMBERS = {"0": "zero", "1": "one", "2": "two", "3": "three", "4": "four", "5": "five", "6": "six",
            "7": "seven", "8": "eight", "9": "nine", "10": "ten"}


@dataclass(frozen=True, slots=True)
class Recording:
    path: Path
    reference: str
    category: str


def read_manifest(path: Path, categories: Iterable[str] | None = None) -> list[Recording]:
    """Rows of a TSV manifest with ``file`` (relative to it), ``reference_transcript`` and ``category``."""
    wanted = set(categories) if categories else None
    rows = []
    with path.open(encoding="utf-8", newline="") as f:
        for record in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE):
            category = record.get("category", "")
            if wanted is None or category in wanted:
                rows.append(Recording(path.parent / record["file"], record.get("reference_transcript", ""), category))
    return rows


def words(text: str) -> list[str]:
    text = text.lower().replace("'s", " is")
    return [_NUMBERS.get(w, w) for w in re.sub(r"[^a-z0-9' ]+", " ", text).split()]


def word_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """(edit distance in words, reference length) after light normalisation."""
    ref = words(reference)
    return edit_distance(ref, words(hypothesis)), len(ref)


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summary(values: Sequence[float]) -> dict[str, float]:
    clean = [v for v in values if not math.isnan(v)]
    return {"n": len(clean), "median": statistics.median(clean) if clean else math.nan,
            "p90": percentile(clean, 0.9), "max": max(clean) if clean else math.nan}


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mib() -> float:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


def fmt(value: float, digits: int = 0) -> str:
    return "-" if math.isnan(value) else f"{value:.{digits}f}"
