"""`serve`: build the app, start the in-process scheduler, then serve Socket Mode or HTTP."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler

from core.config import AdminConfig
from core.services import Services
from core.settings import Settings
from handlers.passes import drain_interactive, run_pass
from wiring.app import build_app
from wiring.boot import build_services, settle_heap
from wiring.server import make_server, stop_server

log = logging.getLogger(__name__)

# The dispatch pass is cheap when nothing is due; once a minute keeps check-ins on the minute.
DISPATCH_INTERVAL_SECONDS = 60
# Messages people wait for (questions, notes, invitations) that had to wait for a retry or for
# their recipient's hours go out within seconds of being allowed.
INTERACTIVE_INTERVAL_SECONDS = 5


def start_scheduler(services: Services) -> BackgroundScheduler:
    """An APScheduler interval job running the same pass as `checkin-bot dispatch`.

    The job holds no schedule state: the database is the truth, so a restart loses nothing.
    """
    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.add_job(run_pass, "interval", args=[services], seconds=DISPATCH_INTERVAL_SECONDS,
                      id="dispatch", max_instances=1, coalesce=True, next_run_time=services.now())
    scheduler.add_job(drain_interactive, "interval", args=[services], seconds=INTERACTIVE_INTERVAL_SECONDS,
                      id="interactive", max_instances=1, coalesce=True)
    scheduler.start()
    return scheduler


def exit_on_sigterm(stopping: threading.Event | None = None) -> None:
    """Platforms stop a process with SIGTERM: end `serve` as Ctrl-C does, so `finally` blocks run
    and the exit code is 0 rather than death by signal. `stopping` is set first, so the outbox
    worker claims nothing more and gives back what it has not started (handlers.delivery.drain)."""

    def stop(signum: int, frame: FrameType | None) -> None:
        if stopping is not None:
            stopping.set()
        raise SystemExit(0)

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, stop)


def start_ops_server(services: Services, port: int, scheduler: bool) -> Any:
    """/healthz, /readyz and /metrics on their own port, in a background thread (Socket Mode)."""
    server = make_server(None, services.engine, port=port, threads=2, scheduler=scheduler)
    threading.Thread(target=server.run, name="ops-http", daemon=True).start()
    log.info("serving /healthz, /readyz and /metrics on port %s", server.effective_port)
    return server


def serve(settings: Settings, config: AdminConfig, http: bool, port: int, scheduler: bool,
          metrics_port: int | None = None) -> int:
    exit_on_sigterm()
    services = build_services(settings, config)
    exit_on_sigterm(services.stopping)
    app = build_app(services)
    settle_heap()
    server = None
    if http:
        # Bind before the scheduler starts, so a busy port stops the process before it sends anything.
        try:
            server = make_server(app, services.engine, port=port, scheduler=scheduler, services=services)
        except OSError as exc:
            raise RuntimeError(f"cannot listen on port {port}: {exc.strerror or exc}") from None
    background = start_scheduler(services) if scheduler else None
    ops = start_ops_server(services, metrics_port, scheduler) if metrics_port and metrics_port != port else None
    try:
        if server is not None:
            log.info("serving HTTP on port %s (POST /slack/events, GET /healthz, /readyz, /metrics%s)",
                     server.effective_port, ", /slack/install, /slack/oauth_redirect" if settings.oauth else "")
            server.run()  # until SIGTERM: it then finishes the requests in flight (up to 5 s)
        else:
            # Only Socket Mode needs the websocket client; HTTP deployments never load it.
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            log.info("connecting in Socket Mode")
            SocketModeHandler(app, settings.app_token).start()
    finally:
        services.stopping.set()  # Ctrl-C too: claim nothing more, give back what isn't started
        if ops is not None:
            stop_server(ops)
        if background is not None:
            # A pass in progress ends its posts in flight and gives back the rest (a claim left
            # held would otherwise wait out its lease), then the scheduler stops.
            background.shutdown(wait=True)
        # Listener work that ran after its ack (Bolt's thread pool) finishes before exit.
        app.listener_runner.listener_executor.shutdown(wait=True)
    log.info("stopped")
    return 0
