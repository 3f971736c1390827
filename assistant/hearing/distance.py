"""Levenshtein edit distance over any sequences: the letters of a word, the words of a transcript.

It lives in hearing/ because the wake-phrase matcher is its first user; the barge-in watch (turn/) and the
word error rate of the benchmarks (bench/) come later in the data flow and import it from here.
"""

from __future__ import annotations

from collections.abc import Sequence


def _last_row(a: Sequence[object], b: Sequence[object], *, free_start: bool) -> list[int]:
    """Row ``len(a)`` of the edit table turning ``a`` into ``b``: entry j costs turning all of ``a`` into b[:j].

    With ``free_start`` the first row is all zeros, so ``a`` may begin anywhere in ``b`` at no cost.
    """
    previous = [0] * (len(b) + 1) if free_start else list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        current = [i]
        for j, y in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (x != y)))
        previous = current
    return previous


def edit_distance(a: Sequence[object], b: Sequence[object]) -> int:
    """Substitutions + deletions + insertions that turn ``a`` into ``b``."""
    return _last_row(a, b, free_start=False)[-1]


def edits_to_find(needle: Sequence[object], haystack: Sequence[object]) -> int:
    """Fewest edits that turn ``needle`` into some stretch of ``haystack`` (free start and end in it)."""
    return min(_last_row(needle, haystack, free_start=True))
