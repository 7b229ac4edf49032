"""What an async chat's daily digest says: at ``digest.at`` in the chat's zone, per question
the new answers since the last digest with the most reacted one quoted, and who joined.

A digest covers the time since the digest claimed before it (or the start) up to its own
time, so a retry says the same, and a day without new answers, which gets none, leaves
nothing out of the next. The engine's part (claiming each day's) is bot/core/engine_async.py.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.core import wording
from bot.core.plan import Chat
from bot.core.store import PostRow, RunRow, Store
from bot.core.store.messages import MessageRecord

DIGEST_KIND = "digest"
QUOTE_LIMIT = 140  # characters of the quoted answer


def digest_key(day: date) -> str:
    return f"{DIGEST_KIND}:{day.isoformat()}"


def digest_times(run: RunRow, chat: Chat) -> list[datetime]:
    """Each day's digest time in a started async run, after its start and by its end."""
    if chat.digest is None or run.started_at is None:
        return []
    zone = chat.zone
    local_day = run.started_at.astimezone(zone).date()
    times = []
    while True:
        local = datetime.combine(local_day, chat.digest.time, tzinfo=zone)
        at = local.astimezone(run.started_at.tzinfo)
        if at > run.end_at:
            return times
        if at > run.started_at:
            times.append(at)
        local_day += timedelta(days=1)


@dataclass(frozen=True)
class DigestView:
    """What one digest says: per question the new answers and the most reacted one, and who
    said something for the first time."""

    counts: dict[str, int]
    top: dict[str, MessageRecord]
    joined: list[str]

    @property
    def empty(self) -> bool:
        return not self.counts


def digest_view(
    records: list[MessageRecord], reactions: Counter[int], since: datetime, until: datetime
) -> DigestView:
    first_seen: dict[str, datetime] = {}
    for r in records:
        first_seen.setdefault(r.user_id, r.created_at)
    new = [
        r
        for r in records
        if since < r.created_at <= until and r.kind == "answer" and r.question_id is not None
    ]
    counts = Counter(r.question_id or "" for r in new)
    top: dict[str, MessageRecord] = {}
    for r in new:
        best = top.get(r.question_id or "")
        if best is None or reactions[r.id] > reactions[best.id]:
            top[r.question_id or ""] = r
    top = {q: r for q, r in top.items() if reactions[r.id] > 0}
    names = {r.user_id: r.user_name for r in new}
    joined = [names[u] for u, at in first_seen.items() if since < at <= until and u in names]
    return DigestView(dict(sorted(counts.items(), key=lambda kv: _order(kv[0]))), top, joined)


def _order(question_id: str) -> tuple[str, int]:
    return question_id[:1], int(question_id[1:] or 0)


def digest_text(chat: Chat, view: DigestView) -> str:
    lines = [wording.DIGEST_HEAD.format(title=chat.title)]
    for question_id, count in view.counts.items():
        line = wording.DIGEST_QUESTION.format(
            question_id=question_id, answers=wording.counted(count, "answer", "answers")
        )
        best = view.top.get(question_id)
        if best is not None:
            quoted = (
                best.text if len(best.text) <= QUOTE_LIMIT else best.text[: QUOTE_LIMIT - 1] + "…"
            )
            line += wording.DIGEST_TOP.format(name=best.user_name, text=quoted)
        lines.append(line)
    if view.joined:
        lines.append(wording.DIGEST_JOINED.format(names=", ".join(view.joined)))
    return "\n".join(lines)


async def read_digest(
    store: Store, run: RunRow, until: datetime, *, posts: list[PostRow] | None = None
) -> DigestView:
    """The digest due at ``until``: since the last digest claimed before it, or the start.
    ``posts``: the run's posts as the caller just read them."""
    if posts is None:
        posts = await store.posts(run.id or 0)
    since = max(
        (p.claimed_at for p in posts if p.kind == DIGEST_KIND and p.claimed_at < until),
        default=run.started_at or until,
    )
    records = await store.message_records(run.id or 0)
    reactions = Counter(r.message_id for r in await store.reactions_for_run(run.id or 0))
    return digest_view(records, reactions, since, until)
