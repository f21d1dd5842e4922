"""Button and menu listeners on check-ins and the goals modal.

Every action re-checks ownership: a forged payload naming another rep's check-in or goal is
refused exactly like a missing one, so the refusal reveals nothing.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient
from sqlalchemy import select

from core.services import Services
from handlers.checkin_flow import question_of, update_checkin_message
from handlers.context import REFUSAL, action, action_value, parse_id
from handlers.render.answer import answer_modal
from handlers.render.checkin import ADD_GOAL, ANSWER, PICK_GOAL, SKIP, SNOOZE
from handlers.render.goals import ARCHIVE, DOWN, UP, edited_texts, goals_modal
from handlers.text import local_time
from scheduling.cadence import snooze_until
from scheduling.plan import schedule_for
from storage import checkins
from storage.goals import GoalError, active_goals, archive_goal, move_goal, own_goal
from storage.models import Answer, User
from storage.people import ensure_user

log = logging.getLogger(__name__)


def _refuse(respond: Respond) -> None:
    respond(text=REFUSAL, response_type="ephemeral", replace_original=False)


def register(app: App, services: Services) -> None:
    team = lambda: services.team_id  # noqa: E731 - read at call time (auth.test may set it later)

    @app.action(ANSWER)
    def open_answer(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        user_id = body["user"]["id"]
        with services.sessions.begin() as session:
            checkin = checkins.own_checkin(session, team(), user_id, parse_id(action_value(body)) or -1)
            if checkin is None or checkin.state in ("scheduled", "sending"):
                _refuse(respond)
                return
            existing = session.scalar(select(Answer).where(Answer.checkin_id == checkin.id))
            prior = (existing.text, existing.confidence, existing.help_wanted) if existing else (None, None, False)
        question, _ = question_of(services, checkin)
        client.views_open(trigger_id=body["trigger_id"],
                          view=answer_modal(checkin.id, question, prior[0], prior[1], prior[2]))

    @app.action(SKIP)
    def skip(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        with services.sessions.begin() as session:
            checkin = checkins.own_checkin(session, team(), body["user"]["id"], parse_id(action_value(body)) or -1)
            if checkin is None:
                _refuse(respond)
                return
            changed = checkins.skip(session, checkin, services.now())
        if changed:
            update_checkin_message(services, client, checkin, "Skipped. No problem; see you next time.")

    @app.action(SNOOZE)
    def snooze(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        now = services.now()
        user_id = body["user"]["id"]
        with services.sessions.begin() as session:
            checkin = checkins.own_checkin(session, team(), user_id, parse_id(action_value(body)) or -1)
            user = session.scalar(select(User).where(User.team_id == team(), User.slack_id == user_id))
            if checkin is None or user is None:
                _refuse(respond)
                return
            schedule = schedule_for(session, services.config, user)
            until = snooze_until(now, schedule.cadence, schedule.zone)
            changed = checkins.snooze(session, checkin, until, now)
        if changed:
            update_checkin_message(services, client, checkin,
                                   f"Snoozed. I'll bring it back {local_time(until, schedule.zone.key)}.")

    @app.action(PICK_GOAL)
    def pick_goal(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        option = action(body).get("selected_option")
        if option is None:
            return  # the documented deselect (no option chosen): nothing to change, nothing to refuse
        selected = str((option if isinstance(option, dict) else {}).get("value") or "")
        checkin_part, _, goal_part = selected.partition(":")
        user_id = body["user"]["id"]
        with services.sessions.begin() as session:
            checkin = checkins.own_checkin(session, team(), user_id, parse_id(checkin_part) or -1)
            goal = own_goal(session, team(), user_id, parse_id(goal_part) or -1)
            if checkin is None or goal is None or checkin.state != "sent":
                _refuse(respond)
                return
            checkin.goal_id = goal.id
            goal.last_discussed_at = services.now()
        update_checkin_message(services, client, checkin, "Switched goal. Tap *Answer* or reply here.",
                               allow_edit=True)

    @app.action(ADD_GOAL)
    def open_goals(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        ack()
        user_id = body["user"]["id"]
        with services.sessions.begin() as session:
            ensure_user(session, team(), user_id, services.now(), role="guest")  # opening isn't opting in
            goals = [(g.id, g.text) for g in active_goals(session, team(), user_id)]
        client.views_open(trigger_id=body["trigger_id"], view=goals_modal(goals))

    def _goal_control(body: dict[str, Any], client: WebClient, respond: Respond, change: str) -> None:
        user_id = body["user"]["id"]
        goal_id = parse_id(action_value(body)) or -1
        view = body.get("view") or {}
        if not isinstance(view, dict) or not view.get("id"):
            _refuse(respond)  # these buttons exist only in the goals modal: a click from elsewhere is forged
            return
        edits, _ = edited_texts((view.get("state") or {}).get("values") or {})
        notice = None
        with services.sessions.begin() as session:
            if own_goal(session, team(), user_id, goal_id) is None:
                notice = "I couldn't find that goal."
            else:
                try:
                    if change == "archive":
                        archive_goal(session, team(), user_id, goal_id, services.now())
                        notice = "Archived. It stays in your history; it just won't come up in check-ins."
                    else:
                        move_goal(session, team(), user_id, goal_id, -1 if change == "up" else 1)
                except GoalError as exc:
                    notice = str(exc)
            # Keep what the rep typed but hasn't saved yet.
            goals = [(g.id, edits.get(g.id) or g.text) for g in active_goals(session, team(), user_id)]
        client.views_update(view_id=view["id"], hash=view.get("hash"), view=goals_modal(goals, notice))

    @app.action(UP)
    def goal_up(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        _goal_control(body, client, respond, "up")

    @app.action(DOWN)
    def goal_down(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        _goal_control(body, client, respond, "down")

    @app.action(ARCHIVE)
    def goal_archive(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond) -> None:
        ack()
        _goal_control(body, client, respond, "archive")
