"""`checkin-bot demo`: the real bot, a local Slack workspace and six simulated weeks in seconds.

The same App, listeners, dispatch pass and storage as production (a temporary SQLite file), wired
to the sandbox by `BotHarness`, with a `ManualClock` shared by the bot and the sandbox so message
timestamps follow simulated time. Time moves event-wise: to the next scripted moment, the next
check-in due in the database, the next reminder, or a daily tick; after each step the dispatch
pass runs, exactly as `serve`'s scheduler would run it.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
import logging
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select

from core.clock import ManualClock
from sandbox.checks import Violation
from sandbox.client import SlackClientSim
from sandbox.models import BOT_USER_ID, Message
from sandbox.server import Sandbox
from storage.models import Answer, CheckIn, OutboxMessage, OutboxState
from wiring.config import parse_checked
from wiring.demo_files import save_health_chart
from wiring.demo_render import Event, Transcript, local_stamp, render_blocks
from wiring.demo_story import PEOPLE, START, Person, Story, config_toml, week_of
from wiring.demo_watch import Watcher
from wiring.harness import BotHarness

DAILY_TICK = dt.time(14, 0)  # UTC: morning in the Americas, afternoon in Europe, night in Sydney
Action = Callable[[], object]


class Demo:
    def __init__(self, weeks: int, seed: int, transcript: Transcript, workdir: Path) -> None:
        self.weeks, self.seed, self.transcript = weeks, seed, transcript
        self.clock = ManualClock(START)
        self.database_url = f"sqlite:///{workdir / 'demo.db'}"
        self.config = parse_checked(config_toml(), "demo config")
        self.sandbox = Sandbox.start(clock=lambda: self.clock().timestamp())
        for person in PEOPLE:
            self.sandbox.add_user(person.id, name=person.handle, real_name=person.name, tz=person.tz)
        self.harness = BotHarness(self.sandbox, self.database_url, self.config, clock=self.clock)
        self.names = {p.id: p.name.split()[0] for p in PEOPLE} | {BOT_USER_ID: "Check-in Coach"}
        self.zones = {p.id: p.tz for p in PEOPLE}
        self.watcher = Watcher(self.sandbox, self.names, self.zones, self.clock)
        self.story = Story(self, random.Random(seed), weeks)
        self._agenda: list[tuple[dt.datetime, int, int, str, Action]] = []
        self._seq = itertools.count()
        self.failures: list[str] = []
        self.answers_given = 0
        self.planned_at_restart: set[int] = set()
        self.passes = 0
        self.restarts = 0
        self.stats: dict[str, Any] = {}

    # ---- time --------------------------------------------------------------------------------------
    def now(self) -> dt.datetime:
        return self.clock()

    def later(self, when: dt.datetime, label: str, action: Action, order: int = 0) -> None:
        heapq.heappush(self._agenda, (max(when, self.now()), order, next(self._seq), label, action))

    def _db_moment(self) -> dt.datetime | None:
        """The next check-in due, or the next reminder, from the bot's own database."""
        now = self.now()
        hours = dt.timedelta(hours=self.config.cadence.reminder_after_hours)
        with self.harness.services.sessions.begin() as session:
            due = session.scalar(select(CheckIn.due_at).where(CheckIn.state == "scheduled", CheckIn.due_at > now)
                                 .order_by(CheckIn.due_at).limit(1))
            sent = list(session.scalars(select(CheckIn.sent_at).where(
                CheckIn.state == "sent", CheckIn.kind == "scheduled", CheckIn.reminder_sent_at.is_(None))))
            # A message waiting in the outbox for its recipient's morning (or a retry).
            waiting = session.scalar(select(OutboxMessage.not_before).where(
                OutboxMessage.state == OutboxState.PENDING, OutboxMessage.not_before > now)
                .order_by(OutboxMessage.not_before).limit(1))
        moments = [m for m in (due, waiting) if m]
        if hours:
            # A reminder held back by quiet hours or a weekend is retried on the hour.
            moments += [max(s + hours, now + dt.timedelta(hours=1)) for s in sent if s is not None]
        return min(moments) if moments else None

    def _next_moment(self) -> dt.datetime:
        now = self.now()
        tick = dt.datetime.combine(now.date(), DAILY_TICK, tzinfo=dt.UTC)
        if tick <= now:
            tick += dt.timedelta(days=1)
        moments = [tick] + ([self._agenda[0][0]] if self._agenda else [])
        found = self._db_moment()
        return min(moments + ([found] if found else []))

    def week_label(self) -> str:
        week = week_of(self.now().date())
        return "setting up" if week < 1 else f"week {min(week, self.weeks)} of {self.weeks}"

    # ---- the story loop -----------------------------------------------------------------------------
    def run(self) -> None:
        for beat in self.story.beats():
            self.later(beat.when, beat.label, beat.action, beat.order)
        end = self.story.end_at()
        while True:
            moment = self._next_moment()
            if moment > end:
                break
            self.clock.set(moment)
            self.transcript.progress(moment, self.week_label())
            while self._agenda and self._agenda[0][0] <= moment:
                heapq.heappop(self._agenda)[4]()
            self.dispatch()
        self.transcript.stop()

    def dispatch(self) -> None:
        # One message at a time: the same seed then tells the same story, in the same order.
        report = self.harness.dispatch(concurrency=1)
        self.passes += 1
        if report.get("paused"):
            with self.harness.services.sessions.begin() as session:
                rows = session.execute(select(CheckIn.rep_id, CheckIn.due_at).where(
                    CheckIn.state == "paused", CheckIn.closed_at == self.now())).all()
            for rep_id, due in rows:
                self.check(f"Paused: {self.names[rep_id]}'s check-in due {local_stamp(due, self.zones[rep_id])} "
                           "was not sent.")
        self.pump()

    def restart(self) -> None:
        with self.harness.services.sessions.begin() as session:
            self.planned_at_restart = set(session.scalars(select(CheckIn.id).where(CheckIn.state == "scheduled")))
        self.say("Thursday evening deploy: the bot process stops, and a new one starts on the same database.",
                 [f"{len(self.planned_at_restart)} check-ins are planned and not yet sent; none may be lost "
                  "or sent twice."])
        self.harness.close()
        self.restarts += 1
        self.harness = BotHarness(self.sandbox, self.database_url, self.config, clock=self.clock)

    # ---- what people see and do ---------------------------------------------------------------------
    def pump(self) -> list[Event]:
        events = self.watcher.poll()
        for event in events:
            self.transcript.emit(event)
            self.story.on_event(event)
        return events

    def say(self, title: str, lines: list[str] | None = None) -> None:
        self.transcript.emit(Event("narration", self.now(), title=title, lines=[("text", x) for x in lines or []]))

    def cannot(self, step: str) -> None:
        """A story step could not run: say so, and fail the demo (it must tell the whole story)."""
        self.failures.append(f"story step could not run: {step}")
        self.say(f"This step could not run: {step}.")

    def check(self, title: str, lines: list[str] | None = None) -> None:
        self.transcript.emit(Event("check", self.now(), title=title, lines=[("text", x) for x in lines or []]))

    def save_chart(self) -> None:
        saved = save_health_chart(self.sandbox.files)
        if saved is None:
            self.cannot("Maya's health report carried no trend chart")
            return
        self.check("Maya's trend chart reached her DM as a picture", [f"PNG written to {saved[0]}", saved[1]])

    def _act(self, kind: str, person: Person, title: str, lines: list[tuple[str, str]] | None = None,
             **data: Any) -> None:
        self.transcript.emit(Event(kind, self.now(), person.id, self.names[person.id],
                                   local_stamp(self.now(), person.tz), title, lines or [], data=data))

    @property
    def slack(self) -> SlackClientSim:
        return self.harness.slack

    def slash(self, person: Person, text: str) -> list[Event]:
        self._act("slash", person, f"{self.names[person.id]} types: /checkin {text}", command="/checkin",
                  command_text=text)
        response = self.slack.slash(text, user=person.id)
        if response.status != 200:
            self.failures.append(f"/checkin {text} by {person.handle} got HTTP {response.status}")
        return self.pump()

    def dm(self, person: Person, text: str, thread: Event | None = None) -> None:
        where = "in the check-in's thread" if thread is not None else "in the DM"
        self._act("say", person, f"{self.names[person.id]} writes {where}:", [("quote", "│ " + text)],
                  thread_ts=thread.data.get("ts") if thread else None)
        response = self.slack.dm(person.id, text, thread_ts=thread.data.get("ts") if thread else None)
        self.answers_given += 1
        if response.status != 200:
            self.failures.append(f"a DM from {person.handle} got HTTP {response.status}")
        self.pump()

    def _current(self, source: Event) -> Any:
        ref = source.ref
        if isinstance(ref, Message):
            return self.sandbox.workspace.find(ref.channel, ref.ts)
        return ref

    def click(self, person: Person, action_id: str, source: Event, feature: str | None = None) -> bool:
        current = self._current(source)
        button = next((b for b in (source.data.get("actions") or []) if b["action_id"] == action_id), None)
        if current is None or button is None or action_id not in current.action_ids():
            return False  # the button is gone (the message was updated): nobody can click it
        self._act("click", person, f"{self.names[person.id]} clicks [{button['label']}]", action_id=action_id)
        response = self.slack.click(action_id, user=person.id, message=current)
        if response.status == 404:
            self.cannot(f"{person.handle} clicked {action_id} but {feature or 'that button'} has no listener")
        elif response.status != 200:
            self.failures.append(f"clicking {action_id} as {person.handle} got HTTP {response.status}")
        self.pump()
        return response.status == 200

    def _open_modal(self, person: Person, before: set[str]) -> dict[str, Any] | None:
        modals = [v for v in self.sandbox.views_of(person.id) if v["type"] == "modal" and v["id"] not in before]
        return modals[-1] if modals else None

    def _modal_ids(self, person: Person) -> set[str]:
        return {v["id"] for v in self.sandbox.views_of(person.id) if v["type"] == "modal"}

    def _fill(self, person: Person, source: Event, action_id: str, fill: Callable[[dict[str, Any]], dict[str, Any]],
              summary: list[tuple[str, str]]) -> bool:
        """Click a button that opens a modal, fill the modal's inputs, submit it."""
        before = self._modal_ids(person)
        if not self.click(person, action_id, source):
            return False
        view = self._open_modal(person, before)
        if view is None:
            self.cannot(f"{action_id} opened no form for {person.handle}")
            return False
        title = str((view.get("title") or {}).get("text") or "a form")
        self._act("modal", person, f"{self.names[person.id]} sees the “{title}” form",
                  render_blocks(view.get("blocks"), "", self.names))
        self._act("submit", person, f"{self.names[person.id]} fills it in and submits", summary)
        response = self.slack.submit_view(view, fill(view), user=person.id)
        if response.status != 200:
            self.failures.append(f"submitting {title!r} as {person.handle} got HTTP {response.status}")
        self.pump()
        return True

    def answer_in_modal(self, person: Person, source: Event, text: str, confidence: int, help_wanted: bool) -> None:
        def fill(view: dict[str, Any]) -> dict[str, Any]:
            values: dict[str, Any] = {}
            for block in view.get("blocks") or []:
                element = block.get("element") or {}
                kind, key = element.get("type"), element.get("action_id")
                if block.get("type") != "input" or not key:
                    continue
                if kind == "plain_text_input":
                    values[key] = text
                elif kind == "static_select":
                    options = [o["value"] for o in element.get("options") or []]
                    if str(confidence) in options:
                        values[key] = str(confidence)
                elif kind == "checkboxes" and help_wanted:
                    values[key] = [o["value"] for o in element.get("options") or []][:1]
            return values

        extras = [("context", f"confidence {confidence}/5" + (" · asks for help" if help_wanted else ""))]
        if self._fill(person, source, "checkin_answer", fill, [("quote", "│ " + text), *extras]):
            self.answers_given += 1

    def write_note(self, person: Person, source: Event, button: dict[str, str], text: str) -> None:
        def fill(view: dict[str, Any]) -> dict[str, Any]:
            inputs = [b["element"]["action_id"] for b in view.get("blocks") or []
                      if b.get("type") == "input" and (b.get("element") or {}).get("type") == "plain_text_input"]
            return {inputs[0]: text} if inputs else {}

        self._fill(person, source, button["action_id"], fill, [("quote", "│ " + text)])

    def prompt_text(self, person: Person, reminder: Event) -> str:
        """The text of the check-in a reminder is about (to know which goal to talk about)."""
        checkin_id = reminder.data.get("payload", {}).get("checkin_id")
        for msg in self.sandbox.dms_to(person.id):
            if msg.event_type == "checkin_prompt" and msg.event_payload.get("checkin_id") == checkin_id:
                return "\n".join(text for style, text in render_blocks(msg.blocks[:1], msg.text, self.names))
        return ""

    # ---- the checks at the end ----------------------------------------------------------------------
    def verify(self) -> list[str]:
        problems = list(self.failures)
        bot_msgs = [m for m in self.sandbox.messages() if m.user == BOT_USER_ID]
        prompts = Counter(m.event_payload.get("checkin_id") for m in bot_msgs if m.event_type == "checkin_prompt")
        relays = Counter((m.event_payload.get("answer_id"), m.event_payload.get("manager"))
                         for m in bot_msgs if m.event_type == "checkin_answer")
        warnings = Counter((m.event_payload.get("manager"), dt.datetime.fromtimestamp(float(m.ts), dt.UTC).date())
                           for m in bot_msgs if m.event_type == "drift_warning")
        with self.harness.services.sessions.begin() as session:
            rows = {c.id: (c.state, c.snooze_count) for c in session.scalars(select(CheckIn))}
            answers = len(session.scalars(select(Answer.id)).all())
        doubled: set[int] = set()
        for checkin_id, count in prompts.items():
            allowed = 1 + rows.get(int(checkin_id or 0), ("", 0))[1]
            if count > allowed:
                doubled.add(int(checkin_id or 0))
                problems.append(f"check-in {checkin_id} was sent {count} times (allowed {allowed})")
        restart_faults = len(doubled & self.planned_at_restart)
        problems += [f"answer {a} was passed on to {m} {n} times" for (a, m), n in relays.items() if n > 1]
        problems += [f"{m} got {n} drift warnings on {d}" for (m, d), n in warnings.items() if n > 1]
        for checkin_id in sorted(self.planned_at_restart):
            state = rows.get(checkin_id, ("missing", 0))[0]
            if state in ("missing", "sending"):
                restart_faults += 1
                problems.append(f"check-in {checkin_id}, planned before the restart, ended {state}")
        stuck = [i for i, (state, _) in rows.items() if state == "sending"]
        problems += [f"check-in {i} is stuck in 'sending'" for i in stuck]
        if answers != self.answers_given:
            problems.append(f"the reps gave {self.answers_given} answers but {answers} were stored")
        resent = sum(prompts.values()) - len(prompts)
        self.stats = {"checkins": len(prompts), "snoozed_and_resent": resent,
                      "questions": sum(1 for m in bot_msgs if m.event_type == "manager_question"),
                      "answers": answers, "answers_passed_on": sum(relays.values()),
                      "drift_warnings": sum(warnings.values()), "passes": self.passes, "restarts": self.restarts,
                      "planned_at_restart": len(self.planned_at_restart), "restart_faults": restart_faults,
                      "sent_after_restart": sum(1 for i in self.planned_at_restart if prompts.get(i)),
                      "still_planned": sum(1 for i in self.planned_at_restart
                                           if rows.get(i, ("", 0))[0] == "scheduled")}
        return problems

    def close(self) -> None:
        self.harness.close()
        self.sandbox.close()


class _Capture(logging.Handler):
    """Keeps the bot's warnings and errors for the end of the transcript instead of interleaving them."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.levelname} {record.name}: {record.getMessage()}")


def run_demo(weeks: int = 6, seed: int = 7, speed: float = 0.0, as_json: bool = False,
             out: IO[str] | None = None) -> int:
    """Play the story; 0 when it ran with no Slack contract violations and no lost or repeated work."""
    stream = out if out is not None else sys.stdout
    if not 1 <= weeks <= 12 or speed < 0:
        print("checkin-bot: --weeks must be 1 to 12 and --speed 0 or more", file=sys.stderr)
        return 1
    mode = "json" if as_json else "rich" if stream.isatty() else "plain"
    transcript = Transcript(stream, mode, speed)
    capture = _Capture()
    root = logging.getLogger()
    root.addHandler(capture)
    started = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory(prefix="checkin-demo-") as workdir:
            demo = Demo(weeks, seed, transcript, Path(workdir))
            try:
                demo.run()
                problems = demo.verify()
            except BaseException:
                transcript.stop()
                _fail(demo.sandbox.violations, ["the story stopped with an error (below)"])
                raise
            finally:
                transcript.stop()
                violations = demo.sandbox.violations
                demo.close()
    finally:
        root.removeHandler(capture)
    took = time.perf_counter() - started
    _report(demo, transcript, problems, [str(v) for v in violations], capture.lines, took)
    if violations or problems:
        _fail(violations, problems)
        return 1
    return 0


def _fail(violations: list[Violation], problems: list[str]) -> None:
    print(f"checkin-bot demo: FAILED with {len(violations)} Slack contract violation(s) and "
          f"{len(problems)} other problem(s):", file=sys.stderr)
    for line in [*map(str, violations), *problems]:
        print(f"  - {line}", file=sys.stderr)


def _report(demo: Demo, transcript: Transcript, problems: list[str], violations: list[str], logs: list[str],
            took: float) -> None:
    stats = dict(demo.stats, seconds=round(took, 2), violations=len(violations), problems=len(problems))
    lines = [f"{stats['checkins']} check-ins sent ({stats['snoozed_and_resent']} snoozed and sent again), "
             f"{stats['questions']} questions from Maya, {stats['answers']} answers stored "
             f"({demo.answers_given} given), {stats['answers_passed_on']} passed on to Maya,",
             f"{stats['drift_warnings']} drift warning(s), {stats['passes']} dispatch passes."]
    if demo.restarts:
        later = f", {stats['still_planned']} still planned past the story's end" if stats["still_planned"] else ""
        other = stats["planned_at_restart"] - stats["sent_after_restart"] - stats["still_planned"]
        closed = f", {other} paused or skipped" if other else ""
        # Only what verify() found: "none lost" is said only when no such check-in was lost or doubled.
        faults = stats["restart_faults"]
        outcome = "none lost, none twice" if not faults else f"{faults} lost or sent twice"
        lines.append(f"Restart: {stats['planned_at_restart']} check-ins were planned when the bot restarted: "
                     f"{stats['sent_after_restart']} sent once after it{later}{closed}; {outcome}.")
    lines += [f"Slack contract violations: {len(violations)}. Lost or repeated work: {len(problems)}.",
              f"Bot warnings in the log: {len(logs)}."]
    lines += [f"  {line}" for line in logs[:10]]
    title = f"Simulated {demo.weeks} week(s) in {took:.1f} s (seed {demo.seed})"
    event = Event("check" if not (problems or violations) else "narration", demo.now(), title=title,
                  lines=[("text", x) for x in lines], data={"stats": stats})
    if transcript.mode == "json":
        event.kind = "summary"
    transcript.emit(event)
