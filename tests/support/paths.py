"""Where things are: the repository's root and the tests' recordings, wherever a test file sits."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]  # the checkout: README.md, config/, systemd/, .ci/, assistant/
DATA = REPO / "tests" / "data"  # the recordings and images the tests use (see LICENSES.md there)
