"""The chat plan: a valid plan loads; a broken one names file, line, column and field."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from bot.cli import main
from bot.core.events import User
from bot.core.plan import PlanError, load_plan, parse_plan, plan_json_schema

ROOT = Path(__file__).resolve().parents[2]

GOOD = """\
timezone: Europe/London
chats:
  - id: tea
    title: Tea
    tag: "#tea"
    channel: tea
    hosts: [kate]
    schedule:
      rrule: FREQ=WEEKLY;BYDAY=TU;BYHOUR=19;BYMINUTE=30
      duration: 1h40m
    announce: [1d, 15m]
    questions:
      - {id: Q1, at: 5m, text: one}
      - {id: q2, at: "57m30s", text: two}
"""


def issues_of(text: str) -> list[str]:
    with pytest.raises(PlanError) as caught:
        parse_plan(text, "chats.yaml")
    return [str(i) for i in caught.value.issues]


def test_a_valid_plan_loads_with_durations_and_inherited_timezone() -> None:
    plan = parse_plan(GOOD)
    chat = plan.chats[0]
    assert chat.timezone == "Europe/London"
    assert chat.schedule.duration == timedelta(hours=1, minutes=40)
    assert [q.id for q in chat.questions] == ["Q1", "Q2"]
    assert chat.questions[1].at == timedelta(minutes=57, seconds=30)
    assert chat.announce == [timedelta(days=1), timedelta(minutes=15)]


def test_a_bad_duration_is_reported_with_file_line_column_and_path() -> None:
    text = GOOD.replace('at: "57m30s"', 'at: "5x"')
    assert issues_of(text) == [
        'chats.yaml:14:22 chats[0].questions[1].at: "5x" is not a duration '
        "(use e.g. 1h, 1h40m, 57m30s or 12:30)"
    ]


def test_every_error_is_reported_at_once() -> None:
    text = """\
timezone: Mars/Olympus
chats:
  - id: tea
    title: Tea
    channel: tea
    hosts: [kate]
    qestions: []
    schedule: {start: "2026-12-01 19:30", duration: 1h}
    questions:
      - {id: Q1, at: 5m, text: one}
      - {id: Q1, at: 70m, text: two}
  - id: tea
    title: Second
    platform: irc
    channel: x
    hosts: [kate]
    schedule: {rrule: "FREQ=SOMETIMES", duration: 1h}
    questions: [{id: Q1, at: 5m, text: one}]
"""
    found = issues_of(text)
    assert found[0] == (
        'chats.yaml:1:11 timezone: "Mars/Olympus" is not a known time zone (use e.g. Europe/London)'
    )
    assert (
        "chats.yaml:7:5 chats[0].qestions: unknown key 'qestions' (did you mean 'questions'?)"
        in found
    )
    assert any(f.startswith("chats.yaml:14:15 chats[1].platform:") for f in found)
    assert any(f.startswith("chats.yaml:17:23 chats[1].schedule.rrule:") for f in found)
    assert len(found) == 4  # the first chat's own errors stop its deeper checks


def test_an_id_written_as_a_bare_number_is_that_id() -> None:
    """Telegram groups, Discord channels and people are numbers; YAML reads them as ints."""
    text = GOOD.replace("channel: tea", "channel: -1001234567890").replace(
        "hosts: [kate]", "hosts: [kate, 123456789012345678]"
    )
    chat = parse_plan(text).chats[0]
    assert chat.channel == "-1001234567890"
    assert chat.hosts == ["kate", "123456789012345678"]
    assert chat.hosted_by(User("123456789012345678", "someone"))
    assert issues_of(GOOD.replace("channel: tea", "channel: yes")) == [
        "chats.yaml:6:14 chats[0].channel: true: Input should be a valid string"
    ]


def test_semantic_errors_point_at_the_field() -> None:
    text = GOOD.replace('{id: q2, at: "57m30s"', '{id: Q1, at: "2h"')
    found = issues_of(text)
    assert "chats.yaml:14:14 chats[0].questions[1].id: duplicate question id 'Q1'" in found
    assert (
        "chats.yaml:14:22 chats[0].questions[1].at: 2h is past the chat's end (duration 1h40m)"
        in found
    )


def test_duplicate_chat_ids_and_yaml_keys() -> None:
    chat = GOOD.split("chats:\n", 1)[1]
    found = issues_of(
        "chats:\n" + chat + chat.replace("    title: Tea\n", "    title: Tea\n    title: Again\n")
    )
    assert any("duplicate chat id 'tea'" in f and "chats[1].id" in f for f in found)
    assert any("key 'title' appears twice" in f for f in found)


def test_yaml_syntax_error_has_a_position() -> None:
    found = issues_of("chats:\n  - id: [unclosed\n")
    assert len(found) == 1
    assert found[0].startswith("chats.yaml:3:1 (syntax): YAML syntax error")


def test_the_usual_syntax_slips_say_how_to_fix_them() -> None:
    [at] = issues_of(GOOD.replace("channel: tea", "channel: @teachat"))
    assert at.startswith("chats.yaml:6:14 (syntax)") and 'must be quoted, e.g. "@teachat"' in at
    [tab] = issues_of(GOOD.replace("    title: Tea", "\ttitle: Tea"))
    assert "indent with spaces, not tabs" in tab


def test_missing_file_is_a_plan_error(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match="cannot read"):
        load_plan(tmp_path / "nope.yaml")


def test_validate_command_prints_errors_and_fails(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "chats.yaml"
    bad.write_text(GOOD.replace("1h40m", "forever"))
    assert main(["validate", str(bad)]) == 1
    err = capsys.readouterr().err
    assert f"{bad}:10:17 chats[0].schedule.duration:" in err
    assert main(["validate", str(ROOT / "chats.yaml")]) == 0
    assert "OK (3 chats" in capsys.readouterr().out


def test_a_host_role_in_the_plan_makes_its_holders_hosts() -> None:
    chat = parse_plan(GOOD.replace("hosts: [kate]", 'hosts: [kate, "role:Tea Hosts"]')).chats[0]
    assert chat.hosted_by(User("u1", "alice", roles=("tea hosts", "777")))
    assert chat.hosted_by(User("u2", "kate"))  # people still host by name
    assert not chat.hosted_by(User("u3", "bob", roles=("Gardeners", "888")))
    assert not chat.hosted_by(User("u4", "Tea Hosts"))  # a person named like the role is not
    assert chat.host_people == ["kate"]  # failures are told to people, not to a role


def test_published_schema_is_current() -> None:
    published = json.loads((ROOT / "config" / "chats.schema.json").read_text())
    assert published == plan_json_schema(), "run `make schema` to regenerate it"


def test_schema_describes_the_plan_keys() -> None:
    schema = plan_json_schema()
    chat = schema["$defs"]["Chat"]
    assert chat["additionalProperties"] is False
    assert {"id", "schedule", "questions", "threads", "nudges"} <= set(chat["properties"])


def test_the_sample_plan_is_valid() -> None:
    plan = load_plan(ROOT / "chats.yaml")
    assert {c.platform for c in plan.chats} == {"console", "slack", "discord"}


ADHOC = """\
adhoc:
  hosts: [kate, "role:Moderators"]
  channels: [general, events]
  duration: 45m
  threads: per-question
  nudges: off
  summary: {highlights: 2, late_window: 10m}
"""


def test_the_adhoc_section_loads_with_its_settings() -> None:
    plan = parse_plan(ADHOC + GOOD.split("\n", 1)[1])
    adhoc = plan.adhoc
    assert adhoc.duration == timedelta(minutes=45)
    assert adhoc.threads == "per-question"
    assert adhoc.nudges.enabled is False  # `off` is YAML's false: both mean no nudges
    assert adhoc.summary.highlights == 2
    assert adhoc.allows_channel(lambda name: name == "events")
    assert not adhoc.allows_channel(lambda name: name == "random")
    assert plan.may_start_adhoc(User("u1", "kate"))
    assert plan.may_start_adhoc(User("u2", "zoe", roles=("moderators",)))
    assert not plan.may_start_adhoc(User("u3", "bob"))


def test_without_the_section_every_planned_host_may_start_one_anywhere() -> None:
    plan = parse_plan(GOOD.replace("hosts: [kate]", "hosts: [kate]\n    cohosts: [marco]"))
    assert plan.adhoc_hosts == ["kate", "marco"]
    assert plan.may_start_adhoc(User("u9", "Marco"))
    assert plan.adhoc.allows_channel(lambda name: False)  # no channel list: any channel
    assert plan.adhoc.duration == timedelta(hours=1)


def test_a_plan_of_only_spontaneous_chats_is_valid_when_it_names_hosts() -> None:
    plan = parse_plan("adhoc: {hosts: [kate], nudges: {after: 5m}}\n")
    assert plan.chats == [] and plan.adhoc.nudges.after == timedelta(minutes=5)
    assert issues_of("adhoc: {duration: 1h}\n") == [
        "chats.yaml:1:8 adhoc: list its hosts: the plan has no chats to take them from"
    ]


def test_adhoc_errors_name_line_column_and_field() -> None:
    text = ADHOC.replace("duration: 45m", "duration: soon").replace(
        "threads: per-question", "thread: none"
    ) + GOOD.split("\n", 1)[1].replace('at: "57m30s"', 'at: "5x"')
    found = issues_of(text)
    assert 'chats.yaml:4:13 adhoc.duration: "soon" is not a duration' in found[0]
    assert found[1] == "chats.yaml:5:3 adhoc.thread: unknown key 'thread' (did you mean 'threads'?)"
    assert any(f.startswith("chats.yaml:20:22 chats[0].questions[1].at:") for f in found)


def test_validate_checks_the_adhoc_section(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "chats.yaml"
    bad.write_text(ADHOC.replace("nudges: off", "nudges: sometimes") + GOOD.split("\n", 1)[1])
    assert main(["validate", str(bad)]) == 1
    assert f"{bad}:6:11 adhoc.nudges:" in capsys.readouterr().err


def test_an_empty_list_of_adhoc_hosts_or_channels_is_refused() -> None:
    found = issues_of("timezone: UTC\nadhoc:\n  hosts: []\n  channels: []\n")
    assert found == [
        "chats.yaml:3:10 adhoc.hosts: [] lets nobody start a spontaneous chat; list some, or "
        "leave hosts out for the default",
        "chats.yaml:4:13 adhoc.channels: [] lets nobody start a spontaneous chat; list some, or "
        "leave channels out for the default",
    ]


def test_the_schema_describes_the_adhoc_section() -> None:
    adhoc = plan_json_schema()["$defs"]["AdHoc"]
    assert adhoc["additionalProperties"] is False
    assert set(adhoc["properties"]) == {
        "hosts",
        "channels",
        "duration",
        "threads",
        "nudges",
        "summary",
    }
    assert {"enum": ["on", "off"]} in adhoc["properties"]["nudges"]["anyOf"]


def test_x_ids_belong_to_questions_added_with_ask_not_to_a_plan() -> None:
    found = issues_of(GOOD.replace("{id: q2,", "{id: x1,"))
    assert any(
        "X1: X ids are given to questions added with /ask; use Q1, Q2..." in f for f in found
    )
    question = plan_json_schema()["$defs"]["Question"]
    assert question["properties"]["id"]["pattern"] == "^[Qq]\\d+$"
