"""Every sentence the engine says, in one place, ready to be translated.

The engine, its delivery, the nudges, the durations, the commands, the recap and the
renderers of the adapters and exports hold no sentence of their own
(tests/core/test_wording.py keeps it so): they call these functions with plain values, and
every platform says the same words. A translation replaces the templates; the functions only
fill them in. Text from the plan (a chat's own intro, outro or nudge template) is the host's
and is used as written. Markup (Slack's mrkdwn, Markdown) and a platform's own limits stay in
its adapter.

Sections: posts of a run, nudges, notices to the hosts, errors, the commands' help lines,
refusals and answers, and the recap.

Templates take their values by name with ``str.format``. This module imports nothing of the
bot, so any module may use it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

# Posts of a run.
INTRO = "Welcome to {title}! Questions come as Q1, Q2...; answer with A1, A2..."
QUESTION = "{question_id}: {question}"
# A question a host added to a planned chat with /ask: its label (AX1) is not the usual A1.
EXTRA_QUESTION = "{question_id}: {question} (an extra question: answer with {label})"
ANNOUNCEMENT = (
    "{title} {tag} starts {start:%a %d %b %H:%M} {zone} and runs {duration}.\n"
    "The questions:\n{preview}"
)
ANNOUNCEMENT_CALENDAR = "\nAdd it to your calendar: {url}"
# After the announcement, where the platform shows a time in each reader's own zone.
IN_YOUR_ZONE = "In your time zone: {when}"
# How long a question's thread name may be (Slack and Discord cut longer names anyway).
THREAD_NAME_LIMIT = 90

# Nudges: the chat's own template (plan.Nudges.text), then how to stop them.
NUDGE_OPT_OUT = " (Reply /quietchat and I won't nudge you again.)"

# To the hosts, by DM.
POST_FAILED = "chathost could not post {key} for {title}: {error}"

# Errors a host may see.
CHANGED_MEANWHILE = "the chat was changed at the same moment; try again"
DID_NOT_SETTLE = "run {run_id} did not settle"
UNEXPECTED = "{kind}: {error}"
# A duration in the plan or in a command (/extendchat) that cannot be read; ``shown`` quotes it.
NOT_A_DURATION = "{shown} is not a duration (use e.g. 1h, 1h40m, 57m30s or 12:30)"
# Longer than any chat: a typo (9999999d) that would run past the calendar's end.
TOO_LONG_DURATION = "{shown} is longer than {longest}, the longest duration chathost takes"


def tagged(text: str, tag: str) -> str:
    """A post followed by the chat's hashtag, if it has one."""
    return f"{text} {tag}".rstrip()


def intro(own: str | None, *, title: str, tag: str) -> str:
    """The chat's own intro if the plan has one, else the standard welcome."""
    return tagged(own or INTRO.format(title=title), tag)


def question(question_id: str, text: str) -> str:
    """A question as posted and as listed in the announcement: ``Q2: text``."""
    return QUESTION.format(question_id=question_id, question=text)


def question_post(question_id: str, text: str, *, tag: str, extra_label: str = "") -> str:
    """``extra_label``: how to answer a question added with /ask (``AX1``), said in its post."""
    if extra_label:
        posted = EXTRA_QUESTION.format(question_id=question_id, question=text, label=extra_label)
        return tagged(posted, tag)
    return tagged(question(question_id, text), tag)


def question_thread(question_id: str, text: str) -> str:
    """The name of the thread a question opens (``threads: per-question``)."""
    return question(question_id, text)[:THREAD_NAME_LIMIT]


def announcement(
    *,
    title: str,
    tag: str,
    start: datetime,
    duration: str,
    questions: Iterable[tuple[str, str]],
    calendar: str | None = None,
) -> str:
    """``start`` in the chat's zone; ``duration`` as the plan writes durations; ``calendar``
    the address of the chat's calendar feed, when the archive has a public one."""
    preview = "\n".join(question(qid, text) for qid, text in questions)
    text = ANNOUNCEMENT.format(
        title=title,
        tag=tag,
        start=start,
        zone=start.tzname(),
        duration=duration,
        preview=preview,
    )
    return text + ANNOUNCEMENT_CALENDAR.format(url=calendar) if calendar else text


def nudge(
    template: str, *, name: str, question_id: str, question: str, title: str, tag: str
) -> str:
    """The chat's nudge template filled in, and how to opt out."""
    text = template.format(
        name=name, question_id=question_id, question=question, title=title, tag=tag
    )
    return text + NUDGE_OPT_OUT


# Async chats: a question's closing note, the reminder and the daily digest.
QUESTION_CLOSED = "{question_id} is closed: {answers} from {people}. Thank you!"
REMINDER = (
    "Hi {name}! {question_id} of {title} closes {when}: {question} "
    "(Reply /quietchat and I won't remind you again.)"
)
DIGEST_HEAD = "Today in {title}:"
DIGEST_QUESTION = "{question_id}: {answers} new"
DIGEST_TOP = ' (most liked, {name}: "{text}")'
DIGEST_JOINED = "Joined: {names}."


def counted(count: int, one: str, many: str) -> str:
    """``1 answer``, ``3 answers``."""
    return f"{count} {one if count == 1 else many}"


def question_closed(question_id: str, *, answers: int, people: int) -> str:
    return QUESTION_CLOSED.format(
        question_id=question_id,
        answers=counted(answers, "answer", "answers"),
        people=counted(people, "person", "people"),
    )


def reminder(*, name: str, question_id: str, question: str, title: str, when: str) -> str:
    return REMINDER.format(
        name=name, question_id=question_id, question=question, title=title, when=when
    )


def post_failed(key: str, *, title: str, error: str) -> str:
    """Told to the hosts when a post will never land."""
    return POST_FAILED.format(key=key, title=title, error=error)


def changed_meanwhile() -> str:
    return CHANGED_MEANWHILE


def did_not_settle(run_id: int) -> str:
    return DID_NOT_SETTLE.format(run_id=run_id)


def unexpected(exc: BaseException) -> str:
    """An error an adapter did not wrap, as the hosts' notice quotes it."""
    return UNEXPECTED.format(kind=type(exc).__name__, error=exc)


def not_a_duration(shown: str, *, longest: str | None = None) -> str:
    """``longest``: the text is a duration, only longer than chathost takes (``9999999d``)."""
    if longest is not None:
        return TOO_LONG_DURATION.format(shown=shown, longest=longest)
    return NOT_A_DURATION.format(shown=shown)


# Commands: the help lines of the command table (bot/core/commands/table.py).
HELP_CHAT_ARG = "The chat's id from the plan (only needed where several chats share a channel)"
HELP_DURATION_ARG = "Minutes (e.g. 15) or a duration (e.g. 1h, 20m); default 10 minutes"
HELP_MESSAGE_ARG = "The message's link (Copy link) or id"
HELP_UNDO_ARG = "Turn nudges back on"
HIGHLIGHT_MENU = "Highlight in recap"
HELP_STARTCHAT = "Start the chat now (its next run), or a spontaneous one titled TITLE"
HELP_NEXTQ = "Post the next question now; later questions keep their planned times"
HELP_SKIPQ = "Skip the next question: it will not be posted"
HELP_PAUSECHAT = "Pause the chat: no questions go out until /resumechat"
HELP_RESUMECHAT = "Resume a paused chat; later questions and the end move by the pause"
HELP_EXTENDCHAT = "Move the chat's end later: by the duration given, or 10 minutes"
HELP_ENDCHAT = "End the chat now: the outro, then the recap"
HELP_HIGHLIGHT = "Put an answer in the recap, or take it out again"
HELP_CHATSTATUS = "Where the chat stands: state, open question, next question, counts"
HELP_CHATS = "Upcoming chats, in your own time zone"
HELP_QUIETCHAT = "No nudges for me (/quietchat off to undo)"
HELP_FORGETME = "Delete my stored messages, reactions and nudges"
HELP_ASK = "Post a question now (in a planned chat, an extra one: X1, X2...)"
HELP_COHOST = "Make someone a co-host of this run only"
HELP_TITLE_ARG = "A spontaneous chat's title (not a plan chat id), optionally ending in #tag"
HELP_QUESTION_ARG = "The question, as it should be posted"
HELP_PERSON_ARG = "The person, as @name"
HELP_FOR_HOSTS = "{help} (hosts)"

# Commands' refusals: the command, the chat or the arguments do not fit.
UNKNOWN_COMMAND = "I don't know /{name}. Commands: {known}"
NOT_A_HOST = "Only the hosts of {title} ({hosts}) can use /{name}."
# In a channel with no chat of the plan and no spontaneous one running: /ask, /endchat,
# /chatstatus... and a /startchat with no title. Spontaneous chats start anywhere allowed.
NO_CHAT_HERE = (
    "No chat is running or planned in this channel: a host starts one with /startchat TITLE, "
    "or names a planned chat, e.g. /startchat CHAT_ID."
)
# A chat with events: true on a platform with no scheduled events of its own.
NO_SCHEDULED_EVENTS = (
    "{platform} has no scheduled events of its own for events: true to keep: remove it "
    "(a calendar of the chats comes from chathost calendar, or the archive's /calendar.ics)"
)
SEVERAL_CHATS_HERE = "Several chats use this channel ({names}); name one, e.g. /startchat ID."
UNKNOWN_CHAT = "{word} is not a chat in the plan (chats: {ids})."
MISSING_ARG = "/{name} needs its {placeholder}. {help}. Use it as {usage}"
BAD_SWITCH = '"{word}" is not an option of /{name}: {usage}'
TOO_MANY_ARGS = 'I did not expect "{extra}" after /{name}. Use it as {usage}'
NOT_RUNNING = "{title} is not running. /startchat starts it."
ALREADY_RUNNING = "{title} is already running."
CHANNEL_BUSY = "{title} is running in this channel; a host ends it with /endchat first."
ADHOC_NOT_ALLOWED = "Only {hosts} can start a spontaneous chat."
ADHOC_NOBODY = "nobody (the plan lists no hosts)"
ADHOC_WRONG_CHANNEL = "Spontaneous chats can only be started in: {channels}."
ADHOC_STARTED = "Started {title}{tag}. Ask questions with /ask; /endchat ends it."
ASKED = "Posted {question}."
# /cohost @ (or @@): a mark with no name after it.
COHOST_NO_NAME = "/cohost needs a name after the @, e.g. /cohost @marco."
COHOST_ADDED = "{person} co-hosts this run of {title}."
ALL_QUESTIONS_OUT = "All questions are out. /endchat finishes the chat."
NOTHING_TO_SKIP = "There is no question left to skip."
CANNOT_PAUSE = "{title} is not running, so it cannot be paused."
NOT_PAUSED = "{title} is not paused."
BUSY = "The chat changed at the same moment; please try again."
NOT_RECORDED = "That message is not one chathost recorded in a chat."

# Commands' answers.
STARTED = "Started {title}. Questions follow the plan; /nextq posts one early."
POSTED = "Posted {question}."
SKIPPED = "Skipped {question}: it will not be posted."
PAUSED = "Paused: no questions go out until /resumechat."
RESUMED = "Resumed after {paused}; later questions move by as much."
EXTENDED = "Extended by {by}: ends {end}."
ENDED = "Ended {title}; the recap follows."
HIGHLIGHTED = "Highlighted: it will be in the recap."
HIGHLIGHT_REMOVED = "Highlight removed."
NO_RUN_OPEN = "{title}: no run open. Next: {when}."
NOT_SCHEDULED = "not scheduled again"
NO_CHATS_PLANNED = "No chats are planned here."
UPCOMING = "Upcoming chats:"
SUBSCRIBE = "Add them to your calendar: {url}"
QUIET = "Done: chathost will not nudge you. (/quietchat off to undo.)"
LOUD = "Nudges are back on for you."
FORGOTTEN = (
    "Deleted {messages} of your stored messages, with your reactions and "
    "nudges{recaps}. Anything you post in a chat from now on is recorded again."
)
FORGOTTEN_RECAPS = ", and took you out of {recaps}"
POSTED_RECAP = "posted recap"
# /chatstatus: its parts, joined by STATUS_JOIN and ended by STATUS_END.
STATUS_STATE = "{title}: {state}"
STATUS_OPEN = "{question_id} of {count} open"
STATUS_OPEN_UNTIL = "{question_id} open until {when}"
# Where a platform shows times in each reader's zone, the adapter adds the close times so.
CLOSES_IN_YOUR_ZONE = "{question_id} closes {when}"
STATUS_NEXT = "next {question_id} at {when}"
STATUS_STARTS = "starts {when}"
STATUS_ENDS = "ends {when}"
STATUS_COUNTS = "{messages} messages from {people} people"
STATUS_JOIN = ", "
STATUS_END = "."

# The recap: the same words on every platform and in every export.
NEW_AND_RETURNING = "({new} new, {returning} returning)"
PARTICIPANTS = "{participants} " + NEW_AND_RETURNING
MINUTES = "{minutes} min"
HOURS = "{hours} h"
DAYS = "{days} days"


def how_long(minutes: int) -> str:
    """A run's length as people say it: minutes for a live hour, hours, then days for an
    async chat (a five-day chat is "5 days", not "7200 min")."""
    if minutes < 120:
        return MINUTES.format(minutes=minutes)
    hours, rest = divmod(minutes, 60)
    if hours < 48:
        return HOURS.format(hours=hours) + (" " + MINUTES.format(minutes=rest) if rest else "")
    days, hours = divmod(hours, 24)
    return DAYS.format(days=days) + (" " + HOURS.format(hours=hours) if hours else "")
REACH = "reach {members}"
INTERESTED = "{count} interested"  # in the run's scheduled event (a guild event)
THANKS = "Thank you {names} for taking part!"
WELCOME_FIRST_TIMERS = " A warm welcome to our first-timers: {names}."
NAMES_AND = " and "
SKIPPED_MARK = " (skipped)"
RECAP_QUESTION = "{question_id}{state}: {question} ({answers})"
RECAP_HIGHLIGHT = "  * {star}{name}: {text} ({reactions})"
HOST_PICK_STAR = "★ "
RECAP_HEADING = "Recap: {title} {tag}"
THEMES_TITLE = "Themes"
THEMES = THEMES_TITLE + ": {themes}"
LINKS = "Links: {urls}"
FULL_RECAP = "Full recap and downloads: {url}"
LINKS_SHARED = "Links shared"
THANK_YOU = "Thank you"
HOST_PICK = "host pick"
SKIPPED_WORD = "skipped"
# The recap's key phrases and what people said per question (issue 16), on every platform.
PHRASES_TITLE = "Key phrases"
PHRASES = PHRASES_TITLE + ": {phrases}"
GROUPS_TITLE = "What people said"
# One group of answers: its label and how many answers it holds, the answer quoted, its author.
GROUP_HEAD = "{label} ({answers})"
RECAP_GROUP = "  - {head}: “{quote}” ({name})"


def plural(count: int, noun: str) -> str:
    """``1 answer``, ``2 answers``: the recap's nouns all take an s."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def join_names(names: Sequence[str]) -> str:
    """``ann``, ``ann and bo``, ``ann, bo and cy``."""
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + NAMES_AND + names[-1]


def participants(count: int, *, new: int, returning: int) -> str:
    """``5 participants (2 new, 3 returning)``."""
    return PARTICIPANTS.format(
        participants=plural(count, "participant"), new=new, returning=returning
    )


def thanks(names: Sequence[str], first_timers: Sequence[str]) -> str:
    """Thanks naming everyone, and a welcome to the first-timers when not all are new."""
    text = THANKS.format(names=join_names(names))
    if first_timers and len(first_timers) < len(names):
        text += WELCOME_FIRST_TIMERS.format(names=join_names(first_timers))
    return text


def recap_heading(title: str, tag: str) -> str:
    return RECAP_HEADING.format(title=title, tag=tag).rstrip()


# Calendars (bot/export/calendar.py): a chat as an event in people's calendars.
CALENDAR_NAME = "chathost chats"
CALENDAR_LOCATION = "#{channel} on {platform}"
CALENDAR_QUESTIONS = "The questions:"
CALENDAR_ARCHIVE = "Past runs and recaps: {url}"

# A run as a plan entry (bot/export/plan_export.py): the comment above it, and why none.
PLAN_EXPORT_HEADER = (
    "From run {run_id} of {title}, started {start} ({zone}): its questions at the offsets\n"
    "they were asked at. Set the start (or an rrule) for next time; check it with\n"
    "chathost validate FILE, then paste the entry under your plan's chats:."
)
PLAN_EXPORT_EMPTY = "run {run_id} asked no question: a plan's chat needs at least one"
# ``chathost rehearse --adhoc``: what its replies file must start with.
REHEARSE_ADHOC_FIRST = (
    "--adhoc rehearses a spontaneous chat: the replies file must start with "
    "/startchat TITLE, typed by someone adhoc: lets start one (see examples/adhoc-replies.yaml)"
)
# The replies' /startchat was answered, and no chat started (the answer says why).
REHEARSE_ADHOC_REFUSED = (
    "--adhoc: the replies' {command} by {user} started no chat; the bot answered: {answer} "
    "Fix the replies file (see examples/adhoc-replies.yaml)"
)
