"""One self-contained HTML file per run: styles inline, the word cloud as a data: URI.

It opens from a disk or an e-mail attachment with no server and no network.
"""

from __future__ import annotations

from functools import lru_cache

from jinja2 import Environment

from bot.core.snapshot import StoredRun
from bot.export.images import data_uri, wordcloud_png
from bot.export.templating import environment


@lru_cache(maxsize=1)
def _env() -> Environment:
    return environment()


def run_html(stored: StoredRun, *, cloud_png: bytes | None = None) -> str:
    """The recap page as one file; ``cloud_png`` reuses a word cloud already drawn."""
    png = cloud_png if cloud_png is not None else wordcloud_png(stored.recap.word_weights)
    return _env().get_template("standalone.html").render(
        recap=stored.recap,
        chat=stored.chat,
        zone=stored.chat.zone,
        times=stored.times,
        cloud_src=data_uri(png) if png else None,
        downloads=[],
        standalone=True,
    )
