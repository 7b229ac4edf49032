"""Read a stored run into the plain views the recap, exports and archive work from."""

from __future__ import annotations

from collections import defaultdict

from bot.core.plan import Chat
from bot.core.recap import MessageView, QuestionView, RunView
from bot.core.store import MessageRow, ReactionRow, RunRow, Store


class RunNotFound(LookupError):
    """No run with that id (or no run at all for ``latest``)."""


async def load_run_view(store: Store, run_id: int) -> RunView:
    run = await store.get_run(run_id)
    if run is None:
        raise RunNotFound(f"no run {run_id}")
    chat = Chat.model_validate_json(run.plan_json)
    messages = await store.run_messages(run_id)
    reactions = await store.reactions_for_run(run_id)
    posts = {p.question_id: p for p in await store.posts(run_id) if p.kind == "question"}
    questions = [
        QuestionView(
            id=q.id,
            text=q.text,
            posted_at=posts[q.id].posted_at or posts[q.id].claimed_at if q.id in posts else None,
            skipped=posts[q.id].skipped if q.id in posts else False,
        )
        for q in chat.questions
    ]
    earlier = await _earlier_participants(store, run)
    hosts = frozenset(m.user_id for m in messages if m.kind == "host") | frozenset(
        h.lower() for h in (*chat.hosts, *chat.cohosts)
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
        messages=_views(messages, reactions),
        host_ids=hosts,
        earlier_participants=earlier,
        highlights_per_question=chat.summary.highlights,
    )


def _views(messages: list[MessageRow], reactions: list[ReactionRow]) -> list[MessageView]:
    by_message: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for reaction in reactions:
        by_message[reaction.message_id][reaction.emoji].append(reaction.user_id)
    return [
        MessageView(
            id=m.id or 0,
            message_id=m.platform_message_id,
            user_id=m.user_id,
            user_name=m.user_name,
            text=m.text,
            created_at=m.created_at,
            kind=m.kind,
            question_id=m.question_id,
            reason=m.reason,
            thread_id=m.thread_id,
            reply_to=m.reply_to,
            edited=m.edit_count > 0,
            reactions={e: tuple(u) for e, u in by_message.get(m.id or 0, {}).items()},
        )
        for m in messages
    ]


async def _earlier_participants(store: Store, run: RunRow) -> frozenset[str]:
    earlier: set[str] = set()
    for other in await store.runs_for_chat(run.chat_id):
        if other.scheduled_start < run.scheduled_start:
            earlier |= {p.user_id for p in await store.participants(other.id or 0)}
    return frozenset(earlier)
