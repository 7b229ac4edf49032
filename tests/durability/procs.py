"""Real worker processes for the tests: started with tests/durability/worker.py, watched
through their JSON-lines output, and always reaped (killed if need be) when the test ends."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def plan_yaml(
    start: datetime, questions: list[tuple[str, int]], duration: int, **extra: str
) -> str:
    """A one-chat plan on the fake platform starting at ``start`` (UTC), times in seconds."""
    lines = [
        "timezone: UTC",
        "chats:",
        "  - id: proc",
        "    title: Process Chat",
        "    platform: console",
        "    channel: proc",
        "    hosts: [kate]",
        f'    schedule: {{start: "{start:%Y-%m-%d %H:%M:%S}", duration: {duration}s}}',
        "    intro: Welcome!",
        "    outro: Thanks all!",
        "    questions:",
        *(f'      - {{id: {qid}, at: {at}s, text: "Question {qid}?"}}' for qid, at in questions),
    ]
    lines += [f"    {key}: {value}" for key, value in extra.items()]
    return "\n".join(lines) + "\n"


def start_in(seconds: float) -> datetime:
    """A whole second at least ``seconds`` from now (plans have second precision)."""
    moment = datetime.now(UTC) + timedelta(seconds=seconds)
    return moment.replace(microsecond=0) + timedelta(seconds=1)


class Worker:
    def __init__(self, name: str, args: list[str], folder: Path, env: dict[str, str]) -> None:
        self.name = name
        self.log = folder / f"{name}.log"
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tests.durability.worker", "--name", name, *args],
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C on the test run must not reach it first
            )

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def signal(self, sig: int) -> None:
        if self.alive():
            os.kill(self.pid, sig)

    def wait(self, timeout: float) -> int:
        return self.process.wait(timeout=timeout)

    def output(self) -> str:
        return self.log.read_text(errors="replace")


class Workers:
    """Starts workers; the fixture kills and reaps whatever is still running at the end."""

    def __init__(self, folder: Path, common: list[str], env: dict[str, str] | None = None):
        self.folder = folder
        self.common = common
        self.env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
        self.all: list[Worker] = []

    def start(self, name: str, *extra: str) -> Worker:
        worker = Worker(name, [*self.common, *extra], self.folder, self.env)
        self.all.append(worker)
        return worker

    def reap(self) -> None:
        for worker in self.all:
            if worker.alive():
                worker.signal(signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                worker.wait(timeout=10)


def read_lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def posts(path: Path) -> list[dict[str, Any]]:
    return [r for r in read_lines(path) if r.get("event") == "post"]


async def wait_until(condition: Callable[[], object], timeout: float, what: str) -> Any:
    """Poll ``condition`` until it returns something truthy; fail with ``what`` on timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        await asyncio.sleep(0.05)
