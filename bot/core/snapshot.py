"""Read a stored run into the plain views the recap, exports and archive work from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from bot.core.bulk import collector_paused
from bot.core.digest import DIGEST_KIND
from bot.core.errors import UserError
from bot.core.plan import Chat
from bot.core.recap import (
    NO_REACTIONS,
    MessageView,
    QuestionView,
    Recap,
    RunView,
    build_recap,
    iso_times,
)
from bot.core.store import PostRow, RunRow, Store
from bot.core.store.database import MessageRecord, PickRecord, ReactionRecord
from bot.core.windows import closed_times


class RunNotFound(UserError, LookupError):
    """No run with that id (or no run at all for ``latest``)."""


@dataclass(frozen=True)
class StoredRun:
    """A run as the exports and the archive need it: its plan, its view and its recap."""

    chat: Chat
    view: RunView
    recap: Recap

    @cached_property
    def times(self) -> dict[int, str]:
        """Each message's time in ISO 8601, by id: worked out once for all the exports that
        show it (JSON, CSV and HTML), as it is ~1 µs a message and a big run has 50,000."""
        return iso_times(self.view.messages)


async def find_run_id(store: Store, ref: str | int) -> int:
    """A run id from what a person typed: a number, or ``latest`` (the last started run)."""
    if isinstance(ref, int) or str(ref).strip().isdigit():
        run_id = int(ref)
        if await store.get_run(run_id) is None:
            raise RunNotFound(f"no run {run_id}")
        return run_id
    if str(ref).strip().lower() != "latest":
        raise RunNotFound(f"{ref!r} is not a run id; use a number or 'latest'")
    run = await store.latest_run()
    if run is None or run.id is None:
        raise RunNotFound("no run has started yet")
    return run.id


async def load_stored_run(store: Store, run_id: int, *, public_url: str | None = None) -> StoredRun:
    """A run read back and summarised, with the cycle collector held off throughout (see
    ``collector_paused``): a big run is 50,000 messages read and as many views built."""
    with collector_paused():
        run = await store.get_run(run_id)
        if run is None:
            raise RunNotFound(f"no run {run_id}")
        view = await load_run_view(store, run_id, run=run)
        chat = Chat.model_validate_json(run.plan_json)
        return StoredRun(chat, view, build_recap(view, public_url=public_url))


async def load_run_view(store: Store, run_id: int, *, run: RunRow | None = None) -> RunView:
    """A run's plain view; read with the cycle collector held off (see ``collector_paused``)."""
    with collector_paused():
        return await _read_run_view(store, run_id, run)


def _asked_at(post: PostRow | None) -> datetime | None:
    """When people could first see the question: its post, or its claim while it is on its
    way (a recap read mid-delivery); never for a post that gave up and so never went out."""
    if post is None or post.gave_up:
        return post.posted_at if post is not None else None
    return post.posted_at or post.claimed_at


def _not_asked(post: PostRow | None) -> bool:
    """Skipped by a host, or given up after every try: either way nobody saw it."""
    return post is not None and (post.skipped or (post.gave_up and post.posted_at is None))


async def _read_run_view(store: Store, run_id: int, run: RunRow | None) -> RunView:
    run = run or await store.get_run(run_id)
    if run is None:
        raise RunNotFound(f"no run {run_id}")
    chat = Chat.model_validate_json(run.plan_json)
    messages = await store.message_records(run_id)
    reactions = await store.reaction_records(run_id)
    picks = await store.pick_records(run_id)
    all_posts = await store.posts(run_id)
    posts = {p.question_id: p for p in all_posts if p.kind == "question"}
    closes = closed_times(run, chat, all_posts)
    questions = [
        QuestionView(
            id=q.id,
            text=q.text,
            posted_at=_asked_at(posts.get(q.id)),
            skipped=_not_asked(posts.get(q.id)),
            closed_at=closes.get(q.id),
        )
        for q in chat.questions
    ]
    sent = sum(1 for n in await store.nudges(run_id) if n.delivered_at is not None)
    digests = sum(1 for p in all_posts if p.kind == DIGEST_KIND and p.posted_at is not None)
    earlier = await _earlier_participants(store, run)
    # Hosts as the platform names them: reactions carry platform user ids, while the plan may
    # list names, so a host's star counts even if that host never wrote a message.
    # Those who picked an answer with /highlight are hosts too.
    reactors = {(r.user_id, r.user_name) for r in (*reactions, *picks)}  # few people
    hosts = frozenset(
        [m.user_id for m in messages if m.kind == "host"]
        + [user for user, name in reactors if chat.is_host(user, name)]
        + [h.lower() for h in (*chat.hosts, *chat.cohosts)]
    )
    return RunView(
        run_id=run_id,
        chat_id=chat.id,
        title=chat.title,
        tag=chat.tag,
        state=run.state,
        scheduled_start=run.scheduled_start,
        started_at=run.started_at,
        ended_at=run.ended_at,
        questions=questions,
        messages=_views(messages, reactions, picks),
        host_ids=hosts,
        earlier_participants=earlier,
        highlights_per_question=chat.summary.highlights,
        language=chat.language,
        # Channel members when the chat ran: read once the runs table has a ``reach`` column.
        reach=getattr(run, "reach", None),
        interested=run.interested,
        nudges=0 if chat.is_async else sent,
        reminders=sent if chat.is_async else 0,
        digests=digests,
    )


def _views(
    messages: list[MessageRecord], reactions: list[ReactionRecord], picks: list[PickRecord]
) -> list[MessageView]:
    """Message views with their reactions and whether a host picked them. A big run has
    50,000 messages and few of them reactions, so reactions are grouped once and a message
    without any shares the one empty mapping. Each view is made from its record's fields in
    order (the first eleven are the view's), positionally: 14 keyword arguments per message
    cost more than the tuple."""
    grouped: dict[int, dict[str, list[str]]] = {}
    for message_id, user_id, _, emoji in reactions:
        grouped.setdefault(message_id, {}).setdefault(emoji, []).append(user_id)
    marked = {pick.message_id for pick in picks}
    by_message = {
        message_id: {emoji: tuple(users) for emoji, users in emojis.items()}
        for message_id, emojis in grouped.items()
    }
    get = by_message.get
    make = MessageView._make
    return [
        make((*m[:11], m.edit_count > 0, get(m.id, NO_REACTIONS), m.id in marked))
        for m in messages
    ]


async def _earlier_participants(store: Store, run: RunRow) -> frozenset[str]:
    """Everyone with a (non-deleted) message in an earlier run of the same chat."""
    earlier = [
        other.id
        for other in await store.runs_for_chat(run.chat_id)
        if other.scheduled_start < run.scheduled_start and other.id is not None
    ]
    return frozenset(user for _, user, _, _ in await store.message_authors(earlier))
