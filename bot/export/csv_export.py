"""CSV: one row per message, for spreadsheets. Deleted messages are not in the store's reads."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping

from bot.core.recap import MessageView, RunView, iso_times

COLUMNS = (
    "time", "user", "question", "text", "reactions", "edited", "thread",
    "kind", "user_id", "message_id", "reply_to", "highlighted",
)
# A cell starting with one of these runs as a formula in Excel and LibreOffice (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(text: str) -> str:
    """User text that a spreadsheet shows as text: a leading formula character gets a quote."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def reactions_cell(message: MessageView) -> str:
    """``+1=3; star=1``: each emoji with the number of people who used it."""
    return "; ".join(f"{emoji}={len(users)}" for emoji, users in message.reactions.items())


def _row(message: MessageView, times: Mapping[int, str]) -> tuple[str, ...]:
    """The cells of one message, in the order of COLUMNS (a tuple: a run can have 50,000).
    Every cell goes through the formula guard: reactions (``+1=2``, an emoji named
    ``=cmd()``) and platform ids (negative chat ids) can start like formulas too."""
    cells = (
        times[message.id],
        message.user_name,
        message.question_id or "",
        message.text,
        reactions_cell(message) if message.reactions else "",
        "yes" if message.edited else "no",
        message.thread_id or "",
        message.kind,
        message.user_id,
        message.message_id,
        message.reply_to or "",
        "yes" if message.highlighted else "no",
    )
    return tuple(safe_cell(cell) for cell in cells)


def run_csv(view: RunView, times: Mapping[int, str] | None = None) -> str:
    """Every stored message of the run in time order, with a header row; ``times`` are the
    messages' ISO times (``iso_times``) if another export has them already."""
    times = iso_times(view.messages) if times is None else times
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    ordered = sorted(view.messages, key=lambda m: (m.created_at, m.id))
    writer.writerows([_row(message, times) for message in ordered])
    return out.getvalue()
