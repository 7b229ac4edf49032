"""Hostile and mistaken YAML: alias bombs, tags, bad dates, empty plans, and the two parsers
(libyaml and pure Python) giving the same data and positions."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from bot.adapters.console.replies import load_replies
from bot.core.plan import Plan, PlanError, load_plan, parse_plan
from bot.core.yaml_positions import load_positioned

ROOT = Path(__file__).resolve().parents[2]

CHAT = """\
  - id: tea
    title: Tea
    channel: tea
    hosts: [kate]
    schedule: {start: "2026-12-01 19:30", duration: 1h}
    questions:
      - {id: Q1, at: 5m, text: one}
"""


def issues_of(text: str) -> list[str]:
    with pytest.raises(PlanError) as caught:
        parse_plan(text, "chats.yaml")
    return [str(i) for i in caught.value.issues]


def bomb(levels: int) -> str:
    """The "billion laughs": each level is nine aliases of the one before."""
    names = "abcdefghijklmnop"[:levels]
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for prev, name in itertools.pairwise(names):
        lines.append(f"{name}: &{name} [{','.join([f'*{prev}'] * 9)}]")
    return "\n".join([*lines, f"chats: *{names[-1]}"]) + "\n"


# --- 1. alias bombs ---------------------------------------------------------------------------


def test_an_alias_bomb_is_refused_at_the_alias_that_overflows() -> None:
    # 6 levels: 9**6 (531,441) strings, over the limit for a 250-byte file.
    found = issues_of(bomb(6))
    assert len(found) == 1
    assert found[0].startswith("chats.yaml:6:")
    assert "too many aliases expanded" in found[0]
    assert " f[" in found[0] and "*e" in found[0]  # the path and the name of the alias


def test_the_full_billion_laughs_is_refused_without_blowing_up(tmp_path: Path) -> None:
    """Nine levels (387 million strings). In a child process with 2 GB of address space and a
    hang guard, so that code which expands it fails this test instead of the machine."""
    plan = tmp_path / "bomb.yaml"
    plan.write_text(bomb(9))
    assert len(plan.read_bytes()) < 400
    script = textwrap.dedent(f"""
        import json, resource, sys
        resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))
        from bot.core.plan import PlanError, load_plan
        try:
            load_plan({str(plan)!r})
        except PlanError as exc:
            print(json.dumps([str(i) for i in exc.issues]))
    """)
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr[-2000:]
    found = json.loads(done.stdout)
    assert len(found) == 1 and "too many aliases expanded" in found[0], found


def test_ordinary_aliases_and_merges_still_work() -> None:
    text = """\
chats:
  - &tea
    id: tea
    title: Tea
    channel: tea
    hosts: &hosts [kate, marco]
    schedule: {start: "2026-12-01 19:30", duration: 1h}
    questions: [{id: Q1, at: 5m, text: one}]
  - <<: *tea
    id: coffee
    title: Coffee
    cohosts: *hosts
"""
    tea, coffee = parse_plan(text).chats
    assert (coffee.id, coffee.title, coffee.channel) == ("coffee", "Coffee", "tea")
    assert coffee.cohosts == tea.hosts == ["kate", "marco"]
    found = issues_of(text.replace("cohosts: *hosts", "cohosts: *hosts\n    nudges: {bad: 1}"))
    assert found == ["chats.yaml:13:14 chats[1].nudges.bad: unknown key 'bad'"]


def test_merged_keys_can_be_overridden_without_a_duplicate_key_error() -> None:
    text = "chats:\n" + CHAT.replace("    title: Tea\n", "    <<: {title: Old, tag: '#t'}\n    title: Tea\n")
    chat = parse_plan(text).chats[0]
    assert (chat.title, chat.tag) == ("Tea", "#t")


def test_an_error_inside_a_merged_value_points_into_the_anchor() -> None:
    text = "x: &d {duration: forever}\nchats:\n" + CHAT.replace(
        'schedule: {start: "2026-12-01 19:30", duration: 1h}',
        'schedule: {start: "2026-12-01 19:30", <<: *d}',
    )
    found = issues_of(text)
    assert 'chats.yaml:1:18 chats[0].schedule.duration: "forever" is not a duration' in " ".join(
        found
    )


def test_an_alias_inside_its_own_anchor_and_an_unknown_alias_are_positioned() -> None:
    assert issues_of("chats: &x [*x]") == [
        "chats.yaml:1:12 chats[0]: an alias refers to the value that contains it"
    ]
    found = issues_of("chats: [*nowhere]")
    assert len(found) == 1 and found[0].startswith("chats.yaml:1:9 (syntax):"), found


# --- 2. tags ----------------------------------------------------------------------------------


def test_tags_on_lists_maps_and_scalars_are_all_refused_with_positions() -> None:
    text = (
        'chats: !!python/object/apply:os.system ["echo owned"]\n'
        "timezone: !foo {a: 1}\n"
        "x: !bar 5\n"
    )
    assert issues_of(text) == [
        "chats.yaml:1:8 chats: the tag !!python/object/apply:os.system is not allowed: "
        "write plain values (text, numbers, dates, lists and mappings)",
        "chats.yaml:2:11 timezone: the tag !foo is not allowed: "
        "write plain values (text, numbers, dates, lists and mappings)",
        "chats.yaml:3:4 x: the tag !bar is not allowed: "
        "write plain values (text, numbers, dates, lists and mappings)",
    ]


@pytest.mark.parametrize("tag", ["!!set", "!!omap", "!!python/tuple", "!!binary", "!local"])
def test_other_tags_are_refused_too(tag: str) -> None:
    found = issues_of(f"chats:\n  - {tag} [1]\n")
    assert found == [
        f"chats.yaml:2:5 chats[0]: the tag {tag} is not allowed: "
        "write plain values (text, numbers, dates, lists and mappings)"
    ]


def test_core_schema_tags_are_fine() -> None:
    text = "chats: !!seq\n" + CHAT.replace("title: Tea", "title: !!str 5").replace(
        "hosts: [kate]", "hosts: !!seq [!!str kate]"
    )
    assert parse_plan(text).chats[0].title == "5"


# --- 3. unquoted bad dates ----------------------------------------------------------------------


def test_an_unquoted_bad_date_is_a_field_error_beside_the_others() -> None:
    text = "chats:\n" + CHAT.replace('start: "2026-12-01 19:30"', "start: 2026-13-45").replace(
        "at: 5m", "at: 5x"
    )
    assert issues_of(text) == [
        'chats.yaml:6:23 chats[0].schedule.start: "2026-13-45" is not a date-time '
        "(use e.g. 2026-12-01 19:30)",
        'chats.yaml:8:22 chats[0].questions[0].at: "5x" is not a duration '
        "(use e.g. 1h, 1h40m, 57m30s or 12:30)",
    ]


def test_an_unquoted_good_date_time_still_reads() -> None:
    text = "chats:\n" + CHAT.replace('"2026-12-01 19:30"', "2026-12-01 19:30:00")
    assert parse_plan(text).chats[0].schedule.start.isoformat() == "2026-12-01T19:30:00"


# --- 4. empty plans -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "where"),
    [("", "1:1"), ("chats: []\n", "1:8"), ("timezone: UTC\n", "1:1"), ("chats:\n", "1:7")],
)
def test_a_plan_with_no_chats_is_refused(text: str, where: str) -> None:
    assert issues_of(text) == [
        f"chats.yaml:{where} chats: the plan has no chats: add one under 'chats:' (see README)"
    ]


def test_a_plan_built_in_code_may_have_no_chats(tmp_path: Path) -> None:
    assert Plan().chats == []
    empty = tmp_path / "chats.yaml"
    empty.write_text("# nothing yet\n")
    with pytest.raises(PlanError, match="the plan has no chats"):
        load_plan(empty)


def test_chats_that_are_not_a_list_are_not_also_reported_as_empty() -> None:
    found = issues_of("chats: {}\n")
    assert len(found) == 1 and "no chats" not in found[0], found


# --- 5. libyaml and the pure-Python parser agree ------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        (ROOT / "chats.yaml").read_text(encoding="utf-8"),
        "a: &x {b: [1, 2.5, yes, ~, 2026-12-01, '3']}\nc: {<<: *x, d: *x}\n? [k]\n: v\n",
        "- 🌷: é\n  x: {y: 1, y: 2}\n",
    ],
)
def test_both_parsers_give_the_same_data_and_positions(text: str) -> None:
    fast = load_positioned(text, loader=yaml.CSafeLoader)
    slow = load_positioned(text, loader=yaml.SafeLoader)
    assert fast.data == slow.data
    assert fast.duplicate_keys == slow.duplicate_keys
    paths = set(fast.values) | set(slow.values)
    assert [fast.position(p) for p in sorted(paths, key=str)] == [
        slow.position(p) for p in sorted(paths, key=str)
    ]


# --- the replies file shares the loader -------------------------------------------------------


def test_the_replies_file_refuses_bombs_and_tags_and_still_loads(tmp_path: Path) -> None:
    replies = tmp_path / "replies.yaml"
    replies.write_text('- !!python/object:os.system {at: "1:00", user: ann, text: hi}\n')
    with pytest.raises(PlanError) as caught:
        load_replies(replies)
    assert [str(i) for i in caught.value.issues] == [
        f"{replies}:1:3 [0]: the tag !!python/object:os.system is not allowed: "
        "write plain values (text, numbers, dates, lists and mappings)"
    ]
    replies.write_text('- &m {at: "1:00", user: ann, text: hi}\n- {<<: *m, at: "2:00"}\n')
    assert [r.user for r in load_replies(replies)] == ["ann", "ann"]
    assert len(load_replies(ROOT / "examples" / "replies.yaml")) == 40


def test_a_merge_of_something_else_and_a_twice_defined_anchor_are_positioned() -> None:
    assert issues_of("x: &s hi\nchats:\n  - {<<: *s}\n") == [
        "chats.yaml:3:10 chats[0].<<: '<<' merges a mapping or a list of mappings"
    ]
    assert issues_of("a: &a [1]\nb: &a [2]\n") == [
        "chats.yaml:2:4 (syntax): YAML syntax error: the anchor &a is defined twice (first on line 1)"
    ]
