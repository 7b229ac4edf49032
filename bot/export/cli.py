"""``chathost export``: open the store, find the run, render one format."""

from __future__ import annotations

from bot.core.snapshot import find_run_id, load_stored_run
from bot.core.store import open_store
from bot.export.formats import Export, render


async def export_run(db_url: str, ref: str, fmt: str, public_url: str | None = None) -> Export:
    """The export of run ``ref`` (an id or ``latest``); raises RunNotFound."""
    store = await open_store(db_url, create=False)
    try:
        run_id = await find_run_id(store, ref)
        return render(await load_stored_run(store, run_id, public_url=public_url), fmt)
    finally:
        await store.close()
