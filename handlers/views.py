"""Modal submissions: the answer modal and the goals modal.

A storage failure answers with an error shown in the modal (`response_action: errors`), so the
modal stays open with the rep's text still in the field: nothing is lost. Slack hears back only
after the transaction has ended.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from handlers.checkin_flow import answered
from handlers.context import parse_id, services_of
from handlers.home import publish_home
from handlers.render import answer as answer_view
from handlers.render import goals as goals_view
from storage import checkins
from storage.goals import GoalError, add_goal, archive_goal, edit_goal
from storage.models import CheckIn
from storage.people import enroll_rep

log = logging.getLogger(__name__)
NOT_SAVED = "I couldn't save this just now; your text is still here. Please press Save again in a minute."
NO_CHECKIN = "Sorry, I can't find that check-in."


def save_answer(session: Session, team_id: str, user_id: str, checkin_id: int, text: str,
                confidence: int | None, help_wanted: bool,
                now: dt.datetime) -> tuple[CheckIn, checkins.Recorded] | None:
    """Store the modal's answer on the caller's own check-in; None if it is not theirs.

    Raises CheckInError for an answer that breaks a rule, so the transaction rolls back.
    """
    checkin = checkins.own_checkin(session, team_id, user_id, checkin_id)
    if checkin is None:
        return None
    return checkin, checkins.record_answer(session, checkin, text, "modal", now, confidence=confidence,
                                           help_wanted=help_wanted)


def save_goals(session: Session, team_id: str, user_id: str, edits: dict[int, str], new: str | None,
               now: dt.datetime) -> None:
    """Apply the goals modal: edited texts, cleared ones archived, a new one added. Saving is opting in.

    Raises GoalError for a goal that breaks a rule (too long, too many, a duplicate).
    """
    enroll_rep(session, team_id, user_id, now)
    for goal_id, text in edits.items():
        if text.strip():
            edit_goal(session, team_id, user_id, goal_id, text)
        else:  # clearing a goal's text is how a rep removes it from the list
            archive_goal(session, team_id, user_id, goal_id, now)
    if new:
        add_goal(session, team_id, user_id, new, now)


def submit_answer(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient,
                  context: BoltContext) -> None:
    services = services_of(context)
    text, confidence, help_wanted = answer_view.read_answer(view["state"]["values"])
    checkin_id = parse_id(view.get("private_metadata")) or -1
    try:
        with services.sessions.begin() as session:
            saved = save_answer(session, services.team_id, body["user"]["id"], checkin_id, text, confidence,
                                   help_wanted, services.now())
    except checkins.CheckInError as exc:
        ack(response_action="errors", errors={answer_view.ANSWER_BLOCK: str(exc)[:150]})
        return
    except SQLAlchemyError:
        log.exception("could not store a modal answer for check-in %s", checkin_id)
        ack(response_action="errors", errors={answer_view.ANSWER_BLOCK: NOT_SAVED})
        return
    if saved is None:
        ack(response_action="errors", errors={answer_view.ANSWER_BLOCK: NO_CHECKIN})
        return
    ack()
    checkin, recorded = saved
    answered(services, client, checkin, recorded.answer.id, recorded.created)


def submit_goals(ack: Ack, body: dict[str, Any], view: dict[str, Any], context: BoltContext) -> None:
    services = services_of(context)
    user_id = body["user"]["id"]
    edits, new = goals_view.edited_texts(view["state"]["values"])
    try:
        with services.sessions.begin() as session:
            save_goals(session, services.team_id, user_id, edits, new, services.now())
    except GoalError as exc:
        block = goals_view.NEW_GOAL_BLOCK if new else next(iter(view["state"]["values"]))
        ack(response_action="errors", errors={block: str(exc)[:150]})
        return
    except SQLAlchemyError:
        log.exception("could not store goals for %s", user_id)
        block = next(iter(view["state"]["values"]), goals_view.NEW_GOAL_BLOCK)
        ack(response_action="errors", errors={block: NOT_SAVED[:150]})
        return
    ack()
    publish_home(services, user_id)


def closed(ack: Ack) -> None:
    ack()  # closing a modal saves nothing and needs no answer


def register(app: App) -> None:
    app.view_closed(answer_view.CALLBACK)(closed)
    app.view_closed(goals_view.CALLBACK)(closed)
    app.view(answer_view.CALLBACK)(submit_answer)
    app.view(goals_view.CALLBACK)(submit_goals)
