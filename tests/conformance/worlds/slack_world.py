"""Slack: slack-bolt and slack_sdk in HTTP mode against the fake Slack (tests/slack/world.py)."""

from __future__ import annotations

import json
from typing import Any, ClassVar

from bot.core.clock import SimClock
from bot.core.plan import Plan
from bot.export.pictures import recap_pictures
from tests.conformance.world import REPLIES, Answer, Post, Said, WrappedWorld
from tests.fakes import slack_requests as sr
from tests.slack.world import (
    CHANNEL,
    SlackWorld,
    block_texts,
    calls_in,
    details_of,
    shares_in,
    slack_world,
)

IDS = {"alice": "U0001", "bob": "U0002", "kate": "U0003", "marco": "U0004"}
EMOJI = {"star": "star", "+1": "+1", "tea": "tea"}  # Slack sends emoji by name


class SlackConformance(WrappedWorld):
    platform = "slack"
    channel = "chat2lrn"
    threads = "per-question"
    zones: ClassVar[dict[str, str]] = {"alice": "Europe/Berlin", "bob": "America/New_York"}
    cannot: ClassVar[dict[str, str]] = {
        REPLIES: "Slack has no replies outside threads: replying to a message is posting in "
        "its thread",
    }

    async def start(self, plan: Plan, clock: SimClock) -> None:
        self.plan, self.clock = plan, clock
        self.w: SlackWorld = await self._open(slack_world(self.store, plan=plan, clock=clock))

    def user_id(self, name: str) -> str:
        return IDS[name]

    def emoji(self, name: str) -> str:
        return EMOJI[name]

    def _user(self, name: str) -> tuple[str, str]:
        return IDS[name], name

    def _question_ts(self, question: str) -> str:
        [ts] = [p.id for p in self.posts() if p.text.startswith(f"{question}: ")]
        return ts

    async def user_says(
        self, user: str, text: str, *, thread: str | None = None, reply_to: Said | None = None
    ) -> Said:
        assert reply_to is None, self.cannot[REPLIES]
        thread_ts = self._question_ts(thread) if thread else None
        ts = await self.w.say(text, self._user(user), thread_ts=thread_ts)
        return Said(ts, user, text)

    async def react(self, said: Said, user: str, emoji: str, *, remove: bool = False) -> None:
        event = sr.reaction_event(
            EMOJI[emoji], item_ts=said.id, user=IDS[user], channel=CHANNEL, added=not remove
        )
        await self.w.event(event)

    async def edit(self, said: Said, text: str) -> None:
        event = sr.message_changed_event(
            ts=said.id,
            text=text,
            previous_text=said.text,
            channel=CHANNEL,
            edited_ts=self.w.ts(),
        )
        await self.w.event(event)

    async def delete(self, said: Said) -> None:
        await self.w.event(sr.message_deleted_event(deleted_ts=said.id, channel=CHANNEL))

    async def command(self, user: str, name: str, args: str = "") -> Answer:
        answer = await self.w.command(name, args, user=self._user(user))
        return Answer(answer["text"], answer.get("response_type") == "ephemeral")

    async def highlight(self, user: str, said: Said) -> Answer:
        answer = await self.w.shortcut("chathost_highlight", said.id, user=self._user(user))
        return Answer(answer["text"], answer.get("response_type") == "ephemeral")

    async def deliver_twice(self, user: str, text: str) -> Said:
        """Slack's retry of the event (same event id), then the same message under a new
        event id (what a second app connection or a replayed export would deliver)."""
        event = sr.message_event(text, user=IDS[user], channel=CHANNEL, ts=self.w.ts())
        payload = sr.event_callback(event)
        assert await self.w.deliver(payload) == 200
        assert await self.w.deliver(payload, retry_num=1) == 200
        again = sr.event_callback(event)
        assert again["event_id"] != payload["event_id"]
        assert await self.w.deliver(again) == 200
        return Said(event["ts"], user, text)

    def rate_limit_next_post(self) -> None:
        self.w.fake.fail_next("chat.postMessage", status=429, retry_after=1)
        # Slack limits its other methods too: the look-up of the next new speaker meets one.
        self.w.fake.fail_next("users.info", status=429, retry_after=1)

    def lose_answer_of_next_post(self, *, dm_to: str | None = None) -> None:
        channel = f"D{IDS[dm_to]}" if dm_to else None
        self.w.fake.lose_next_answer("chat.postMessage", channel=channel)

    def posts(self) -> list[Post]:
        return [
            Post(m["ts"], m.get("text", ""))
            for m in self.w.fake.messages.get(CHANNEL, [])
            if m.get("bot_id") and not m.get("thread_ts")
        ]

    def dms(self, user: str) -> list[str]:
        return [m.get("text", "") for m in self.w.fake.messages.get(f"D{IDS[user]}", [])]

    # Slack's own evidence

    async def check_whole_chat(self, facts: dict[str, Any]) -> None:
        """Block Kit: questions with a fallback text, each the parent of its own thread; the
        recap's header and fields, its details in its thread, the word cloud shared there."""
        fake = self.w.fake
        questions = self.w.questions()
        assert [q["text"].split(":")[0] for q in questions] == ["Q1", "Q2", "Q3"]
        assert all(q["blocks"] and q["text"] for q in questions)
        assert all("thread_ts" not in q for q in questions)
        [parent] = [m for m in fake.messages[CHANNEL] if m["text"].startswith("Recap: Tea Chat")]
        assert "thread_ts" not in parent
        assert parent["blocks"][0]["type"] == "header"
        shown = block_texts(parent)
        answers, participants = facts["answers"], facts["participants"]
        assert f"*Answers*\n{answers}" in shown
        assert f"*Participants*\n{participants} ({participants} new, 0 returning)" in shown
        recap = (await self.stored_run()).recap
        assert recap.stats.reach == 42  # the channel's members, read from Slack at the end
        assert "*Reach*\n42" in shown
        [details] = details_of(self.w, parent)
        assert facts["link"] in block_texts(details)
        assert f"Thanks {facts['thanked']}!" in block_texts(details)
        [share] = shares_in(self.w, parent)
        [cloud] = fake.files.values()
        assert (cloud["name"], cloud["channels"], cloud["thread_ts"]) == (
            "wordcloud.png",
            [CHANNEL],
            parent["ts"],
        )
        assert share["thread_ts"] == parent["ts"]
        assert fake.uploads[cloud["id"]].startswith(b"\x89PNG")
        assert len(fake.rejected) == 0
        # a name as Slack shows it: the display name where there is one, else the handle
        names = {m.user_id: m.user_name for m in (await self.stored_run()).messages}
        assert names == {"U0001": "alice", "U0002": "bob", "U0003": "Kate", "U0004": "marco"}

    async def check_lost_answer(self) -> None:
        [lookup] = calls_in(self.w.fake, "conversations.history")
        assert lookup.args["include_all_metadata"] in ("1", "true", True)
        [q1] = self.w.questions()[:1]
        assert q1["metadata"]["event_payload"]["key"].endswith("/question:Q1")

    async def check_lost_nudge(self) -> None:
        assert calls_in(self.w.fake, "conversations.history", channel="DU0002")

    async def check_rate_limit(self) -> None:
        # the question's post and the new speaker's look-up each met a 429, and each was
        # waited out for exactly Retry-After
        rejected = self.w.fake.rejected
        assert [(c.method, c.status) for c in rejected] == [
            ("chat.postMessage", 429),
            ("users.info", 429),
        ]
        assert self.w.sleep.delays.count(1.0) == 2

    async def check_repeated_delivery(self) -> None:
        assert self.w.adapter.inbound.duplicates == 1  # Slack's retry, by its event id

    async def check_pick(self, said: Said, *, restarted: bool) -> None:
        """The late pick edited the recap in place: its headline, then its details (found in
        the headline's thread by a process that did not post them)."""
        [parent] = [m for m in self.w.fake.messages[CHANNEL] if m["text"].startswith("Recap:")]
        [details] = details_of(self.w, parent)
        assert f">:star: *alice*: {said.text}" in block_texts(details)
        assert [c.args["ts"] for c in self.w.fake.calls_to("chat.update")] == [
            parent["ts"],
            details["ts"],
        ]
        looked_up = calls_in(self.w.fake, "conversations.replies", ts=parent["ts"])
        assert len(looked_up) == (1 if restarted else 0)

    async def check_opt_out(self) -> None:
        """No DM was even opened for the person who opted out."""
        opened = self.w.fake.calls_to("conversations.open")
        assert [c.args["users"] for c in opened] == [IDS["bob"]]

    async def check_forgetme(self, *, restarted: bool) -> None:
        """Headline and details edited, without her; the old word cloud (file and share)
        deleted and one drawn without her words shared into the same thread."""
        fake = self.w.fake
        [head] = [m for m in fake.messages[CHANNEL] if m["text"].startswith("Recap:")]
        [details] = details_of(self.w, head)
        shown = json.dumps([head, details])
        assert "alice" not in shown and "jasmine" not in shown.lower()
        assert "*Participants*\\n1" in shown
        assert shown.count(":star:") == 1  # bob's pick; hers went with her answer
        [deleted] = [c.args["file"] for c in fake.calls_to("files.delete")]
        assert deleted not in fake.files
        [share] = shares_in(self.w, head)
        [new_file] = share["files"]
        assert new_file["id"] != deleted
        recap = (await self.stored_run()).recap
        assert fake.uploads[new_file["id"]] == recap_pictures(recap)[0].data

    def link(self, said: Said) -> str:
        return f"https://fake.slack.com/archives/{CHANNEL}/p{said.id.replace('.', '')}"

    def recap_shown(self) -> str:
        parents = [m for m in self.w.fake.messages[CHANNEL] if m["text"].startswith("Recap:")]
        return "\n".join(block_texts(m) for p in parents for m in [p, *details_of(self.w, p)])
