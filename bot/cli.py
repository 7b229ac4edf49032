"""The ``chathost`` command: validate, rehearse, run, export, serve, health, schema.

``main`` is the one error boundary: a ``UserError`` (a plan with mistakes, a database URL of
no known form, a platform that cannot be reached...) becomes one line on stderr and its exit
code from ``ExitCode``; ``--debug`` (or LOG_LEVEL=DEBUG) adds the traceback.

The platforms come from the registry (``bot.platforms``): ``--platform``'s choices, each
platform's own ``run`` options and subcommands, and the names a plan may use.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import sys
import tempfile
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from bot.core.errors import ExitCode, SettingsError, UserError
from bot.core.plan import Chat, load_plan, parse_plan, plan_json_schema
from bot.export import FORMATS
from bot.platforms import PlatformRegistry, PluginCommand, load_platforms
from bot.settings import load_settings

Handler = Callable[[argparse.Namespace, PlatformRegistry], int]

EXIT_BAD_INPUT = ExitCode.BAD_INPUT
EXIT_MISSING_CONFIG = ExitCode.BAD_SETTINGS
EXIT_UNHEALTHY = ExitCode.UNHEALTHY
# ``chathost validate -``: the plan comes on standard input, and errors name it so.
STDIN = "-"
STDIN_NAME = "<stdin>"
# Not a user's mistake: a bug. One line still, and the traceback with --debug.
EXIT_BUG = 70


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


def _parser(registry: PlatformRegistry) -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--debug", action="store_true", help="show the traceback of an error (or LOG_LEVEL=DEBUG)"
    )
    parser = argparse.ArgumentParser(prog="chathost", description=__doc__, parents=[common])
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, **kw: str) -> argparse.ArgumentParser:
        return sub.add_parser(name, parents=[common], **kw)

    validate = add("validate", help="check a chat plan and list every problem")
    validate.add_argument("file", nargs="?", default="chats.yaml", help="the plan; - reads stdin")

    rehearse = add("rehearse", help="play one chat in the terminal on a fast clock")
    rehearse.add_argument("file", nargs="?", default="chats.yaml")
    which = rehearse.add_mutually_exclusive_group(required=True)
    which.add_argument("--chat", help="the chat id in the plan")
    which.add_argument(
        "--adhoc",
        action="store_true",
        help="a spontaneous chat: the replies start with /startchat TITLE and ask with /ask",
    )
    rehearse.add_argument("--replies", help="YAML list of incoming messages")
    rehearse.add_argument("--speed", type=_speed, default=60.0, help="N times real time, or max")
    rehearse.add_argument(
        "--at",
        metavar="DATETIME",
        help="start at this local time in the chat's zone, e.g. '2026-11-20 19:30' "
        "(default: the next start; the chat's own date when its only start has passed)",
    )
    rehearse.add_argument("--out", type=Path, help="write run.json and summary.md here")
    rehearse.add_argument("--db", help="database URL (default: a SQLite file in --out)")

    run = add("run", help="run the chats of the plan on their platforms")
    run.add_argument("file", nargs="?", default=None, help="plan (default: $CHATS_FILE)")
    run.add_argument(
        "--platform",
        action="append",
        choices=registry.names,
        help="run only these platforms (repeatable)",
    )
    run.add_argument(
        "--port", type=int, default=3000, help="HTTP port, for a platform that listens for events"
    )
    run.add_argument(
        "--health-port", type=int, help="serve GET /healthz on this port (for orchestrators)"
    )
    run.add_argument("--log-json", action="store_true", help="log JSON lines (or LOG_JSON=true)")
    for plugin in registry:
        plugin.add_run_options(run.add_argument_group(f"{plugin.name} options"))

    health = add("health", help="exit 0 if the database answers and its schema is current")
    health.add_argument("--db", help="database URL (default: $DATABASE_URL)")

    add("schema", help="print the JSON Schema of chats.yaml")

    for plugin in registry:
        for command in plugin.commands:
            _add_plugin_command(add(command.name, help=command.help), command)

    export = add("export", help="write one stored run as md, html, json, csv or a plan entry")
    export.add_argument("run", help="a run id, or 'latest' (the last run that started)")
    export.add_argument(
        "--format",
        choices=FORMATS,
        default="md",
        help="plan: a chats.yaml entry with the questions at the offsets they were asked at",
    )
    export.add_argument("--out", type=Path, help="write to this file (default: standard output)")
    export.add_argument("--db", help="database URL (default: $DATABASE_URL)")

    calendar = add("calendar", help="write the plan's chats as an iCalendar (.ics) file")
    calendar.add_argument("file", nargs="?", default=None, help="plan (default: $CHATS_FILE)")
    calendar.add_argument("--chat", help="only this chat (default: every chat)")
    calendar.add_argument("--out", type=Path, help="write to this file (default: standard output)")

    serve = add("serve", help="serve the read-only web archive of past chats")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument("--host", default="127.0.0.1", help="0.0.0.0 to listen on all interfaces")
    serve.add_argument("--db", help="database URL (default: $DATABASE_URL)")
    return parser


def _add_plugin_command(parser: argparse.ArgumentParser, command: PluginCommand) -> None:
    command.add_arguments(parser)
    parser.set_defaults(handler=lambda args, registry: command.run(args))


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand; every failure ends here as one line and an exit code."""
    try:
        registry = load_platforms()
    except UserError as exc:  # a broken platform plugin: which one, and why
        print(exc, file=sys.stderr)
        return exc.exit_code
    args = _parser(registry).parse_args(argv)  # bad arguments: argparse's usage line, exit 2
    debug = args.debug or os.environ.get("LOG_LEVEL", "").strip().upper() == "DEBUG"
    handler: Handler = getattr(args, "handler", None) or _COMMANDS[args.command]
    try:
        return handler(args, registry)
    except UserError as exc:
        if debug:
            traceback.print_exc()
        print(exc, file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return ExitCode.INTERRUPTED
    except Exception as exc:
        if debug:
            traceback.print_exc()
        print(
            f"chathost {args.command} failed unexpectedly: {type(exc).__name__}: {exc}. "
            "Run it again with --debug for the traceback, and please report it.",
            file=sys.stderr,
        )
        return EXIT_BUG


def cmd_validate(args: argparse.Namespace, registry: PlatformRegistry) -> int:
    from bot.core.recurrence import past_start_notices

    if args.file == STDIN:  # e.g. chathost export latest --format plan | chathost validate -
        plan = parse_plan(sys.stdin.read(), STDIN_NAME, registry.plan_rules)
    else:
        plan = load_plan(args.file, registry.plan_rules)
    print(f"{args.file}: OK ({len(plan.chats)} chats: {', '.join(c.id for c in plan.chats)})")
    for warning in past_start_notices(plan.chats, datetime.now(UTC)):
        print(f"{args.file}: warning: {warning}", file=sys.stderr)
    return 0


def cmd_schema(args: argparse.Namespace, registry: PlatformRegistry) -> int:
    print(json.dumps(plan_json_schema(registry.names), indent=2))
    return 0


def cmd_rehearse(args: argparse.Namespace, registry: PlatformRegistry) -> int:
    from bot.adapters.console.rehearsal import rehearse_to

    plan = load_plan(args.file, registry.plan_rules)
    if args.adhoc:
        chat = None
    else:
        try:
            chat = plan.chat(args.chat)
        except KeyError as exc:
            raise UserError(exc.args[0]) from None
    start = _rehearsal_at(chat, plan.timezone, args.at)
    out = args.out
    with tempfile.TemporaryDirectory() as scratch:
        db = args.db or _rehearsal_db(out or Path(scratch))
        result = asyncio.run(
            rehearse_to(plan, args.chat, args.replies, db, args.speed, out, start=start)
        )
    stats = result.document["stats"]
    print(
        f"\nRehearsal done: run {result.run_id}, {stats['messages']} messages from "
        f"{stats['participants']} participants."
        + (f" Wrote run.json, summary.md and the recap's pictures to {out}." if out else "")
    )
    if args.db or out:
        print(
            f"Export it: chathost export {result.run_id} --format html --out recap.html "
            f"--db {db}\nBrowse it: chathost serve --db {db}"
        )
    else:
        print("(The rehearsal's database was temporary: add --out DIR to export or serve it.)")
    return 0


def _rehearsal_at(chat: Chat | None, timezone: str, text: str | None) -> datetime | None:
    """``--at`` in the chat's zone, or the plan's for a spontaneous chat (``chat`` None)."""
    from zoneinfo import ZoneInfo

    from bot.core.recurrence import local_start

    if text is None:
        return None
    zone = chat.zone if chat is not None else ZoneInfo(timezone)
    try:
        return local_start(zone, text)
    except ValueError as exc:
        raise SettingsError(f"--at: {exc}, in the chat's zone ({zone.key})") from None


def _make_folder(folder: Path, option: str = "--out") -> None:
    """Create an output folder up front, so a path that cannot be written is one line before
    any work is done, not a traceback after it."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise SettingsError(
            f"{option} {folder}: cannot create the folder ({exc.strerror})"
        ) from None


def _write_out(out: Path | None, content: bytes) -> None:
    """``content`` to ``out``, or to standard output without ``--out``."""
    if out is None:
        sys.stdout.buffer.write(content)
        sys.stdout.flush()
        return
    _make_folder(out.parent)
    try:
        out.write_bytes(content)
    except OSError as exc:
        raise SettingsError(f"--out {out}: cannot write the file ({exc.strerror})") from None


def _rehearsal_db(folder: Path) -> str:
    _make_folder(folder)
    db = folder / "rehearsal.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    return f"sqlite:///{db}"


def cmd_run(args: argparse.Namespace, registry: PlatformRegistry) -> int:
    from bot.runner import run_app

    settings = load_settings()
    if args.log_json:
        settings = settings.model_copy(update={"log_json": True})
    plan = load_plan(args.file or settings.chats_file, registry.plan_rules)
    asyncio.run(
        run_app(
            settings, plan, args.platform, args, registry=registry, health_port=args.health_port
        )
    )
    return 0


def cmd_export(args: argparse.Namespace, registry: PlatformRegistry) -> int:
    from bot.export.cli import export_run
    from bot.web.config import ArchiveConfig

    config = ArchiveConfig.from_settings(load_settings(), args.db)
    done = asyncio.run(export_run(config.database_url, args.run, args.format, config.public_url))
    _write_out(args.out, done.content)
    if args.out is not None:
        print(f"Wrote {args.out} ({len(done.content)} bytes).", file=sys.stderr)
    return 0


def cmd_calendar(args: argparse.Namespace, registry: PlatformRegistry) -> int:
    from bot.core.clock import SystemClock
    from bot.core.wording import plural
    from bot.export.calendar import plan_calendar

    settings = load_settings()
    plan = load_plan(args.file or settings.chats_file, registry.plan_rules)
    try:
        chats = [plan.chat(args.chat)] if args.chat else plan.chats
    except KeyError as exc:
        raise UserError(exc.args[0]) from None
    content = plan_calendar(chats, public_url=settings.public_url, now=SystemClock().now())
    _write_out(args.out, content)
    if args.out is not None:
        chats_written = plural(len(chats), "chat")
        print(f"Wrote {args.out} ({chats_written}, {len(content)} bytes).", file=sys.stderr)
    return 0


def cmd_serve(args: argparse.Namespace, registry: PlatformRegistry) -> int:
    import uvicorn

    from bot.core.store import open_store
    from bot.logging_setup import setup_logging
    from bot.web.app import create_app
    from bot.web.config import ArchiveConfig

    settings = load_settings()
    config = ArchiveConfig.from_settings(settings, args.db)

    async def check() -> None:  # refuse a missing or empty database before listening
        await (await open_store(config.database_url, create=False)).close()

    asyncio.run(check())
    # uvicorn's access log writes whole request lines, ``?token=`` included: its loggers go
    # through chathost's handler (log_config=None), which masks secrets in every line.
    secrets = settings.secret_values(registry)
    setup_logging(settings.log_level, as_json=settings.log_json, secrets=secrets)
    print(f"Archive on http://{args.host}:{args.port}/", file=sys.stderr)
    uvicorn.run(
        create_app(config), host=args.host, port=args.port, log_level="info", log_config=None
    )
    return 0


def cmd_health(args: argparse.Namespace, registry: PlatformRegistry) -> int:
    from bot.health import check_url, safe_url

    url = args.db or load_settings().database_url
    result = asyncio.run(check_url(url))
    if result.ok:
        print(f"ok: {result.reason} ({safe_url(url)})")
        return 0
    print(f"unhealthy: {result.reason} ({safe_url(url)})", file=sys.stderr)
    return EXIT_UNHEALTHY


_COMMANDS: dict[str, Handler] = {
    "export": cmd_export,
    "serve": cmd_serve,
    "calendar": cmd_calendar,
    "validate": cmd_validate,
    "rehearse": cmd_rehearse,
    "run": cmd_run,
    "health": cmd_health,
    "schema": cmd_schema,
}
