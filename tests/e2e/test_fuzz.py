"""Forged and tampered values for every slash subcommand and every action_id: a polite refusal, no
state change (a database snapshot before and after), no 500."""

from __future__ import annotations

import random
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handlers.commands import ROUTES
from tests.e2e.fuzz_cases import (
    ACTION_IDS,
    PRIVILEGED,
    SIMPLE,
    Sender,
    Victim,
    forged_value,
    impolite,
    set_up,
    slash_text,
    snapshot,
)
from wiring.harness import BotHarness

# People in several zones message each other here; their hours are not what is tested (see conftest).
ANY_HOUR = True

FUZZ = settings(max_examples=60, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@pytest.fixture
def attack(bot: BotHarness, in_process: Any) -> tuple[Sender, Victim]:
    return Sender(bot, in_process), set_up(bot)


@FUZZ
@given(rng=st.randoms(use_true_random=False))
def test_forged_slash_commands_are_refused_and_change_nothing(
        bot: BotHarness, attack: tuple[Sender, Victim], rng: random.Random) -> None:
    sender, victim = attack
    before = snapshot(bot)
    text = slash_text(rng, victim)
    status, body = sender.slash(text)
    assert status == 200, (text, status)
    assert body.strip(), f"no answer at all to {text!r}"
    assert snapshot(bot) == before, f"state changed after {text!r}"
    assert impolite(bot) == []


@FUZZ
@given(rng=st.randoms(use_true_random=False), action_id=st.sampled_from(ACTION_IDS))
def test_forged_clicks_on_every_action_are_refused_and_change_nothing(
        bot: BotHarness, attack: tuple[Sender, Victim], rng: random.Random, action_id: str) -> None:
    sender, victim = attack
    before = snapshot(bot)
    value = forged_value(rng, victim)
    status, _ = sender.click(action_id, value)
    assert status == 200, (action_id, value, status)
    assert snapshot(bot) == before, f"state changed after {action_id} with {value!r}"
    assert impolite(bot) == []


def test_every_subcommand_is_fuzzed() -> None:
    fuzzed = {s.replace(" ", "_") for s in PRIVILEGED} | set(SIMPLE) | {"pause", "pause_cancel", "goal_add"}
    assert set(ROUTES) <= fuzzed


@pytest.mark.parametrize("action_id", ACTION_IDS)
def test_each_action_refuses_the_victims_ids_and_junk(bot: BotHarness, attack: tuple[Sender, Victim],
                                                      action_id: str) -> None:
    sender, victim = attack
    before = snapshot(bot)
    for value in [*victim.ids, "", None, "-1", "1" * 300, "<!channel>"]:
        status, _ = sender.click(action_id, value)
        assert status == 200, (action_id, value)
    assert snapshot(bot) == before
    assert impolite(bot) == []


@pytest.mark.parametrize("subcommand", [*PRIVILEGED, *SIMPLE, "pause", "goal add"])
def test_each_subcommand_refuses_a_forged_or_malformed_use(bot: BotHarness, attack: tuple[Sender, Victim],
                                                           subcommand: str) -> None:
    sender, victim = attack
    before = snapshot(bot)
    privileged = subcommand in PRIVILEGED
    malformed = ["x" * 281, "&" * 3000] if subcommand == "goal add" else ["extra words", "&" * 3000]
    for rest in ([f"<@{u}> what now?" for u in victim.users] if privileged else malformed):
        status, body = sender.slash(f"{subcommand} {rest}")
        assert status == 200 and body.strip(), (subcommand, rest)
    assert snapshot(bot) == before
    assert impolite(bot) == []
