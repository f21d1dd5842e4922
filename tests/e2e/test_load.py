"""Slash commands keep acking within Slack's 3 s while 200 DM answers arrive in 10 s (bench/load.py
prints the latencies against a no-load baseline; this only holds the deadline)."""

from __future__ import annotations

import pytest

from bench.load import SLACK_ACK_DEADLINE, run_load


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_slash_commands_ack_within_three_seconds_under_a_burst_of_dm_answers() -> None:
    result = run_load(dms=200, seconds=10.0, reps=50, latency=0.25)
    print("\n" + result.report())
    assert set(result.statuses) == {200}
    assert max(result.under_load) < SLACK_ACK_DEADLINE
    assert result.answers_stored == 50
