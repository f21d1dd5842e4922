"""One dispatch pass: plan due check-ins, recover, send (looking zones up beside it); follow-ups, send.

`checkin-bot dispatch` and `serve`'s scheduler both run `run_pass`; `serve` also runs
`drain_interactive` every few seconds, so a message waiting on a retry or on its recipient's
morning goes out soon after it may.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable

from core import logcontext, metrics
from core.services import Services
from handlers.delivery import CONCURRENCY, INTERACTIVE, drain
from handlers.home import refresh_homes
from handlers.recovery import recover
from handlers.sweep import refresh_zones
from handlers.transport import KeepAlive, TransportFactory
from scheduling.dispatch import plan_checkins, plan_follow_ups
from scheduling.report import PassReport
from storage import outbox
from storage.installations import departed, purge_workspace

log = logging.getLogger(__name__)

# Workspaces served at once by a pass (OAuth mode). Each runs its own drain (up to CONCURRENCY
# posts in flight, within its own budget, mostly waiting on it), so this bounds threads and database
# connections, not Slack's rate; beyond it, workspaces wait for a free worker (bench/fanout.py).
WORKSPACE_WORKERS = 20


def run_pass(services: Services, now: dt.datetime | None = None, concurrency: int = CONCURRENCY,
             transport: TransportFactory = KeepAlive, workspaces: int = WORKSPACE_WORKERS) -> PassReport:
    """One pass; in OAuth mode for every installed workspace, up to `workspaces` of them at once."""
    with metrics.timed_pass():
        if not services.multi_workspace:
            return _run_pass(services, now, concurrency, transport)
        return _each_workspace(services, now, lambda one: _run_pass(one, now, concurrency, transport),
                               retention=True, workers=workspaces)


def _each_workspace(services: Services, now: dt.datetime | None, step: Callable[[Services], PassReport],
                    retention: bool = False, workers: int = WORKSPACE_WORKERS) -> PassReport:
    """OAuth installs: the same pass for every installed workspace, each with its own client and rows.

    Workspaces are served side by side (up to `workers` at once): their rate limits are Slack's
    per workspace, so one after another would make the last wait for all the others' sending.
    Each runs on its own scoped Services (its client, its team_id's budget) in its own log context.
    One workspace whose token Slack refuses (revoked, uninstalled) is marked as left and skipped
    from then on (one log line); one whose pass fails logs one line; the others carry on.
    """
    report = PassReport()
    scoped = services.each_workspace()
    if scoped:
        with logcontext.ContextExecutor(max_workers=max(1, min(workers, len(scoped))),
                                        thread_name_prefix="workspace") as pool:
            # Each task has its own report; they are merged here, in one thread, in install order.
            results = list(pool.map(lambda one: _one_workspace(one, step), scoped))
        for one, mine in zip(scoped, results, strict=True):
            if mine is None:
                report.add("workspace_failed")
                continue
            report.merge(mine)
            if mine.fatal and services.tenants is not None:
                services.tenants.left(one.team_id, mine.fatal)
    if retention:
        purge_departed(services, now or services.now(), report)
    return report


def _one_workspace(one: Services, step: Callable[[Services], PassReport]) -> PassReport | None:
    with logcontext.bind(workspace=one.team_id):
        try:
            return step(one)
        except Exception as exc:  # noqa: BLE001 - one workspace's fault must not stop the others
            # The type only: an exception's text may quote a row (what someone wrote).
            log.error("the pass failed for workspace %s (%s); the others carry on", one.team_id,
                      type(exc).__name__)
            return None


def purge_departed(services: Services, now: dt.datetime, report: PassReport) -> None:
    """Delete the data of workspaces that left more than `[data] uninstalled_retention_days` ago."""
    cutoff = now - dt.timedelta(days=services.config.data.uninstalled_retention_days)
    with services.sessions.begin() as session:
        for key in departed(session, cutoff):
            rows = purge_workspace(session, key)
            log.warning("deleted the data of workspace %s (%d rows), %d days after it left", key, rows,
                        services.config.data.uninstalled_retention_days)
            report.add("workspaces_purged")


def _run_pass(services: Services, now: dt.datetime | None, concurrency: int,
              transport: TransportFactory) -> PassReport:
    now = now or services.now()
    report = PassReport()
    # Zones and names are looked up after sending has started, beside it: a pass sends what it can
    # first (someone whose zone is still unknown is held to default_timezone's hours), and a zone
    # learnt meanwhile moves that person's rows to their own hours (handlers.zones.apply_profiles).
    # Reminders, warnings and digests are decided on what was just delivered, then sent. Each step
    # is idempotent, so a pass stopped between steps (SIGTERM) is finished by the next pass.
    looked_up = PassReport()
    lookups = threading.Thread(target=_look_up, args=(services, now, looked_up), name="lookups", daemon=True)

    def send_and_look_up() -> None:
        try:
            drain(services, now, report, concurrency=concurrency, transport=transport, then=lookups.start)
        finally:
            if lookups.is_alive():
                lookups.join()
        report.merge(looked_up)
        if looked_up.get("zones_refreshed") and not services.stopping.is_set():
            # What waited for a zone just read (and is within its person's hours) goes now, not next pass.
            later = max(now, services.now())
            with services.sessions.begin() as session:
                outbox.reconsider_zoned(session, services.team_id, now, later)
            drain(services, later, report, concurrency=concurrency, transport=transport)

    steps = (lambda: plan_checkins(services, now, report), lambda: recover(services, now, report),
             send_and_look_up,
             lambda: plan_follow_ups(services, now, report),
             lambda: drain(services, now, report, concurrency=concurrency, transport=transport),
             lambda: refresh_homes(services, now, report))  # Home tabs whose publish failed (after a forget)
    for step in steps:
        if services.stopping.is_set():
            report.add("stopped")
            break
        step()
    log.info("%s", report.summary())
    return report


def _look_up(services: Services, now: dt.datetime, report: PassReport) -> None:
    try:
        refresh_zones(services, now, report)
    except Exception:  # a lookup failing must not stop the pass's sending; the next pass tries again
        log.exception("looking up zones and names failed")


def drain_interactive(services: Services) -> PassReport:
    if services.multi_workspace:
        return _each_workspace(services, None, lambda one: drain(one, kinds=INTERACTIVE))
    return drain(services, kinds=INTERACTIVE)
