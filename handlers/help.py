"""`/checkin help`: usage tailored to whether the caller is a rep, a manager or an admin."""

from __future__ import annotations

from handlers.context import SlashContext
from handlers.text import escape
from storage.people import role_of

REP = [
    ("goal add <text>", "add a goal you're working towards (up to 10, 280 characters each)"),
    ("goals", "see, edit, reorder or archive your goals"),
    ("now", "start a check-in now, on your own initiative"),
    ("skip", "skip the open or next check-in; no explanation needed"),
    ("pause <YYYY-MM-DD | Nd | Nw>", "no check-ins until then"),
    ("pause <YYYY-MM-DD> to <YYYY-MM-DD>", "book time off ahead (both days included); `pause cancel` cancels it"),
    ("resume", "end a pause or a leave early"),
    ("export", "get a copy of your own data"),
    ("forget", "delete your answers (asks you to confirm first)"),
]
MANAGER = [
    ("summary [@rep ...] [Nw] [csv]", "your team's check-ins over the last N weeks (default 4); "
                                       "with `csv`, as a file in our DM"),
    ("ask @rep <question>", "ask one of your reps a question; I'll suggest a coaching phrasing if it reads as a status demand"),
    ("cadence @rep <day|week|2 weeks|month> [day] [HH:MM]", "propose a cadence; it starts when your rep accepts"),
    ("team add @rep", "add a rep to your team; they confirm first"),
    ("health", "your own check-in health report: cadence, tone, feedback and contact"),
    ("export", "get a copy of your own data"),
]
ADMIN_NOTE = ("As an admin you can see org-wide participation aggregates (never answer text) in the "
              "App Home tab and with `/checkin summary`. Cadence, quiet hours, holidays and guard "
              "thresholds live in the TOML config; `checkin-bot config check` validates it.")


def help_text(role_name: str) -> str:
    lines = ["*Check-in Coach* helps you and your manager stay in touch around goals you've agreed, "
             "without status chasing."]
    if role_name in ("manager", "admin"):
        lines.append("\n*For managers*")
        lines += [f"• `/checkin {escape(usage)}`: {what}" for usage, what in MANAGER]
    if role_name in ("rep", "admin") or role_name == "manager":
        title = "*For reps*" if role_name != "manager" else "*If you're also a rep*"
        lines.append(f"\n{title}")
        lines += [f"• `/checkin {escape(usage)}`: {what}" for usage, what in REP]
    if role_name == "admin":
        lines.append("\n*For admins*\n" + ADMIN_NOTE)
    lines.append("\nCheck-ins arrive as a direct message at your agreed time, never in quiet hours, on "
                 "weekends or holidays. Skipping, snoozing or pausing is always fine.")
    return "\n".join(lines)


def handle_help(ctx: SlashContext) -> None:
    with ctx.services.sessions.begin() as session:
        role = role_of(session, ctx.services.config, ctx.team_id, ctx.user_id)
    ctx.reply(help_text(role.name))
