"""Buttons of the drift guard: the held question's three choices, the warning DM's buttons, the
health report's pages, and the App Home health meter.

Every button re-checks who clicked: a held question answers only to the manager who asked it (and
who still manages the rep), so a forged payload gets the same refusal as a missing question.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Literal

from slack_sdk import WebClient
from slack_sdk.models.blocks import Block
from sqlalchemy.orm import Session

from core.services import Services
from handlers.cmd_guard import deliver, health_report
from handlers.context import REFUSAL, action_value, parse_id, services_of
from handlers.render import guard as render
from handlers.render.guard_health import (
    HEALTH_NEXT,
    HEALTH_PREV,
    health_modal,
    home_admin_section,
    home_manager_section,
    loading_modal,
    notice_modal,
)
from handlers.text import mention
from scheduling.warnings import org_states, rep_health
from storage import guard
from storage.models import User
from storage.people import ensure_user
from storage.schedules import schedule_for

if TYPE_CHECKING:  # types only: the dispatch pass (cron) loads these modules without Bolt
    from slack_bolt import Ack, App, BoltContext
    from slack_bolt.context.respond import Respond


log = logging.getLogger(__name__)

Choice = Literal["suggestion", "send", "cancel"]


def _refuse(respond: Respond | None) -> None:
    if respond is not None:
        respond(text=REFUSAL, response_type="ephemeral", replace_original=False)


def _replace(respond: Respond | None, text: str) -> None:
    if respond is not None:
        respond(text=text, blocks=render.resolved(text), replace_original=True)


def resolve_held(services: Services, user_id: str, question_id: int | None, choice: Choice,
                 respond: Respond | None) -> None:
    """Carry out the manager's choice on a held question, after checking it is theirs to make."""
    with services.sessions.begin() as session:
        question = guard.own_question(session, services.team_id, user_id, question_id or -1)
        mine = question is not None and question.rep_id in guard.manager_reps(session, services.team_id, user_id)
        if question is not None and mine:
            status, rep, reasons = question.status, question.rep_id, guard.hold_reasons(question)
            changed = False
            rewrite = "tone" in reasons and bool(question.suggestion)
            if choice == "cancel" or (choice == "suggestion" and not rewrite):
                # Without a rewrite (a budget or pause hold) the coaching advice is to wait.
                changed = guard.cancel_question(session, question.id, used_suggestion=choice == "suggestion")
    if not mine:
        _refuse(respond)
        return
    if status != "held":
        _replace(respond, f"That question to {mention(rep)} was already {status}.")
        return
    if choice == "cancel":
        _replace(respond, "Not sent. Nothing reached your rep." if changed else "That question was already handled.")
        return
    if choice == "suggestion" and not rewrite:
        _replace(respond, f"Not sent. Bring it up at {mention(rep)}'s next check-in or 1:1, where it can "
                          "sit alongside their goals." if changed else "That question was already handled.")
        return
    if choice == "send":
        # Sending past a hold is the manager's call; it is recorded (overridden) for their health report.
        log.info("manager %s overrode a hold (%s) on question %s", user_id, ",".join(reasons), question_id)
    delivery = deliver(services, question_id or -1, use_suggestion=choice == "suggestion",
                       overridden=choice == "send" or bool(set(reasons) - {"tone"}))
    if delivery.outcome in ("sent", "queued"):
        _replace(respond, render.sent_note(delivery.rep, delivery.text, waiting=delivery.note))
    elif delivery.outcome == "gone":
        _replace(respond, "That question was already handled.")
    elif respond is not None:
        respond(text="Slack didn't accept the message just now, so nothing was sent. Please try again in a "
                     "minute.", response_type="ephemeral", replace_original=False)


def guard_home_section(session: Session, services: Services, user: User) -> list[Block]:
    """App Home: a manager's health meter; for admins, the organisation-wide counts."""
    now = services.now()
    blocks: list[Block] = []
    reps = guard.manager_reps(session, services.team_id, user.slack_id, reachable_only=True)
    if reps:
        blocks += home_manager_section(
            rep_health(session, services.config, services.team_id, user.slack_id, reps, now, trend=False))
    if user.slack_id in services.config.admins:
        blocks += home_admin_section(org_states(session, services.config, services.team_id, now))
    return blocks


def _held(choice: Choice) -> Any:
    def listener(ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
        ack()
        resolve_held(services_of(context), body["user"]["id"], parse_id(action_value(body)), choice, respond)

    return listener


def cadence_hint(ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    ack()
    services = services_of(context)
    user_id, rep = body["user"]["id"], action_value(body)
    hint: str | None = None
    with services.sessions.begin() as session:
        if rep in guard.manager_reps(session, services.team_id, user_id):
            user = ensure_user(session, services.team_id, rep, services.now())
            agreed = schedule_for(session, services.config, user).agreed
            hint = render.cadence_hint(rep, user.display_name, agreed.every, agreed.day, agreed.time)
    if hint is None:
        _refuse(respond)
        return
    respond(text=hint, response_type="ephemeral", replace_original=False)


def show_health(ack: Ack, body: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    ack()
    # The trigger_id lives 3 seconds and the report can take longer: open a loading modal now.
    opened = client.views_open(trigger_id=body["trigger_id"], view=loading_modal())
    view = opened.get("view") or {}
    report = health_report(services_of(context), body["user"]["id"])
    update = health_modal(report[1]) if report is not None else notice_modal(REFUSAL)
    client.views_update(view_id=view["id"], hash=view.get("hash"), view=update)


def page(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext) -> None:
    ack()
    report = health_report(services_of(context), body["user"]["id"], parse_id(action_value(body)) or 0)
    view = body.get("view") or {}
    if report is None:
        _refuse(respond)
    elif view.get("type") == "modal":
        client.views_update(view_id=view["id"], hash=view.get("hash"), view=health_modal(report[1]))
    elif respond is not None:
        respond(text=report[0], blocks=report[1], replace_original=True)


def register(app: App) -> None:
    app.action(render.USE_SUGGESTION)(_held("suggestion"))
    app.action(render.SEND_ANYWAY)(_held("send"))
    app.action(render.CANCEL)(_held("cancel"))
    app.action(render.CADENCE_HINT)(cadence_hint)
    app.action(render.SHOW_HEALTH)(show_health)
    app.action(HEALTH_PREV)(page)
    app.action(HEALTH_NEXT)(page)
