"""`checkin-bot serve --http` with OAuth installs as a real subprocess: no bot token, installed
through /slack/install, then serving the new workspace (issue 11)."""

from __future__ import annotations

import os
import re
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from sandbox import Sandbox
from tests.e2e.real_clock import checkin_bot
from tests.e2e.test_serve_subprocess import Bot, free_port, stop, wait_until

pytestmark = pytest.mark.slow

SECRET = "oauth-subprocess-signing-secret"


class _Keep(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def get(url: str, cookie: str = "") -> tuple[int, str, str]:
    opener = urllib.request.build_opener(_Keep())
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    try:
        with opener.open(request, timeout=10) as response:
            return response.status, response.read().decode(), response.headers.get("Set-Cookie", "")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode(errors="replace"), ""


def test_serve_installs_through_oauth_without_a_bot_token(tmp_path: Path) -> None:
    with Sandbox.start(strict_tokens=True) as sb:
        sb.add_workspace("T0ALPHA", installed=False)
        sb.add_user("U0REPA", "ana", team="T0ALPHA")
        sb.add_user("U0STRANGER", "sam")  # in the sandbox's default workspace, where it never installed
        port = free_port()
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("SLACK_", "CHECKINS_")) and k not in ("DATABASE_URL", "TEST_DATABASE_URL", "PORT")}
        env.update({"SLACK_CLIENT_ID": sb.client_id, "SLACK_CLIENT_SECRET": sb.client_secret,
                    "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": sb.api_url,
                    "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.db'}", "PYTHONUNBUFFERED": "1"})
        log = tmp_path / "serve.log"
        with log.open("w") as sink:
            process = subprocess.Popen([*checkin_bot(), "serve", "--http", "--port", str(port), "--no-scheduler"],
                                       cwd=tmp_path, env=env, stdout=sink, stderr=subprocess.STDOUT, text=True)
        bot = Bot(process, log, tmp_path / "serve.db")
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until(bot, lambda: "serving HTTP" in bot.output(), "the server to start", timeout=60)
            status, page, cookie = get(base + "/slack/install")
            assert status == 200
            scopes = urllib.parse.unquote(re.search(r"scope=([^&\"]+)", page).group(1))  # type: ignore[union-attr]
            assert set(scopes.split(",")) == {"commands", "chat:write", "im:write", "im:history", "users:read",
                                              "reactions:write", "files:write"}
            state = re.search(r"state=([^&\"]+)", page).group(1)  # type: ignore[union-attr]
            code = sb.authorize("T0ALPHA", user="U0REPA")
            status, _, _ = get(f"{base}/slack/oauth_redirect?code={code}&state={state}", cookie.split(";")[0])
            assert status == 200, bot.output()[-3000:]
            slack = sb.client(base + "/slack/events", SECRET, team="T0ALPHA")
            added = slack.slash("goal add Close the Acme renewal", user="U0REPA")
            assert added.status == 200 and "Added your goal" in added.reply_text, bot.output()[-3000:]
            stranger = sb.client(base + "/slack/events", SECRET).slash("goal add Nope", user="U0STRANGER")
            assert stranger.status == 403, "a workspace that never installed the app is not served"
        finally:
            assert stop(bot) == 0
        assert sb.client_secret not in bot.output() and "xoxb-" not in bot.output()
