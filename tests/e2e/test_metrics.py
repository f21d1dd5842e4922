"""/metrics, /readyz and /healthz as an operator's scraper and probes see them."""

from __future__ import annotations

import datetime as dt
import io
import json
import time
import urllib.error
import urllib.request
from typing import Any

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import create_engine, select

from core.clock import ManualClock
from core.metrics import PassClock
from storage.db import make_engine, upgrade
from storage.models import CheckIn
from wiring.harness import BotHarness
from wiring.server import WsgiApp


def scrape(bot: BotHarness) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    with urllib.request.urlopen(f"{bot.base_url}/metrics", timeout=10) as resp:  # noqa: S310 - local
        assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/plain")
        text = resp.read().decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def delta(before: dict[Any, float], after: dict[Any, float], name: str, **labels: str) -> float:
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0.0) - before.get(key, 0.0)


def test_counters_move_with_a_dispatch_pass_and_a_slash_command(bot: BotHarness, clock: ManualClock) -> None:
    assert bot.slack.slash("goal add Close the Acme renewal", user="U0REP1").status == 200
    bot.dispatch()  # plans the first check-ins
    with bot.services.sessions() as session:
        due = session.scalar(select(CheckIn.due_at).where(CheckIn.rep_id == "U0REP1"))
    assert due is not None
    clock.set(due + dt.timedelta(minutes=5))
    with bot.services.sessions() as session:
        waiting = sorted(session.scalars(select(CheckIn.due_at).where(CheckIn.state == "scheduled",
                                                                      CheckIn.due_at <= clock())))
    before = scrape(bot)
    assert before[("checkin_outbox_depth", ())] == len(waiting) >= 1
    assert before[("checkin_outbox_oldest_due_age_seconds", ())] == (clock() - waiting[0]).total_seconds()
    bot.sandbox.faults.rate_limit("chat.postMessage", times=1, retry_after=0)
    report = bot.dispatch()
    assert report.get("sent") == 1
    assert bot.slack.slash("health", user="U0MANAGER").status == 200
    after = scrape(bot)

    assert delta(before, after, "checkin_dispatch_passes_total", outcome="ok") == 1
    assert delta(before, after, "checkin_dispatch_pass_duration_seconds_count") == 1
    assert delta(before, after, "checkin_messages_total", kind="checkin_prompt", result="sent") == 1
    assert delta(before, after, "checkin_slack_rate_limited_total", method="chat.postMessage") == 1
    assert delta(before, after, "checkin_requests_total", kind="/checkin health") == 1
    assert delta(before, after, "checkin_request_ack_seconds_count", kind="/checkin health") == 1
    assert after[("checkin_outbox_depth", ())] == 0
    assert after[("checkin_outbox_oldest_due_age_seconds", ())] == 0
    assert after[("checkin_dispatch_last_pass_timestamp_seconds", ())] >= time.time() - 60


def test_a_failed_send_counts_as_failed_not_sent(bot: BotHarness, clock: ManualClock) -> None:
    assert bot.slack.slash("goal add Close the Acme renewal", user="U0REP1").status == 200
    bot.dispatch()
    with bot.services.sessions() as session:
        clock.set(session.scalar(select(CheckIn.due_at).where(CheckIn.rep_id == "U0REP1")))
    bot.sandbox.faults.slack_error("chat.postMessage", "user_not_found", user="U0REP1")
    before = scrape(bot)
    bot.dispatch()
    after = scrape(bot)
    assert delta(before, after, "checkin_messages_total", kind="checkin_prompt", result="failed") == 1
    assert delta(before, after, "checkin_messages_total", kind="checkin_prompt", result="sent") == 0


def call(app: WsgiApp, path: str) -> tuple[str, dict[str, Any]]:
    seen: dict[str, str] = {}

    def start_response(status: str, headers: list[tuple[str, str]]) -> None:
        seen["status"] = status

    body = b"".join(app({"PATH_INFO": path, "REQUEST_METHOD": "GET", "wsgi.input": io.BytesIO()},
                        start_response))  # type: ignore[arg-type]
    return seen["status"], json.loads(body)


def test_readyz_fails_when_the_scheduler_is_silent_or_the_database_is_gone(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'ready.db'}")
    upgrade(engine)  # /readyz checks that the database takes writes, on the migrated schema
    passes = PassClock()
    app = WsgiApp(None, engine, scheduler=True, max_pass_age=300, passes=passes)
    assert call(app, "/readyz")[0] == "200 OK"  # just started: the first pass has time
    app.started -= 600
    status, body = call(app, "/readyz")
    assert status.startswith("503") and "scheduler" in body
    passes.beat()
    assert call(app, "/readyz")[0] == "200 OK"
    # Without the scheduler in this process, its silence is someone else's business.
    assert call(WsgiApp(None, engine, scheduler=False, passes=PassClock()), "/readyz")[0] == "200 OK"

    gone = create_engine("postgresql+psycopg://nobody:nothing@127.0.0.1:1/none?connect_timeout=1")
    unreachable = WsgiApp(None, gone, scheduler=False)
    status, body = call(unreachable, "/readyz")
    assert status.startswith("503") and body["database"] == "unreachable"
    assert call(unreachable, "/healthz")[0].startswith("503")


def test_the_ops_only_server_does_not_take_slack_requests(tmp_path) -> None:
    app = WsgiApp(None, create_engine(f"sqlite:///{tmp_path / 'x.db'}"))
    seen: dict[str, str] = {}
    app({"PATH_INFO": "/slack/events", "REQUEST_METHOD": "POST", "wsgi.input": io.BytesIO()},
        lambda status, headers: seen.update(status=status))  # type: ignore[arg-type, func-returns-value]
    assert seen["status"].startswith("404")


def test_healthz_is_unchanged(bot: BotHarness) -> None:
    with urllib.request.urlopen(f"{bot.base_url}/healthz", timeout=10) as resp:  # noqa: S310 - local
        assert json.loads(resp.read()) == {"ok": True, "database": "ok"}
    try:
        urllib.request.urlopen(f"{bot.base_url}/nothing-here", timeout=10)  # noqa: S310 - local
    except urllib.error.HTTPError as exc:
        assert exc.code in (404, 405)
