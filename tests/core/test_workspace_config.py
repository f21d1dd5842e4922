"""Per-workspace admin config and the OAuth settings (issue 11)."""

from __future__ import annotations

import pytest

from core.config import ConfigError, parse_config
from core.settings import Settings, SettingsError
from wiring.cli import run

TEXT = """
admins = ["U0TOPADMIN"]
deliver_answers = "daily"

[cadence]
every = "week"
time = "10:00"

[[teams]]
name = "Everywhere"
manager = "U0TOPMGR"

[workspaces.T0ALPHA]
admins = ["U0ALPHAADMIN"]
cadence = { every = "2 weeks" }
[[workspaces.T0ALPHA.teams]]
name = "West"
manager = "U0MGRA"
members = ["U0REPA"]

[data]
uninstalled_retention_days = 7
"""


def test_a_workspace_table_replaces_the_keys_it_gives_and_merges_its_cadence() -> None:
    config = parse_config(TEXT)
    alpha = config.for_workspace("T0ALPHA")
    assert alpha.admins == ["U0ALPHAADMIN"]
    assert [t.name for t in alpha.teams] == ["West"]
    assert (alpha.cadence.every, alpha.cadence.time) == ("2 weeks", "10:00")
    assert alpha.deliver_answers == "daily", "what the table does not give comes from the top level"
    assert alpha.data.uninstalled_retention_days == 7


def test_a_workspace_without_a_table_runs_on_the_top_level_and_digests_differ() -> None:
    config = parse_config(TEXT)
    bravo = config.for_workspace("T0BRAVO")
    assert bravo.admins == ["U0TOPADMIN"] and [t.name for t in bravo.teams] == ["Everywhere"]
    assert config.for_workspace("T0ALPHA").digest() != bravo.digest()


@pytest.mark.parametrize("text", [
    '[workspaces.alpha]\nadmins = []\n',
    '[workspaces.T0ALPHA]\nunknown = 1\n',
    '[data]\nuninstalled_retention_days = -1\n',
    '[[workspaces.T0A.teams]]\nname = "X"\nmanager = "U0M"\n[[workspaces.T0A.teams]]\nname = "X"\nmanager = "U0N"\n',
])
def test_bad_workspace_tables_are_errors(text: str) -> None:
    with pytest.raises(ConfigError):
        parse_config(text)


def test_oauth_needs_both_credentials_and_http_mode() -> None:
    with pytest.raises(SettingsError, match="go together"):
        Settings.from_env({"SLACK_CLIENT_ID": "1.2"})
    with pytest.raises(SettingsError, match="HTTP mode"):
        Settings.from_env({"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "s", "SLACK_APP_TOKEN": "xapp-1"})
    settings = Settings.from_env({"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "s3cret"})
    assert settings.oauth and "s3cret" not in repr(settings)
    assert not Settings.from_env({"SLACK_BOT_TOKEN": "xoxb-1"}).oauth


def test_config_check_prints_what_each_workspace_runs_on(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "checkins.toml"
    path.write_text(TEXT)
    assert run(["config", "check", str(path)]) == 0
    out = capsys.readouterr().out
    assert "workspace T0ALPHA: every 2 weeks" in out
    assert "  team West (manager U0MGRA, 1 rep(s))" in out
