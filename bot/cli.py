"""The ``chathost`` command: validate, rehearse, run, schema."""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys
import tempfile
from pathlib import Path

from bot.core.plan import PlanError, load_plan, plan_json_schema
from bot.settings import Settings

EXIT_BAD_INPUT = 1
EXIT_MISSING_CONFIG = 2


def _speed(text: str) -> float:
    if text == "max":
        return math.inf
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: use a number such as 60, or max") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("speed must be above zero")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="chathost", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    validate = sub.add_parser("validate", help="check a chat plan and list every problem")
    validate.add_argument("file", nargs="?", default="chats.yaml")

    rehearse = sub.add_parser("rehearse", help="play one chat in the terminal on a fast clock")
    rehearse.add_argument("file", nargs="?", default="chats.yaml")
    rehearse.add_argument("--chat", required=True, help="the chat id in the plan")
    rehearse.add_argument("--replies", help="YAML list of incoming messages")
    rehearse.add_argument("--speed", type=_speed, default=60.0, help="N times real time, or max")
    rehearse.add_argument("--out", type=Path, help="write run.json and summary.md here")
    rehearse.add_argument("--db", help="database URL (default: a SQLite file in --out)")

    run = sub.add_parser("run", help="run the chats of the plan on their platforms")
    run.add_argument("file", nargs="?", default=None, help="plan (default: $CHATS_FILE)")
    run.add_argument(
        "--platform",
        action="append",
        choices=["console", "slack", "discord"],
        help="run only these platforms (repeatable)",
    )
    run.add_argument("--slack-mode", choices=["socket", "http"], default="socket")
    run.add_argument("--port", type=int, default=3000, help="HTTP port (Slack http mode)")

    sub.add_parser("schema", help="print the JSON Schema of chats.yaml")

    invite = sub.add_parser("discord-invite", help="print the URL that adds the bot to a server")
    invite.add_argument("--client-id", help="application id (default: $DISCORD_CLIENT_ID)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return _COMMANDS[args.command](args)
    except PlanError as exc:
        print(exc, file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        return 130


def cmd_validate(args: argparse.Namespace) -> int:
    plan = load_plan(args.file)
    print(f"{args.file}: OK ({len(plan.chats)} chats: {', '.join(c.id for c in plan.chats)})")
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    print(json.dumps(plan_json_schema(), indent=2))
    return 0


def cmd_rehearse(args: argparse.Namespace) -> int:
    from bot.adapters.console.rehearsal import rehearse_to

    plan = load_plan(args.file)
    try:
        plan.chat(args.chat)
    except KeyError as exc:
        print(exc.args[0], file=sys.stderr)
        return EXIT_BAD_INPUT
    out = args.out
    with tempfile.TemporaryDirectory() as scratch:
        db = args.db or _rehearsal_db(out or Path(scratch))
        result = asyncio.run(rehearse_to(plan, args.chat, args.replies, db, args.speed, out))
    stats = result.document["stats"]
    print(
        f"\nRehearsal done: run {result.run_id}, {stats['messages']} messages from "
        f"{stats['participants']} participants."
        + (f" Wrote {out / 'run.json'} and {out / 'summary.md'}." if out else "")
    )
    return 0


def _rehearsal_db(folder: Path) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / "rehearsal.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    return f"sqlite+aiosqlite:///{db}"


def cmd_run(args: argparse.Namespace) -> int:
    from bot.app import MissingTokens
    from bot.runner import run_app

    settings = Settings()
    plan = load_plan(args.file or settings.chats_file)
    try:
        asyncio.run(run_app(settings, plan, args.platform, args.slack_mode, args.port))
    except MissingTokens as exc:
        print(exc, file=sys.stderr)
        return EXIT_MISSING_CONFIG
    return 0


def cmd_discord_invite(args: argparse.Namespace) -> int:
    from bot.adapters.discord.invite import invite_command

    return invite_command(Settings(), args.client_id)


_COMMANDS = {
    "discord-invite": cmd_discord_invite,
    "validate": cmd_validate,
    "rehearse": cmd_rehearse,
    "run": cmd_run,
    "schema": cmd_schema,
}
