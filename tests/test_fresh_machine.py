"""The README's test command sets a fresh machine up by itself, and CI runs exactly that."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_make_test_installs_the_system_packages_before_the_suite() -> None:
    steps = subprocess.run(
        ["make", "-n", "test"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    installs = next(i for i, s in enumerate(steps) if "scripts/system-packages" in s)
    runs = next(i for i, s in enumerate(steps) if "pytest" in s)
    assert installs < runs
    script = (ROOT / "scripts" / "system-packages").read_text()
    for package in ("postgresql-15", "chromium"):  # what the store and archive tests need
        assert package in script


def test_ci_runs_the_readme_test_command_and_nothing_else() -> None:
    commands = [
        line.strip()
        for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert commands[-1] == "make test"
    assert not any(re.search(r"apt-get|pip install", c) for c in commands)
    assert "make test" in (ROOT / "README.md").read_text()
