"""Button and menu listeners on check-ins and the goals modal.

Every action re-checks ownership: a forged payload naming another rep's check-in or goal is
refused exactly like a missing one, so the refusal reveals nothing. Each action's rules are a
plain function of a session and its inputs (tested without Slack); the listener parses the
payload, runs the rules in one transaction, and only then talks to Slack.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from coaching.cadence import snooze_until
from core.config import AdminConfig
from handlers.checkin_flow import question_of, update_checkin_message
from handlers.context import REFUSAL, action, action_value, parse_id, services_of
from handlers.render.answer import answer_modal
from handlers.render.checkin import ADD_GOAL, ANSWER, PICK_GOAL, SKIP, SNOOZE
from handlers.render.goals import ARCHIVE, DOWN, UP, edited_texts, goals_modal
from handlers.text import slack_time
from storage import checkins
from storage.conversation import request_of
from storage.goals import GoalError, active_goals, archive_goal, move_goal, own_goal
from storage.models import Answer, CheckIn, HelpState, User
from storage.people import ensure_user
from storage.schedules import schedule_for

log = logging.getLogger(__name__)


class Change(enum.Enum):
    """What a skip, snooze or goal switch did."""

    REFUSED = "refused"  # not the caller's, not found, or not in a state that allows it
    UNCHANGED = "unchanged"  # already done (a double click, or a race with the dispatcher)
    DONE = "done"


@dataclass(frozen=True)
class AnswerTarget:
    checkin: CheckIn
    text: str | None
    confidence: int | None
    help_wanted: bool


@dataclass(frozen=True)
class Snoozed:
    change: Change
    checkin: CheckIn | None = None
    until: dt.datetime | None = None
    zone: str = "UTC"


@dataclass(frozen=True)
class Switched:
    change: Change
    checkin: CheckIn | None = None


# --- the rules --------------------------------------------------------------------------------


def answer_target(session: Session, team_id: str, user_id: str, checkin_id: int) -> AnswerTarget | None:
    """The check-in the answer modal opens for, with any earlier answer; None if not the caller's
    or not sent yet."""
    checkin = checkins.own_checkin(session, team_id, user_id, checkin_id)
    if checkin is None or checkin.state in ("scheduled", "sending"):
        return None
    existing = session.scalar(select(Answer).where(Answer.checkin_id == checkin.id))
    if existing is None:  # help asked for with the button before answering stays ticked in the form
        request = request_of(session, checkin.id)
        return AnswerTarget(checkin, None, None, request is not None and request.state == HelpState.OPEN)
    return AnswerTarget(checkin, existing.text, existing.confidence, existing.help_wanted)


def skip_checkin(session: Session, team_id: str, user_id: str, checkin_id: int,
                 now: dt.datetime) -> tuple[Change, CheckIn | None]:
    checkin = checkins.own_checkin(session, team_id, user_id, checkin_id)
    if checkin is None:
        return Change.REFUSED, None
    return (Change.DONE if checkins.skip(session, checkin, now) else Change.UNCHANGED), checkin


def snooze_checkin(session: Session, config: AdminConfig, team_id: str, user_id: str, checkin_id: int,
                   now: dt.datetime) -> Snoozed:
    """Bring the check-in back in two hours, or when the rep's next allowed window opens."""
    checkin = checkins.own_checkin(session, team_id, user_id, checkin_id)
    user = session.scalar(select(User).where(User.team_id == team_id, User.slack_id == user_id))
    if checkin is None or user is None:
        return Snoozed(Change.REFUSED)
    schedule = schedule_for(session, config, user)
    until = snooze_until(now, schedule.cadence, schedule.zone)
    changed = checkins.snooze(session, checkin, until, now)
    return Snoozed(Change.DONE if changed else Change.UNCHANGED, checkin, until, schedule.zone.key)


def switch_goal(session: Session, team_id: str, user_id: str, checkin_id: int, goal_id: int,
                now: dt.datetime) -> Switched:
    """Point an open check-in at another of the rep's own goals."""
    checkin = checkins.own_checkin(session, team_id, user_id, checkin_id)
    goal = own_goal(session, team_id, user_id, goal_id)
    if checkin is None or goal is None or checkin.state != "sent":
        return Switched(Change.REFUSED)
    checkin.goal_id = goal.id
    goal.last_discussed_at = now
    return Switched(Change.DONE, checkin)


def change_goal(session: Session, team_id: str, user_id: str, goal_id: int, change: str,
                now: dt.datetime) -> str | None:
    """Archive a goal or move it up/down. Returns the notice to show in the modal, if any."""
    if own_goal(session, team_id, user_id, goal_id) is None:
        return "I couldn't find that goal."
    try:
        if change == "archive":
            archive_goal(session, team_id, user_id, goal_id, now)
            return "Archived. It stays in your history; it just won't come up in check-ins."
        move_goal(session, team_id, user_id, goal_id, -1 if change == "up" else 1)
    except GoalError as exc:
        return str(exc)
    return None


# --- the listeners ------------------------------------------------------------------------------


def _refuse(respond: Respond) -> None:
    respond(text=REFUSAL, response_type="ephemeral", replace_original=False)


def open_answer(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext) -> None:
    ack()
    services = services_of(context)
    with services.sessions.begin() as session:
        target = answer_target(session, services.team_id, body["user"]["id"], parse_id(action_value(body)) or -1)
    if target is None:
        _refuse(respond)
        return
    question, _ = question_of(services, target.checkin)
    client.views_open(trigger_id=body["trigger_id"], view=answer_modal(
        target.checkin.id, question, target.text, target.confidence, target.help_wanted))


def skip(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext) -> None:
    ack()
    services = services_of(context)
    with services.sessions.begin() as session:
        change, checkin = skip_checkin(session, services.team_id, body["user"]["id"],
                                       parse_id(action_value(body)) or -1, services.now())
    if change is Change.REFUSED:
        _refuse(respond)
    elif change is Change.DONE and checkin is not None:
        update_checkin_message(services, checkin, "Skipped. No problem; see you next time.")


def snooze(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext) -> None:
    ack()
    services = services_of(context)
    with services.sessions.begin() as session:
        outcome = snooze_checkin(session, services.config, services.team_id, body["user"]["id"],
                                 parse_id(action_value(body)) or -1, services.now())
    if outcome.change is Change.REFUSED:
        _refuse(respond)
    elif outcome.change is Change.DONE and outcome.checkin is not None and outcome.until is not None:
        update_checkin_message(services, outcome.checkin,
                               f"Snoozed. I'll bring it back {slack_time(outcome.until, outcome.zone)}.")


def pick_goal(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext) -> None:
    ack()
    services = services_of(context)
    clicked = action(body)
    option = clicked.get("selected_option")
    if option is None and clicked.get("value") is None:
        return  # the documented deselect (no option chosen): nothing to change, nothing to refuse
    # A value where a select sends its option is forged; it is parsed (and refused) like any other.
    selected = str((option if isinstance(option, dict) else {"value": clicked.get("value")}).get("value") or "")
    checkin_part, _, goal_part = selected.partition(":")
    with services.sessions.begin() as session:
        outcome = switch_goal(session, services.team_id, body["user"]["id"], parse_id(checkin_part) or -1,
                              parse_id(goal_part) or -1, services.now())
    if outcome.checkin is None:
        _refuse(respond)
        return
    update_checkin_message(services, outcome.checkin, "Switched goal. Tap *Answer* or reply here.",
                           allow_edit=True)


def open_goals(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    services = services_of(context)
    user_id = body["user"]["id"]
    with services.sessions.begin() as session:
        ensure_user(session, services.team_id, user_id, services.now(), role="guest")  # opening isn't opting in
        goals = [(g.id, g.text) for g in active_goals(session, services.team_id, user_id)]
    client.views_open(trigger_id=body["trigger_id"], view=goals_modal(goals))


def _goal_control(body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext,
                  change: str) -> None:
    services = services_of(context)
    user_id = body["user"]["id"]
    view = body.get("view") or {}
    if not isinstance(view, dict) or not view.get("id"):
        _refuse(respond)  # these buttons exist only in the goals modal: a click from elsewhere is forged
        return
    edits, _ = edited_texts((view.get("state") or {}).get("values") or {})
    with services.sessions.begin() as session:
        notice = change_goal(session, services.team_id, user_id, parse_id(action_value(body)) or -1, change,
                             services.now())
        # Keep what the rep typed but hasn't saved yet.
        goals = [(g.id, edits.get(g.id) or g.text) for g in active_goals(session, services.team_id, user_id)]
    client.views_update(view_id=view["id"], hash=view.get("hash"), view=goals_modal(goals, notice))


def goal_up(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext) -> None:
    ack()
    _goal_control(body, client, respond, context, "up")


def goal_down(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext) -> None:
    ack()
    _goal_control(body, client, respond, context, "down")


def goal_archive(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext) -> None:
    ack()
    _goal_control(body, client, respond, context, "archive")


def register(app: App) -> None:
    app.action(ANSWER)(open_answer)
    app.action(SKIP)(skip)
    app.action(SNOOZE)(snooze)
    app.action(PICK_GOAL)(pick_goal)
    app.action(ADD_GOAL)(open_goals)
    app.action(UP)(goal_up)
    app.action(DOWN)(goal_down)
    app.action(ARCHIVE)(goal_archive)
