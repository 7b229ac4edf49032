"""A real ``chathost run`` process for the multi-process tests, on a fake platform.

    python -m tests.durability.worker --db URL --plan PLAN --out FILE [--name W] ...

It runs the real App (store, engine, Waker with APScheduler, SIGTERM handling) on the real
clock. The platform is a file: every post is appended to ``--out`` as one JSON line, so the
test can read what all workers posted, even from a worker that was SIGKILLed.

Fault switches: ``--die-on KEY --die-marker FILE`` makes the first worker (of all that share
the marker) about to send KEY (``question:Q3``, ``nudge:alice``) SIGKILL itself after claiming
it and before posting it; ``--die-after KEY`` (same marker, suffixed ``.after``) right after
the post landed and before it is recorded (the platform has it, the database does not);
``--slow-post S`` makes each post take S seconds (a slow platform);
``--fail-with-secret`` makes posts fail with an error whose text carries the Slack token.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.app import App
from bot.core.events import User
from bot.core.plan import load_plan
from bot.core.ports import Outgoing, PortError, PostedRef
from bot.core.service import ChatService
from bot.logging_setup import setup_logging
from bot.settings import Settings


class FilePort:
    def __init__(self, worker: str, out: str, args: argparse.Namespace) -> None:
        self.worker = worker
        self.out = out
        self.args = args
        self._count = 0

    def write(self, record: dict[str, Any]) -> None:
        record = {"worker": self.worker, "pid": os.getpid(), "at": time.time(), **record}
        line = json.dumps(record, ensure_ascii=False) + "\n"
        # One write of one line per post: appends from several processes do not interleave.
        fd = os.open(self.out, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)

    def _key(self, message: Outgoing, user: str) -> str:
        if message.kind == "question":
            return f"question:{message.question_id}"
        return f"nudge:{user}" if message.kind == "nudge" else message.kind

    async def _send(self, where: str, message: Outgoing, user: str = "") -> PostedRef:
        key = self._key(message, user)
        if self.args.die_on == key and _first_to_die(self.args.die_marker):
            self.write({"event": "dying", "key": key})
            os.kill(os.getpid(), signal.SIGKILL)
        if self.args.fail_with_secret:
            token = os.environ.get("SLACK_BOT_TOKEN", "")
            raise PortError(f"invalid_auth: token {token} was rejected")
        if self.args.slow_post:
            self.write({"event": "begin", "key": key})
            await asyncio.sleep(self.args.slow_post)
        self._count += 1
        message_id = f"{self.worker}-{self._count}"
        self.write(
            {
                "event": "post",
                "key": key,
                "kind": message.kind,
                "question_id": message.question_id,
                "where": where,
                "text": message.text,
                "message_id": message_id,
                "tag": message.key,
            }
        )
        if self.args.die_after == key and _first_to_die(f"{self.args.die_marker}.after"):
            os.kill(os.getpid(), signal.SIGKILL)
        return PostedRef(where, message_id)

    async def member_count(self, channel: str) -> int | None:
        return None

    async def find_post(
        self,
        channel: str,
        key: str,
        *,
        thread_id: str | None = None,
        start_thread: str | None = None,
        since: datetime,
    ) -> PostedRef | None:
        """The file is the platform: a post another (dead) worker made is in it, tagged."""
        try:
            with open(self.out, encoding="utf-8") as lines:
                records = [json.loads(line) for line in lines if line.strip()]
        except FileNotFoundError:
            return None
        for record in records:
            if record.get("event") == "post" and record.get("tag") == key:
                return PostedRef(record["where"], record["message_id"])
        return None

    async def find_dm(self, user: User, key: str, *, since: datetime) -> PostedRef | None:
        return await self.find_post(f"@{user.id}", key, since=since)

    async def post(
        self,
        channel: str,
        message: Outgoing,
        *,
        thread_id: str | None = None,
        start_thread: str | None = None,
    ) -> PostedRef:
        user = message.mention.id if message.mention else ""
        return await self._send(channel, message, user)

    async def send_dm(self, user: User, message: Outgoing) -> PostedRef:
        return await self._send(f"@{user.id}", message, user.id)

    async def update(self, ref: PostedRef, message: Outgoing) -> None:
        self.write({"event": "update", "message_id": ref.message_id, "text": message.text})


def _first_to_die(marker: str | None) -> bool:
    if marker is None:
        return True
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    return True


class FileAdapter:
    platform = "console"

    def __init__(self, port: FilePort) -> None:
        self._port = port

    @property
    def port(self) -> FilePort:
        return self._port

    async def start(self, service: ChatService) -> None:
        self._port.write({"event": "started"})

    async def stop(self) -> None:
        self._port.write({"event": "stopping"})


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", required=True)
    parser.add_argument("--plan", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--name", default=f"w{os.getpid()}")
    parser.add_argument("--lease", type=float, default=15.0, help="claim lease, seconds")
    parser.add_argument("--health-port", type=int)
    parser.add_argument("--die-on")
    parser.add_argument("--die-marker")
    parser.add_argument("--die-after")
    parser.add_argument("--slow-post", type=float, default=0.0)
    parser.add_argument("--fail-with-secret", action="store_true")
    return parser


async def main(argv: list[str]) -> int:
    args = _parser().parse_args(argv)
    settings = Settings(database_url=args.db)
    # Exactly what `chathost run` does (bot.runner.run_app) before starting the App.
    setup_logging(settings.log_level, as_json=settings.log_json, secrets=settings.secret_values())
    port = FilePort(args.name, args.out, args)
    app = App(
        settings,
        load_plan(args.plan),
        {"console": FileAdapter(port)},
        worker_id=args.name,
        claim_lease=timedelta(seconds=args.lease),
        health_port=args.health_port,
    )
    await app.run_forever()
    port.write({"event": "exited", "now": datetime.now(UTC).isoformat()})
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
