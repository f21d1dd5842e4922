"""Modal submissions: the answer modal and the goals modal.

A storage failure answers with an error shown in the modal (`response_action: errors`), so the
modal stays open with the rep's text still in the field: nothing is lost.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App
from slack_sdk import WebClient
from sqlalchemy.exc import SQLAlchemyError

from core.services import Services
from handlers.checkin_flow import answered
from handlers.context import parse_id
from handlers.render import answer as answer_view
from handlers.render import goals as goals_view
from storage import checkins
from storage.goals import GoalError, add_goal, archive_goal, edit_goal
from storage.people import enroll_rep

log = logging.getLogger(__name__)
NOT_SAVED = "I couldn't save this just now; your text is still here. Please press Save again in a minute."


def register(app: App, services: Services) -> None:
    @app.view_closed(answer_view.CALLBACK)
    @app.view_closed(goals_view.CALLBACK)
    def closed(ack: Ack) -> None:
        ack()  # closing a modal saves nothing and needs no answer

    @app.view(answer_view.CALLBACK)
    def submit_answer(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient) -> None:
        user_id = body["user"]["id"]
        text, confidence, help_wanted = answer_view.read_answer(view["state"]["values"])
        checkin_id = parse_id(view.get("private_metadata")) or -1
        now = services.now()
        try:
            with services.sessions.begin() as session:
                checkin = checkins.own_checkin(session, services.team_id, user_id, checkin_id)
                if checkin is None:
                    ack(response_action="errors",
                        errors={answer_view.ANSWER_BLOCK: "Sorry, I can't find that check-in."})
                    return
                recorded = checkins.record_answer(session, checkin, text, "modal", now,
                                                  confidence=confidence, help_wanted=help_wanted)
                answer_id = recorded.answer.id
        except checkins.CheckInError as exc:
            ack(response_action="errors", errors={answer_view.ANSWER_BLOCK: str(exc)[:150]})
            return
        except SQLAlchemyError:
            log.exception("could not store a modal answer for check-in %s", checkin_id)
            ack(response_action="errors", errors={answer_view.ANSWER_BLOCK: NOT_SAVED})
            return
        ack()
        answered(services, client, checkin, answer_id, recorded.created)

    @app.view(goals_view.CALLBACK)
    def submit_goals(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        user_id = body["user"]["id"]
        edits, new = goals_view.edited_texts(view["state"]["values"])
        now = services.now()
        try:
            with services.sessions.begin() as session:
                enroll_rep(session, services.team_id, user_id, now)
                for goal_id, text in edits.items():
                    if text.strip():
                        edit_goal(session, services.team_id, user_id, goal_id, text)
                    else:  # clearing a goal's text is how a rep removes it from the list
                        archive_goal(session, services.team_id, user_id, goal_id, now)
                if new:
                    add_goal(session, services.team_id, user_id, new, now)
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
        from handlers.home import publish_home

        publish_home(services, user_id)
