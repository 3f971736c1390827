"""The OCR benchmark's yardstick and pages: character accuracy counts edits, pages are deterministic frames."""

from __future__ import annotations

from assistant.bench.ocr_pages import CONDITIONS, FRAME, TEXTS, char_accuracy, encode, render


def test_character_accuracy_counts_edits_over_the_reference() -> None:
    assert char_accuracy("Best before 04/11", "Best before 04/11") == 1.0
    assert char_accuracy("Best  before\n04/11", "Best before 04/11") == 1.0  # whitespace collapsed
    assert char_accuracy("abcdefghij", "abcdefghiX") == 0.9  # one substitution in ten
    assert char_accuracy("abcdefghij", "abcdefghi") == 0.9  # one deletion
    assert char_accuracy("abcdefghij", "Xabcdefghij") == 0.9  # one insertion
    assert char_accuracy("abc", "completely different") == 0.0


def test_pages_are_camera_sized_and_the_same_every_time() -> None:
    for condition in CONDITIONS:
        first = condition.apply(render(TEXTS[0], "pillow", 24))
        assert first.size == FRAME
        assert encode(first) == encode(condition.apply(render(TEXTS[0], "pillow", 24))), condition.name
    assert encode(render(TEXTS[0], "pillow", 24)) != encode(render(TEXTS[1], "pillow", 24))
