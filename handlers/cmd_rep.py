"""Rep subcommands: goal add, goals, now, skip, pause, resume."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from handlers.context import SlashContext, SubcommandHandler
from handlers.render.goals import goals_modal
from handlers.text import escape, local_time
from scheduling.cadence import next_allowed
from scheduling.plan import insert_checkin_once, schedule_for, zone_of
from storage import checkins
from storage.goals import GoalError, active_goals, add_goal
from storage.models import User
from storage.people import enroll_rep, ensure_user


def _user(session: Session, ctx: SlashContext) -> User:
    return ensure_user(session, ctx.team_id, ctx.user_id, ctx.services.now(), role="guest")


def _enrol(session: Session, ctx: SlashContext) -> User:
    """Adding a goal or asking for a check-in is opting in to check-ins."""
    return enroll_rep(session, ctx.team_id, ctx.user_id, ctx.services.now())


def handle_goal_add(ctx: SlashContext) -> None:
    now = ctx.services.now()
    try:
        with ctx.services.sessions.begin() as session:
            _enrol(session, ctx)
            goal = add_goal(session, ctx.team_id, ctx.user_id, ctx.command.text, now)
            count = len(active_goals(session, ctx.team_id, ctx.user_id))
    except GoalError as exc:
        ctx.reply(str(exc))
        return
    ctx.reply(f"Added your goal: *{escape(goal.text)}* ({count} active). "
              "Your check-ins will pick one goal at a time. See them all with `/checkin goals`.")


def handle_goals(ctx: SlashContext) -> None:
    with ctx.services.sessions.begin() as session:
        _user(session, ctx)
        goals = [(g.id, g.text) for g in active_goals(session, ctx.team_id, ctx.user_id)]
    if ctx.trigger_id:
        ctx.ack()
        ctx.client.views_open(trigger_id=ctx.trigger_id, view=goals_modal(goals))
        return
    ctx.reply("Open the App Home tab to edit your goals.")


def handle_now(ctx: SlashContext) -> None:
    now = ctx.services.now()
    with ctx.services.sessions.begin() as session:
        _enrol(session, ctx)
        if checkins.open_checkin(session, ctx.team_id, ctx.user_id) is not None:
            ctx.reply("You already have a check-in open in our DM; answer it there whenever you like.")
            return
        # Your own initiative: kind "rep_now" never counts as manager pressure.
        insert_checkin_once(session, {
            "team_id": ctx.team_id, "rep_id": ctx.user_id, "kind": "rep_now", "due_at": now,
            "state": "scheduled", "attempts": 0, "snooze_count": 0, "created_at": now,
        })
    ctx.reply("Starting a check-in now; look for it in our DM.")
    from scheduling.dispatch import PassReport, send_due

    ctx.later(lambda: send_due(ctx.services, now, PassReport(), concurrency=1, rep_id=ctx.user_id))


def handle_skip(ctx: SlashContext) -> None:
    now = ctx.services.now()
    with ctx.services.sessions.begin() as session:
        user = _user(session, ctx)
        target = checkins.next_checkin(session, ctx.team_id, ctx.user_id)
        if target is None:
            ctx.reply("There's no check-in open or coming up to skip.")
            return
        was_open = target.state == "sent"
        checkins.skip(session, target, now)
        zone = zone_of(user, ctx.services.config).key
        when = local_time(target.due_at, zone)
    ctx.reply("Skipped. No need to explain; see you next time." if was_open
              else f"Skipped your next check-in ({when}). No need to explain.")


def handle_pause(ctx: SlashContext) -> None:
    now = ctx.services.now()
    with ctx.services.sessions.begin() as session:
        user = _user(session, ctx)
        schedule = schedule_for(session, ctx.services.config, user)
        zone = schedule.zone
        if ctx.command.pause_until is not None:
            local_day = ctx.command.pause_until
            if local_day <= now.astimezone(zone).date():
                ctx.reply("Please choose a date after today, e.g. `/checkin pause 2w`.")
                return
            if local_day > now.astimezone(zone).date() + dt.timedelta(days=180):
                ctx.reply("A pause can last up to 180 days; please choose an earlier date.")
                return
        else:
            local_day = now.astimezone(zone).date() + dt.timedelta(days=ctx.command.pause_days or 0)
        # The pause ends at the start of that local day; the next check-in follows the cadence.
        until = dt.datetime.combine(local_day, dt.time(0, 0), tzinfo=zone).astimezone(dt.UTC)
        checkins.pause(session, user, until)
        resumes = local_time(next_allowed(until, schedule.cadence, zone), zone.key)
    ctx.reply(f"Paused. No check-ins until {local_day.isoformat()}; I'll pick up again from {resumes}. "
              "`/checkin resume` ends it early.")


def handle_resume(ctx: SlashContext) -> None:
    with ctx.services.sessions.begin() as session:
        user = _user(session, ctx)
        was_paused = user.paused_until is not None and user.paused_until > ctx.services.now()
        checkins.resume(session, user)
    ctx.reply("Welcome back; check-ins resume at your next agreed time." if was_paused
              else "You weren't paused; check-ins carry on as agreed.")


ROUTES: dict[str, SubcommandHandler] = {
    "goal_add": handle_goal_add,
    "goals": handle_goals,
    "now": handle_now,
    "skip": handle_skip,
    "pause": handle_pause,
    "resume": handle_resume,
}
