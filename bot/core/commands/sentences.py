"""Every sentence the commands say, refusals and answers, in one place so that they can move
into the core's wording module (and be translated) without touching the handlers.

Templates take their values by name with ``str.format``.
"""

from __future__ import annotations

# Refusals: the command, the chat or the arguments do not fit.
UNKNOWN_COMMAND = "I don't know /{name}. Commands: {known}"
NOT_A_HOST = "Only the hosts of {title} ({hosts}) can use /{name}."
NO_CHAT_HERE = "No chat is planned in this channel; name one, e.g. /startchat CHAT_ID."
SEVERAL_CHATS_HERE = "Several chats use this channel ({names}); name one, e.g. /startchat ID."
UNKNOWN_CHAT = "{word} is not a chat in the plan (chats: {ids})."
MISSING_ARG = "/{name} needs its {placeholder}. {help}. Use it as {usage}"
BAD_SWITCH = '"{word}" is not an option of /{name}: {usage}'
TOO_MANY_ARGS = 'I did not expect "{extra}" after /{name}. Use it as {usage}'
NOT_RUNNING = "{title} is not running. /startchat starts it."
ALREADY_RUNNING = "{title} is already running."
ALL_QUESTIONS_OUT = "All questions are out. /endchat finishes the chat."
NOTHING_TO_SKIP = "There is no question left to skip."
CANNOT_PAUSE = "{title} is not running, so it cannot be paused."
NOT_PAUSED = "{title} is not paused."
BUSY = "The chat changed at the same moment; please try again."
NOT_RECORDED = "That message is not one chathost recorded in a chat."

# Answers.
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
QUIET = "Done: chathost will not nudge you. (/quietchat off to undo.)"
LOUD = "Nudges are back on for you."
FORGOTTEN = (
    "Deleted {messages} of your stored messages, with your reactions and "
    "nudges{recaps}. Anything you post in a chat from now on is recorded again."
)
FORGOTTEN_RECAPS = ", and took you out of {recaps}"
