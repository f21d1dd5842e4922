"""One dispatch pass: refresh zones, plan due check-ins, recover, send; then follow-ups, send.

`checkin-bot dispatch` and `serve`'s scheduler both run `run_pass`; `serve` also runs
`drain_interactive` every few seconds, so a message waiting on a retry or on its recipient's
morning goes out soon after it may.
"""

from __future__ import annotations

import datetime as dt
import logging

from core import metrics
from core.services import Services
from handlers.delivery import CONCURRENCY, INTERACTIVE, drain, recover
from handlers.transport import KeepAlive, TransportFactory
from handlers.zones import refresh_zones
from scheduling.dispatch import plan_checkins, plan_follow_ups
from scheduling.report import PassReport

log = logging.getLogger(__name__)


def run_pass(services: Services, now: dt.datetime | None = None, concurrency: int = CONCURRENCY,
             transport: TransportFactory = KeepAlive) -> PassReport:
    with metrics.timed_pass():
        return _run_pass(services, now, concurrency, transport)


def _run_pass(services: Services, now: dt.datetime | None, concurrency: int,
              transport: TransportFactory) -> PassReport:
    now = now or services.now()
    report = PassReport()
    # Reminders, warnings and digests are decided on what was just delivered, then sent. Each step
    # is idempotent, so a pass stopped between steps (SIGTERM) is finished by the next pass.
    steps = (lambda: refresh_zones(services, now, report), lambda: plan_checkins(services, now, report),
             lambda: recover(services, now, report),
             lambda: drain(services, now, report, concurrency=concurrency, transport=transport),
             lambda: plan_follow_ups(services, now, report),
             lambda: drain(services, now, report, concurrency=concurrency, transport=transport))
    for step in steps:
        if services.stopping.is_set():
            report.add("stopped")
            break
        step()
    log.info("%s", report.summary())
    return report


def drain_interactive(services: Services) -> PassReport:
    return drain(services, kinds=INTERACTIVE)
