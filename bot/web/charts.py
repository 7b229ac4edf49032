"""The trend chart of a chat across its runs, drawn with Pillow (no plotting library needed).

Two panels sharing the x axis: participants per run (returning below, new on top) and
messages per run. Labels are thinned out so a chat with a hundred runs stays legible.
An async chat's run page has its own: answers per day of the days it ran.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date
from zoneinfo import ZoneInfo

from bot.core.recap import Recap, RunTrend
from bot.export.images import font, pillow_available, png_bytes

INK = "#1f2933"
MUTED = "#616e7c"
GRID = "#e4e7eb"
RETURNING = "#0f766e"
NEW = "#5eead4"
MESSAGES = "#6366f1"


def _nice_max(value: int) -> int:
    """A round, even top for an axis, so the middle grid line is a whole number too:
    3 -> 4, 14 -> 20, 230 -> 400."""
    magnitude = 1
    while True:
        for k in (2, 4, 6, 8, 10):
            if value <= k * magnitude:
                return k * magnitude
        magnitude *= 10


def trends_png(points: Sequence[RunTrend], zone: ZoneInfo, *, width: int = 900) -> bytes | None:
    """The chart as PNG; None without runs or without Pillow."""
    if not points or not pillow_available():
        return None
    from PIL import Image, ImageDraw

    height = 400
    image = Image.new("RGB", (width, height), "#ffffff")
    draw = ImageDraw.Draw(image)
    left, right = 56, width - 20
    panels = ((40, 210, "Participants per run"), (262, 350, "Messages per run"))
    _legend(draw, right)
    slot = (right - left) / len(points)
    bar = max(2.0, min(48.0, slot * 0.64))
    for top, bottom, title in panels:
        draw.text((left, top - 26), title, font=font(15), fill=INK)
        is_people = title.startswith("Participants")
        values = [p.participants if is_people else p.messages for p in points]
        peak = _nice_max(max(values, default=0) or 1)
        for fraction in (0.0, 0.5, 1.0):
            y = bottom - (bottom - top) * fraction
            draw.line((left, y, right, y), fill=GRID, width=1)
            label = str(round(peak * fraction))
            draw.text((left - 8, y), label, font=font(12), fill=MUTED, anchor="rm")
        for i, point in enumerate(points):
            x0 = left + slot * i + (slot - bar) / 2
            scale = (bottom - top) / peak
            if is_people:
                y_ret = bottom - point.returning * scale
                y_new = y_ret - point.new * scale
                if point.returning:
                    draw.rectangle((x0, y_ret, x0 + bar, bottom), fill=RETURNING)
                if point.new:
                    draw.rectangle((x0, y_new, x0 + bar, y_ret), fill=NEW)
            elif point.messages:
                top_y = bottom - point.messages * scale
                draw.rectangle((x0, top_y, x0 + bar, bottom), fill=MESSAGES)
    every = max(1, round(len(points) / max(1, (right - left) // 70)))
    for i, point in enumerate(points):
        if i % every == 0:
            x = left + slot * i + slot / 2
            label = point.when.astimezone(zone).strftime("%d %b %y")
            draw.text((x, 362), label, font=font(12), fill=MUTED, anchor="mt")
    return png_bytes(image)


def _legend(draw: object, right: int) -> None:
    from PIL import ImageDraw

    assert isinstance(draw, ImageDraw.ImageDraw)
    x = right
    for label, colour in (("new", NEW), ("returning", RETURNING)):
        width = draw.textlength(label, font=font(13))
        x -= width
        draw.text((x, 14), label, font=font(13), fill=INK)
        x -= 18
        draw.rectangle((x, 16, x + 12, 28), fill=colour)
        x -= 14


def answers_per_day(recap: Recap, zone: ZoneInfo) -> list[tuple[date, int]]:
    """Each local day of the run, from its start to its end, with the answers given that
    day (a quiet day shows as zero, not as a gap)."""
    if recap.started_at is None:
        return []
    counts = Counter(
        m.created_at.astimezone(zone).date() for q in recap.questions for m in q.answers
    )
    first = recap.started_at.astimezone(zone).date()
    last = max([(recap.ended_at or recap.started_at).astimezone(zone).date(), *counts])
    return [
        (first.fromordinal(d), counts[first.fromordinal(d)])
        for d in range(first.toordinal(), last.toordinal() + 1)
    ]


def answers_per_day_png(days: Sequence[tuple[date, int]], *, width: int = 720) -> bytes | None:
    """An async chat's answers per day as a bar chart (PNG); None without days or Pillow."""
    if not days or not pillow_available():
        return None
    from PIL import Image, ImageDraw

    height, left, right, top, bottom = 260, 48, width - 20, 44, 210
    image = Image.new("RGB", (width, height), "#ffffff")
    draw = ImageDraw.Draw(image)
    draw.text((left, top - 30), "Answers per day", font=font(15), fill=INK)
    peak = _nice_max(max((n for _, n in days), default=0) or 1)
    for fraction in (0.0, 0.5, 1.0):
        y = bottom - (bottom - top) * fraction
        draw.line((left, y, right, y), fill=GRID, width=1)
        draw.text(
            (left - 8, y), str(round(peak * fraction)), font=font(12), fill=MUTED, anchor="rm"
        )
    slot = (right - left) / len(days)
    bar = max(2.0, min(56.0, slot * 0.64))
    for i, (day, count) in enumerate(days):
        x0 = left + slot * i + (slot - bar) / 2
        if count:
            draw.rectangle(
                (x0, bottom - count * (bottom - top) / peak, x0 + bar, bottom), fill=MESSAGES
            )
        label = day.strftime("%a %d %b")
        draw.text((x0 + bar / 2, bottom + 12), label, font=font(12), fill=MUTED, anchor="mt")
    return png_bytes(image)
