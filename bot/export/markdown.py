"""A Markdown recap: what a host used to write by hand after the chat."""

from __future__ import annotations

from bot.core import wording as say
from bot.core.recap import MessageView, QuestionRecap, Recap, plural, said_lines, thanks_text


def md_text(text: str) -> str:
    """User text for one Markdown line: no raw HTML, no fake links, no line breaks.

    The characters that would turn a message into HTML, a link or code in a Markdown viewer
    get a backslash (CommonMark lets any ASCII punctuation be escaped so). By plain
    replacements, the backslash first so that added ones are not doubled: an export escapes
    every text of its run, and this is several times faster than a regex or ``translate``.
    """
    return (
        " ".join(text.split())
        .replace("\\", "\\\\")
        .replace("<", "\\<")
        .replace(">", "\\>")
        .replace("[", "\\[")
        .replace("]", "\\]")
        .replace("`", "\\`")
    )


class _Names(dict[str, str]):
    """``md_text`` of each name, worked out on first use: a run's 50,000 messages come from
    a few hundred people."""

    def __missing__(self, name: str) -> str:
        self[name] = text = md_text(name)
        return text


def _quote(message: MessageView, names: _Names, *, pick: bool = False) -> str:
    extra = ""
    if message.reactions or message.edited or pick:  # most messages: none of these
        count = message.reaction_count
        notes = [plural(count, "reaction")] if count else []
        if message.edited:
            notes.append("edited")
        if pick:
            notes.append(say.HOST_PICK_STAR + say.HOST_PICK)
        extra = f" ({', '.join(notes)})" if notes else ""
    return f"- **{names[message.user_name]}**: {md_text(message.text)}{extra}"


def _question(question: QuestionRecap, names: _Names) -> list[str]:
    skipped = " *(skipped)*" if question.skipped else ""
    lines = [f"## {question.id}: {md_text(question.text)}{skipped}", ""]
    lines.append(f"{plural(len(question.answers), 'answer')}.")
    if question.highlights:
        lines += ["", "Highlights:"]
        picks = question.host_picks
        lines += [_quote(m, names, pick=m.message_id in picks) for m in question.highlights]
    if question.groups:
        lines += ["", f"{say.GROUPS_TITLE}:"]
        lines += [
            f"- **{md_text(head)}**: “{md_text(quote)}” ({names[name]})"
            for head, quote, name in said_lines(question)
        ]
    if question.answers:
        lines += ["", "<details><summary>All answers</summary>", ""]
        lines += [_quote(m, names) for m in question.answers]
        lines += ["", "</details>"]
    if question.host_messages:
        lines += ["", "From the hosts:"]
        lines += [
            f"> **{names[m.user_name]}**: {md_text(m.text)}  " for m in question.host_messages
        ]
    lines.append("")
    return lines


def recap_markdown(recap: Recap) -> str:
    s = recap.stats
    when = f"{recap.started_at:%Y-%m-%d %H:%M} UTC" if recap.started_at else "not started"
    reach = (
        " · " + say.REACH.format(members=plural(s.reach, "member")) if s.reach is not None else ""
    )
    lines = [
        f"# {md_text(recap.title)} {md_text(recap.tag)}".rstrip(),  # /startchat TITLE: typed
        "",
        f"{when} · {s.duration_minutes} minutes{reach}",
        "",
        "| participants | new | returning | messages | answers | reactions |",
        "|---|---|---|---|---|---|",
        f"| {s.participants} | {s.first_timers} | {s.returning} | {s.messages} | {s.answers} "
        f"| {s.reactions} |",
        "",
    ]
    if recap.url:
        lines += [f"Full recap, word cloud and downloads: <{recap.url}>", ""]
    if recap.questions:
        per_question = ", ".join(f"{q.id} {len(q.answers)}" for q in recap.questions)
        lines += [f"**Answers per question:** {per_question}", ""]
    if recap.themes:
        lines += [f"**{say.THEMES_TITLE}:** {md_text(', '.join(recap.themes))}", ""]
    if recap.phrases:
        lines += [f"**{say.PHRASES_TITLE}:** {md_text(', '.join(recap.phrases))}", ""]
    names = _Names()
    for question in recap.questions:
        lines += _question(question, names)
    if recap.links:
        lines += [f"## {say.LINKS_SHARED}", ""]
        lines += [f"- <{link.url}> ({md_text(link.user_name)})" for link in recap.links]
        lines.append("")
    if recap.participants:
        lines += [f"## {say.THANK_YOU}", "", md_text(thanks_text(recap)), ""]
    return "\n".join(lines)
