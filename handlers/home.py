"""The App Home tab: a rep's goals, next check-in, recent answers, and pause/resume.

The tab is composed here, explicitly: the rep's section, then the manager/admin overview
(cmd_manager) and the guard's health section (guard_actions), each shown only when it has content.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any
from urllib.error import URLError

from slack_sdk.errors import SlackApiError, SlackRequestError
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.services import Services
from handlers.cmd_manager import csv_click
from handlers.cmd_manager import home_section as manager_section
from handlers.context import services_of
from handlers.guard_actions import guard_home_section
from handlers.render.checkin import ADD_GOAL
from handlers.render.help import home_steps
from handlers.render.leave import open_button, rep_leave_blocks
from handlers.render.manager import SUMMARY_CSV
from handlers.sender import SendResult, classify_error
from handlers.text import MAX_SECTION_CHARS, fit, safe, slack_time
from scheduling.report import PassReport, pass_token
from storage import checkins, leave, outbox
from storage.changes import touch_reps
from storage.conversation import pending_steps
from storage.goals import active_goals
from storage.models import Answer, OutboxKind, User
from storage.people import ensure_user, managers_of_rep
from storage.schedules import zone_of

if TYPE_CHECKING:  # types only: the dispatch pass (cron) loads these modules without Bolt
    from slack_bolt import Ack, App, BoltContext


log = logging.getLogger(__name__)

PAUSE_WEEK, RESUME = "home_pause_week", "home_resume"
MAX_HOME_BLOCKS = 100  # https://api.slack.com/reference/block-kit/blocks: 100 blocks in a Home tab


def rep_section(session: Session, services: Services, user: User) -> list[Block]:
    now = services.now()
    zone = zone_of(user, services.config).key
    goals = active_goals(session, user.team_id, user.slack_id)
    blocks: list[Block] = [HeaderBlock(text="Your check-ins")]
    if goals:
        # Each goal's share of the section, counted after escaping (`&` grows fivefold).
        each = min(280, (MAX_SECTION_CHARS - 100) // len(goals) - 6)
        lines = "\n".join(f"{i}. {safe(g.text, each)}" for i, g in enumerate(goals, 1))
        blocks.append(SectionBlock(text=MarkdownTextObject(text=fit(f"*Your goals*\n{lines}"))))
    else:
        blocks.append(SectionBlock(text=MarkdownTextObject(
            text="*Your goals*\nNo goals yet. Add one you and your manager agree matters.")))
    upcoming = checkins.next_checkin(session, user.team_id, user.slack_id)
    today = now.astimezone(zone_of(user, services.config)).date()
    booked = leave.booked(session, user.team_id, user.slack_id, today)
    if leave.current([r for _, r in booked], today) is not None:
        status = "You're on leave: no check-ins until you're back."
    elif user.paused_until and user.paused_until > now:
        status = f"Paused until {slack_time(user.paused_until, zone)}."
    elif upcoming is not None and upcoming.state == "sent":
        status = "A check-in is open in our DM; answer whenever suits you."
    elif upcoming is not None:
        status = f"Next check-in: {slack_time(upcoming.due_at, zone)}."
    else:
        status = "Your next check-in will be planned shortly."
    blocks.append(SectionBlock(text=MarkdownTextObject(text=status)))
    blocks += rep_leave_blocks([(i, r.first, r.last) for i, r in booked], today)
    recent = session.scalars(select(Answer).where(Answer.team_id == user.team_id, Answer.rep_id == user.slack_id)
                             .order_by(Answer.created_at.desc()).limit(5)).all()
    if recent:
        lines = "\n".join(f"• {slack_time(a.created_at, zone)}: {safe(a.text, 200)}" for a in recent)
        blocks.append(SectionBlock(text=MarkdownTextObject(text=fit(f"*Your recent answers*\n{lines}"))))
    steps = pending_steps(session, user.team_id, [user.slack_id]).values()
    blocks += home_steps([(a.id, a.next_step) for a in steps if a.next_step])  # carry-forward, editable
    paused = bool(user.paused_until and user.paused_until > now)
    blocks.append(ActionsBlock(block_id="home_rep_actions", elements=[
        ButtonElement(text="Add or edit goals", action_id=ADD_GOAL, value="home"),
        ButtonElement(text="Resume check-ins", action_id=RESUME, value="resume") if paused
        else ButtonElement(text="Pause for a week", action_id=PAUSE_WEEK, value="1w"),
        open_button(),
    ]))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(
        text="Skipping, snoozing or pausing is always fine. `/checkin help` lists everything.")]))
    return blocks


def home_view(session: Session, services: Services, user: User) -> View:
    others = [found for section in (manager_section, guard_home_section)
              if (found := section(session, services, user))]
    # A manager who isn't also a rep (no goals of their own) sees just their manager sections.
    is_rep = (user.role in ("rep", "guest") or bool(active_goals(session, user.team_id, user.slack_id))
              or bool(managers_of_rep(session, user.team_id, user.slack_id)))
    blocks: list[Block] = rep_section(session, services, user) if is_rep or not others else []
    for extra in others:
        blocks += [DividerBlock(), *extra] if blocks else extra
    return View(type="home", blocks=blocks[:MAX_HOME_BLOCKS])


def publish_home(services: Services, user_id: str) -> SendResult:
    with services.sessions.begin() as session:
        # Opening the Home tab is not opting in to check-ins.
        user = ensure_user(session, services.team_id, user_id, services.now(), role="guest")
        view = home_view(session, services, user)
    try:
        services.client.views_publish(user_id=user_id, view=view)
    except (SlackApiError, SlackRequestError, URLError, OSError) as exc:
        outcome, error = classify_error(exc)
        log.warning("could not publish App Home for %s: %s", user_id, error)
        return SendResult(outcome, error=error)
    return SendResult("ok")


def republish_later(session: Session, team_id: str, user_ids: list[str], now: dt.datetime) -> None:
    """Home tabs that must not keep showing what they showed (a forgotten answer): retried by the
    pass (`refresh_homes`) with the outbox's back-off until Slack takes them."""
    for user_id in user_ids:
        outbox.enqueue(session, team_id=team_id, kind=OutboxKind.HOME_REFRESH, recipient=user_id,
                       dedupe_key=f"home:{user_id}:{now.isoformat()}", now=now,
                       not_before=now + outbox.backoff(1))


def refresh_homes(services: Services, now: dt.datetime, report: PassReport) -> None:
    """Pass step: publish again each Home tab whose last publish failed (HOME_REFRESH rows)."""
    with services.sessions.begin() as session:
        rows = outbox.claim_due(session, now, pass_token(), 100, team_id=services.team_id,
                                kinds=[OutboxKind.HOME_REFRESH])
    if not rows:
        return
    results = [(row, publish_home(services, row.recipient)) for row in rows]
    with services.sessions.begin() as session:
        outbox.mark_sent(session, [(r.id, None, None) for r, res in results if res.outcome == "ok"], now)
        outbox.fail(session, [(r.id, res.error or "refused") for r, res in results if res.outcome == "permanent"])
        outbox.release(session, [(r.id, r.attempts, res.error or "transient") for r, res in results
                                 if res.outcome not in ("ok", "permanent")], now)
    report.add("homes", sum(1 for _, res in results if res.outcome == "ok"))


def set_pause(session: Session, team_id: str, user_id: str, until: dt.datetime | None,
              now: dt.datetime) -> User:
    """Pause check-ins until `until` (None resumes). Pressing a Home button is opting in."""
    user = ensure_user(session, team_id, user_id, now)
    user.paused_until = until
    touch_reps(session, team_id, [user_id])
    return user


def _pause(services: Services, user_id: str, until: dt.datetime | None) -> None:
    with services.sessions.begin() as session:
        set_pause(session, services.team_id, user_id, until, services.now())
    publish_home(services, user_id)


def pause_week(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    ack()
    services = services_of(context)
    _pause(services, body["user"]["id"], services.now() + dt.timedelta(days=7))


def resume(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    ack()
    _pause(services_of(context), body["user"]["id"], None)


def register(app: App) -> None:
    app.action(PAUSE_WEEK)(pause_week)
    app.action(RESUME)(resume)
    app.action(SUMMARY_CSV)(csv_click)
