"""Several workspaces and a Grid org: own tokens, OAuth install and rotation, isolation, uninstall."""

import json
from collections.abc import Iterator

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from sandbox import Sandbox
from tests.sandbox.test_client import Capture

ORG = "E0GRID"


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def sb(clock: Clock) -> Iterator[Sandbox]:
    with Sandbox.start(clock=clock, strict_tokens=True) as sandbox:
        sandbox.add_user("U0REP1", name="ana")
        sandbox.add_workspace("T0BETA", "Beta")
        sandbox.add_user("U0BETA1", name="bo", team="T0BETA")
        sandbox.add_org(ORG, "Grid Org")
        sandbox.add_workspace("T0GRIDA", "Grid A", enterprise_id=ORG)
        sandbox.add_workspace("T0GRIDB", "Grid B", enterprise_id=ORG, installed=False)
        sandbox.add_org_user(ORG, "W0SHARED", ["T0GRIDA", "T0GRIDB"], name="wen")
        yield sandbox


def web(sb: Sandbox, token: str) -> WebClient:
    return WebClient(token=token, base_url=sb.api_url, timeout=5)


def error_of(call: object) -> str:
    with pytest.raises(SlackApiError) as err:
        call()  # type: ignore[operator]
    return str(err.value.response["error"])


def test_auth_test_names_the_workspace_of_each_token(sb: Sandbox) -> None:
    default = web(sb, sb.bot_token).auth_test()
    beta = web(sb, sb.bot_token_of("T0BETA")).auth_test()
    grid = web(sb, sb.bot_token_of("T0GRIDA")).auth_test()
    assert (default["team_id"], default["user_id"]) == (sb.team_id, sb.bot_user_id)
    assert beta["team_id"] == "T0BETA" and beta["user_id"] != sb.bot_user_id
    assert "enterprise_id" not in beta
    assert (grid["team_id"], grid["enterprise_id"], grid["is_enterprise_install"]) == ("T0GRIDA", ORG, False)


def test_a_token_sees_only_its_own_workspace(sb: Sandbox) -> None:
    mine = web(sb, sb.bot_token)
    assert error_of(lambda: mine.chat_postMessage(channel="U0BETA1", text="hi")) == "channel_not_found"
    assert error_of(lambda: mine.users_info(user="U0BETA1")) == "user_not_found"
    beta_im = sb.im_channel("U0BETA1", team="T0BETA")
    assert error_of(lambda: mine.conversations_history(channel=beta_im)) == "channel_not_found"
    assert web(sb, sb.bot_token_of("T0BETA")).chat_postMessage(channel="U0BETA1", text="hi")["ok"]
    assert [m.text for m in sb.dms_to("U0BETA1", team="T0BETA")] == ["hi"]
    assert {c.team_id for c in sb.calls_to("chat.postMessage") if c.ok} == {"T0BETA"}


def test_unknown_and_revoked_tokens_are_refused_as_slack_does(sb: Sandbox) -> None:
    assert error_of(lambda: web(sb, "xoxb-1-never-issued").auth_test()) == "invalid_auth"
    token = sb.bot_token_of("T0BETA")
    assert sb.revoke_tokens("T0BETA") == [token]
    assert error_of(lambda: web(sb, token).auth_test()) == "token_revoked"


def test_a_lenient_sandbox_takes_any_bot_token_for_the_default_workspace() -> None:
    with Sandbox.start() as sb:
        assert web(sb, "xoxb-any-token").auth_test()["team_id"] == sb.team_id


def test_a_grid_user_is_one_person_in_two_workspaces(sb: Sandbox) -> None:
    code = sb.authorize("T0GRIDB", user="W0SHARED")
    installed = web(sb, "").oauth_v2_access(client_id=sb.client_id, client_secret=sb.client_secret, code=code)
    a = web(sb, sb.bot_token_of("T0GRIDA")).users_info(user="W0SHARED")["user"]
    b = web(sb, installed["access_token"]).users_info(user="W0SHARED")["user"]
    assert a["id"] == b["id"] == "W0SHARED"
    assert a["enterprise_user"]["enterprise_id"] == ORG
    assert sorted(a["enterprise_user"]["teams"]) == ["T0GRIDA", "T0GRIDB"]


def test_oauth_exchanges_a_code_once_for_an_installation(sb: Sandbox) -> None:
    code = sb.authorize("T0GRIDB", user="W0SHARED", redirect_uri="https://bot.example/slack/oauth_redirect")
    client = web(sb, "")
    assert error_of(lambda: client.oauth_v2_access(client_id=sb.client_id, client_secret="wrong",
                                                   code=code)) == "bad_client_secret"
    resp = client.oauth_v2_access(client_id=sb.client_id, client_secret=sb.client_secret, code=code,
                                  redirect_uri="https://bot.example/slack/oauth_redirect")
    assert resp["team"]["id"] == "T0GRIDB"
    assert resp["enterprise"]["id"] == ORG
    assert resp["is_enterprise_install"] is False
    assert resp["token_type"] == "bot" and resp["access_token"].startswith("xoxb-")
    assert "chat:write" in resp["scope"].split(",")
    assert "refresh_token" not in resp
    assert web(sb, resp["access_token"]).auth_test()["user_id"] == resp["bot_user_id"]
    assert error_of(lambda: client.oauth_v2_access(client_id=sb.client_id, client_secret=sb.client_secret,
                                                   code=code)) == "invalid_code"
    assert all("client_secret" not in c.args for c in sb.calls)


def test_an_org_wide_install_reaches_every_workspace_of_the_org(sb: Sandbox) -> None:
    code = sb.authorize(enterprise_id=ORG, user="W0SHARED")
    resp = web(sb, "").oauth_v2_access(client_id=sb.client_id, client_secret=sb.client_secret, code=code)
    assert (resp["team"], resp["enterprise"]["id"], resp["is_enterprise_install"]) == (None, ORG, True)
    org = web(sb, resp["access_token"])
    auth = org.auth_test()
    assert (auth["enterprise_id"], auth["is_enterprise_install"]) == (ORG, True)
    sb.add_user("W0ONLYB", team="T0GRIDB")
    assert org.chat_postMessage(channel="W0ONLYB", text="hi")["ok"]
    assert [m.text for m in sb.dms_to("W0ONLYB", team="T0GRIDB")] == ["hi"]
    assert error_of(lambda: org.chat_postMessage(channel="U0BETA1", text="hi")) == "channel_not_found"


def test_token_rotation_expires_tokens_and_refreshes_them(clock: Clock) -> None:
    with Sandbox.start(clock=clock, strict_tokens=True, token_rotation=True) as sb:
        sb.add_workspace("T0ROT", installed=False)
        first = web(sb, "").oauth_v2_access(client_id=sb.client_id, client_secret=sb.client_secret,
                                            code=sb.authorize("T0ROT"))
        assert first["expires_in"] == 43200 and first["refresh_token"].startswith("xoxe-")
        clock.now += first["expires_in"]
        assert error_of(lambda: web(sb, first["access_token"]).auth_test()) == "token_expired"
        fresh = web(sb, "").oauth_v2_access(client_id=sb.client_id, client_secret=sb.client_secret,
                                            grant_type="refresh_token", refresh_token=first["refresh_token"])
        assert fresh["access_token"] != first["access_token"]
        assert web(sb, fresh["access_token"]).auth_test()["team_id"] == "T0ROT"
        assert error_of(lambda: web(sb, "").oauth_v2_access(
            client_id=sb.client_id, client_secret=sb.client_secret, grant_type="refresh_token",
            refresh_token=first["refresh_token"])) == "invalid_refresh_token"


def test_requests_come_as_the_clients_workspace(sb: Sandbox) -> None:
    cap = Capture()
    slack = sb.client(cap, "secret", team="T0GRIDA")
    sb.add_user("W0REP", team="T0GRIDA")
    slack.slash("help", user="W0REP")
    form = cap.form()
    assert (form["team_id"], form["enterprise_id"], form["is_enterprise_install"]) == ("T0GRIDA", ORG, "false")
    slack.dm("W0REP", "hello")
    event = cap.event()
    assert (event["team_id"], event["enterprise_id"], event["event"]["team"]) == ("T0GRIDA", ORG, "T0GRIDA")
    assert event["authorizations"][0]["team_id"] == "T0GRIDA"
    assert sb.messages("W0REP") == []  # it went to Grid A's IM, not the default workspace's
    assert [m.text for m in sb.messages("W0REP", team="T0GRIDA")] == ["hello"]


def test_uninstall_revokes_the_tokens_and_tells_the_bot(sb: Sandbox) -> None:
    token = sb.bot_token_of("T0BETA")
    cap = Capture()
    slack = sb.client(cap, "secret", team="T0BETA")
    assert sb.uninstall("T0BETA") == [token]
    slack.tokens_revoked()
    slack.app_uninstalled()
    revoked, uninstalled = cap.event(0), cap.event(1)
    assert revoked["event"]["tokens"]["bot"] == [sb.ws("T0BETA").bot_user_id]
    assert (uninstalled["team_id"], uninstalled["event"]["type"]) == ("T0BETA", "app_uninstalled")
    assert error_of(lambda: web(sb, token).chat_postMessage(channel="U0BETA1", text="x")) == "token_revoked"
    assert web(sb, sb.bot_token).auth_test()["ok"]  # the other workspaces carry on
    again = web(sb, "").oauth_v2_access(client_id=sb.client_id, client_secret=sb.client_secret,
                                        code=sb.authorize("T0BETA"))
    assert web(sb, again["access_token"]).chat_postMessage(channel="U0BETA1", text="back")["ok"]


def test_grid_interactions_carry_the_enterprise(sb: Sandbox) -> None:
    cap = Capture()
    slack = sb.client(cap, "secret", team="T0GRIDA")
    blocks = [{"type": "actions", "elements": [{"type": "button", "action_id": "go",
                                                "text": {"type": "plain_text", "text": "Go"}}]}]
    web(sb, sb.bot_token_of("T0GRIDA")).chat_postMessage(channel="W0SHARED", text="x", blocks=blocks)
    slack.click("go", user="W0SHARED")
    payload = json.loads(cap.form()["payload"])
    assert payload["team"]["enterprise_id"] == ORG
    assert payload["enterprise"] == {"id": ORG, "name": "Grid Org"}
    assert payload["user"]["team_id"] == "T0GRIDA"
