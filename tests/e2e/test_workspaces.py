"""Several workspaces and an Enterprise Grid org, installed through the OAuth redirect (issue 11).

The sandbox runs with strict tokens: a token used against another workspace's user or channel
gets Slack's own `channel_not_found` / `user_not_found`, and every call records the workspace
its token acts in.
"""

from __future__ import annotations

import datetime as dt
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core import logcontext
from core.clock import ManualClock
from handlers import passes
from sandbox import Sandbox
from sandbox.client import SlackClientSim
from storage.models import SLACK_BOTS, Answer, CheckIn, OutboxMessage, User, Workspace
from tests.conftest import ANY_HOUR_CADENCE
from wiring.config import parse_checked
from wiring.harness import SIGNING_SECRET, BotHarness

ORG = "E0GRID"
# Workspace -> (manager, rep). The Grid org's two workspaces share one org-wide install.
PEOPLE = {
    "T0ALPHA": ("U0MGRA", "U0REPA"),
    "T0BRAVO": ("U0MGRB", "U0REPB"),
    "T0CHARLIE": ("U0MGRC", "U0REPC"),
}
GRID_MANAGER, GRID_REP, GRID_BOTH = "W0MGRG", "W0REPG", "W0BOTH"  # W0BOTH is in both Grid workspaces
GRID_TEAMS = ("T0GRIDA", "T0GRIDB")
REFUSAL = "Sorry, I can't share that with you."
MISROUTED = {"channel_not_found", "user_not_found", "team_not_found", "invalid_auth", "not_authed"}

CONFIG = ANY_HOUR_CADENCE + "".join(
    f'\n[workspaces.{team}]\nteams = [{{ name = "Sales", manager = "{mgr}", members = ["{rep}"] }}]\n'
    for team, (mgr, rep) in PEOPLE.items()
) + f'\n[workspaces.{ORG}]\nteams = [{{ name = "Sales", manager = "{GRID_MANAGER}", members = ["{GRID_REP}", "{GRID_BOTH}"] }}]\n'


@pytest.fixture
def grid_sandbox(clock: ManualClock) -> Iterator[Sandbox]:
    with Sandbox.start(clock=lambda: clock().timestamp(), strict_tokens=True) as sb:
        for team, (manager, rep) in PEOPLE.items():
            sb.add_workspace(team, installed=False)
            sb.add_user(manager, "mgr-" + team.lower(), team=team)
            sb.add_user(rep, "rep-" + team.lower(), tz="Europe/Berlin", team=team)
        sb.add_org(ORG, "Grid Corp")
        for team in GRID_TEAMS:
            sb.add_workspace(team, enterprise_id=ORG, installed=False)
        sb.add_org_user(ORG, GRID_MANAGER, [GRID_TEAMS[0]], name="gina")
        sb.add_org_user(ORG, GRID_REP, [GRID_TEAMS[0]], name="gus")
        sb.add_org_user(ORG, GRID_BOTH, list(GRID_TEAMS), name="bo")
        yield sb


@pytest.fixture
def multi(grid_sandbox: Sandbox, database_url: str, clock: ManualClock) -> Iterator[BotHarness]:
    with BotHarness(grid_sandbox, database_url, parse_checked(CONFIG), clock=clock, oauth=True) as harness:
        yield harness


def slack_of(bot: BotHarness, team: str) -> SlackClientSim:
    return bot.sandbox.client(bot.url, SIGNING_SECRET, team=team)


def install_all(bot: BotHarness) -> None:
    for team, (manager, _) in PEOPLE.items():
        assert bot.install(team, user=manager) == 200
    assert bot.install(enterprise_id=ORG, user=GRID_MANAGER) == 200


def reps() -> list[tuple[str, str]]:
    """(workspace the rep is talked to in, rep). An org-wide token's DM to a W… user lands in the
    first of the org's workspaces that holds them (as the sandbox routes it)."""
    return [(team, rep) for team, (_, rep) in PEOPLE.items()] + [(GRID_TEAMS[0], GRID_REP), (GRID_TEAMS[0], GRID_BOTH)]


def prompts(bot: BotHarness, team: str, user: str) -> list:
    return [m for m in bot.sandbox.dms_to(user, team=team)
            if (m.metadata or {}).get("event_type") in ("checkin_prompt", "checkin_now")]


def misrouted_calls(sb: Sandbox) -> list:
    return [c for c in sb.calls if c.response.get("error") in MISROUTED]


def run_days(bot: BotHarness, clock: ManualClock, days: int, step: dt.timedelta = dt.timedelta(hours=3)) -> None:
    end = clock() + dt.timedelta(days=days)
    while clock() < end:
        bot.dispatch()
        clock.advance(step)


def test_the_install_asks_for_the_manifest_scopes_and_stores_each_workspace(multi: BotHarness) -> None:
    install_all(multi)
    [first, *_] = multi.sandbox.calls_to("oauth.v2.access")
    assert first.ok
    with multi.services.sessions() as session:
        installed = {w.team_id: (w.enterprise_id, w.org_wide) for w in session.scalars(
            select(Workspace).where(Workspace.left_at.is_(None), Workspace.bot_user_id.is_not(None)))}
    assert installed == {"T0ALPHA": (None, False), "T0BRAVO": (None, False), "T0CHARLIE": (None, False),
                         ORG: (ORG, True)}
    # Each install got its own token: the dispatcher's clients are one per workspace.
    tokens = {key: multi.services.client_for(key).token for key in installed}
    assert len(set(tokens.values())) == 4
    assert tokens["T0ALPHA"] == multi.sandbox.bot_token_of("T0ALPHA")
    assert tokens[ORG] == multi.sandbox.bot_token_of(enterprise_id=ORG)


def test_an_install_with_a_forged_state_is_refused(multi: BotHarness) -> None:
    code = multi.sandbox.authorize("T0ALPHA", user="U0MGRA")
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{multi.base_url}/slack/oauth_redirect?code={code}&state=forged", timeout=10)
    assert refused.value.code >= 400
    assert not multi.sandbox.calls_to("oauth.v2.access"), "no code is exchanged without a valid state"


def test_a_week_in_three_workspaces_and_a_grid_org_never_crosses_tokens(multi: BotHarness, clock: ManualClock) -> None:
    sb = multi.sandbox
    install_all(multi)
    for team, rep in reps():
        response = slack_of(multi, team).slash(f"goal add Renewal for {rep}", user=rep)
        assert response.status == 200 and "Added your goal" in response.text, response.text
    run_days(multi, clock, 1)
    for team, rep in reps():
        [prompt, *_] = prompts(multi, team, rep)
        assert f"Renewal for {rep}" in (prompt.text or "")
        slack_of(multi, team).dm(rep, f"Legal review is the blocker for {rep}; a call with counsel would help.")
    run_days(multi, clock, 6)

    with multi.services.sessions() as session:
        answers = dict(session.execute(select(Answer.rep_id, Answer.team_id)).all())
        per_team = dict(session.execute(select(User.team_id, func.count()).group_by(User.team_id)).all())
    # Every answer is stored under its own workspace; the Grid org's rows under the org.
    assert answers == {"U0REPA": "T0ALPHA", "U0REPB": "T0BRAVO", "U0REPC": "T0CHARLIE",
                       GRID_REP: ORG, GRID_BOTH: ORG}
    assert set(per_team) == {"T0ALPHA", "T0BRAVO", "T0CHARLIE", ORG}
    # The manager of each workspace sees their own rep's answer, relayed in their own workspace.
    for team, (manager, rep) in PEOPLE.items():
        relays = [m for m in sb.dms_to(manager, team=team) if (m.metadata or {}).get("event_type") == "checkin_answer"]
        assert relays and f"blocker for {rep}" in str(relays[0].blocks)
        for other in PEOPLE:
            if other != team:
                assert not sb.dms_to(manager, team=other)
    for team, (manager, rep) in PEOPLE.items():
        summary = slack_of(multi, team).slash("summary 2w", user=manager)
        assert summary.status == 200
        assert "Sorry" not in summary.text
    grid_summary = slack_of(multi, GRID_TEAMS[0]).slash("summary 2w", user=GRID_MANAGER)
    assert grid_summary.status == 200 and "Sorry" not in grid_summary.text

    assert not misrouted_calls(sb), [(c.method, c.team_id, c.response.get("error")) for c in misrouted_calls(sb)]
    by_team = {c.team_id for c in sb.calls if c.method == "chat.postMessage"}
    assert by_team == {"T0ALPHA", "T0BRAVO", "T0CHARLIE", GRID_TEAMS[0]}
    sb.assert_no_violations()


def test_the_same_grid_user_in_two_workspaces_is_one_person(multi: BotHarness, clock: ManualClock) -> None:
    install_all(multi)
    first = slack_of(multi, GRID_TEAMS[0]).slash("goal add Expand Globex", user=GRID_BOTH)
    second = slack_of(multi, GRID_TEAMS[1]).slash("goal add Renew Initech", user=GRID_BOTH)
    assert "(1 active)" in first.text
    assert "(2 active)" in second.text, "the goal added in one workspace of the org is theirs in the other"
    with multi.services.sessions() as session:
        rows = session.scalars(select(User).where(User.slack_id == GRID_BOTH)).all()
    assert [(u.team_id) for u in rows] == [ORG]


def test_a_manager_naming_a_rep_of_another_workspace_learns_nothing(multi: BotHarness, clock: ManualClock) -> None:
    sb = multi.sandbox
    install_all(multi)
    slack_of(multi, "T0BRAVO").slash("goal add Secret Bravo deal", user="U0REPB")
    run_days(multi, clock, 1)
    slack_of(multi, "T0BRAVO").dm("U0REPB", "The Bravo deal is stuck on pricing.")
    alpha = slack_of(multi, "T0ALPHA")
    for text in ("summary <@U0REPB>", "summary <@U0REPB> 4w"):
        response = alpha.slash(text, user="U0MGRA")
        assert response.status == 200
        assert REFUSAL in response.text
        assert "Bravo" not in response.text and "pricing" not in response.text
    # The same refusal as for a stranger: nothing tells the two apart.
    stranger = alpha.slash("summary <@U0NOBODY>", user="U0MGRA")
    assert stranger.text == alpha.slash("summary <@U0REPB>", user="U0MGRA").text
    bravo_dms = len(sb.dms_to("U0REPB", team="T0BRAVO"))
    asked = alpha.slash("ask <@U0REPB> How is pricing going?", user="U0MGRA")
    assert asked.status == 200
    multi.dispatch()
    assert len(sb.dms_to("U0REPB", team="T0BRAVO")) == bravo_dms, "a question never crosses workspaces"
    with multi.services.sessions() as session:
        assert not session.scalars(select(CheckIn).where(CheckIn.team_id == "T0ALPHA",
                                                         CheckIn.rep_id == "U0REPB")).all()
        assert not session.scalars(select(OutboxMessage).where(OutboxMessage.team_id == "T0ALPHA",
                                                               OutboxMessage.recipient == "U0REPB")).all()
    assert not misrouted_calls(sb)


def test_after_an_uninstall_nothing_goes_to_that_workspace_and_a_reinstall_resumes(
        multi: BotHarness, clock: ManualClock, caplog: pytest.LogCaptureFixture) -> None:
    sb = multi.sandbox
    install_all(multi)
    for team, rep in reps():
        slack_of(multi, team).slash(f"goal add Renewal for {rep}", user=rep)
    run_days(multi, clock, 1)
    assert prompts(multi, "T0BRAVO", "U0REPB")

    sb.uninstall("T0BRAVO")
    bravo = slack_of(multi, "T0BRAVO")
    with caplog.at_level("WARNING"):
        assert bravo.tokens_revoked().status == 200
        assert bravo.app_uninstalled().status == 200
        assert bravo.app_uninstalled().status == 200  # Slack's retry: acknowledged, nothing more
    left_lines = [r for r in caplog.records if "T0BRAVO left" in r.getMessage()]
    assert len(left_lines) == 1
    sb.reset_records()
    before = {team: len(prompts(multi, team, rep)) for team, rep in reps()}
    run_days(multi, clock, 7)

    assert not [c for c in sb.calls if c.team_id == "T0BRAVO"], "no Web API call goes to the workspace that left"
    assert not [c for c in sb.calls if c.response.get("error") in ("token_revoked", "account_inactive")]
    for team, rep in reps():
        if team != "T0BRAVO":
            assert len(prompts(multi, team, rep)) > before[team], f"{team} carries on"
    refused = bravo.slash("goals", user="U0REPB")
    assert refused.status == 403, "a workspace that left is not served"

    assert multi.install("T0BRAVO", user="U0MGRB") == 200
    run_days(multi, clock, 7)
    assert len(prompts(multi, "T0BRAVO", "U0REPB")) > before["T0BRAVO"], "a reinstall resumes"
    back = bravo.slash("goal add Another deal", user="U0REPB")
    assert back.status == 200 and "(2 active)" in back.text, "its data was kept"
    assert not misrouted_calls(sb)


RETENTION_ZERO = CONFIG + "\n[data]\nuninstalled_retention_days = 0\n"


def test_with_no_retention_the_data_of_a_workspace_that_left_is_deleted_at_the_next_pass(
        grid_sandbox: Sandbox, database_url: str, clock: ManualClock) -> None:
    with BotHarness(grid_sandbox, database_url, parse_checked(RETENTION_ZERO), clock=clock, oauth=True) as bot:
        install_all(bot)
        for team, rep in reps():
            slack_of(bot, team).slash(f"goal add Renewal for {rep}", user=rep)
        run_days(bot, clock, 1)
        grid_sandbox.uninstall("T0CHARLIE")
        slack_of(bot, "T0CHARLIE").app_uninstalled()
        bot.dispatch()
        with bot.services.sessions() as session:
            left = session.scalars(select(User.team_id).where(User.team_id == "T0CHARLIE")).all()
            kept = session.scalars(select(User.team_id).where(User.team_id == "T0ALPHA")).all()
            charlie_rows = session.scalar(select(func.count()).select_from(OutboxMessage)
                                          .where(OutboxMessage.team_id == "T0CHARLIE"))
        assert not left and not charlie_rows
        assert kept


def test_single_token_mode_is_unchanged(tmp_path: Path) -> None:
    # The harness without oauth is every other e2e test; here only that OAuth paths are not served.
    with Sandbox.start() as sb, BotHarness(sb, f"sqlite:///{tmp_path / 'one.db'}") as bot:
        with pytest.raises(urllib.error.HTTPError) as missing:
            urllib.request.urlopen(bot.base_url + "/slack/install", timeout=10)
        assert missing.value.code == 404


def test_the_dispatcher_refreshes_a_rotating_token_before_it_expires(database_url: str, clock: ManualClock) -> None:
    with Sandbox.start(clock=lambda: clock().timestamp(), strict_tokens=True, token_rotation=True) as sb:
        sb.add_workspace("T0ALPHA", installed=False)
        sb.add_user("U0MGRA", "maya", team="T0ALPHA")
        sb.add_user("U0REPA", "ana", tz="Europe/Berlin", team="T0ALPHA")
        with BotHarness(sb, database_url, parse_checked(CONFIG), clock=clock, oauth=True) as bot:
            assert bot.install("T0ALPHA", user="U0MGRA") == 200
            first = bot.services.client_for("T0ALPHA").token
            assert first is not None and first.startswith("xoxe.xoxb-")
            slack_of(bot, "T0ALPHA").slash("goal add Close Acme", user="U0REPA")
            bot.dispatch()  # plans the check-in (Monday 10:00 Berlin)
            # The token now has less than the rotator's two hours left, and the old one stops working
            # once a new one is issued (so a post that lands proves the new token was used).
            with bot.services.engine.begin() as connection:
                connection.execute(SLACK_BOTS.update().values(
                    bot_token_expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=30)))
            sb.directory.grants[first].revoked = True
            clock.set(dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC))
            bot.dispatch()
            refreshed = bot.services.client_for("T0ALPHA").token
            assert refreshed not in (None, first)
            assert refreshed == sb.bot_token_of("T0ALPHA")
            assert [c.args.get("grant_type") for c in sb.calls_to("oauth.v2.access")] == [None, "refresh_token"]
            assert not [c for c in sb.calls if c.response.get("error") in ("token_revoked", "invalid_auth")]
            assert prompts(bot, "T0ALPHA", "U0REPA"), "the pass carried on with the new token"


def test_an_org_wide_uninstall_stops_the_whole_org_and_only_it(multi: BotHarness, clock: ManualClock) -> None:
    sb = multi.sandbox
    install_all(multi)
    for team, rep in reps():
        slack_of(multi, team).slash(f"goal add Renewal for {rep}", user=rep)
    run_days(multi, clock, 1)
    sb.uninstall(enterprise_id=ORG)
    assert slack_of(multi, GRID_TEAMS[1]).app_uninstalled().status == 200
    with multi.services.sessions() as session:
        assert session.get(Workspace, ORG).left_reason == "app_uninstalled", "the event itself stops it"
    sb.reset_records()
    run_days(multi, clock, 7)
    assert not [c for c in sb.calls if c.team_id in GRID_TEAMS], "nothing more goes to the org"
    assert {c.team_id for c in sb.calls_to("chat.postMessage")} == set(PEOPLE)
    with multi.services.sessions() as session:
        assert session.get(Workspace, ORG).left_at is not None
        assert session.get(Workspace, "T0ALPHA").left_at is None


def test_a_pass_failing_in_one_workspace_does_not_stop_the_others(multi: BotHarness, clock: ManualClock,
                                                                  monkeypatch: pytest.MonkeyPatch,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    install_all(multi)
    for team, rep in reps():
        slack_of(multi, team).slash(f"goal add Renewal for {rep}", user=rep)
    planned = passes.plan_checkins

    def failing_in_bravo(services, now, report):  # type: ignore[no-untyped-def]
        if services.team_id == "T0BRAVO":
            raise RuntimeError("a fault in one workspace")
        planned(services, now, report)

    monkeypatch.setattr(passes, "plan_checkins", failing_in_bravo)
    with caplog.at_level("ERROR", logger="handlers.passes"):
        report = multi.dispatch()
    assert report.get("workspace_failed") == 1
    failed = [r.getMessage() for r in caplog.records if "the pass failed" in r.getMessage()]
    assert len(failed) == 1 and "T0BRAVO" in failed[0]
    run_days(multi, clock, 1)
    assert not prompts(multi, "T0BRAVO", "U0REPB")
    for team, rep in reps():
        if team != "T0BRAVO":
            assert prompts(multi, team, rep), f"{team} carries on"


def test_a_pass_serves_the_workspaces_side_by_side_each_in_its_own_log_context(
        multi: BotHarness, clock: ManualClock, monkeypatch: pytest.MonkeyPatch) -> None:
    install_all(multi)
    for team, rep in reps():
        slack_of(multi, team).slash(f"goal add Renewal for {rep}", user=rep)
    # Every workspace's pass waits here until all four have arrived: one after another, the first
    # would wait alone until the timeout (and its pass would fail).
    together = threading.Barrier(4, timeout=10)
    seen: dict[str, object] = {}
    planned = passes.plan_checkins

    def meeting(services, now, report):  # type: ignore[no-untyped-def]
        seen[services.team_id] = logcontext.current().get("workspace")
        together.wait()
        planned(services, now, report)

    monkeypatch.setattr(passes, "plan_checkins", meeting)
    report = multi.dispatch()
    assert not report.get("workspace_failed")
    assert seen == {key: key for key in ("T0ALPHA", "T0BRAVO", "T0CHARLIE", ORG)}
    run_days(multi, clock, 1)
    for team, rep in reps():
        assert prompts(multi, team, rep), f"{team} was served"
    assert not misrouted_calls(multi.sandbox)
