"""Images drawn with Pillow: the word cloud and fonts. Optional: without Pillow, no images.

Kept out of ``bot.core`` so the core never needs Pillow.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Sequence
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PIL.ImageFont import FreeTypeFont

# Bold sans fonts with wide coverage (Latin, Greek, Cyrillic, Hebrew, Arabic) on Debian,
# macOS and other Linux distributions; Pillow's bundled font is the fallback.
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/TTF/DejaVuSans-Bold.ttf",
    "/Library/Fonts/Arial Unicode.ttf",
)
PALETTE = ("#0f766e", "#4338ca", "#b45309", "#be185d", "#0369a1", "#4d7c0f", "#7c3aed")


def pillow_available() -> bool:
    try:
        import PIL.ImageDraw  # noqa: F401
    except ImportError:
        return False
    return True


@lru_cache(maxsize=64)
def font(size: int) -> FreeTypeFont:
    from PIL import ImageFont

    for path in FONT_CANDIDATES:
        if Path(path).exists():
            return ImageFont.truetype(path, size)
    return ImageFont.load_default(size=size)  # Pillow >= 10.1 ships a scalable font


def data_uri(png: bytes) -> str:
    """A PNG inlined for a self-contained HTML file."""
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def png_bytes(image: Any, colors: int = 64) -> bytes:
    """PNG with an adaptive palette: flat colours on white need few, and it keeps the HTML
    export (which inlines the image) small.

    The palette by fast octree and zlib's default level: the median cut and ``optimize``
    (level 9) took 0.07 s of the benchmark's word cloud, these 0.007 s, for a file 13%
    larger (26 KB instead of 23 KB) that looks the same."""
    from PIL import Image

    buffer = BytesIO()
    image.quantize(colors=colors, method=Image.Quantize.FASTOCTREE).save(buffer, format="PNG")
    return buffer.getvalue()


def wordcloud_png(
    weights: Sequence[tuple[str, int]],
    *,
    width: int = 900,
    height: int = 420,
    max_words: int = 60,
    background: str = "#ffffff",
) -> bytes | None:
    """A word cloud: the most used words biggest, laid out on a spiral from the centre.

    Deterministic (same words, same picture), so exports are reproducible. None when there
    are no words or Pillow is not installed.
    """
    words = [(w, n) for w, n in weights if n > 0][:max_words]
    if not words or not pillow_available():
        return None
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (width, height), background)
    draw = ImageDraw.Draw(image)
    # The mask holds what is drawn, thickened by the stroke: a free spot is an empty crop.
    mask = Image.new("L", (width, height), 0)
    mask_draw = ImageDraw.Draw(mask)
    inked = _InkedCells(mask)
    top = max(n for _, n in words)
    low = min(n for _, n in words)
    biggest = max(18, min(height // 4, int(width / max(4, len(words[0][0])) * 1.4)))
    for rank, (word, uses) in enumerate(words):
        share = 1.0 if top == low else (math.sqrt(uses) - math.sqrt(low)) / (
            math.sqrt(top) - math.sqrt(low)
        )
        size = int(14 + (biggest - 14) * share)
        while size >= 11:
            spot = _place(mask, inked, font(size), word, width, height)
            if spot is not None:
                draw.text(spot, word, font=font(size), fill=PALETTE[rank % len(PALETTE)])
                mask_draw.text(
                    spot, word, font=font(size), fill=255, stroke_width=3, stroke_fill=255
                )
                inked = _InkedCells(mask)
                break
            size = int(size * 0.8)
    return png_bytes(_trim(image, mask))


def _trim(image: Any, mask: Any, margin: int = 16) -> Any:
    """Cut the empty border: a chat with few words should not float in white space."""
    box = mask.getbbox()
    if box is None:
        return image
    left, top, right, bottom = box
    return image.crop(
        (
            max(0, left - margin),
            max(0, top - margin),
            min(image.width, right + margin),
            min(image.height, bottom + margin),
        )
    )


class _InkedCells:
    """The mask in cells of ``SIZE`` x ``SIZE`` pixels, a cell marked when any of its pixels
    holds ink. A spot that wholly covers a marked cell is taken, which a few byte slices
    tell; cropping the mask to look (the exact test) costs far more, and most spots on the
    spiral are taken. So the spots tried and the one chosen are exactly those of the crop
    test alone: the picture does not change, it is drawn sooner (the benchmark's cloud in
    0.15 s instead of 0.21 s; the crops, 21,000 of them, were most of the difference)."""

    SIZE = 4

    def __init__(self, mask: Any) -> None:
        # Any ink -> 255, then the mean of each cell: at least 255/16, never 0.
        cells = mask.point(lambda value: 255 if value else 0).reduce(self.SIZE)
        data, width = cells.tobytes(), cells.width
        self.rows = [data[i : i + width] for i in range(0, len(data), width)]

    def covers_ink(self, x: int, y: int, w: int, h: int) -> bool:
        """True when the spot (x, y, w, h) wholly covers a marked cell (so it holds ink)."""
        size = self.SIZE
        first, end = -(-x // size), (x + w) // size  # the columns of cells wholly inside
        if first >= end:
            return False
        clear = end - first
        rows = self.rows[-(-y // size) : (y + h) // size]
        return any(row[first:end].count(0) != clear for row in rows)


def _place(
    mask: Any, inked: _InkedCells, face: FreeTypeFont, word: str, width: int, height: int
) -> tuple[int, int] | None:
    """The first free spot on a spiral from the centre, as a text origin; None if full."""
    left, top, right, bottom = face.getbbox(word)
    w, h = right - left, bottom - top
    if w >= width or h >= height:
        return None
    cx, cy = (width - w) / 2, (height - h) / 2
    for dx, dy in _spiral(width, height):
        x, y = int(cx + dx), int(cy + dy)
        if 0 <= x <= width - w and 0 <= y <= height - h:
            if inked.covers_ink(x, y, w, h):
                pass  # taken, as the crop below would say
            elif mask.crop((x, y, x + w, y + h)).getbbox() is None:
                return x - left, y - top
        elif abs(x - cx) > width and abs(y - cy) > height:
            return None
    return None


@lru_cache(maxsize=8)
def _spiral(width: int, height: int) -> tuple[tuple[float, float], ...]:
    """The steps of ``_place``'s spiral from the centre, stretched to the picture's shape.

    The same for every word of a picture (and every picture of its size), so worked out
    once: the cosines and sines were a third of the time of placing the words.
    """
    aspect = width / height
    steps = []
    t = 0.0
    while t < 200:
        steps.append((aspect * 2.2 * t * math.cos(t), 2.2 * t * math.sin(t)))
        t += 0.35 if t < 20 else 0.2
    return tuple(steps)
