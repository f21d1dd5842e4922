"""`checkin-bot demo`: the six-week story runs the real bot end to end, with no contract violations."""

from __future__ import annotations

import datetime as dt
import io
import json
import re

import pytest

from sandbox import Violation
from wiring.cli import main
from wiring.demo import Demo, run_demo
from wiring.demo_render import Transcript

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def six_weeks() -> tuple[int, str]:
    out = io.StringIO()
    code = run_demo(weeks=6, seed=7, speed=0.0, as_json=False, out=out)
    return code, out.getvalue()


def test_the_six_week_story_exits_zero_with_no_violations(six_weeks: tuple[int, str]) -> None:
    code, text = six_weeks
    assert code == 0, text[-3000:]
    assert "Slack contract violations: 0. Lost or repeated work: 0." in text


def test_the_transcript_shows_messages_as_people_see_them(six_weeks: tuple[int, str]) -> None:
    _, text = six_weeks
    assert "Maya types: /checkin goal add" not in text  # reps set their own goals
    assert "Ana types: /checkin goal add Close the Acme renewal by March 31" in text
    assert "(checkin_prompt)" in text
    assert "[Answer] [Skip this one] [Snooze 2h]" in text  # buttons rendered as labels
    # Local times in each recipient's zone, across both DST changes in the story.
    for zone in ("PST", "PDT", "EST", "EDT", "CET", "CEST", "AEDT", "AEST"):
        assert re.search(rf"\[\w{{3}} \d+ \w{{3}} \d\d:\d\d {zone}\]", text), zone
    assert "══ Monday 2 March 2026 (UTC)" in text  # a date header per day


def test_reps_answer_skip_snooze_and_pause_in_their_own_ways(six_weeks: tuple[int, str]) -> None:
    _, text = six_weeks
    assert "writes in the DM:" in text and "writes in the check-in's thread:" in text
    assert "sees the “Check-in” form" in text and "fills it in and submits" in text
    assert "clicks [Skip this one]" in text and "clicks [Snooze 2h]" in text
    assert "Kai types: /checkin pause 1w" in text
    assert "Paused: Kai's check-in due Mon 16 Mar 10:00 AEDT was not sent." in text
    assert "(checkin_reminder)" in text


def test_dst_holiday_and_restart_are_handled(six_weeks: tuple[int, str]) -> None:
    _, text = six_weeks
    assert "DST: Ana's check-in still arrived at 10:00 local time (PST → PDT)" in text
    assert "DST: Lena's check-in still arrived at 10:00 local time (CET → CEST)" in text
    assert "DST: Kai's check-in still arrived at 10:00 local time (AEDT → AEST)" in text
    assert "Holiday: nothing was sent on Mon 6 Apr" in text
    assert re.search(r"Restart: (\d+) check-ins were planned when the bot restarted: \1 sent once after it; "
                     r"none lost, none twice\.", text)


def test_the_manager_coaches_and_the_guard_catches_the_drift(six_weeks: tuple[int, str]) -> None:
    _, text = six_weeks
    # Answers are passed on, and Maya replies with notes and thanks (buttons found at run time).
    assert "(checkin_answer)" in text and "(coaching_note)" in text
    assert "Maya clicks [Reply with a note]" in text and "Maya clicks [Thanks]" in text
    # The tone coach holds a "Why did you...?" question; Maya sends one anyway...
    assert "Maya types: /checkin ask @ana Why did you" in text
    assert "Not sent yet. Your question to @Ana:" in text
    assert "[Send the coaching version] [Send mine anyway] [Don't send]" in text
    assert "Maya clicks [Send mine anyway]" in text
    assert "@Kai has paused check-ins until 2026-03-18." in text and "Maya clicks [Don't send]" in text
    # ...a private drift warning follows, she changes course, and the signals recover.
    assert text.count("(drift_warning)") == 1, "the story has exactly one episode of drift"
    assert "Maya clicks [Send the coaching version]" in text
    assert "Your team, last 6 weeks" in text  # the final /checkin summary
    assert "Your check-in health" in text
    assert "4 reps: 🟢 healthy 4" in text, "after Maya changes course every signal is back under its line"


def test_a_request_for_help_reaches_maya_and_a_carried_step_is_asked_about(six_weeks: tuple[int, str]) -> None:
    _, text = six_weeks
    # Kai asks for help in his own words; he is told privately, with an undo.
    assert "as a request for help, so I've flagged it for your manager" in text
    assert "[Undo: I don't need help]" in text
    # Maya misses it; two of her working days later she is nudged once, and answers with a note.
    assert text.count("✔ Help nudge: Maya got one gentle reminder of Kai's request for help") == 1
    assert "A gentle reminder: Kai Nguyen asked for your help 2 working days ago" in text
    assert "Sorry Kai, I missed this." in text
    # His next check-in on the tender quotes the step he named, as one open question.
    assert "✔ Carry-forward: Kai's check-in quotes the next step he named last time" in text
    assert ("Last time you named “call their procurement lead on Wednesday” as your next step on "
            "Win the Umbrella tender. How did it go?") in text


def test_json_mode_emits_the_same_events_as_json_lines() -> None:
    out = io.StringIO()
    assert run_demo(weeks=4, seed=3, as_json=True, out=out) == 0
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    kinds = {e["kind"] for e in events}
    assert {"day", "narration", "slash", "reply", "dm", "update", "click", "modal", "submit", "say"} <= kinds
    types = {e.get("event_type") for e in events if e["kind"] == "dm"}
    assert {"checkin_prompt", "checkin_answer", "coaching_note", "manager_question", "drift_warning"} <= types
    prompt = next(e for e in events if e.get("event_type") == "checkin_prompt")
    assert prompt["local"] and prompt["payload"]["checkin_id"]
    assert {"checkin_answer", "checkin_skip", "checkin_snooze"} <= {a["action_id"] for a in prompt["actions"]}
    summary = events[-1]
    assert summary["kind"] == "summary" and summary["stats"]["violations"] == 0
    assert summary["stats"]["restarts"] == 1
    assert summary["stats"]["sent_after_restart"] == summary["stats"]["planned_at_restart"] > 0


def test_the_same_seed_tells_the_same_story() -> None:
    runs = []
    for _ in range(2):
        out = io.StringIO()
        assert run_demo(weeks=1, seed=11, out=out) == 0
        runs.append(re.sub(r"in [\d.]+ s", "", out.getvalue()))
    assert runs[0] == runs[1]


def test_a_contract_violation_fails_the_demo_loudly(monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    original = Demo.run

    def run_then_break_a_rule(self: Demo) -> None:
        original(self)
        self.sandbox.recorder.violate([Violation("chat.postMessage", "block_kit", "injected by the test")])

    monkeypatch.setattr(Demo, "run", run_then_break_a_rule)
    assert run_demo(weeks=1, seed=1, out=io.StringIO()) == 1
    err = capsys.readouterr().err
    assert "FAILED with 1 Slack contract violation(s)" in err
    assert "chat.postMessage: [block_kit] injected by the test" in err


def test_the_cli_runs_the_demo_and_refuses_bad_flags(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--weeks", "1", "--seed", "2"]) == 0
    out = capsys.readouterr().out
    assert "Simulated 1 week(s)" in out and "══ " in out  # plain text when stdout is not a terminal
    assert main(["demo", "--weeks", "0"]) == 1
    assert "--weeks must be 1 to 12" in capsys.readouterr().err


def test_speed_pauses_once_per_simulated_day() -> None:
    pauses: list[float] = []
    transcript = Transcript(io.StringIO(), "plain", speed=0.5, sleep=pauses.append)
    monday = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
    for moment in (monday, monday + dt.timedelta(hours=5), monday + dt.timedelta(days=2)):
        transcript.progress(moment, "week 1 of 6")
    assert pauses == [1.0]  # nothing within the first day, then two days' worth


def test_a_story_step_that_cannot_run_fails_the_demo(monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    # No modal ever opens: the reps who answer in the form, and Maya's notes, cannot happen.
    monkeypatch.setattr(Demo, "_open_modal", lambda self, person, before: None)
    assert run_demo(weeks=2, seed=7, out=io.StringIO()) == 1
    assert "story step could not run:" in capsys.readouterr().err


def test_the_closing_tally_reports_what_verify_found(monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    original = Demo.verify

    def verify_with_a_lost_checkin(self: Demo) -> list[str]:
        problems = original(self)
        self.stats["restart_faults"] = 1
        return [*problems, "check-in 99, planned before the restart, ended missing"]

    monkeypatch.setattr(Demo, "verify", verify_with_a_lost_checkin)
    out = io.StringIO()
    assert run_demo(weeks=1, seed=1, out=out) == 1
    text = out.getvalue()
    assert "1 lost or sent twice" in text and "none lost" not in text
    assert "Lost or repeated work: 1." in text
