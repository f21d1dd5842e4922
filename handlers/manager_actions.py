"""Buttons and modals of the manager features: thanks and notes on answers, team invitations,
cadence proposals and the forget confirmation.

Every handler re-checks in the database that the clicking user owns what the payload names. A
forged payload (another answer's, invitation's or proposal's ID) gets the same short refusal as a
missing one, so it reveals nothing.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_bolt.context.respond import Respond
from slack_sdk import WebClient
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from coaching.cadence import next_due
from core.config import AdminConfig
from core.services import Services
from handlers.cmd_data import forget_everywhere
from handlers.context import REFUSAL, action_value, parse_id, services_of
from handlers.delivery import deliver_now, delivered, waiting_note
from handlers.home import publish_home, republish_later
from handlers.notify import refresh_relays
from handlers.render import manager as render
from handlers.render.summary import name_of
from handlers.text import slack_time
from handlers.zones import fill_names
from scheduling.plan import MAX_LATENESS
from storage import conversation, outbox
from storage.changes import touch_reps
from storage.models import Answer, CadenceAgreement, CheckIn, CoachingNote, Membership, OutboxKind, Team
from storage.ownership import owned
from storage.people import get_user, manages
from storage.schedules import RepSchedule, schedule_for, zone_of

log = logging.getLogger(__name__)
MAX_NOTE_STORED = 3000


def _refuse(body: dict[str, Any], respond: Respond) -> None:
    if body.get("response_url"):  # clicks in the Home tab have nowhere to reply; they just do nothing
        respond(text=REFUSAL, response_type="ephemeral", replace_original=False)


def _settle(body: dict[str, Any], respond: Respond, text: str) -> None:
    """Replace the message the button was on with a one-line outcome (buttons gone)."""
    if body.get("response_url"):
        respond(text=text, blocks=render.closed(text), replace_original=True)


def managed_answer(session: Session, team_id: str, manager_id: str, answer_id: int) -> Answer | None:
    """The answer if `manager_id` currently manages its rep; anything else looks like a missing one."""
    answer = owned(session, Answer, answer_id, team_id)
    if answer is None or not manages(session, team_id, manager_id, answer.rep_id):
        return None
    return answer


def _next_checkin_at(session: Session, team_id: str, rep_id: str, schedule: RepSchedule,
                     now: dt.datetime) -> dt.datetime | None:
    """When the rep's next scheduled check-in comes, planned the way `plan_next` will plan it
    (None: shortly)."""
    planned = session.scalar(select(CheckIn.due_at).where(
        CheckIn.team_id == team_id, CheckIn.rep_id == rep_id, CheckIn.kind == "scheduled",
        CheckIn.state == "scheduled").order_by(CheckIn.due_at).limit(1))
    if planned is None:
        latest = session.scalar(select(CheckIn.due_at).where(
            CheckIn.team_id == team_id, CheckIn.rep_id == rep_id, CheckIn.kind == "scheduled")
            .order_by(CheckIn.due_at.desc()).limit(1))
        after = now if latest is None else max(latest, now - MAX_LATENESS)
        planned = next_due(schedule.cadence, schedule.zone, after, schedule.anchor)
    return None if planned <= now else planned


@dataclass(frozen=True)
class CadenceOutcome:
    manager_id: str
    agreement_id: int
    description: str  # the rhythm now in force and the next check-in, as the rep reads it
    already: bool = False  # the rep had already answered this proposal
    rhythm: str = ""
    next_at: dt.datetime | None = None  # None: shortly

    def for_viewer(self, zone: str) -> str:
        """The description for someone reading in `zone` (the manager is told it too)."""
        if not self.rhythm:
            return self.description
        return f"{self.rhythm}; next check-in {slack_time(self.next_at, zone) if self.next_at else 'shortly'}"


def decide_cadence(session: Session, config: AdminConfig, team_id: str, rep_id: str, agreement_id: int,
                   accept: bool, now: dt.datetime) -> CadenceOutcome | None:
    """Apply the rep's answer to a proposal of theirs; None when it isn't theirs (or doesn't exist)."""
    agreement = owned(session, CadenceAgreement, agreement_id, team_id, rep_id=rep_id)
    rep = get_user(session, team_id, rep_id)
    if agreement is None or rep is None:
        return None
    if agreement.status != "proposed":
        return CadenceOutcome(agreement.manager_id, agreement.id, "", already=True)
    agreement.decided_at = now
    if accept:
        agreement.status = "accepted"
        agreement.anchor = now.astimezone(schedule_for(session, config, rep).zone).date()
        session.execute(update(CadenceAgreement).where(
            CadenceAgreement.team_id == team_id, CadenceAgreement.rep_id == rep_id,
            CadenceAgreement.status == "accepted", CadenceAgreement.id != agreement.id)
            .values(status="superseded").execution_options(synchronize_session=False))
        # The planned-but-unsent check-in follows the old rhythm; the next pass re-plans it.
        # A snoozed check-in (already shown once) stays: the rep asked for it back.
        session.execute(delete(CheckIn).where(
            CheckIn.team_id == team_id, CheckIn.rep_id == rep_id, CheckIn.kind == "scheduled",
            CheckIn.state == "scheduled", CheckIn.snoozed_until.is_(None), CheckIn.message_ts.is_(None))
            .execution_options(synchronize_session=False))
    else:
        agreement.status = "declined"
    touch_reps(session, team_id, [rep_id])  # a new rhythm: re-plan, and a new agreed cadence for the guard
    schedule = schedule_for(session, config, rep)
    upcoming = _next_checkin_at(session, team_id, rep_id, schedule, now)
    outcome = CadenceOutcome(agreement.manager_id, agreement.id, "", rhythm=schedule.agreed.rhythm(), next_at=upcoming)
    return dataclasses.replace(outcome, description=outcome.for_viewer(schedule.zone.key))


def after_response(services: Services, body: dict[str, Any], manager: str, answer_id: int, done: str, respond: Respond) -> None:
    refresh_relays(services, answer_id, manager)
    if (body.get("container") or {}).get("type") == "view" or body.get("view"):
        publish_home(services, manager)
    elif body.get("response_url"):
        respond(text=done, response_type="ephemeral", replace_original=False)


def thanks(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext) -> None:
    services = services_of(context)
    ack()
    manager, answer_id = body["user"]["id"], parse_id(action_value(body)) or -1
    queued: int | None = None
    with services.sessions.begin() as session:
        answer = managed_answer(session, services.team_id, manager, answer_id)
        if answer is not None:
            rep = answer.rep_id
            already = session.scalar(select(CoachingNote.id).where(
                CoachingNote.answer_id == answer_id, CoachingNote.manager_id == manager,
                CoachingNote.kind == "thanks").limit(1)) is not None
            if not already:
                session.add(CoachingNote(team_id=services.team_id, answer_id=answer_id, manager_id=manager, rep_id=rep,
                                         kind="thanks", text=None, created_at=services.now()))
                touch_reps(session, services.team_id, [rep])  # a manager's response counts for the guard
                conversation.responded(session, answer, manager, services.now())  # closes a help request
                queued = outbox.enqueue(session, team_id=services.team_id, kind=OutboxKind.THANKS, recipient=rep,
                                        dedupe_key=f"thanks:{answer_id}:{manager}", now=services.now(),
                                        payload={"manager": manager, "checkin_id": answer.checkin_id,
                                                 "goal_id": answer.goal_id})
    if answer is None:
        _refuse(body, respond)
        return
    names = fill_names(services, [manager, rep])
    states = deliver_now(services, [queued]) if queued else {}
    after_response(services, body, manager, answer_id, f"Thanks sent to {name_of(names[rep])}."
                   + waiting_note(services, states, queued, rep, manager), respond)


def open_note(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext) -> None:
    services = services_of(context)
    ack()
    manager, answer_id = body["user"]["id"], parse_id(action_value(body)) or -1
    with services.sessions.begin() as session:
        answer = managed_answer(session, services.team_id, manager, answer_id)
        found = (answer.rep_id, answer.text) if answer is not None else None
    if found is None:
        _refuse(body, respond)
        return
    names = fill_names(services, [found[0]])
    client.views_open(trigger_id=body["trigger_id"], view=render.note_modal(answer_id, names[found[0]], found[1]))


def submit_note(ack: Ack, body: dict[str, Any], view: dict[str, Any], client: WebClient, context: BoltContext) -> None:
    services = services_of(context)
    manager = body["user"]["id"]
    answer_id = parse_id(view.get("private_metadata")) or -1
    note = render.read_note((view.get("state") or {}).get("values") or {})
    if not note or len(note) > MAX_NOTE_STORED:
        ack(response_action="errors", errors={render.NOTE_BLOCK: "Please write a short note, or press Cancel."})
        return
    queued: int | None = None
    with services.sessions.begin() as session:
        answer = managed_answer(session, services.team_id, manager, answer_id)
        if answer is not None:
            rep = answer.rep_id
            written = CoachingNote(team_id=services.team_id, answer_id=answer_id, manager_id=manager, rep_id=rep,
                                   kind="note", text=note, created_at=services.now())
            session.add(written)
            session.flush()
            touch_reps(session, services.team_id, [rep])
            conversation.responded(session, answer, manager, services.now())  # closes a help request
            queued = outbox.enqueue(session, team_id=services.team_id, kind=OutboxKind.COACHING_NOTE, recipient=rep,
                                    dedupe_key=f"note:{written.id}", now=services.now(),
                                    payload={"note_id": written.id, "checkin_id": answer.checkin_id,
                                             "goal_id": answer.goal_id})
    if answer is None:
        ack(response_action="errors", errors={render.NOTE_BLOCK: REFUSAL})
        return
    ack()
    fill_names(services, [manager, rep])
    if queued is not None:
        deliver_now(services, [queued])
    refresh_relays(services, answer_id, manager)
    publish_home(services, manager)


def _membership(services: Services, session: Session, user: str, membership_id: int) -> Membership | None:
    return owned(session, Membership, membership_id, services.team_id, rep_id=user)


def _decide_invite(services: Services, body: dict[str, Any], client: WebClient, respond: Respond, accept: bool) -> None:
    user = body["user"]["id"]
    manager = None
    queued: int | None = None
    with services.sessions.begin() as session:
        membership = _membership(services, session, user, parse_id(action_value(body)) or -1)
        pending = membership is not None and membership.status == "pending"
        if membership is not None and pending:
            owner = session.get(Team, membership.team_pk)
            manager = owner.manager_id if owner is not None else None
            if accept:
                membership.status = "active"
            else:
                session.delete(membership)
            touch_reps(session, membership.team_id, [membership.rep_id])
            if manager is not None:
                queued = outbox.enqueue(session, team_id=services.team_id, kind=OutboxKind.INVITE_OUTCOME, recipient=manager,
                                        dedupe_key=f"invite_outcome:{membership.id}", now=services.now(),
                                        payload={"rep": user, "accepted": accept})
    if membership is None:
        _refuse(body, respond)
        return
    if manager is None:
        _settle(body, respond, "You've already answered this invitation.")
        return
    names = fill_names(services, [user, manager])
    if accept:
        _settle(body, respond, f"Done: {name_of(names[manager])} now sees your check-in answers and summaries.")
    else:
        _settle(body, respond, "No problem; nothing is shared.")
    if queued is not None:
        deliver_now(services, [queued])


def join_team(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext) -> None:
    services = services_of(context)
    ack()
    _decide_invite(services, body, client, respond, accept=True)


def decline_team(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext) -> None:
    services = services_of(context)
    ack()
    _decide_invite(services, body, client, respond, accept=False)


def _decide_cadence(services: Services, body: dict[str, Any], client: WebClient, respond: Respond, accept: bool) -> None:
    user = body["user"]["id"]
    queued: int | None = None
    with services.sessions.begin() as session:
        outcome = decide_cadence(session, services.config, services.team_id, user, parse_id(action_value(body)) or -1, accept, services.now())
        if outcome is not None and not outcome.already:
            queued = outbox.enqueue(session, team_id=services.team_id, kind=OutboxKind.CADENCE_OUTCOME,
                                    recipient=outcome.manager_id, dedupe_key=f"cadence_outcome:{outcome.agreement_id}",
                                    now=services.now(), payload={"rep": user, "agreement_id": outcome.agreement_id,
                                                                 "accepted": accept,
                                                                 "description": outcome.for_viewer(zone_of(
                                                                     get_user(session, services.team_id,
                                                                              outcome.manager_id),
                                                                     services.config).key)})
    if outcome is None:
        _refuse(body, respond)
        return
    if outcome.already:
        _settle(body, respond, "You've already answered this proposal.")
        return
    fill_names(services, [user, outcome.manager_id])
    if accept:
        _settle(body, respond, f"Accepted. Your check-ins are now {outcome.description}.")
    else:
        _settle(body, respond, f"Kept as it was: {outcome.description}.")
    if queued is not None:
        deliver_now(services, [queued])


def accept_cadence(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext) -> None:
    services = services_of(context)
    ack()
    _decide_cadence(services, body, client, respond, accept=True)


def decline_cadence(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext) -> None:
    services = services_of(context)
    ack()
    _decide_cadence(services, body, client, respond, accept=False)


def forget(ack: Ack, body: dict[str, Any], client: WebClient, respond: Respond, context: BoltContext) -> None:
    services = services_of(context)
    ack()
    user = body["user"]["id"]  # only ever the clicking rep's own answers: nothing to forge
    fill_names(services, [user])  # the edited copies name the rep
    with services.sessions.begin() as session:
        forgotten, ids = forget_everywhere(session, services.team_id, user, services.now())
    states = deliver_now(services, ids)  # each copy edited now, or retried by the outbox until it is
    # Their Home tabs showed the answers: published again now, or by the pass until Slack takes it.
    stale = [p for p in [user, *forgotten.managers] if publish_home(services, p).outcome != "ok"]
    if stale:
        with services.sessions.begin() as session:
            republish_later(session, services.team_id, stale, services.now())
    gone = forgotten.deleted
    text = (f"Deleted {_count(gone.answers, 'answer')}, {_count(gone.goals, 'goal')} and "
            f"{_count(gone.notes, 'note')} from your manager. ")
    if all(delivered(states, i) for i in ids) and not stale:
        text += "Your manager's messages, summaries and Home tab no longer show your answers."
    else:
        text += ("Slack didn't take every change to your manager's messages just now; I'll keep trying "
                 "until none of them shows your answers.")
    _settle(body, respond, text)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' if n != 1 else ''}"


def keep(ack: Ack, body: dict[str, Any], respond: Respond, context: BoltContext) -> None:
    ack()
    _settle(body, respond, "Nothing was deleted.")


def register(app: App) -> None:
    app.action(render.ANSWER_THANKS)(thanks)
    app.action(render.ANSWER_REPLY)(open_note)
    app.view(render.NOTE_CALLBACK)(submit_note)
    app.action(render.TEAM_ACCEPT)(join_team)
    app.action(render.TEAM_DECLINE)(decline_team)
    app.action(render.CADENCE_ACCEPT)(accept_cadence)
    app.action(render.CADENCE_DECLINE)(decline_cadence)
    app.action(render.FORGET_CONFIRM)(forget)
    app.action(render.FORGET_CANCEL)(keep)
