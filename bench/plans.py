"""How long ``chathost validate`` takes on a big plan (3,000 chats, about 5 MB).

Run: ``.venv/bin/python -m bench --only plans`` (or ``python -m bench.plans [CHATS]``).

The baseline is libyaml reading the same file with no positions and no checks
(``yaml.load(text, yaml.CSafeLoader)``), measured in the same run and interleaved with ours:
the ratio says what positions and validation cost on top of plain parsing.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import yaml

from bench.common import Row
from bot.core.plan import load_plan

ROOT = Path(__file__).resolve().parents[1]
GOAL_SECONDS = 3.0
PLATFORMS = ("console", "slack", "discord")
THREADS = ("none", "per-question", "per-chat")
DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
NEXT_YEAR = date.today().year + 1  # one-off starts in the future, as `validate` wants


def chat_yaml(i: int, questions: int = 10) -> str:
    """One chat shaped like those of the sample chats.yaml, with every section filled in.
    Half start once, half recur, on 7 x 24 x 2 different rules (a cache of rules must not
    make the figure)."""
    if i % 2:
        day, hour, minute = DAYS[i % 7], (i // 7) % 24, 30 * ((i // 168) % 2)
        rule = f"FREQ=WEEKLY;BYDAY={day};BYHOUR={hour};BYMINUTE={minute}"
        schedule = f"      rrule: {rule}"
    else:
        schedule = f'      start: "{NEXT_YEAR}-12-{1 + i % 28:02d} {i % 24:02d}:30"'
    lines = [
        f"  - id: chat-{i:05d}",
        f'    title: "Chat number {i}: learning out loud, together, every week"',
        f'    tag: "#chat{i}"',
        f"    platform: {PLATFORMS[i % 3]}",
        f"    channel: channel-{i}",
        f"    threads: {THREADS[i % 3]}",
        f'    hosts: [kate{i}, marco, "role:Hosts {i}"]',
        "    cohosts: [ana, bob]",
        "    timezone: Europe/London" if i % 4 else "    timezone: America/New_York",
        "    schedule:",
        schedule,
        "      duration: 1h40m",
        "    announce: [1d, 2h, 15m]",
        "    intro: >-",
        "      Welcome to the chat! Tonight: how we learn in public. Questions come as Q1, Q2...",
        "      Answer with A1, A2... (or in a question's thread). Say hi and where you're from!",
        "    outro: Thank you all! The recap follows in a moment. Same time next week.",
        "    questions:",
        *(
            f'      - {{id: Q{q + 1}, at: {5 + 9 * q}m, text: "Question {q + 1} of chat {i}: '
            f'what did you learn this week that surprised you?"}}'
            for q in range(questions)
        ),
        "    nudges: {after: 12m, max_per_person: 1, via: dm}",
        "    summary: {highlights: 3, post_to: channel, late_window: 30m}",
    ]
    return "\n".join(lines) + "\n"


def plan_yaml(chats: int) -> str:
    return "timezone: Europe/London\nchats:\n" + "".join(chat_yaml(i) for i in range(chats))


def seconds(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def cold_load_plan(path: Path) -> tuple[float, float]:
    """(load_plan s, of which reading the YAML with positions s) in a fresh process, as
    `chathost validate` runs: the loader's caches of durations and rules start empty (imports
    are not timed). load_plan's two steps are timed one after the other."""
    script = (
        "import sys, time\n"
        "from bot.core.plan import Plan, _PlanValidator\n"
        "from bot.core.yaml_positions import read_positioned\n"
        "started = time.perf_counter()\n"
        "doc, name = read_positioned(sys.argv[1])\n"
        "read = time.perf_counter()\n"
        "_PlanValidator(doc, name, Plan).run()\n"
        "print(time.perf_counter() - started, read - started)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(path)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    total, read = done.stdout.split()
    return float(total), float(read)


def measure(chats: int, repeats: int, folder: Path) -> tuple[float, float, float, int]:
    """Medians of (load_plan s, its YAML part s, baseline s) and the file's bytes; each repeat
    reads the file from disk, as `chathost validate` does."""
    path = folder / "big-chats.yaml"
    text = plan_yaml(chats)
    path.write_text(text, encoding="utf-8")
    assert len(load_plan(path).chats) == chats, "the generated plan must be valid"
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    ours, parsed, base = [], [], []
    for _ in range(repeats):  # interleaved, so both see the same machine
        total, read = cold_load_plan(path)
        ours.append(total)
        parsed.append(read)
        base.append(seconds(lambda: yaml.load(path.read_text(encoding="utf-8"), loader)))
    return (
        statistics.median(ours),
        statistics.median(parsed),
        statistics.median(base),
        len(text.encode()),
    )


def rows(chats: int, repeats: int, folder: Path) -> list[Row]:
    ours, parsed, base, size = measure(chats, repeats, folder)
    return [
        Row(
            "6 plans",
            f"{chats:,}-chat plan ({size / 1e6:.1f} MB): load_plan s (median of {repeats})",
            f"{ours:.2f}",
            f"{base:.2f} (yaml.load, libyaml)",
            f"{ours / base:.2f}",
            f"< {GOAL_SECONDS:g} s",
            ours < GOAL_SECONDS,
        ),
        Row(
            "6 plans",
            "  of which YAML with positions s; the rest (validation) s",
            f"{parsed:.2f}; {ours - parsed:.2f}",
        ),
    ]


def main() -> None:
    chats = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    with tempfile.TemporaryDirectory() as folder:
        for row in rows(chats, 3, Path(folder)):
            print(f"{row.figure}: {row.result}  baseline {row.baseline}  ratio {row.ratio}")


if __name__ == "__main__":
    main()
