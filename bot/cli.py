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
EXIT_UNHEALTHY = 3


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
    run.add_argument(
        "--health-port", type=int, help="serve GET /healthz on this port (for orchestrators)"
    )
    run.add_argument("--log-json", action="store_true", help="log JSON lines (or LOG_JSON=true)")

    health = sub.add_parser(
        "health", help="exit 0 if the database answers and its schema is current"
    )
    health.add_argument("--db", help="database URL (default: $DATABASE_URL)")

    sub.add_parser("schema", help="print the JSON Schema of chats.yaml")

    invite = sub.add_parser("discord-invite", help="print the URL that adds the bot to a server")
    invite.add_argument("--client-id", help="application id (default: $DISCORD_CLIENT_ID)")

    export = sub.add_parser("export", help="write one stored run as md, html, json or csv")
    export.add_argument("run", help="a run id, or 'latest' (the last run that started)")
    export.add_argument("--format", choices=["md", "html", "json", "csv"], default="md")
    export.add_argument("--out", type=Path, help="write to this file (default: standard output)")
    export.add_argument("--db", help="database URL (default: $DATABASE_URL)")

    serve = sub.add_parser("serve", help="serve the read-only web archive of past chats")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--host", default="127.0.0.1", help="0.0.0.0 to listen on all interfaces")
    serve.add_argument("--db", help="database URL (default: $DATABASE_URL)")
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
        + (f" Wrote run.json, summary.md and the recap's pictures to {out}." if out else "")
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
    if args.log_json:
        settings = settings.model_copy(update={"log_json": True})
    plan = load_plan(args.file or settings.chats_file)
    try:
        asyncio.run(
            run_app(
                settings,
                plan,
                args.platform,
                args.slack_mode,
                args.port,
                health_port=args.health_port,
            )
        )
    except MissingTokens as exc:
        print(exc, file=sys.stderr)
        return EXIT_MISSING_CONFIG
    return 0


def cmd_discord_invite(args: argparse.Namespace) -> int:
    from bot.adapters.discord.invite import invite_command

    return invite_command(Settings(), args.client_id)


def cmd_export(args: argparse.Namespace) -> int:
    from bot.core.snapshot import RunNotFound
    from bot.export.cli import export_run
    from bot.web.config import ArchiveConfig

    config = ArchiveConfig.from_settings(Settings(), args.db)
    try:
        done = asyncio.run(
            export_run(config.database_url, args.run, args.format, config.public_url)
        )
    except RunNotFound as exc:
        print(exc.args[0], file=sys.stderr)
        return EXIT_BAD_INPUT
    if args.out is None:
        sys.stdout.buffer.write(done.content)
        sys.stdout.flush()
    else:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_bytes(done.content)
        print(f"Wrote {args.out} ({len(done.content)} bytes).", file=sys.stderr)
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from bot.web.app import create_app
    from bot.web.config import ArchiveConfig

    config = ArchiveConfig.from_settings(Settings(), args.db)
    print(f"Archive on http://{args.host}:{args.port}/", file=sys.stderr)
    uvicorn.run(create_app(config), host=args.host, port=args.port, log_level="info")
    return 0


def cmd_health(args: argparse.Namespace) -> int:
    from bot.health import check_url, safe_url

    url = args.db or Settings().database_url
    result = asyncio.run(check_url(url))
    if result.ok:
        print(f"ok: {result.reason} ({safe_url(url)})")
        return 0
    print(f"unhealthy: {result.reason} ({safe_url(url)})", file=sys.stderr)
    return EXIT_UNHEALTHY


_COMMANDS = {
    "export": cmd_export,
    "serve": cmd_serve,
    "discord-invite": cmd_discord_invite,
    "validate": cmd_validate,
    "rehearse": cmd_rehearse,
    "run": cmd_run,
    "health": cmd_health,
    "schema": cmd_schema,
}
