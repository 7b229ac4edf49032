"""Delivering one claimed message, a run's post or a nudge, written once for both.

Whoever claimed a message holds its delivery lease and renews it while the platform call is
in flight, so a slow, rate-limited send is not taken over by another process; a dead process
stops renewing, and whoever ticks next takes the message over once the lease runs out.
A retry may follow an attempt that landed without being recorded (its sender died, or the
platform's answer was lost), so the platform is asked for the message first; if it cannot
be asked, the message goes out anyway: twice is better than never. Recording outlasts a
database restart. A failure backs off, doubling, until the message's attempts are spent or
the error is permanent; then the message gives up in its own way (a post tells the hosts).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from bot.core import wording
from bot.core.clock import Clock
from bot.core.events import User
from bot.core.ports import Outgoing, Port, PortError, PostedRef
from bot.core.store import RetryPolicy, retry_transient

log = logging.getLogger("chathost.engine")

# A post that fails is retried with growing pauses (5 s doubling, at most RETRY_CAP apart),
# then reported to the hosts: 12 tries ride out about 8 minutes of a platform's outage, so a
# short one delays a question instead of losing it.
MAX_ATTEMPTS = 12
# A nudge is worth a few tries, not a report to the hosts.
NUDGE_ATTEMPTS = 3
# How long a claim is its claimer's alone; the claimer renews it while delivering, so only a
# dead (or cut-off) process loses it, and another process takes the post over after this long.
CLAIM_LEASE = timedelta(seconds=15)
RETRY_BASE = timedelta(seconds=5)
RETRY_CAP = timedelta(minutes=1)
# Recording a delivery must outlast a database restart: a post that landed but is not recorded
# would be posted again by whoever takes over its lease.
RECORD_RETRY = RetryPolicy(attempts=14, first_delay=0.1, max_delay=5.0)
# Platform clocks and ours differ a little: an earlier attempt of a post is looked for from a
# bit before its claim.
LANDED_SLACK = timedelta(minutes=1)

Sleep = Callable[[float], Awaitable[None]]


def retry_delay(failures: int) -> timedelta:
    """The pause after the ``failures``-th failed attempt (1, 2, ...): doubling, capped."""
    return min(RETRY_BASE * (2 ** (max(failures, 1) - 1)), RETRY_CAP)


@dataclass(frozen=True)
class ToChannel:
    """A channel (or a thread of it): where posts and mention nudges go."""

    channel: str
    thread_id: str | None = None
    start_thread: str | None = None

    async def send(self, port: Port, message: Outgoing) -> PostedRef:
        return await port.post(
            self.channel, message, thread_id=self.thread_id, start_thread=self.start_thread
        )

    async def find(self, port: Port, key: str, since: datetime) -> PostedRef | None:
        return await port.find_post(
            self.channel,
            key,
            thread_id=self.thread_id,
            start_thread=self.start_thread,
            since=since,
        )


@dataclass(frozen=True)
class ToPerson:
    """A direct message: where DM nudges (and notices to hosts) go."""

    user: User

    async def send(self, port: Port, message: Outgoing) -> PostedRef:
        return await port.send_dm(self.user, message)

    async def find(self, port: Port, key: str, since: datetime) -> PostedRef | None:
        return await port.find_dm(self.user, key, since=since)


class Destination(Protocol):
    """Where a parcel goes: a channel, a person, or a run's scheduled event
    (bot/core/engine_events.py), each sent to and looked for in its own way."""

    async def send(self, port: Port, message: Outgoing) -> PostedRef: ...

    async def find(self, port: Port, key: str, since: datetime) -> PostedRef | None: ...


class Parcel(Protocol):
    """One claimed message: what the courier needs to know of it, and how its row is kept.

    ``label`` names it in logs ("question:Q2 of run 7"); ``subject`` starts the line that
    says an attempt failed ("post question:Q2 of run 7").
    """

    @property
    def label(self) -> str: ...

    @property
    def subject(self) -> str: ...

    @property
    def attempts(self) -> int:
        """Attempts that failed before this one."""
        ...

    @property
    def max_attempts(self) -> int: ...

    @property
    def claimed_at(self) -> datetime:
        """An earlier attempt is looked for from (a little before) this moment."""
        ...

    async def render(self) -> tuple[Outgoing, Destination]:
        """The message, tagged with its key, and where it goes; a failure here counts as a
        failed attempt (the plan or the recap could not be read)."""
        ...

    async def renew(self, until: datetime) -> bool:
        """Extend our lease; False when it is no longer ours."""
        ...

    async def record_sent(self, ref: PostedRef, at: datetime) -> None: ...

    async def record_failed(self, error: str, *, give_up: bool, retry_at: datetime | None) -> None:
        ...

    async def give_up(self, error: PortError) -> None:
        """After the last attempt: what the message does instead of going out."""
        ...


class Courier:
    """Carries parcels to a port; ``on_retry`` learns when a failed one may be tried again
    (the engine wakes then)."""

    def __init__(
        self,
        clock: Clock,
        *,
        lease: timedelta,
        on_retry: Callable[[datetime], None],
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.clock = clock
        self.lease = lease
        self.on_retry = on_retry
        self.sleep = sleep

    async def deliver(self, port: Port, parcel: Parcel, *, recover: bool = False) -> None:
        """Deliver a parcel whose lease we hold, keeping the lease alive until it is recorded.

        ``recover``: an earlier attempt may have landed without being recorded, so the
        platform is asked for it first.
        """
        keeper = asyncio.create_task(self._keep_lease(parcel))
        try:
            try:
                message, where = await parcel.render()
                found = await self._landed(port, parcel, message, where) if recover else None
                if found is not None:
                    log.info("%s had landed before; not sending it again", parcel.label)
                ref = found or await where.send(port, message)
            except Exception as exc:  # a PortError, or an adapter bug / timeout it did not wrap
                error = exc if isinstance(exc, PortError) else PortError(wording.unexpected(exc))
                await self._failed(parcel, error, unexpected=error is not exc)
                return
            await self._record(parcel, ref)
        finally:
            keeper.cancel()

    async def _landed(
        self, port: Port, parcel: Parcel, message: Outgoing, where: Destination
    ) -> PostedRef | None:
        """An earlier attempt that landed, if the platform can tell. If it cannot be asked
        (an outage, a missing scope), the message is sent anyway: twice beats never."""
        try:
            return await where.find(port, message.key or "", parcel.claimed_at - LANDED_SLACK)
        except Exception as exc:  # a PortError, or an adapter that does not wrap its errors
            # Said once per message: through an outage every retry fails here, and each
            # failed attempt is logged on its own ("... failed; will retry").
            log.log(
                logging.WARNING if parcel.attempts <= 1 else logging.DEBUG,
                "could not check whether %s landed before; posting it (it may appear "
                "twice): %s",
                parcel.label,
                exc,
            )
            return None

    async def _record(self, parcel: Parcel, ref: PostedRef) -> None:
        """Retried through a database blip (the lease is still renewed meanwhile): a message
        that landed but is not recorded would be sent again by whoever takes it over."""
        try:
            await retry_transient(
                lambda: parcel.record_sent(ref, self.clock.now()),
                what=f"recording {parcel.label} as sent",
                policy=RECORD_RETRY,
            )
        except Exception:
            log.error(
                "%s landed (%s) but could not be recorded; another process may send it again",
                parcel.label,
                ref.message_id,
            )
            raise

    async def _failed(self, parcel: Parcel, exc: PortError, *, unexpected: bool) -> None:
        give_up = exc.permanent or parcel.attempts + 1 >= parcel.max_attempts
        retry_at = self.clock.now() + retry_delay(parcel.attempts + 1)
        await retry_transient(
            lambda: parcel.record_failed(
                str(exc), give_up=give_up, retry_at=None if give_up else retry_at
            ),
            what=f"recording the failure of {parcel.label}",
        )
        log.warning(
            "%s failed (%s)%s",
            parcel.subject,
            exc,
            "; giving up" if give_up else f"; will retry at {retry_at:%H:%M:%S}",
            exc_info=unexpected,
        )
        if give_up:
            await parcel.give_up(exc)
        else:
            self.on_retry(retry_at)

    async def _keep_lease(self, parcel: Parcel) -> None:
        """Renew the lease while a (possibly slow, rate-limited) delivery runs."""
        every = self.lease.total_seconds() / 3
        while True:
            await self.sleep(every)
            try:
                if not await parcel.renew(self.clock.now() + self.lease):
                    log.warning("lost the delivery lease of %s", parcel.label)
                    return
            except Exception as exc:
                log.warning("could not renew the lease of %s: %s", parcel.label, exc)
