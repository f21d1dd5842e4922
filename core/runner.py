"""`serve`: build the app, start the in-process scheduler, then serve Socket Mode or HTTP."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

from apscheduler.schedulers.background import BackgroundScheduler

from core.app import build_app, build_services
from core.config import AdminConfig
from core.services import Services
from core.settings import Settings

log = logging.getLogger(__name__)

# The dispatch pass is cheap when nothing is due; once a minute keeps check-ins on the minute.
DISPATCH_INTERVAL_SECONDS = 60


def start_scheduler(services: Services) -> BackgroundScheduler:
    """An APScheduler interval job running the same pass as `checkin-bot dispatch`.

    The job holds no schedule state: the database is the truth, so a restart loses nothing.
    """
    from scheduling.dispatch import run_pass

    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.add_job(run_pass, "interval", args=[services], seconds=DISPATCH_INTERVAL_SECONDS,
                      id="dispatch", max_instances=1, coalesce=True, next_run_time=services.now())
    scheduler.start()
    return scheduler


def _stop(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def exit_on_sigterm() -> None:
    """Platforms stop a process with SIGTERM: end `serve` as Ctrl-C does, so `finally` blocks run
    and the exit code is 0 rather than death by signal."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _stop)


def serve(settings: Settings, config: AdminConfig, http: bool, port: int, scheduler: bool) -> int:
    exit_on_sigterm()
    services = build_services(settings, config)
    app = build_app(services)
    background = start_scheduler(services) if scheduler else None
    try:
        if http:
            from core.server import make_server

            server = make_server(app, services, port=port)
            log.info("serving HTTP on port %s (POST /slack/events, GET /healthz)", server.effective_port)
            server.run()
        else:
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            log.info("connecting in Socket Mode")
            SocketModeHandler(app, settings.app_token).start()
    finally:
        if background is not None:
            background.shutdown(wait=False)
    return 0
