"""A Markdown recap: what a host used to write by hand after the chat."""

from __future__ import annotations

from bot.core.recap import MessageView, Recap, plural


def _quote(message: MessageView) -> str:
    count = message.reaction_count
    reactions = f" ({plural(count, 'reaction')})" if count else ""
    text = message.text.replace("\n", " ")
    return f"- **{message.user_name}**: {text}{reactions}"


def recap_markdown(recap: Recap) -> str:
    s = recap.stats
    when = f"{recap.started_at:%Y-%m-%d %H:%M} UTC" if recap.started_at else "not started"
    lines = [
        f"# {recap.title} {recap.tag}".rstrip(),
        "",
        f"{when} · {s.duration_minutes} minutes",
        "",
        "| participants | new | returning | messages | answers | reactions |",
        "|---|---|---|---|---|---|",
        f"| {s.participants} | {s.first_timers} | {s.returning} | {s.messages} | {s.answers} "
        f"| {s.reactions} |",
        "",
    ]
    if recap.themes:
        lines += [f"**Themes:** {', '.join(recap.themes)}", ""]
    for question in recap.questions:
        skipped = " *(skipped)*" if question.skipped else ""
        lines += [f"## {question.id}: {question.text}{skipped}", ""]
        lines.append(f"{len(question.answers)} answers.")
        if question.highlights:
            lines += ["", "Highlights:", *(_quote(m) for m in question.highlights)]
        if question.answers:
            lines += ["", "<details><summary>All answers</summary>", ""]
            lines += [_quote(m) for m in question.answers]
            lines += ["", "</details>"]
        lines.append("")
    if recap.links:
        lines += ["## Links shared", ""]
        lines += [f"- <{link.url}> ({link.user_name})" for link in recap.links]
        lines.append("")
    if recap.participants:
        lines += ["## Thank you", ""]
        lines.append(", ".join(p.name for p in recap.participants) + ".")
        lines.append("")
    return "\n".join(lines)
