"""Plans the calendar tests share: the rules regulars remember, in zones with DST."""

from __future__ import annotations

from bot.core.plan import Plan, parse_plan

PLAN = """
chats:
  - id: last-monday
    title: "Learning chat"
    tag: "#lrnchat"
    platform: slack
    hosts: [kate]
    channel: learning
    timezone: Europe/London
    intro: "An hour on how we learn at work."
    schedule:
      rrule: FREQ=MONTHLY;BYDAY=-1MO;BYHOUR=19;BYMINUTE=30
      duration: 1h
      skip: [2027-08-30]
    questions:
      - {id: Q1, at: 5m, text: "What did you learn this month?"}
      - {id: Q2, at: 20m, text: "Culture or tools first?"}
  - id: weekly
    title: "Dev Thursday"
    platform: discord
    hosts: [kate]
    channel: dev
    timezone: America/New_York
    schedule:
      start: 2027-01-07 12:00
      rrule: FREQ=WEEKLY;INTERVAL=2;BYDAY=TH;UNTIL=20271231T120000
      duration: 45m
    questions:
      - {id: Q1, at: 5m, text: "What are you building?"}
  - id: one-off
    title: "Panel: AI in schools"
    platform: console
    hosts: [kate]
    channel: events
    timezone: Australia/Sydney
    schedule:
      start: 2027-04-04 02:30
      duration: 90m
    questions:
      - {id: Q1, at: 5m, text: "What worries you most?"}
"""


def plan(text: str = PLAN) -> Plan:
    return parse_plan(text, platforms=("slack", "discord", "console"))
