"""Rep subcommands: goal add, goals, now, skip, pause (from today, or leave booked ahead), resume.

Each subcommand's rules are a plain function of a session and its inputs that returns what
happened; the handler replies only after the transaction has ended.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from sqlalchemy.orm import Session

from coaching.cadence import next_allowed
from core.config import AdminConfig
from handlers.context import SlashContext, SubcommandHandler
from handlers.delivery import deliver_now, delivered, undeliverable
from handlers.render.goals import goals_modal
from handlers.text import escape, slack_time
from storage import checkins, leave, outbox
from storage.goals import GoalError, active_goals, add_goal
from storage.models import CheckInKind, CheckInState, User
from storage.people import enroll_rep, ensure_user
from storage.schedules import insert_checkin_once, schedule_for, zone_of

MAX_PAUSE_DAYS = 180


def _user(session: Session, team_id: str, user_id: str, now: dt.datetime) -> User:
    return ensure_user(session, team_id, user_id, now, role="guest")


# --- the rules --------------------------------------------------------------------------------


class Now(enum.Enum):
    QUEUED = "queued"  # a new check-in, with its outbox row
    OPEN = "open"  # the rep already has one open
    ON_ITS_WAY = "on its way"  # one asked for this minute is already queued


def start_now(session: Session, team_id: str, user_id: str, now: dt.datetime) -> tuple[Now, int | None]:
    """Queue a check-in the rep asked for (asking is opting in)."""
    enroll_rep(session, team_id, user_id, now)
    if checkins.open_checkin(session, team_id, user_id) is not None:
        return Now.OPEN, None
    # Your own initiative: kind "rep_now" never counts as manager pressure. Due on the minute, so
    # several `/checkin now` at once make one check-in (the row is unique).
    checkin_id = insert_checkin_once(session, {
        "team_id": team_id, "rep_id": user_id, "kind": CheckInKind.REP_NOW,
        "due_at": now.replace(second=0, microsecond=0), "state": CheckInState.SCHEDULED, "attempts": 0,
        "snooze_count": 0, "created_at": now,
    })
    if checkin_id is None:
        return Now.ON_ITS_WAY, None
    return Now.QUEUED, outbox.of_checkin(session, checkin_id)


class Skipped(enum.Enum):
    NOTHING = "nothing"  # no check-in open or coming up
    OPEN = "open"  # the open one
    UPCOMING = "upcoming"  # the next one, not sent yet


def skip_next(session: Session, config: AdminConfig, team_id: str, user_id: str,
              now: dt.datetime) -> tuple[Skipped, str]:
    """Skip the open or next check-in. Returns what was skipped and, for an upcoming one, when it was due."""
    user = _user(session, team_id, user_id, now)
    target = checkins.next_checkin(session, team_id, user_id)
    if target is None:
        return Skipped.NOTHING, ""
    was_open = target.state == "sent"
    checkins.skip(session, target, now)
    return (Skipped.OPEN if was_open else Skipped.UPCOMING), slack_time(target.due_at, zone_of(user, config).key)


@dataclass(frozen=True)
class Paused:
    refusal: str | None = None  # why the date was not accepted; nothing changed then
    local_day: dt.date | None = None
    resumes: str = ""


def pause(session: Session, config: AdminConfig, team_id: str, user_id: str, now: dt.datetime,
          until_day: dt.date | None, days: int) -> Paused:
    """Pause until the start of a local day: `until_day`, or `days` from today."""
    user = _user(session, team_id, user_id, now)
    schedule = schedule_for(session, config, user)
    zone = schedule.zone
    today = now.astimezone(zone).date()
    if until_day is not None:
        if until_day <= today:
            return Paused("Please choose a date after today, e.g. `/checkin pause 2w`.")
        if until_day > today + dt.timedelta(days=MAX_PAUSE_DAYS):
            return Paused(f"A pause can last up to {MAX_PAUSE_DAYS} days; please choose an earlier date.")
        local_day = until_day
    else:
        local_day = today + dt.timedelta(days=days)
    # The pause ends at the start of that local day; the next check-in follows the cadence.
    until = dt.datetime.combine(local_day, dt.time(0, 0), tzinfo=zone).astimezone(dt.UTC)
    checkins.pause(session, user, until)
    return Paused(None, local_day, slack_time(next_allowed(until, schedule.cadence, zone), zone.key))


@dataclass(frozen=True)
class Booked:
    refusal: str | None = None  # why the range was not accepted; nothing changed then
    first: dt.date | None = None
    last: dt.date | None = None  # of the stored range (merged with any it overlapped)


def book_leave(session: Session, config: AdminConfig, team_id: str, user_id: str, now: dt.datetime,
               first: dt.date, last: dt.date) -> Booked:
    """Book days off ahead, both days included, in the rep's own zone."""
    user = _user(session, team_id, user_id, now)
    today = now.astimezone(zone_of(user, config)).date()
    refusal = leave.check_range(first, last, today)
    if refusal is not None:
        return Booked(refusal)
    stored = leave.book(session, team_id, user_id, first, last, now)
    return Booked(None, stored.first, stored.last)


def cancel_leave(session: Session, config: AdminConfig, team_id: str, user_id: str, now: dt.datetime) -> int:
    """Cancel every range booked ahead and end the one under way. How many ranges changed."""
    user = _user(session, team_id, user_id, now)
    today = now.astimezone(zone_of(user, config)).date()
    return leave.end_leave(session, team_id, user_id, today, now, upcoming=True)


def resume(session: Session, team_id: str, user_id: str, now: dt.datetime,
           config: AdminConfig | None = None) -> bool:
    """End a pause, or the leave under way (leave booked for later stays). True if either was on."""
    user = _user(session, team_id, user_id, now)
    was_paused = user.paused_until is not None and user.paused_until > now
    checkins.resume(session, user)
    if config is not None:
        today = now.astimezone(zone_of(user, config)).date()
        was_paused = leave.end_leave(session, team_id, user_id, today, now, upcoming=False) > 0 or was_paused
    return was_paused


# --- the handlers -------------------------------------------------------------------------------


def handle_goal_add(ctx: SlashContext) -> None:
    now = ctx.services.now()
    try:
        with ctx.services.sessions.begin() as session:
            enroll_rep(session, ctx.team_id, ctx.user_id, now)  # adding a goal is opting in
            goal = add_goal(session, ctx.team_id, ctx.user_id, ctx.command.text, now)
            text, count = goal.text, len(active_goals(session, ctx.team_id, ctx.user_id))
    except GoalError as exc:
        ctx.reply(str(exc))
        return
    ctx.reply(f"Added your goal: *{escape(text)}* ({count} active). "
              "Your check-ins will pick one goal at a time. See them all with `/checkin goals`.")


def handle_goals(ctx: SlashContext) -> None:
    with ctx.services.sessions.begin() as session:
        _user(session, ctx.team_id, ctx.user_id, ctx.services.now())
        goals = [(g.id, g.text) for g in active_goals(session, ctx.team_id, ctx.user_id)]
    if ctx.trigger_id:
        ctx.ack()
        ctx.client.views_open(trigger_id=ctx.trigger_id, view=goals_modal(goals))
        return
    ctx.reply("Open the App Home tab to edit your goals.")


def handle_now(ctx: SlashContext) -> None:
    now = ctx.services.now()
    queued: int | None = None
    with ctx.services.sessions.begin() as session:
        started, queued = start_now(session, ctx.team_id, ctx.user_id, now)
    if started is Now.OPEN:
        ctx.reply("You already have a check-in open in our DM; answer it there whenever you like.")
        return
    if queued is None:
        ctx.reply("A check-in is already on its way to our DM.")
        return
    ctx.reply("Starting a check-in now; look for it in our DM.")
    states = deliver_now(ctx.services, [queued])
    # Say so when it didn't go out as promised, rather than leave the rep waiting for nothing.
    if undeliverable(states, queued):
        ctx.respond(text="Sorry, I couldn't send you a check-in after all. Nothing changed; please try "
                         "again later.", response_type="ephemeral")
    elif not delivered(states, queued):
        ctx.respond(text="Slack didn't take your check-in just now; I'll keep trying, and it will arrive "
                         "in our DM once.", response_type="ephemeral")


def handle_skip(ctx: SlashContext) -> None:
    with ctx.services.sessions.begin() as session:
        skipped, when = skip_next(session, ctx.services.config, ctx.team_id, ctx.user_id, ctx.services.now())
    ctx.reply({Skipped.NOTHING: "There's no check-in open or coming up to skip.",
               Skipped.OPEN: "Skipped. No need to explain; see you next time.",
               Skipped.UPCOMING: f"Skipped your next check-in ({when}). No need to explain."}[skipped])


def handle_pause(ctx: SlashContext) -> None:
    if ctx.command.leave is not None:
        handle_leave(ctx, *ctx.command.leave)
        return
    with ctx.services.sessions.begin() as session:
        paused = pause(session, ctx.services.config, ctx.team_id, ctx.user_id, ctx.services.now(),
                       ctx.command.pause_until, ctx.command.pause_days or 0)
    if paused.refusal is not None or paused.local_day is None:
        ctx.reply(paused.refusal or "Please choose a date after today, e.g. `/checkin pause 2w`.")
        return
    ctx.reply(f"Paused. No check-ins until {paused.local_day.isoformat()}; I'll pick up again from "
              f"{paused.resumes}. `/checkin resume` ends it early.")


def handle_leave(ctx: SlashContext, first: dt.date, last: dt.date) -> None:
    with ctx.services.sessions.begin() as session:
        booked = book_leave(session, ctx.services.config, ctx.team_id, ctx.user_id, ctx.services.now(),
                            first, last)
    if booked.refusal is not None or booked.first is None or booked.last is None:
        ctx.reply(booked.refusal or "Please give the first and last day of your leave.")
        return
    ctx.reply(leave_booked_text(booked.first, booked.last))


def leave_booked_text(first: dt.date, last: dt.date) -> str:
    back = last + dt.timedelta(days=1)
    return (f"Enjoy your time off. On leave {first.isoformat()} to {last.isoformat()} (both days included): "
            f"no check-ins, reminders or other messages from me then; your manager sees you're on leave "
            f"until {last.isoformat()}. Check-ins pick up from {back.isoformat()} at your next agreed time. "
            "`/checkin pause cancel` cancels it, `/checkin resume` ends it early.")


def handle_pause_cancel(ctx: SlashContext) -> None:
    with ctx.services.sessions.begin() as session:
        changed = cancel_leave(session, ctx.services.config, ctx.team_id, ctx.user_id, ctx.services.now())
    ctx.reply("Cancelled your leave; check-ins carry on as agreed." if changed
              else "You have no leave booked; nothing changed.")


def handle_resume(ctx: SlashContext) -> None:
    with ctx.services.sessions.begin() as session:
        was_paused = resume(session, ctx.team_id, ctx.user_id, ctx.services.now(), ctx.services.config)
    ctx.reply("Welcome back; check-ins resume at your next agreed time." if was_paused
              else "You weren't paused; check-ins carry on as agreed.")


ROUTES: dict[str, SubcommandHandler] = {
    "goal_add": handle_goal_add,
    "goals": handle_goals,
    "now": handle_now,
    "skip": handle_skip,
    "pause": handle_pause,
    "pause_cancel": handle_pause_cancel,
    "resume": handle_resume,
}
