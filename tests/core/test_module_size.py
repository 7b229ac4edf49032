"""Each module keeps to one job, and a module past 600 lines is doing more than one: it is
split (issue 12) rather than let grow."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 600


def lines_of(path: Path) -> int:
    return len(path.read_text().splitlines())


def test_no_module_in_bot_is_over_600_lines() -> None:
    too_long = {
        str(path.relative_to(ROOT)): lines_of(path)
        for path in sorted((ROOT / "bot").rglob("*.py"))
        if lines_of(path) > LIMIT
    }
    assert too_long == {}

