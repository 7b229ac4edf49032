"""Discord: discord.py over the fake Discord's gateway and REST (tests/discord/harness.py)."""

from __future__ import annotations

import json
from typing import Any

from bot.core.clock import SimClock
from bot.core.commands import command_named
from bot.core.commands.table import ArgKind
from bot.core.plan import Plan
from bot.export.pictures import recap_pictures
from tests.conformance.world import Answer, Post, Said, WrappedWorld
from tests.discord.harness import EPHEMERAL, Harness, Json, running_harness

EMOJI = {"star": "⭐", "+1": "👍", "tea": "🍵"}  # Discord sends unicode emoji
MENU = "Highlight in recap"


def shown_text(message: Json) -> str:
    """A message as a reader sees it: its content, its first embed's title, text and fields."""
    embed = (message.get("embeds") or [{}])[0]
    parts = [message.get("content"), embed.get("title"), embed.get("description")]
    parts += [f"{f['name']}: {f['value']}" for f in embed.get("fields") or ()]
    return "\n".join(p for p in parts if p)


class DiscordConformance(WrappedWorld):
    platform = "discord"
    channel = "general"
    threads = "per-question"

    async def start(self, plan: Plan, clock: SimClock) -> None:
        self.plan, self.clock = plan, clock
        self.h: Harness = await self._open(running_harness(self.store, plan, clock=clock))

    @property
    def _general(self) -> int:
        return self.h.fake.channel(self.channel).id

    def user_id(self, name: str) -> str:
        return str(self.h.fake.user(name).id)

    def emoji(self, name: str) -> str:
        return EMOJI[name]

    def _in_channel(self, channel_id: int) -> list[Json]:
        """The bot's messages a channel (or thread) shows now, oldest first."""
        fake = self.h.fake
        shown = [
            m
            for m in fake.messages.values()
            if m["channel_id"] == str(channel_id) and m["author"]["id"] == str(fake.bot_user.id)
        ]
        return sorted(shown, key=lambda m: int(m["id"]))

    def _question_thread(self, question: str) -> int:
        # a thread opened from a message shares the message's id
        [post] = [p for p in self.posts() if p.text.startswith(f"{question}: ")]
        return int(post.id)

    async def user_says(
        self, user: str, text: str, *, thread: str | None = None, reply_to: Said | None = None
    ) -> Said:
        where: int | str = self._question_thread(thread) if thread else self.channel
        extra = {"message_reference": reply_to.id} if reply_to else {}
        sent = await self.h.say(where, user, text, **extra)
        return Said(sent["id"], user, text, sent)

    async def react(self, said: Said, user: str, emoji: str, *, remove: bool = False) -> None:
        await self.h.react(said.raw, user, EMOJI[emoji], remove=remove)

    async def edit(self, said: Said, text: str) -> None:
        await self.h.edit(said.raw, text)

    async def delete(self, said: Said) -> None:
        await self.h.delete(said.raw)

    async def command(self, user: str, name: str, args: str = "") -> Answer:
        """Discord's options, filled from the text as the command table reads it."""
        options: dict[str, object] = {}
        spec = command_named(name)
        words = args.split()
        ids = {c.id for c in self.plan.chats}
        for arg in spec.args if spec else ():
            if arg.kind is ArgKind.CHAT:
                named = next((w for w in words if w in ids), None)
                if named is not None:
                    options[arg.name] = named
                    words.remove(named)
            elif arg.kind is ArgKind.TEXT and words:
                options[arg.name], words = " ".join(words), []
            elif words:
                word = words.pop(0)
                options[arg.name] = True if arg.words else word
        callback = await self.h.command(name, user, options or None)
        return _answer(callback.json)

    async def highlight(self, user: str, said: Said) -> Answer:
        fake = self.h.fake
        where = int(said.raw["channel_id"])
        inter = await fake.invoke_message_command(MENU, said.id, user=user, channel=where)
        (callback,) = await fake.wait_for(("POST", f"/interactions/{inter['id']}/"))
        return _answer(callback.json)

    def link(self, said: Said) -> str:
        guild = self.h.fake.channel(self.channel).guild_id
        return f"https://discord.com/channels/{guild}/{said.raw['channel_id']}/{said.id}"

    async def deliver_twice(self, user: str, text: str) -> Said:
        """The gateway asks for a reconnect; on RESUME it sends the last event again."""
        said = await self.user_says(user, text)
        await self.h.fake.drop_connections(reconnect_op=True, replay_last=1)
        self._twice = await self.h.adapter.journal.wait_for("message", said.id, count=2)
        return said

    def rate_limit_next_post(self) -> None:
        self.h.fake.fail_next("POST", "/channels/{id}/messages", times=1, retry_after=0.2)

    def lose_answer_of_next_post(self, *, dm_to: str | None = None) -> None:
        channel = self.h.fake.dm_channel(dm_to).id if dm_to else "{id}"
        self.h.fake.lose_next_answer("POST", f"/channels/{channel}/messages")

    def posts(self) -> list[Post]:
        return [Post(m["id"], shown_text(m)) for m in self._in_channel(self._general)]

    def dms(self, user: str) -> list[str]:
        return [shown_text(m) for m in self._in_channel(self.h.fake.dm_channel(user).id)]

    def recap_shown(self) -> str:
        heads = [p for p in self.posts() if p.text.startswith("Recap:")]
        details = [shown_text(m) for p in heads for m in self._in_channel(int(p.id))]
        return "\n".join([p.text for p in heads] + details)

    # Discord's own evidence

    async def check_whole_chat(self, facts: dict[str, Any]) -> None:
        """Embeds: each question with its own thread, named after it; the recap's headline in
        the channel with a field per question, its details in a thread of it, the word cloud
        attached there last."""
        h, fake = self.h, self.h.fake
        (q1,) = [q for q in h.questions_posted() if q.json["embeds"][0]["description"][:2] == "Q1"]
        assert q1.json["embeds"][0]["description"] == "Q1: What brought you here? #teachat"
        q1_thread = fake.channel(int(q1.response["id"]))
        assert q1_thread.is_thread and q1_thread.parent_id == self._general
        assert q1_thread.name == "Q1: What brought you here?"
        question_threads = [r for r in h.threads_created() if r.json["name"].startswith("Q")]
        assert [r.json["name"][:2] for r in question_threads] == ["Q1", "Q2", "Q3"]

        (head,) = [
            r
            for r in h.channel_posts()
            if r.json.get("embeds") and r.json["embeds"][0].get("title", "").startswith("Recap")
        ]
        embed = head.json["embeds"][0]
        assert embed["title"] == "Recap: Tea Chat #teachat"
        assert f"**{facts['participants']}** participants" in embed["description"]
        assert f"**{facts['answers']}** answers" in embed["description"]
        members = len(fake.guilds[0].members)  # the server's, as discord.py caches its count
        assert f"Reach: **{members}** server members" in embed["description"]
        fields = {f["name"]: f["value"] for f in embed["fields"]}
        per_question = facts["answers_per_question"]
        assert fields["Q1: What brought you here?"] == f"{per_question['Q1']} answers"
        assert fields["Q2: What is hard about it?"] == f"{per_question['Q2']} answer"
        (recap_thread,) = [r for r in h.threads_created() if r.json["name"] == "Recap: Tea Chat"]
        assert recap_thread.path == (
            f"/channels/{self._general}/messages/{head.response['id']}/threads"
        )
        details = fake.messages_sent(int(head.response["id"]))
        detail_embeds = [e for r in details for e in r.json.get("embeds", [])]
        assert [e["title"] for e in detail_embeds][3:] == ["Links shared"]
        assert [e["title"][:2] for e in detail_embeds[:3]] == ["Q1", "Q2", "Q3"]
        assert facts["highlight"] in detail_embeds[0]["description"]  # the host's pick
        assert facts["link"] in detail_embeds[3]["description"]
        [cloud] = [r for r in details if r.files]  # the word cloud, after the details
        assert [name for name, _ in cloud.files] == ["wordcloud.png"]
        assert cloud.files[0][1].startswith(b"\x89PNG") and details[-1] is cloud
        stored = (await self.stored_run()).messages
        assert all(m.user_id != str(fake.bot_user.id) for m in stored)
        assert {m.channel_id for m in stored} == {str(self._general)}

    def _resent(self, channel_id: int) -> None:
        """The post whose answer was lost was sent again with the same nonce, and Discord
        answered with the message it already had."""
        path = f"/channels/{channel_id}/messages"
        sent = [r for r in self.h.fake.requests if r.method == "POST" and r.path == path]
        lost = [r for r in sent if r.status == 503]
        assert len(lost) == 1
        nonce = lost[0].json["nonce"]
        [landed] = [m for m in self.h.fake.messages.values() if m.get("nonce") == nonce]
        [again] = [r for r in sent if r.json.get("nonce") == nonce and r.status == 200]
        assert again.json.get("enforce_nonce") and again.response["id"] == landed["id"]

    async def check_lost_answer(self) -> None:
        self._resent(self._general)

    async def check_lost_nudge(self) -> None:
        self._resent(self.h.fake.dm_channel("bob").id)

    async def check_pick(self, said: Said, *, restarted: bool) -> None:
        """The late pick edited the recap in place: the headline, then the Q1 details in the
        headline's thread (found there by a restarted process too)."""
        fake = self.h.fake
        [head] = [p for p in self.posts() if p.text.startswith("Recap:")]
        details = [m for m in self._in_channel(int(head.id)) if not m["attachments"]]
        edits = [r for r in fake.requests if r.method == "PATCH" and r.status == 200]
        assert [r.path for r in edits[:2]] == [
            f"/channels/{self._general}/messages/{head.id}",
            f"/channels/{head.id}/messages/{details[0]['id']}",
        ]
        assert said.text in edits[1].json["embeds"][0]["description"]
        sent = [r for r in fake.messages_sent(int(head.id)) if not r.response["attachments"]]
        assert len(sent) == len(details)  # no detail posted a second time

    async def check_forgetme(self, *, restarted: bool) -> None:
        """Headline and details edited, without her; the word cloud's message kept, its
        picture replaced by one drawn without her words."""
        fake = self.h.fake
        [head] = [m for m in self._in_channel(self._general) if shown_text(m).startswith("Recap:")]
        assert "**1** participant" in head["embeds"][0]["description"]
        thread = int(head["id"])  # the details thread was opened from the headline
        now = self._in_channel(thread)
        shown = json.dumps([head, *now], ensure_ascii=False)
        assert "alice" not in shown and "jasmine" not in shown.lower()
        assert shown.count("⭐") == 1  # bob's pick; hers went with her answer
        [cloud] = [m for m in now if m["attachments"]]
        [first] = [r for r in fake.messages_sent(thread) if r.files]
        assert first.response["id"] == cloud["id"]  # the same message as first posted
        [edit] = [r for r in fake.requests if r.method == "PATCH" and r.files]
        assert edit.path == f"/channels/{thread}/messages/{cloud['id']}"
        recap = (await self.stored_run()).recap
        assert edit.files == [("wordcloud.png", recap_pictures(recap)[0].data)]
        assert edit.files[0][1] != first.files[0][1]
        assert len(fake.messages_sent(thread)) == len(now)  # nothing posted a second time

    async def check_rate_limit(self) -> None:
        h = self.h
        assert len(h.fake.rate_limited) == 1
        (q1,) = h.questions_posted()
        assert len(h.threads_created()) == 1
        post = (await self.stored_run()).post("question:Q1")
        assert (post.message_id, post.thread_id) == (q1.response["id"], q1.response["id"])

    async def check_repeated_delivery(self) -> None:
        assert [t.outcome for t in self._twice] == ["stored", "unchanged"]
        assert len(self.h.fake.gateway_ops(6)) == 1  # it was a RESUME, not a new session


def _answer(callback: Json) -> Answer:
    assert callback["type"] == 4, callback  # answered at once, not deferred
    data = callback["data"]
    return Answer(str(data["content"]), bool(data.get("flags", 0) & EPHEMERAL))
