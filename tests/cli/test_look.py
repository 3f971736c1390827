"""`assistant look`: the facts of an image file or the configured camera's frame, as text or JSON, with timings;
a missing image or camera is one line, not a traceback."""

from __future__ import annotations

import json
from pathlib import Path

from assistant.bench.ocr_pages import char_accuracy
from support.cli import run_cli
from support.paths import DATA


def test_look_at_a_photographed_page_as_json() -> None:
    done = run_cli("look", "--image", str(DATA / "skimage_page.png"), "--json")
    assert done.returncode == 0, done.stderr
    facts = json.loads(done.stdout)
    assert facts["text"].splitlines()[0] == "Region-based segmentation"
    assert facts["people"] == 0 and facts["quality"]["problem"] is None and facts["problems"] == []
    assert char_accuracy("Let us first determine markers of the coins and the", facts["lines"][1]["text"]) >= 0.9
    assert {"decode", "quality", "ocr", "faces", "total"} <= set(facts["timings_ms"]) and facts["load_ms"] > 0


def test_look_through_the_configured_camera_in_words(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"camera:\n  source: {DATA / 'skimage_astronaut.jpg'}\n")
    done = run_cli("--config", str(config), "look")
    assert done.returncode == 0, done.stderr
    assert "  face 0.9" in done.stdout and "says: I don't see any text to read. I see one person." in done.stdout
    assert "timings: load" in done.stdout


def test_no_image_and_no_camera_are_one_line_errors(tmp_path: Path) -> None:
    missing = run_cli("look", "--image", str(tmp_path / "nope.jpg"))
    assert missing.returncode == 1 and missing.stderr.startswith("error: cannot read the image")
    config = tmp_path / "config.yaml"
    config.write_text("camera:\n  source: none\n")
    nothing = run_cli("--config", str(config), "look")
    assert nothing.returncode == 1 and "no camera is configured" in nothing.stderr
    assert "Traceback" not in missing.stderr + nothing.stderr
