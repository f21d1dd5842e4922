"""One dispatch pass: plan due check-ins, recover, send (looking zones up beside it); follow-ups, send.

`checkin-bot dispatch` and `serve`'s scheduler both run `run_pass`; `serve` also runs
`drain_interactive` every few seconds, so a message waiting on a retry or on its recipient's
morning goes out soon after it may.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading

from core import metrics
from core.services import Services
from handlers.delivery import CONCURRENCY, INTERACTIVE, drain, recover
from handlers.sweep import refresh_zones
from scheduling.dispatch import plan_checkins, plan_follow_ups
from scheduling.report import PassReport

log = logging.getLogger(__name__)


def run_pass(services: Services, now: dt.datetime | None = None, concurrency: int = CONCURRENCY) -> PassReport:
    with metrics.timed_pass():
        return _run_pass(services, now, concurrency)


def _run_pass(services: Services, now: dt.datetime | None, concurrency: int) -> PassReport:
    now = now or services.now()
    report = PassReport()
    plan_checkins(services, now, report)
    recover(services, now, report)
    # Zones and names are looked up after sending has started, beside it: a pass sends what it can
    # first (someone whose zone is still unknown is held to default_timezone's hours), and a zone
    # learnt meanwhile moves that person's rows to their own hours (handlers.zones.apply_profiles).
    looked_up = PassReport()
    lookups = threading.Thread(target=_look_up, args=(services, now, looked_up), name="lookups", daemon=True)
    try:
        drain(services, now, report, concurrency=concurrency, then=lookups.start)
    finally:
        if lookups.is_alive():
            lookups.join()
    report.merge(looked_up)
    if looked_up.get("zones_refreshed"):
        # What waited for a zone just read (and is within its person's hours) goes now, not next pass.
        drain(services, max(now, services.now()), report, concurrency=concurrency)
    # Reminders, warnings and digests are decided on what was just delivered, then sent.
    plan_follow_ups(services, now, report)
    drain(services, now, report, concurrency=concurrency)
    log.info("%s", report.summary())
    return report


def _look_up(services: Services, now: dt.datetime, report: PassReport) -> None:
    try:
        refresh_zones(services, now, report)
    except Exception:  # a lookup failing must not stop the pass's sending; the next pass tries again
        log.exception("looking up zones and names failed")


def drain_interactive(services: Services) -> PassReport:
    return drain(services, kinds=INTERACTIVE)
