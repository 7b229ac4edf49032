"""Every command starts by listing the installed platforms; that must not import a platform's
library (discord.py and slack-bolt take about a second each), or `chathost --help`, `validate`
and a rehearsal all pay for platforms they never use."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
from bot.cli import main
from bot.platforms import load_platforms
assert sorted(load_platforms().names) == ["console", "discord", "slack", "telegram"], load_platforms().names
heavy = sorted(m for m in ("discord", "slack_bolt", "slack_sdk.web.async_client", "telegram") if m in sys.modules)
print(",".join(heavy))
"""


def test_listing_the_platforms_imports_no_platform_library() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == ""
