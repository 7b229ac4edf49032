"""Pictures posted with a recap: the word cloud of the chat's themes."""

from __future__ import annotations

from bot.core.ports import Attachment
from bot.core.recap import Recap
from bot.export.images import wordcloud_png

WORDCLOUD_FILE = "wordcloud.png"


def recap_pictures(recap: Recap) -> list[Attachment]:
    """The engine's ``illustrate``: nothing when there are no words (or no Pillow)."""
    png = wordcloud_png(recap.word_weights)
    if png is None:
        return []
    return [Attachment(WORDCLOUD_FILE, png, f"What {recap.title} talked about")]
