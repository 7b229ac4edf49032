"""The chat plan (``chats.yaml``): typed models and a loader whose errors name file:line:col.

Every error is collected before raising, so a host fixes a broken plan in one pass.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Iterable
from datetime import datetime, time, timedelta
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from bot.core.durations import format_duration
from bot.core.events import EVERY_CHAT_HOST, User
from bot.core.language import DEFAULT_LANGUAGE, LanguageCode
from bot.core.plan_rules import rules_of
from bot.core.plan_types import (
    CLOCK_TIME_PATTERN,
    PLATFORMS_CONTEXT,
    QUIET_HOURS_PATTERN,
    Duration,
    LocalDate,
    LocalDateTime,
    PlatformName,
    TimeZoneName,
    check_platform,
    checked_rrule,
    clock_time,
    installed_platforms,
)
from bot.core.rrules import runs_on
from bot.core.yaml_positions import Path as FieldPath
from bot.core.yaml_positions import PlanError as PlanError
from bot.core.yaml_positions import PlanIssue as PlanIssue
from bot.core.yaml_positions import (
    PositionedValidator,
    parse_positioned,
    read_positioned,
)

# A host entry naming a platform role rather than a person (``role:Tea Hosts``).
ROLE_PREFIX = "role:"
DEFAULT_PLATFORM = "console"

def hosts_include(
    hosts: Iterable[str], names: Iterable[str | None], roles: Iterable[str] = ()
) -> bool:
    """Whether a host list names one of ``names`` or lists a ``role:`` among ``roles``,
    case-insensitively: a chat's hosts and the ad-hoc section's are read alike."""
    allowed = {h.lower().lstrip("@") for h in hosts}
    if any(n is not None and n.lower().lstrip("@") in allowed for n in names):
        return True
    return any(f"{ROLE_PREFIX}{r.lower()}" in allowed for r in roles)


class _Strict(BaseModel):
    """Unknown keys are typos in a hand-written plan: refuse them."""

    model_config = ConfigDict(extra="forbid", frozen=True)


# The plan's question ids; the letter X marks a question a host added with /ask to a planned
# run (X1, X2...: answered with AX1), so no typed label (A1 is Q1's) can mistake one for the
# other, and the plan's later questions keep their ids. X ids live in a run's snapshot only.
PLANNED_ID = r"^[Qq]\d+$"
EXTRA_PREFIX = "X"


class Question(_Strict):
    id: str = Field(pattern=r"^[QqXx]\d+$", description="Q1, Q2, ...: answers are labelled A1, A2.")
    text: str = Field(min_length=1)
    at: Duration = Field(description="When to post it, as an offset from the chat's start.")
    open_for: Duration | None = Field(
        default=None,
        description="Async chats: how long it takes answers (e.g. 2d); by default until the "
        "chat's end.",
    )

    @field_validator("id")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()

    @property
    def number(self) -> int:
        return int(self.id[1:])

    @property
    def extra(self) -> bool:
        """Added with /ask to a planned run, not planned."""
        return self.id.startswith(EXTRA_PREFIX)


class Schedule(_Strict):
    start: LocalDateTime | None = Field(
        default=None, description="A one-off start, or the first occurrence of the rrule."
    )
    rrule: str | None = Field(
        default=None,
        description="RFC 5545 recurrence, e.g. FREQ=MONTHLY;BYDAY=-1MO;BYHOUR=19;BYMINUTE=30.",
    )
    duration: Duration = Field(description="How long a run lasts, e.g. 1h.")
    skip: list[LocalDate] = Field(
        default_factory=list,
        description="Local dates with no run (a holiday), e.g. [2026-12-28]; each must be a "
        "day the chat runs on. Calendars show them as cancelled (EXDATE).",
    )

    @field_validator("start")
    @classmethod
    def _naive(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is not None:
            raise ValueError(
                "write the start without a UTC offset: it is read in the chat's time zone"
            )
        return value

    @field_validator("rrule")
    @classmethod
    def _valid_rrule(cls, value: str | None) -> str | None:
        return None if value is None else checked_rrule(value)

    @model_validator(mode="after")
    def _start_or_rrule(self) -> Schedule:
        if self.start is None and self.rrule is None:
            raise ValueError("give a start (one-off) or an rrule (recurring), or both")
        if self.duration <= timedelta(0):
            raise ValueError("duration must be longer than zero")
        wrong = [d.isoformat() for d in self.skip if not runs_on(self.rrule, self.start, d)]
        if wrong:
            raise ValueError(
                f"skip: {', '.join(wrong)} is not a day this chat runs on; list only dates "
                "of its runs (YYYY-MM-DD, in the chat's time zone)"
            )
        return self


class Nudges(_Strict):
    enabled: bool = True
    after: Duration = Field(default=timedelta(minutes=15), description="Silence before a nudge.")
    max_per_person: int = Field(default=1, ge=0, le=10)
    via: Literal["dm", "mention"] = "dm"
    text: str = Field(
        default="Hi {name}! We miss your voice: {question_id} is open now: {question}",
        description="Template; {name}, {question_id}, {question}, {title}, {tag} are filled in.",
    )


class Summary(_Strict):
    enabled: bool = True
    highlights: int = Field(default=3, ge=0, le=20, description="Best answers shown per question.")
    post_to: Literal["channel", "thread", "none"] = Field(
        default="channel", description="Where the recap goes: the chat's channel or its thread."
    )
    channel: PlatformName | None = Field(default=None, description="Another channel for the recap.")
    late_window: Duration = Field(
        default=timedelta(minutes=30), description="Late answers still update the recap."
    )


class Reminders(_Strict):
    """Async chats: a reminder to people who have not answered an open question yet."""

    before_close: Duration = Field(
        default=timedelta(hours=12), description="How long before a question closes."
    )
    max_per_person: int = Field(default=2, ge=0, le=10, description="Per run.")
    quiet_hours: str | None = Field(
        default=None,
        json_schema_extra={"pattern": QUIET_HOURS_PATTERN},
        description="No reminder between these local times, e.g. 21:00-08:00, in each "
        "person's own time zone where the platform tells it, else the chat's.",
    )
    via: Literal["dm", "mention"] = "dm"

    @field_validator("quiet_hours")
    @classmethod
    def _hours(cls, value: str | None) -> str | None:
        if value is not None and not re.match(QUIET_HOURS_PATTERN, value):
            raise ValueError(f"{json.dumps(value)}: write HH:MM-HH:MM, e.g. 21:00-08:00")
        return value

    @property
    def quiet(self) -> tuple[time, time] | None:
        """The quiet hours as (from, to) local times; None when there are none."""
        if self.quiet_hours is None:
            return None
        start, end = self.quiet_hours.split("-")
        return clock_time(start), clock_time(end)


class Digest(_Strict):
    """Async chats: a daily digest of the new answers, at a local time of the chat's zone."""

    at: str = Field(
        json_schema_extra={"pattern": CLOCK_TIME_PATTERN}, description="Local time, e.g. 17:00."
    )

    @field_validator("at")
    @classmethod
    def _clock(cls, value: str) -> str:
        if not re.match(CLOCK_TIME_PATTERN, value):
            raise ValueError(f"{json.dumps(value)}: write a local time HH:MM, e.g. 17:00")
        return value

    @property
    def time(self) -> time:
        return clock_time(self.at)


ChatId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$", max_length=64)]


class Chat(_Strict):
    id: ChatId
    title: str = Field(min_length=1)
    tag: str = Field(default="", description="The chat's hashtag, e.g. #chat2lrn.")
    language: LanguageCode = Field(
        default=DEFAULT_LANGUAGE,
        description="The language people write in: the recap's stop words, stemmer and "
        "ordinary-talk word list (its themes, phrases and groups).",
    )
    platform: str = Field(
        default=DEFAULT_PLATFORM,
        min_length=1,
        description="The platform the chat runs on: one of the installed platform plugins.",
    )
    channel: PlatformName = Field(
        min_length=1, description="Channel name or id where the chat runs."
    )
    mode: Literal["live", "async"] = Field(
        default="live",
        description="live: a chat of an hour or so; async: questions open for days, with "
        "reminders and a daily digest.",
    )
    threads: Literal["none", "per-question", "per-chat"] = "none"
    hosts: list[PlatformName] = Field(
        min_length=1,
        description="User names or ids who may run commands, or role:<name or id> for everyone "
        "holding that platform role.",
    )
    cohosts: list[PlatformName] = Field(default_factory=list)
    timezone: TimeZoneName | None = None
    schedule: Schedule
    announce: list[Duration] = Field(
        default_factory=list, description="Offsets before the start to post an announcement."
    )
    intro: str = ""
    outro: str = ""
    questions: list[Question] = Field(default_factory=list)
    nudges: Nudges = Field(default_factory=Nudges)
    summary: Summary = Field(default_factory=Summary)
    reminders: Reminders | None = Field(
        default=None, description="Async chats: reminders before a question closes; off if absent."
    )
    digest: Digest | None = Field(
        default=None, description="Async chats: a daily digest of new answers; off if absent."
    )
    events: bool = Field(
        default=False,
        description="Keep a scheduled event of each run in the platform's own calendar "
        "(guild events): created ahead, moved with the plan, started, ended, or cancelled "
        "for a skipped run.",
    )
    # Set by /startchat TITLE, never in a plan: a spontaneous chat's run keeps its questions
    # (typed with /ask) in its own snapshot, so it starts with none.
    spontaneous: bool = False

    @model_validator(mode="after")
    def _has_questions(self) -> Chat:
        if not self.questions and not self.spontaneous:
            raise ValueError("questions: a planned chat needs at least one question")
        return self

    @field_validator("platform")
    @classmethod
    def _known_platform(cls, value: str, info: ValidationInfo) -> str:
        return check_platform(value, info)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone or "UTC")

    @property
    def is_async(self) -> bool:
        return self.mode == "async"

    def open_for(self, question: Question) -> timedelta:
        """How long an async chat's question takes answers: its own ``open_for``, else until
        the chat's end."""
        if question.open_for is not None:
            return question.open_for
        return self.schedule.duration - question.at

    @property
    def last_close(self) -> timedelta:
        """When an async chat's last question closes, from the start: the run ends then."""
        return max((q.at + self.open_for(q) for q in self.questions), default=timedelta(0))

    @cached_property
    def question_ids(self) -> frozenset[str]:
        return frozenset(q.id for q in self.questions)

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)

    def is_host(self, *names: str | None, roles: Iterable[str] = ()) -> bool:
        """Hosts are listed by name or id, or as ``role:<name or id>``; any may match,
        case-insensitively."""
        return hosts_include((*self.hosts, *self.cohosts), names, roles)

    def hosted_by(self, user: User) -> bool:
        """Whether ``user`` hosts this chat, the one host check: the plan lists them by name or
        id, or lists a role they hold, or their platform makes them a host of every chat (the
        role ``EVERY_CHAT_HOST``, given by its adapter)."""
        if EVERY_CHAT_HOST in user.roles:
            return True
        return self.is_host(user.id, user.name, user.display, roles=user.roles)

    @property
    def host_people(self) -> list[str]:
        """The hosts listed as people, not roles: those told when a post cannot go out."""
        return [h for h in self.hosts if not h.lower().startswith(ROLE_PREFIX)]


def _nudges_switch(value: object) -> object:
    """``nudges: off`` reads as a boolean in YAML 1.1; ``on``/``off`` stand for the defaults
    turned on or off, so the section can say it in one word."""
    if value is False or value == "off":
        return Nudges(enabled=False)
    if value is True or value == "on":
        return Nudges()
    return value


NudgesOrSwitch = Annotated[Nudges, BeforeValidator(_nudges_switch)]
# How the schema shows it: the word or the settings (plan_json_schema puts it in).
_NUDGES_OR_SWITCH_SCHEMA = {
    "anyOf": [{"type": "boolean"}, {"enum": ["on", "off"]}, {"$ref": "#/$defs/Nudges"}],
    "description": "off, on, or the same settings as a chat's nudges.",
}


class AdHoc(_Strict):
    """Spontaneous chats (``/startchat TITLE`` with no plan entry): who may start one, where,
    and the settings a planned chat would have written out."""

    hosts: list[PlatformName] | None = Field(
        default=None,
        description="Who may start one: names, ids or role:<name or id>; default: every host "
        "and co-host of the plan's chats.",
    )
    channels: list[PlatformName] | None = Field(
        default=None, description="Where one may be started; default: any channel the bot is in."
    )
    duration: Duration = Field(
        default=timedelta(hours=1), description="It ends by itself after this unless extended."
    )
    threads: Literal["none", "per-question", "per-chat"] = "none"
    nudges: NudgesOrSwitch = Field(default_factory=lambda: Nudges(enabled=False))
    summary: Summary = Field(default_factory=Summary)

    @model_validator(mode="after")
    def _positive(self) -> AdHoc:
        if self.duration <= timedelta(0):
            raise ValueError("duration must be longer than zero")
        return self

    def allows_channel(self, matches: Callable[[str], bool]) -> bool:
        """``matches``: the channel's own test of a plan name (``ChannelRef.matches``)."""
        return self.channels is None or any(matches(name) for name in self.channels)


class Plan(_Strict):
    timezone: TimeZoneName = "UTC"
    chats: list[Chat] = Field(default_factory=list)
    adhoc: AdHoc = Field(
        default_factory=AdHoc, description="Spontaneous chats: /startchat TITLE, /ask TEXT."
    )

    @property
    def adhoc_hosts(self) -> list[str]:
        """Who may start a spontaneous chat: the section's list, else every planned host."""
        if self.adhoc.hosts is not None:
            return self.adhoc.hosts
        listed = (h for c in self.chats for h in (*c.hosts, *c.cohosts))
        return list(dict.fromkeys(listed))

    @property
    def writes_adhoc(self) -> bool:
        """Whether the plan has an ``adhoc:`` section: then a platform with no chat of its
        own is still worth running (``chathost run --platform console``), for the
        spontaneous chats started there."""
        return "adhoc" in self.model_fields_set

    def may_start_adhoc(self, user: User) -> bool:
        """The one check of who may start a spontaneous chat, read like a chat's hosts."""
        if EVERY_CHAT_HOST in user.roles:
            return True
        return hosts_include(self.adhoc_hosts, (user.id, user.name, user.display), user.roles)

    def chat(self, chat_id: str) -> Chat:
        for chat in self.chats:
            if chat.id == chat_id:
                return chat
        known = ", ".join(c.id for c in self.chats) or "none"
        raise KeyError(f"no chat {chat_id!r} in the plan (chats: {known})")


class _Head(_Strict):
    """The top level alone: each chat is validated on its own so all errors are reported."""

    timezone: TimeZoneName = "UTC"
    chats: list[Any] = Field(default_factory=list)
    adhoc: Any = None


def load_plan(path: str | Path, platforms: Collection[str] | None = None) -> Plan:
    """Read and validate a plan file; raises PlanError listing every problem.

    ``platforms``: the names a chat's ``platform:`` may take (the registry's ``plan_rules``,
    which also checks each chat as its platform requires); by default the installed plugins'."""
    doc, name = read_positioned(path)
    return _PlanValidator(doc, name, Plan, _context(platforms)).run()


def parse_plan(
    text: str, filename: str = "<plan>", platforms: Collection[str] | None = None
) -> Plan:
    doc = parse_positioned(text, filename)
    return _PlanValidator(doc, filename, Plan, _context(platforms)).run()


def _context(platforms: Collection[str] | None) -> dict[str, Any]:
    # The registry's names with their rules (bot/core/plan_rules.py), or the installed names.
    return {PLATFORMS_CONTEXT: installed_platforms() if platforms is None else platforms}


class _PlanValidator(PositionedValidator):
    def run(self) -> Plan:
        for dup in self.doc.duplicate_keys:
            self.add(dup, f"key {dup[-1]!r} appears twice", key=True)
        data = self.doc.data if self.doc.data is not None else {}
        if not isinstance(data, dict):
            self.add((), "the plan must be a mapping with a 'chats' list")
            self.raise_if_any()
        if data.get("chats") is None:  # `chats:` with nothing under it: no chats, not a type error
            data = {**data, "chats": []}
        head = self.validate(_Head, data, ())
        timezone = head.timezone if head else "UTC"
        raw_chats = data["chats"]
        adhoc = self._adhoc(data.get("adhoc"))
        if raw_chats == [] and data.get("adhoc") is None:
            self.add(("chats",), "the plan has no chats: add one under 'chats:' (see README)")
        chats: list[Chat] = []
        for index, raw in enumerate(raw_chats if isinstance(raw_chats, list) else []):
            chat = self.validate(Chat, raw, ("chats", index))
            if chat is not None:
                chat = chat.model_copy(update={"timezone": chat.timezone or timezone})
                self._check_chat(chat, index)
                chats.append(chat)
        self.check_unique([c.id for c in chats], lambda i: ("chats", i, "id"), "chat id")
        if adhoc is not None and adhoc.hosts is None and not chats:
            self.add(("adhoc",), "list its hosts: the plan has no chats to take them from")
        for field in ("hosts", "channels"):
            if adhoc is not None and getattr(adhoc, field) == []:
                self.add(
                    ("adhoc", field),
                    f"[] lets nobody start a spontaneous chat; list some, or leave {field} out "
                    "for the default",
                )
        self.raise_if_any()
        written = {"adhoc": adhoc} if adhoc is not None else {}  # see Plan.writes_adhoc
        return Plan(timezone=timezone, chats=chats, **written)

    def _adhoc(self, raw: object) -> AdHoc | None:
        """The ``adhoc:`` section, or None when absent or wrong (each error recorded)."""
        if raw is None:
            return None
        return self.validate(AdHoc, raw, ("adhoc",))

    def _check_chat(self, chat: Chat, index: int) -> None:
        base: FieldPath = ("chats", index)
        if chat.spontaneous:
            self.add((*base, "spontaneous"), "is set by /startchat, not written in the plan")
        self.check_unique(
            [q.id for q in chat.questions], lambda i: (*base, "questions", i, "id"), "question id"
        )
        for i, question in enumerate(chat.questions):
            if question.extra:
                self.add(
                    (*base, "questions", i, "id"),
                    f"{question.id}: X ids are given to questions added with /ask; use Q1, Q2...",
                )
        duration = chat.schedule.duration
        previous = timedelta(-1)
        for i, question in enumerate(chat.questions):
            where = (*base, "questions", i, "at")
            if question.at >= duration:
                self.add(
                    where,
                    f"{format_duration(question.at)} is past the chat's end "
                    f"(duration {format_duration(duration)})",
                )
            elif question.at < previous:
                self.add(where, "questions must be listed in the order they are posted")
            previous = question.at
        self._check_mode(chat, base)
        rules = rules_of((self.context or {}).get(PLATFORMS_CONTEXT), chat.platform)
        for where, problem in rules.problems(chat) if rules else ():
            self.add((*base, *where), problem)
        for i, offset in enumerate(chat.announce):
            if offset <= timedelta(0):
                self.add((*base, "announce", i), "an announcement offset must be before the start")

    def _check_mode(self, chat: Chat, base: FieldPath) -> None:
        """Settings of one mode are refused in the other: a plan means what it says."""
        given = chat.model_fields_set
        if not chat.is_async:
            for key in ("reminders", "digest"):
                if key in given:
                    self.add((*base, key), f"{key} is for async chats (add mode: async)")
            for i, question in enumerate(chat.questions):
                if question.open_for is not None:
                    where = (*base, "questions", i, "open_for")
                    self.add(where, "open_for is for async chats (add mode: async)")
            return
        if "nudges" in given:
            self.add(
                (*base, "nudges"),
                "nudges are for live chats; an async chat has reminders (see README)",
            )
        duration = chat.schedule.duration
        for i, question in enumerate(chat.questions):
            if question.open_for is None:
                continue
            where = (*base, "questions", i, "open_for")
            closes = question.at + question.open_for
            if question.open_for <= timedelta(0):
                self.add(where, "open_for must be longer than zero")
            elif closes > duration and question.at < duration:
                self.add(
                    where,
                    f"it closes at {format_duration(closes)}, after the chat's end "
                    f"(duration {format_duration(duration)})",
                )


def plan_json_schema(platforms: Collection[str] | None = None) -> dict[str, Any]:
    """The schema editors use to complete and check chats.yaml (config/chats.schema.json);
    ``platform`` lists the installed platforms (by default), or ``platforms``."""
    schema = Plan.model_json_schema(mode="validation")
    names = installed_platforms() if platforms is None else platforms
    schema["$defs"]["Chat"]["properties"]["platform"]["enum"] = sorted(names)
    schema["$defs"]["AdHoc"]["properties"]["nudges"] = _NUDGES_OR_SWITCH_SCHEMA
    chat = schema["$defs"]["Chat"]
    del chat["properties"]["spontaneous"]  # the bot's own mark, not a plan key
    chat["properties"]["questions"]["minItems"] = 1
    schema["$defs"]["Question"]["properties"]["id"]["pattern"] = PLANNED_ID  # X ids: /ask's
    chat["required"] = [*chat["required"], "questions"]
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "chathost chat plan (chats.yaml)"
    return schema


@lru_cache(maxsize=4096)
def chat_from_json(text: str) -> Chat:
    """A run's stored plan snapshot, parsed once: the message path reads it for every message."""
    return Chat.model_validate_json(text)
