"""The App Home tab: a rep's goals, next check-in, recent answers, and pause/resume.

Sections for other roles (managers, admins) register in `HOME_SECTIONS`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App
from slack_sdk.errors import SlackApiError
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
from handlers.render.checkin import ADD_GOAL
from handlers.text import MAX_SECTION_CHARS, fit, local_time, safe
from scheduling.plan import zone_of
from storage import checkins
from storage.goals import active_goals
from storage.models import Answer, User
from storage.people import ensure_user, managers_of_rep

log = logging.getLogger(__name__)

PAUSE_WEEK, RESUME = "home_pause_week", "home_resume"
MAX_HOME_BLOCKS = 100  # https://api.slack.com/reference/block-kit/blocks: 100 blocks in a Home tab
HomeSection = Callable[[Session, Services, User], list[Block]]
HOME_SECTIONS: list[HomeSection] = []


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
    if user.paused_until and user.paused_until > now:
        status = f"Paused until {local_time(user.paused_until, zone)}."
    elif upcoming is not None and upcoming.state == "sent":
        status = "A check-in is open in our DM; answer whenever suits you."
    elif upcoming is not None:
        status = f"Next check-in: {local_time(upcoming.due_at, zone)}."
    else:
        status = "Your next check-in will be planned shortly."
    blocks.append(SectionBlock(text=MarkdownTextObject(text=status)))
    recent = session.scalars(select(Answer).where(Answer.team_id == user.team_id, Answer.rep_id == user.slack_id)
                             .order_by(Answer.created_at.desc()).limit(5)).all()
    if recent:
        lines = "\n".join(f"• {local_time(a.created_at, zone)}: {safe(a.text, 200)}" for a in recent)
        blocks.append(SectionBlock(text=MarkdownTextObject(text=fit(f"*Your recent answers*\n{lines}"))))
    paused = bool(user.paused_until and user.paused_until > now)
    blocks.append(ActionsBlock(block_id="home_rep_actions", elements=[
        ButtonElement(text="Add or edit goals", action_id=ADD_GOAL, value="home"),
        ButtonElement(text="Resume check-ins", action_id=RESUME, value="resume") if paused
        else ButtonElement(text="Pause for a week", action_id=PAUSE_WEEK, value="1w"),
    ]))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(
        text="Skipping, snoozing or pausing is always fine. `/checkin help` lists everything.")]))
    return blocks


def home_view(session: Session, services: Services, user: User) -> View:
    others = [found for section in HOME_SECTIONS if (found := section(session, services, user))]
    # A manager who isn't also a rep (no goals of their own) sees just their manager sections.
    is_rep = (user.role in ("rep", "guest") or bool(active_goals(session, user.team_id, user.slack_id))
              or bool(managers_of_rep(session, user.team_id, user.slack_id)))
    blocks: list[Block] = rep_section(session, services, user) if is_rep or not others else []
    for extra in others:
        blocks += [DividerBlock(), *extra] if blocks else extra
    return View(type="home", blocks=blocks[:MAX_HOME_BLOCKS])


def publish_home(services: Services, user_id: str) -> None:
    with services.sessions.begin() as session:
        # Opening the Home tab is not opting in to check-ins.
        user = ensure_user(session, services.team_id, user_id, services.now(), role="guest")
        view = home_view(session, services, user)
    try:
        services.client.views_publish(user_id=user_id, view=view)
    except SlackApiError as exc:
        log.warning("could not publish App Home for %s: %s", user_id, exc.response.get("error"))


def register(app: App, services: Services) -> None:
    def _set_pause(user_id: str, until: dt.datetime | None) -> None:
        with services.sessions.begin() as session:
            user = ensure_user(session, services.team_id, user_id, services.now())
            user.paused_until = until
        publish_home(services, user_id)

    @app.action(PAUSE_WEEK)
    def pause_week(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        _set_pause(body["user"]["id"], services.now() + dt.timedelta(days=7))

    @app.action(RESUME)
    def resume(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        _set_pause(body["user"]["id"], None)
