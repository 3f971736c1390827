"""Reading order and read-aloud text: boxes in any order and at a slant come out line by line, left to right;
long text is cut into parts at sentence ends."""

from __future__ import annotations

import math
import random

from assistant.brain.vision.reading import Found, parts, reading_order, running_text, sentences


def _word(text: str, x: float, y: float, angle_deg: float = 0.0, centre: tuple[float, float] = (320, 240),
          height: float = 20.0) -> Found:
    """A word's box at (x, y) (top left, upright page), the whole page turned by ``angle_deg`` about ``centre``."""
    width = 12.0 * len(text)
    corners = [(x, y), (x + width, y), (x + width, y + height), (x, y + height)]
    a = math.radians(angle_deg)
    turned = [(centre[0] + (px - centre[0]) * math.cos(a) - (py - centre[1]) * math.sin(a),
               centre[1] + (px - centre[0]) * math.sin(a) + (py - centre[1]) * math.cos(a)) for px, py in corners]
    return Found((turned[0], turned[1], turned[2], turned[3]), text, 0.9)


PAGE = [("Dear", 40, 100), ("Ada,", 100, 100), ("the", 40, 130), ("meeting", 85, 130), ("is", 180, 130),
        ("on", 40, 160), ("Friday.", 75, 160)]


def test_lines_top_to_bottom_and_words_left_to_right_whatever_order_they_come_in() -> None:
    words = [_word(t, x, y) for t, x, y in PAGE]
    random.Random(3).shuffle(words)
    lines = reading_order(words)
    assert [line.text for line in lines] == ["Dear Ada,", "the meeting is", "on Friday."]
    assert lines[0].box[1] < lines[1].box[1] < lines[2].box[1]


def test_a_page_turned_by_twelve_degrees_still_reads_in_order() -> None:
    for angle in (12.0, -12.0):
        words = [_word(t, x, y, angle) for t, x, y in PAGE]
        random.Random(5).shuffle(words)
        assert [line.text for line in reading_order(words)] == ["Dear Ada,", "the meeting is", "on Friday."]


def test_running_text_joins_hyphenated_words_and_lines() -> None:
    assert running_text(["Your appoint-", "ment is on", "Friday."]) == "Your appointment is on Friday."


def test_sentences_and_parts_keep_whole_sentences() -> None:
    text = "Take two tablets. Do not exceed eight in 24 hours! Keep out of reach of children. Store below 25 C."
    assert sentences(text) == ["Take two tablets.", "Do not exceed eight in 24 hours!",
                               "Keep out of reach of children.", "Store below 25 C."]
    cut = parts(text, 60)
    assert cut == ["Take two tablets. Do not exceed eight in 24 hours!",
                   "Keep out of reach of children. Store below 25 C."]
    assert all(len(p) <= 60 for p in cut)
    assert parts("one very long sentence without an end that goes on", 10) == [
        "one very long sentence without an end that goes on"]
