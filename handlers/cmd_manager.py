"""Manager subcommands: summary, team add, cadence; and the manager/admin App Home section.

Each acknowledges at once and answers through `respond` (ephemeral), so the slash command never
waits on the database or Slack. Anyone asking about a rep who isn't theirs gets the same short
refusal as someone who isn't a manager at all: it never tells whether that rep exists.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from slack_sdk.models.blocks import Block
from sqlalchemy import select
from sqlalchemy.orm import Session

from coaching.summary import summarise_team
from core.services import Services
from handlers.context import REFUSAL, SlashContext, SubcommandHandler, services_of
from handlers.delivery import deliver_now, delivered, undeliverable, waiting_note
from handlers.render import message, metadata
from handlers.render.manager import home_blocks
from handlers.render.outbox import as_payload
from handlers.render.summary import name_of, org_home_blocks, org_page, summary_pages
from handlers.zones import fill_names
from storage import outbox
from storage.models import CadenceAgreement, Membership, OutboxKind, Team, User
from storage.people import ensure_user, get_user, manages, reps_of_manager, role_of
from storage.schedules import schedule_for, zone_of
from storage.summary import next_checkins, org_figures, rep_facts

if TYPE_CHECKING:  # types only: the dispatch pass (cron) loads these modules without Bolt
    from slack_bolt import Ack, BoltContext


HOME_WEEKS = 4
HOME_AWAITING = 5


def _say(ctx: SlashContext, text: str, blocks: list[Block] | None = None) -> None:
    ctx.respond(text=text, blocks=blocks, response_type="ephemeral")


def handle_summary(ctx: SlashContext) -> None:
    services, user_id = ctx.services, ctx.user_id
    named = list(ctx.command.reps)
    # The permission check is a few indexed lookups, so a refusal goes in the ack itself; the
    # summary's heavier queries run after the ack and arrive through response_url.
    with services.sessions.begin() as session:
        role = role_of(session, services.config, ctx.team_id, user_id)
        mine = reps_of_manager(session, ctx.team_id, user_id)
    admin_view = not named and not role.is_manager and role.is_admin
    if not admin_view and not (role.is_manager and all(rep in mine for rep in named)):
        ctx.reply(REFUSAL)
        return
    reps = named or mine
    if not admin_view and not reps:
        ctx.reply("No one has confirmed joining your team yet. Add someone with `/checkin team add @rep`; "
                  "they confirm before anything is shared with you.")
        return
    if ctx.command.extra.get("format") == "csv":
        if admin_view:
            ctx.reply(CSV_MANAGERS_ONLY)
            return
        ctx.ack()
        _say(ctx, send_csv(services, user_id, named, ctx.command.weeks))
        return
    ctx.ack()
    _summary(ctx, reps, named, admin_view)


CSV_MANAGERS_ONLY = ("The CSV lists each check-in, so only a team's manager can have it; admins see "
                     "aggregates only (`/checkin summary`).")


def send_csv(services: Services, manager: str, named: list[str], weeks: int) -> str:
    """Queue the manager's CSV (named reps, or their whole team) and send it to their DM; says how it went.

    The worker builds it from what the database holds when it goes, for the reps still on the
    manager's team then (`handlers.render.outbox`), with the summary's own rules.
    """
    now = services.now()
    with services.sessions.begin() as session:
        queued = outbox.enqueue(session, team_id=services.team_id, kind=OutboxKind.SUMMARY_CSV, recipient=manager,
                                dedupe_key=f"summary_csv:{manager}:{now.isoformat()}", now=now, payload={
                                    "reps": named, "weeks": weeks, "until": now.isoformat(),
                                    "default_zone": services.config.default_timezone})
    states = deliver_now(services, [queued] if queued else [])
    span = f"the last {weeks} week{'s' if weeks != 1 else ''}"
    if delivered(states, queued):
        return f"I've sent your team's check-ins over {span} to our DM as a CSV file."
    if undeliverable(states, queued):
        return "Sorry, I couldn't send the CSV just now. Nothing changed; please try again in a minute."
    return f"Slack didn't take the CSV of {span} just now; I'll keep trying, and it will arrive in our DM once."


def csv_click(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    """App Home's "Check-ins as CSV": the same file as `/checkin summary csv`, for the whole team."""
    ack()
    services = services_of(context)
    manager = body["user"]["id"]
    with services.sessions.begin() as session:
        allowed = bool(reps_of_manager(session, services.team_id, manager))
    if allowed:
        send_csv(services, manager, [], HOME_WEEKS)


def _summary(ctx: SlashContext, reps: list[str], named: list[str], admin_view: bool) -> None:
    services, user_id, weeks = ctx.services, ctx.user_id, ctx.command.weeks
    now = services.now()
    if admin_view:
        with services.sessions.begin() as session:
            org_view = org_page(org_figures(session, ctx.team_id, weeks, now))
        _say(ctx, org_view.text, org_view.blocks)
        return
    fill_names(services, reps)
    with services.sessions.begin() as session:
        facts = rep_facts(session, services.config, ctx.team_id, user_id, reps, now - dt.timedelta(weeks=weeks), now)
    team = summarise_team(facts, weeks, now)
    span = f"last {weeks} week{'s' if weeks != 1 else ''}"
    title = f"Your team, {span}" if not named else f"{len(reps)} of your reps, {span}"
    with services.sessions.begin() as session:
        zone = zone_of(get_user(session, ctx.team_id, user_id), services.config).key
    pages = summary_pages(team, title, zone)
    if len(pages) == 1:
        _say(ctx, pages[0].text, pages[0].blocks)
        return
    with services.sessions.begin() as session:
        key = f"summary:{user_id}:{now.isoformat()}"
        queued = [q for q in (outbox.enqueue(
            session, team_id=ctx.team_id, kind=OutboxKind.SUMMARY_PAGE, recipient=user_id,
            dedupe_key=f"{key}:{number}", now=now, payload=as_payload(message(user_id, page.text, page.blocks, metadata(
                "team_digest", manager=user_id, page=number, pages=len(pages)))))
            for number, page in enumerate(pages, 1)) if q is not None]
    states = deliver_now(services, queued)
    sent = sum(1 for q in queued if delivered(states, q))
    if sent == len(pages):
        _say(ctx, f"Your summary covers {len(reps)} reps, so I've sent it to our DM in {len(pages)} parts.")
    else:  # say what really happened rather than promise a DM that never came
        _say(ctx, f"Your summary covers {len(reps)} reps. I could send only {sent} of its {len(pages)} parts "
                  "to our DM just now; the rest will follow as soon as Slack takes them.")


def _command_team(session: Session, team_id: str, manager_id: str) -> Team:
    """The manager's own team for reps added by command (one per manager)."""
    name = f"cmd:{manager_id}"
    team = session.scalar(select(Team).where(Team.team_id == team_id, Team.name == name))
    if team is None:
        team = Team(team_id=team_id, name=name, manager_id=manager_id, source="command")
        session.add(team)
        session.flush()
    return team


def handle_team_add(ctx: SlashContext) -> None:
    services, manager = ctx.services, ctx.user_id
    with services.sessions.begin() as session:
        role = role_of(session, services.config, ctx.team_id, manager)
    if not (role.is_manager or role.is_admin):  # only a team's manager, or an admin, may invite
        ctx.reply("Only a team's manager or an admin can invite someone to a team. Nothing changed.")
        return
    ctx.ack()
    _team_add(ctx)


def _team_add(ctx: SlashContext) -> None:
    services, manager = ctx.services, ctx.user_id
    now = services.now()
    invites: list[tuple[str, int]] = []
    notes: list[str] = []
    names = fill_names(services, [manager, *ctx.command.reps])
    with services.sessions.begin() as session:
        ensure_user(session, ctx.team_id, manager, now, role="manager")
        for rep in ctx.command.reps:
            who = name_of(names.get(rep, rep))
            if rep == manager or rep == services.bot_user_id:
                notes.append("You can't add yourself (or me) to your own team.")
                continue
            existing = session.scalar(select(Membership.status).join(Team, Team.id == Membership.team_pk).where(
                Team.team_id == ctx.team_id, Team.manager_id == manager, Membership.rep_id == rep).limit(1))
            if existing == "active":
                notes.append(f"{who} is already on your team.")
                continue
            if existing == "pending":
                notes.append(f"I'm still waiting for {who} to confirm.")
                continue
            # "guest" until they accept: an invitation is not consent to check-ins.
            ensure_user(session, ctx.team_id, rep, now, role="guest")
            membership = Membership(team_id=ctx.team_id, team_pk=_command_team(session, ctx.team_id, manager).id,
                                    rep_id=rep, status="pending", created_at=now)
            session.add(membership)
            session.flush()
            queued = outbox.enqueue(session, team_id=ctx.team_id, kind=OutboxKind.TEAM_INVITE, recipient=rep,
                                    dedupe_key=f"invite:{membership.id}", now=now,
                                    payload={"manager": manager, "membership_id": membership.id})
            if queued is not None:
                invites.append((rep, queued))
    states = deliver_now(services, [q for _, q in invites])
    for rep, queued in invites:
        who = name_of(names.get(rep, rep))
        if undeliverable(states, queued):
            notes.append(f"I couldn't reach {who}, so nothing changed.")
        else:
            notes.append(f"I've asked {who} to confirm. Nothing is shared with you until they do."
                         + waiting_note(services, states, queued, rep, manager))
    _say(ctx, "\n".join(notes) or "Nothing to do.")


def handle_cadence(ctx: SlashContext) -> None:
    services, manager, command = ctx.services, ctx.user_id, ctx.command
    rep = command.reps[0]
    now = services.now()
    agreement_id = queued = None
    with services.sessions.begin() as session:
        user = get_user(session, ctx.team_id, rep)
        if user is not None and command.every is not None and manages(session, ctx.team_id, manager, rep):
            current = schedule_for(session, services.config, user).agreed
            proposed = current.with_changes(command.every, command.day, command.time)
            agreement = CadenceAgreement(team_id=ctx.team_id, rep_id=rep, manager_id=manager, every=command.every,
                                         day=command.day, time=command.time, status="proposed", created_at=now)
            session.add(agreement)
            session.flush()
            agreement_id = agreement.id
            queued = outbox.enqueue(session, team_id=ctx.team_id, kind=OutboxKind.CADENCE_PROPOSAL, recipient=rep,
                                    dedupe_key=f"cadence:{agreement_id}", now=now, payload={
                                        "agreement_id": agreement_id, "proposed": proposed.rhythm(),
                                        "current": current.rhythm()})
    if agreement_id is None:
        ctx.reply(REFUSAL)
        return
    ctx.ack()  # the DM to the rep and the reply to the manager follow
    names = fill_names(services, [manager, rep])
    states = deliver_now(services, [queued]) if queued else {}
    if undeliverable(states, queued):
        _say(ctx, f"I couldn't reach {name_of(names[rep])} just now, so nothing changed.")
        return
    _say(ctx, f"I've proposed {proposed.rhythm()} to {name_of(names[rep])}. It takes effect only if they accept; "
              "I'll tell you what they decide." + waiting_note(services, states, queued, rep, manager))


def home_section(session: Session, services: Services, user: User) -> list[Block]:
    """HOME_SECTIONS entry: a manager's team overview; an admin's org-wide aggregates."""
    role = role_of(session, services.config, user.team_id, user.slack_id)
    now = services.now()
    blocks: list[Block] = []
    if role.is_manager:
        reps = reps_of_manager(session, user.team_id, user.slack_id)
        facts = rep_facts(session, services.config, user.team_id, user.slack_id, reps,
                          now - dt.timedelta(weeks=HOME_WEEKS), now)
        team = summarise_team(facts, HOME_WEEKS, now)
        awaiting = sorted((a for f in facts for a in f.answers
                           if not (a.thanked_by_manager or a.noted_by_manager)),
                          key=lambda a: a.created_at, reverse=True)[:HOME_AWAITING]
        names = {f.rep_id: f.name for f in facts}
        upcoming = next_checkins(session, user.team_id, reps)
        zone = zone_of(user, services.config).key
        blocks += home_blocks(team, awaiting, names, upcoming, zone)
    if role.is_admin:
        blocks += org_home_blocks(org_figures(session, user.team_id, HOME_WEEKS, now))
    return blocks


ROUTES: dict[str, SubcommandHandler] = {
    "summary": handle_summary,
    "team_add": handle_team_add,
    "cadence": handle_cadence,
}
