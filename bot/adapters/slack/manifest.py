"""The slash commands of ``config/slack-manifest.yaml``, generated from the core's command
table, so that the app Slack installs offers exactly the commands chathost answers.

``python -m bot.adapters.slack.manifest`` (``make manifest``) rewrites the file's
``slash_commands`` block in place and keeps the rest of it, comments included: the file is
meant to be read and pasted by people.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from bot.core.commands import COMMANDS, CommandSpec, Who

MANIFEST = Path(__file__).resolve().parents[3] / "config" / "slack-manifest.yaml"
_BLOCK_START = "  slash_commands:\n"
# The block ends at the next key at the top level or under ``features``.
_BLOCK_END = re.compile(r"^(?:\S|  \S)", re.MULTILINE)


class ManifestError(ValueError):
    """The manifest has no ``features.slash_commands`` block to rewrite."""


def slash_command(spec: CommandSpec) -> dict[str, str | bool]:
    """One command as the manifest declares it (Slack's own field names)."""
    entry: dict[str, str | bool] = {
        "command": f"/{spec.name}",
        "description": _who_first(spec),
    }
    if spec.args:
        entry["usage_hint"] = spec.usage.partition(" ")[2]
    entry["should_escape"] = False
    return entry


def _who_first(spec: CommandSpec) -> str:
    """Slack lists a command's description under its name: "Hosts: ..." says first who may."""
    if spec.who is not Who.HOSTS:
        return spec.help
    return f"Hosts: {spec.help[0].lower()}{spec.help[1:]}"


def slash_commands_block() -> str:
    """The ``slash_commands`` block: YAML with each string double-quoted (JSON's quoting is
    valid YAML), in the table's order."""
    lines = [_BLOCK_START]
    for spec in COMMANDS:
        fields = list(slash_command(spec).items())
        for index, (key, value) in enumerate(fields):
            lead = "    - " if index == 0 else "      "
            lines.append(f"{lead}{key}: {json.dumps(value)}\n")
    return "".join(lines)


def with_commands(manifest: str) -> str:
    """``manifest`` with its ``slash_commands`` block replaced by the table's."""
    start = manifest.find(_BLOCK_START)
    if start < 0:
        raise ManifestError("no `  slash_commands:` under `features:` in the manifest")
    body = start + len(_BLOCK_START)
    end = _BLOCK_END.search(manifest, body)
    stop = end.start() if end else len(manifest)
    return manifest[:start] + slash_commands_block() + manifest[stop:]


def main(path: Path = MANIFEST) -> int:
    """Rewrite the manifest on disk; say whether it changed."""
    old = path.read_text()
    new = with_commands(old)
    if new != old:
        path.write_text(new)
    print(f"{path}: {'updated' if new != old else 'already current'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
