"""Forged and tampered slash commands and clicks, shared by the fuzz tests (not a test module itself).

The attacker is a plain rep (no team to manage, not an admin) acting on another rep's rows, or
sending malformed arguments. Every case must be refused politely and change nothing.
"""

from __future__ import annotations

import json
import logging
import random
import re
import string
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select

from handlers.errors import SORRY
from handlers.render import checkin as checkin_render
from handlers.render import goals as goals_render
from handlers.render import guard as guard_render
from handlers.render import guard_health
from handlers.render import leave as leave_render
from handlers.render import manager as manager_render
from sandbox.models import TEAM_ID
from storage.models import AnswerRelay, Base, CadenceAgreement, CheckIn, Goal, ManagerQuestion, Membership
from storage.people import sync_config_teams
from wiring.harness import BotHarness

ATTACKER, VICTIM, MANAGER, OTHER, NEWBIE = "U0REP2", "U0REP1", "U0MANAGER", "U0OTHERMGR", "U0NEWBIE"
FORM = "application/x-www-form-urlencoded"
# Request de-duplication, Web API budgets and the users.list sweep's place: not user state.
BOOKKEEPING = {"processed_events", "seen_requests", "rate_budget", "user_sweeps"}
# Slack profile data cached on first sight (users.list, users.info), not state anyone's click decides.
PROFILE_CACHE = {"display_name", "tz", "tz_refreshed_at", "last_lookup_at"}

# Every action_id a listener is registered for. PAUSE_WEEK and RESUME are left out on purpose: they
# act on the clicker's own schedule whatever the value says, so there is nothing to forge.
ACTION_IDS = [
    checkin_render.ANSWER, checkin_render.SKIP, checkin_render.SNOOZE, checkin_render.PICK_GOAL,
    checkin_render.ADD_GOAL, goals_render.UP, goals_render.DOWN, goals_render.ARCHIVE,
    manager_render.ANSWER_REPLY, manager_render.ANSWER_THANKS, manager_render.TEAM_ACCEPT,
    manager_render.TEAM_DECLINE, manager_render.CADENCE_ACCEPT, manager_render.CADENCE_DECLINE,
    manager_render.FORGET_CONFIRM, manager_render.FORGET_CANCEL, guard_render.USE_SUGGESTION,
    guard_render.SEND_ANYWAY, guard_render.CANCEL, guard_render.CADENCE_HINT, guard_render.SHOW_HEALTH,
    guard_health.HEALTH_PREV, guard_health.HEALTH_NEXT, leave_render.CANCEL,
]
PRIVILEGED = ["summary", "team add", "cadence", "ask", "health"]
SIMPLE = ["goals", "now", "skip", "resume", "export", "forget", "home", "help"]
MENTION = re.compile(r"<@[UW][A-Z0-9]+(\|[^>]*)?>")


@dataclass
class Victim:
    """IDs of the victim's rows that a forged payload may name."""

    ids: list[str] = field(default_factory=list)
    users: list[str] = field(default_factory=list)


def set_up(bot: BotHarness) -> Victim:
    """A workspace with something to steal: the victim's goals, check-in, answer, invitation, proposal."""
    services = bot.services
    bot.sandbox.add_user(NEWBIE, name="nia", tz="UTC")
    with services.sessions.begin() as session:
        sync_config_teams(session, services.team_id, services.config, services.now())
    bot.slack.slash("goal add Win Acme", user=VICTIM)
    bot.slack.slash("goal add Grow Globex", user=VICTIM)
    bot.slack.slash("now", user=VICTIM)
    bot.slack.dm(VICTIM, "Acme is close; legal is the blocker")
    bot.slack.slash(f"cadence <@{VICTIM}> week tue 09:30", user=MANAGER)
    bot.slack.slash(f"team add <@{NEWBIE}>", user=OTHER)
    bot.slack.slash(f"ask <@{VICTIM}> Why haven't you closed Acme yet??", user=MANAGER)
    ids: list[str] = []
    with services.sessions.begin() as session:
        for model in (CheckIn, Goal, Membership, CadenceAgreement, ManagerQuestion, AnswerRelay):
            ids += [str(i) for i in session.scalars(select(model.id))]
    checkins = [i for i in ids]
    ids += [f"{c}:{g}" for c in checkins[:3] for g in checkins[:3]]
    return Victim(ids=ids, users=[VICTIM, MANAGER, OTHER, NEWBIE, "U0ADMIN", "UNOBODY1", "W0GRID"])


def snapshot(bot: BotHarness) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    with bot.services.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            if table.name not in BOOKKEEPING:
                columns = [c for c in table.columns if table.name != "users" or c.name not in PROFILE_CACHE]
                out[table.name] = sorted(repr(tuple(row)) for row in connection.execute(select(*columns)))
    return out


# ---- random cases (plain `random`, so 10,000 of them are cheap) ----------------------------------

_JUNK = string.ascii_letters + string.digits + " <>&|@!#*_~`:;'\"\\/%+=-.,?\t\n" + "éß漢😀\u202e\u0000"


def junk(rng: random.Random, longest: int = 40) -> str:
    return "".join(rng.choice(_JUNK) for _ in range(rng.randint(0, longest)))


def mention(rng: random.Random, victim: Victim) -> str:
    user = rng.choice([*victim.users, "U" + "".join(rng.choices(string.ascii_uppercase + string.digits, k=9))])
    return rng.choice([f"<@{user}>", f"<@{user}|{junk(rng, 8).replace('>', '')}>", f"@{user}", user])


def slash_text(rng: random.Random, victim: Victim) -> str:
    """A command the attacker may not run, or one whose arguments don't parse."""
    kind = rng.randrange(6)
    if kind == 0:
        return f"{rng.choice(PRIVILEGED)} {mention(rng, victim)} {junk(rng)}".strip()
    if kind == 1:
        return f"{rng.choice(PRIVILEGED)} {junk(rng)}".strip()
    if kind == 2:  # the issue's 500s: `ask` then a long run of < or &
        return "ask " + rng.choice("<&>") * rng.randint(1, 3000)
    if kind == 3:
        words = junk(rng).split()
        return f"{rng.choice([s for s in SIMPLE if s != 'help'])} {' '.join(words) or 'x'}"
    if kind == 4:
        value = junk(rng, 12)
        if re.fullmatch(r"\s*(\d{1,3}[dwDW]|\d{4}-\d\d-\d\d)\s*", value):
            value += "?"
        return f"pause {value} {junk(rng, 5)}".strip() if value.strip() else "pause"
    return rng.choice(["goal add " + "x" * rng.randint(281, 3900), "goal " + junk(rng), junk(rng) + "zz",
                       "ask", "team", "team remove " + mention(rng, victim), "summary 0w", "summary 99w",
                       "pause cancel", f"pause {junk(rng, 10)} to {junk(rng, 10)}"])


def forged_value(rng: random.Random, victim: Victim) -> Any:
    return rng.choice([
        rng.choice(victim.ids), rng.choice(victim.ids), str(rng.randint(-5, 10**6)), junk(rng), "", None,
        "9" * rng.randint(10, 400), rng.choice(victim.users), json.dumps({"id": rng.choice(victim.ids)}),
    ])


@dataclass
class Sender:
    """Sends signed requests straight into the WSGI app, as the attacker."""

    bot: BotHarness
    in_process: Any

    def slash(self, text: str) -> tuple[int, bytes]:
        sandbox = self.bot.sandbox
        channel = sandbox.im_channel(ATTACKER)
        target = sandbox.workspace.new_response_target(channel, ATTACKER)
        form = {"token": "x", "team_id": TEAM_ID, "team_domain": "sandbox", "channel_id": channel,
                "channel_name": "directmessage", "user_id": ATTACKER, "user_name": "ben", "command": "/checkin",
                "text": text, "api_app_id": "A0SANDBOX", "is_enterprise_install": "false",
                "response_url": f"{sandbox.base_url}/response/{target.token}",
                "trigger_id": sandbox.view_store.issue_trigger(ATTACKER)}
        body = urlencode(form).encode()
        return self.in_process.post(body, self.in_process.signed(body, FORM))

    def click(self, action_id: str, value: Any) -> tuple[int, bytes]:
        sandbox = self.bot.sandbox
        channel = sandbox.im_channel(ATTACKER)
        target = sandbox.workspace.new_response_target(channel, ATTACKER)
        action: dict[str, Any] = {"action_id": action_id, "block_id": "b1", "action_ts": f"{time.time():.6f}"}
        if action_id == checkin_render.PICK_GOAL:
            action.update(type="static_select", selected_option=None if value is None else {
                "text": {"type": "plain_text", "text": "x"}, "value": str(value)})
        else:
            action.update(type="button", text={"type": "plain_text", "text": "x"})
            if value is not None:
                action["value"] = str(value)
        payload = {"type": "block_actions", "user": {"id": ATTACKER, "username": "ben", "team_id": TEAM_ID},
                   "team": {"id": TEAM_ID, "domain": "sandbox"}, "api_app_id": "A0SANDBOX", "token": "x",
                   "trigger_id": sandbox.view_store.issue_trigger(ATTACKER),
                   "container": {"type": "message", "message_ts": "1.000001", "channel_id": channel},
                   "channel": {"id": channel, "name": "directmessage"},
                   "response_url": f"{sandbox.base_url}/response/{target.token}", "actions": [action]}
        body = urlencode({"payload": json.dumps(payload)}).encode()
        return self.in_process.post(body, self.in_process.signed(body, FORM))


def impolite(bot: BotHarness) -> list[str]:
    """Anything the attacker saw that is not a polite answer (the error handler's apology means a crash)."""
    return [e.text for e in bot.sandbox.ephemerals_to(ATTACKER) if SORRY in e.text or "Traceback" in e.text]


class Tracebacks(logging.Handler):
    """Counts log records carrying a traceback, and the bytes logged."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.tracebacks = 0
        self.bytes = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.bytes += len(self.format(record))
        if record.exc_info:
            self.tracebacks += 1
