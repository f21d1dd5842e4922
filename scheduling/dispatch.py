"""The deciding half of a dispatch pass: what is due, written to the outbox.

Nothing here posts to Slack. Each step writes outbox rows in the same transaction as the state it
changes (a planned check-in, a claimed reminder, a recorded warning, a claimed digest); the
worker in `handlers.delivery` then posts them, in their recipients' allowed hours. Every step is
idempotent, so two passes at once, or a pass repeated after a crash, add nothing twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from core.services import Services
from scheduling.digests import enqueue_digests
from scheduling.followups import enqueue_reminders
from scheduling.help_nudges import enqueue_help_nudges
from scheduling.plan import plan_next
from scheduling.report import PassReport
from scheduling.warnings import enqueue_warnings

PassStep = Callable[[Services, dt.datetime, PassReport], None]


def plan_checkins(services: Services, now: dt.datetime, report: PassReport) -> None:
    with services.sessions.begin() as session:
        report.add("planned", plan_next(session, services.config, services.team_id, now))


# What a pass decides after the due check-ins went out, in order: reminders, warnings and digests
# see what was just delivered (a check-in sent this minute closes a contact gap). Listed here
# rather than registered by the listeners, so `checkin-bot dispatch` (which builds no Bolt app)
# runs exactly the same pass as `serve`.
FOLLOW_UP_STEPS: tuple[PassStep, ...] = (enqueue_reminders, enqueue_warnings, enqueue_digests,
                                         enqueue_help_nudges)


def plan_follow_ups(services: Services, now: dt.datetime, report: PassReport) -> None:
    for step in FOLLOW_UP_STEPS:
        step(services, now, report)
