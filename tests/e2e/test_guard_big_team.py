"""The health report and App Home stay within Block Kit's limits for a big team: paged, compact."""

from __future__ import annotations

import pytest

from core.config import AdminConfig, parse_config
from wiring.harness import BotHarness

BIG_TEAM = [f"U0BIG{n:03d}" for n in range(40)]


@pytest.fixture
def admin_config() -> AdminConfig:
    members = ", ".join(f'"{rep}"' for rep in BIG_TEAM)
    return parse_config(f'admins = ["U0ADMIN"]\n[[teams]]\nname = "Big"\nmanager = "U0MANAGER"\n'
                        f'members = [{members}]\n')


def test_a_big_team_is_paged_within_block_kit_limits(bot: BotHarness) -> None:
    assert bot.slack.slash("health", user="U0MANAGER").status == 200
    reply = {"blocks": [e for e in bot.sandbox.ephemerals_to("U0MANAGER") if e.source != "ack"][-1].blocks}
    assert len(reply["blocks"]) <= 50 and "Page 1 of 4" in str(reply["blocks"])
    bot.slack.click("guard_health_next", user="U0MANAGER")
    page = [e for e in bot.sandbox.ephemerals_to("U0MANAGER") if e.source != "ack"][-1]
    assert "Page 2 of 4" in str(page.blocks)
    assert "guard_health_prev" in page.action_ids() and "guard_health_next" in page.action_ids()
    bot.slack.open_home("U0MANAGER")
    assert len(bot.sandbox.home_of("U0MANAGER")["blocks"]) <= 100
    bot.sandbox.assert_no_violations()
