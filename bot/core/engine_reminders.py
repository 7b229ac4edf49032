"""Reminding the people of an async chat who have not answered an open question yet: who is
due (bot/core/reminders.py decides), claiming each reminder so that one process sends it, and
sending it (again, when its sender failed or died) through bot/core/delivery.py.

A reminder is stored as a nudge of the run (the nudges table: a person's ``seq``-th, unique
per run), so it is claimed, leased and delivered exactly as a live chat's nudge, and
``/quietchat`` and ``/forgetme`` cover it too. Each person's time zone is asked of the
platform once per process (Slack tells it; elsewhere the chat's zone stands).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core import wording
from bot.core.delivery import Courier, Destination, ToChannel, ToPerson
from bot.core.engine_context import EngineContext
from bot.core.engine_nudges import NudgeParcel
from bot.core.events import User
from bot.core.plan import Chat
from bot.core.ports import Outgoing, PortError, ZonePort
from bot.core.reminders import Person, Reminded, plan_reminders
from bot.core.store import NudgeRow, RunRow
from bot.core.windows import Window, open_at

log = logging.getLogger("chathost.engine")

QuietUsers = Callable[[str], Awaitable[set[str]]]

# How many of the chat's earlier runs count as "took part before".
EARLIER_RUNS = 3


class Reminders:
    def __init__(self, ctx: EngineContext, courier: Courier, quiet_users: QuietUsers) -> None:
        self.ctx = ctx
        self.courier = courier
        self.quiet_users = quiet_users  # who opted out, read once per tick (the Nudger's)
        # The people of each run's earlier runs: those runs are over, so read once.
        self._earlier: dict[int, dict[str, Person]] = {}
        self._zones: dict[tuple[str, str], ZoneInfo | None] = {}  # (platform, user) -> zone
        # run -> (questions opened, when its next reminder is due) as the last look found
        self._next: dict[int, tuple[int, datetime | None]] = {}
        self._looked: dict[int, frozenset[str]] = {}  # run -> the people the last look saw

    def _only_opened(
        self, run: RunRow, chat: Chat, now: datetime, opened: int, people: list[Person]
    ) -> bool:
        """Since the last look only questions opened (its wake time has not come) and nobody
        new took part: then nobody can be due before the new questions' ``before_close``,
        so their messages and reminders need not be read; the wake time moves to it.
        Answers, reminders claimed elsewhere and opt-outs only take people off the list."""
        settings = chat.reminders
        seen = self._looked.get(run.id or 0)
        if settings is None or opened < 0 or seen is None or opened > run.next_question:
            return False
        if any(p.user_id not in seen for p in people):
            return False
        new = [w for w in open_at(run, chat, now) if w.index >= opened]
        floors = [w.closes - settings.before_close for w in new]
        if any(t <= now for t in floors):
            return False  # a new question's reminders may be due at once
        known = self._next[run.id or 0][1]
        wakes = [*floors, *([known] if known is not None else [])]
        self._next[run.id or 0] = (run.next_question, min(wakes, default=None))
        return True

    async def remind(self, run: RunRow, chat: Chat, now: datetime) -> None:
        """Claim and send the reminders due in a running async chat."""
        settings = chat.reminders
        if settings is None or settings.max_per_person == 0:
            return
        opened, known = self._next.get(run.id or 0, (-1, now))
        waiting = known is None or known > now
        if opened == run.next_question and waiting:
            return  # nothing due before then: people and messages need not be read
        store = self.ctx.store
        people = await self._people(run, chat)
        if waiting and self._only_opened(run, chat, now, opened, people):
            return
        answered = await store.answered(run.id or 0)
        sent = await store.nudges(run.id or 0)
        reminded = _reminded(sent)
        opted_out = await self.quiet_users(chat.platform)
        zones = await self._zones_of(chat, [p for p in people if p.user_id not in opted_out])
        due, later = plan_reminders(
            people,
            windows=open_at(run, chat, now),
            now=now,
            settings=settings,
            answered=answered,
            reminded=reminded,
            opted_out=opted_out,
            zone_of=zones,
            chat_zone=chat.zone,
        )
        # A reminder can come no earlier than ``before_close`` a close: someone who joins
        # later is looked at then at the latest (their quiet hours may differ).
        floor = (w.closes - settings.before_close for w in open_at(run, chat, now))
        soonest = min((t for t in floor if t > now), default=None)
        later = min((t for t in (later, soonest) if t is not None), default=None)
        self._next[run.id or 0] = (run.next_question, later)
        self._looked[run.id or 0] = frozenset(p.user_id for p in people)
        counts = {user: r.count for user, r in reminded.items()}
        for person, window in due:
            if self.ctx.stopping:
                return
            seq = counts.get(person.user_id, 0) + 1
            counts[person.user_id] = seq
            reminder = await store.claim_nudge(
                run.id,
                person.user_id,
                seq,
                window.question_id,
                settings.via,
                now,
                lease_until=now + self.ctx.claim_lease,
            )
            if reminder is not None:
                user = User(person.user_id, person.user_name)
                zone = zones.get(person.user_id, chat.zone)
                await self.send(chat, user, window, zone, reminder)

    def next_time(self, run: RunRow) -> datetime | None:
        """When the run's next reminder could fall due, as the last look worked out."""
        return self._next.get(run.id or 0, (0, None))[1]

    def forget(self, run_id: int) -> None:
        self._next.pop(run_id, None)
        self._looked.pop(run_id, None)
        self._earlier.pop(run_id, None)

    async def retry(self, run: RunRow, chat: Chat, nudge: NudgeRow, now: datetime) -> bool:
        """Send a claimed reminder whose sender failed or died, while its question is open;
        False when its moment has passed."""
        window = next(
            (w for w in open_at(run, chat, now) if w.question_id == nudge.question_id), None
        )
        if window is None:
            return False
        store = self.ctx.store
        taken = await store.lease_nudge(nudge.id or 0, now, now + self.ctx.claim_lease)
        if taken is None:
            return True
        names = {p.user_id: p.user_name for p in await store.participants(run.id or 0)}
        user = User(nudge.user_id, names.get(nudge.user_id, nudge.user_id))
        zones = await self._zones_of(chat, [Person(user.id, user.name)])
        zone = zones.get(user.id, chat.zone)
        await self.send(chat, user, window, zone, taken, recover=True)
        return True

    async def send(
        self,
        chat: Chat,
        user: User,
        window: Window,
        zone: ZoneInfo,
        reminder: NudgeRow,
        *,
        recover: bool = False,
    ) -> None:
        local = window.closes.astimezone(zone)
        text = wording.reminder(
            name=user.name,
            question_id=window.question_id,
            question=window.question.text,
            title=chat.title,
            when=f"{local:%a %d %b %H:%M} {local.tzname()}",
        )
        key = f"{chat.id}/{reminder.run_id}/reminder:{user.id}:{reminder.seq}"
        message = Outgoing(
            "reminder",
            text,
            chat.title,
            chat.tag,
            question_id=window.question_id,
            mention=user,
            key=key,
        )
        via = chat.reminders.via if chat.reminders else "dm"
        where: Destination = ToPerson(user) if via == "dm" else ToChannel(chat.channel)
        parcel = NudgeParcel(
            self.ctx.store,
            reminder,
            message,
            where,
            label=f"the reminder to {user.name}",
            subject=f"the reminder to {user.name}",
        )
        await self.courier.deliver(self.ctx.port(chat), parcel, recover=recover)

    async def _people(self, run: RunRow, chat: Chat) -> list[Person]:
        """Who took part in this run or in the chat's last few runs before it."""
        store = self.ctx.store
        if (run.id or 0) not in self._earlier:
            earlier = [
                r
                for r in await store.runs_for_chat(chat.id)
                if r.started_at is not None and r.scheduled_start < run.scheduled_start
            ][-EARLIER_RUNS:]
            before: dict[str, Person] = {}
            for source in earlier:
                before.update(await self._participants(source, chat))
            self._earlier[run.id or 0] = before
        found = {**self._earlier[run.id or 0], **await self._participants(run, chat)}
        return list(found.values())

    async def _participants(self, run: RunRow, chat: Chat) -> dict[str, Person]:
        found = {}
        for p in await self.ctx.store.participants(run.id or 0):
            host = p.is_host or chat.is_host(p.user_id, p.user_name)
            found[p.user_id] = Person(p.user_id, p.user_name, host)
        return found

    async def _zones_of(self, chat: Chat, people: list[Person]) -> dict[str, ZoneInfo]:
        """Each person's own zone where the platform tells it (asked once per process)."""
        port = self.ctx.port(chat)
        zones: dict[str, ZoneInfo] = {}
        for person in people:
            key = (chat.platform, person.user_id)
            if key not in self._zones:
                self._zones[key] = await _zone_of(port, User(person.user_id, person.user_name))
            zone = self._zones[key]
            if zone is not None:
                zones[person.user_id] = zone
        return zones


async def _zone_of(port: object, user: User) -> ZoneInfo | None:
    if not isinstance(port, ZonePort):
        return None
    try:
        name = await port.user_zone(user)
        return ZoneInfo(name) if name else None
    except (PortError, ZoneInfoNotFoundError, ValueError) as exc:
        log.warning("could not read the time zone of %s: %s", user.id, exc)
        return None


def _reminded(sent: list[NudgeRow]) -> dict[str, Reminded]:
    found: dict[str, Reminded] = {}
    for nudge in sent:
        before = found.get(nudge.user_id, Reminded())
        questions = before.questions | {nudge.question_id or ""}
        found[nudge.user_id] = Reminded(max(before.count, nudge.seq), frozenset(questions))
    return found


def reminding(chat: Chat) -> bool:
    return chat.is_async and chat.reminders is not None and chat.reminders.max_per_person > 0
