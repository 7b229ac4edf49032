"""``chathost export`` and the archive's downloads: one stored run in md, html, json or csv,
or as a plan entry (``plan``: a chats.yaml entry to hold the chat again as it went)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.bulk import collector_paused
from bot.core.snapshot import StoredRun
from bot.export import FORMATS
from bot.export.csv_export import run_csv
from bot.export.json_export import run_json, run_json_bytes
from bot.export.markdown import recap_markdown
from bot.export.plan_export import run_plan

MEDIA_TYPES = {
    "md": "text/markdown; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "plan": "application/yaml; charset=utf-8",
}
LABELS = {
    "md": "Markdown",
    "html": "HTML page",
    "json": "JSON data",
    "csv": "CSV (spreadsheet)",
    "plan": "Plan entry (chats.yaml)",
}
# A file name's ending, where it is not the format's name.
EXTENSIONS = {"plan": "yaml"}


@dataclass(frozen=True)
class Export:
    content: bytes
    media_type: str
    filename: str


def export_filename(stored: StoredRun, fmt: str) -> str:
    """``tuesday-tea-2026-11-24-run1.md``: sorts by date, says which chat and run."""
    when = stored.view.started_at or stored.view.scheduled_start
    ending = EXTENSIONS.get(fmt, fmt)
    return f"{stored.chat.id}-{when:%Y-%m-%d}-run{stored.view.run_id}.{ending}"


def render_text(stored: StoredRun, fmt: str) -> str:
    if fmt == "md":
        return recap_markdown(stored.recap)
    if fmt == "json":
        return run_json(stored.chat, stored.view, stored.recap, stored.times)
    if fmt == "csv":
        return run_csv(stored.view, stored.times)
    if fmt == "plan":
        return run_plan(stored.chat, stored.view)
    if fmt == "html":
        from bot.export.html_export import run_html  # Jinja2 and Pillow only when needed

        return run_html(stored)
    raise ValueError(f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")


def render(stored: StoredRun, fmt: str) -> Export:
    """The export as bytes; CSV starts with a byte-order mark so Excel reads it as UTF-8.
    JSON is encoded to bytes as it is written, not decoded to text and encoded back."""
    with collector_paused():
        if fmt == "json":
            content = run_json_bytes(stored.chat, stored.view, stored.recap, stored.times)
        else:
            content = render_text(stored, fmt).encode("utf-8-sig" if fmt == "csv" else "utf-8")
    return Export(content, MEDIA_TYPES[fmt], export_filename(stored, fmt))
