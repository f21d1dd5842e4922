"""Runtime settings from the environment and `.env` (CONTRACT §2).

One place reads the environment. Secrets are kept out of `repr()` so they never reach logs.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import load_dotenv

from core import logcontext

DEFAULT_DATABASE_URL = "sqlite:///checkins.db"
DEFAULT_CONFIG_PATH = Path("checkins.toml")
_LOG_LEVELS = ("CRITICAL", "ERROR", "WARNING", "INFO", "DEBUG")
_LOG_FORMATS = ("text", "json")
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def config_path_from(env: Mapping[str, str]) -> Path | None:
    """CHECKINS_CONFIG if set, else checkins.toml when it exists, else None (built-in defaults)."""
    named = env.get("CHECKINS_CONFIG", "").strip()
    if named:
        return Path(named)
    return DEFAULT_CONFIG_PATH if DEFAULT_CONFIG_PATH.exists() else None


class SettingsError(Exception):
    """A missing or malformed environment setting; the message says what to set and where."""


def load_env_file() -> None:
    """Read ./.env into the environment; a variable already set in the real environment wins."""
    try:
        load_dotenv(Path.cwd() / ".env", override=False)
    except UnicodeDecodeError:
        raise SettingsError(f"{Path.cwd() / '.env'} is not UTF-8 text; save it as UTF-8") from None
    except OSError as exc:
        raise SettingsError(f"cannot read {Path.cwd() / '.env'}: {exc.strerror}") from None


@dataclass(frozen=True)
class Settings:
    bot_token: str | None = field(default=None, repr=False)
    signing_secret: str | None = field(default=None, repr=False)
    app_token: str | None = field(default=None, repr=False)
    api_url: str | None = None
    database_url: str = field(default=DEFAULT_DATABASE_URL, repr=False)
    config_path: Path | None = None
    log_level: str = "INFO"
    log_format: str = "text"
    slack_debug: bool = False
    metrics_port: int | None = None
    # OAuth distribution (issue 11): with both set, HTTP mode serves /slack/install and any number
    # of workspaces; SLACK_BOT_TOKEN is then optional (docs/contract-extensions.md).
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    redirect_uri: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, dotenv: bool = True) -> Settings:
        if env is None:
            if dotenv:
                load_env_file()
            env = os.environ

        def get(name: str) -> str | None:
            value = env.get(name, "").strip()
            return value or None

        log_level = (get("LOG_LEVEL") or "INFO").upper()
        if log_level not in _LOG_LEVELS:
            raise SettingsError(f"LOG_LEVEL={log_level!r} is not one of {', '.join(_LOG_LEVELS)}")
        log_format = (get("LOG_FORMAT") or "text").lower()
        if log_format not in _LOG_FORMATS:
            raise SettingsError(f"LOG_FORMAT={log_format!r} is not one of {', '.join(_LOG_FORMATS)}")
        slack_debug = (get("SLACK_DEBUG") or "0").lower()
        if slack_debug not in _TRUE + _FALSE:
            raise SettingsError(f"SLACK_DEBUG={slack_debug!r} must be 1 or 0")
        metrics_port = get("METRICS_PORT")
        if metrics_port is not None and not (metrics_port.isdigit() and 0 < int(metrics_port) < 65536):
            raise SettingsError(f"METRICS_PORT={metrics_port!r} must be a TCP port number (1-65535)")
        settings = cls(
            bot_token=get("SLACK_BOT_TOKEN"),
            signing_secret=get("SLACK_SIGNING_SECRET"),
            app_token=get("SLACK_APP_TOKEN"),
            api_url=get("SLACK_API_URL"),
            database_url=get("DATABASE_URL") or DEFAULT_DATABASE_URL,
            config_path=config_path_from(env),
            log_level=log_level,
            log_format=log_format,
            slack_debug=slack_debug in _TRUE,
            metrics_port=int(metrics_port) if metrics_port else None,
            client_id=get("SLACK_CLIENT_ID"),
            client_secret=get("SLACK_CLIENT_SECRET"),
            redirect_uri=get("SLACK_REDIRECT_URI"),
        )
        settings._check_shapes()
        return settings

    def _check_shapes(self) -> None:
        # Catch the classic mix-up of pasting one token into the other's variable.
        if self.bot_token and not self.bot_token.startswith("xoxb-"):
            raise SettingsError("SLACK_BOT_TOKEN must be the bot token that starts with 'xoxb-' "
                                "(Slack app settings > OAuth & Permissions)")
        if self.app_token and not self.app_token.startswith("xapp-"):
            raise SettingsError("SLACK_APP_TOKEN must be the app-level token that starts with 'xapp-' "
                                "(Slack app settings > Basic Information > App-Level Tokens)")
        if bool(self.client_id) != bool(self.client_secret):
            raise SettingsError("SLACK_CLIENT_ID and SLACK_CLIENT_SECRET go together (Slack app settings > "
                                "Basic Information > App Credentials): set both for OAuth installs, or neither")
        if self.oauth and self.app_token:
            raise SettingsError("OAuth installs (SLACK_CLIENT_ID) need HTTP mode: unset SLACK_APP_TOKEN")
        if self.redirect_uri and not self.redirect_uri.startswith(("http://", "https://")):
            raise SettingsError("SLACK_REDIRECT_URI must be an http(s) URL ending in /slack/oauth_redirect")
        if self.api_url and not self.api_url.startswith(("http://", "https://")):
            raise SettingsError("SLACK_API_URL must be an http(s) URL such as https://slack.com/api/")

    def require_bot_token(self) -> str:
        if not self.bot_token:
            raise SettingsError(
                "SLACK_BOT_TOKEN is not set. Put the bot token (xoxb-...) from your Slack app's "
                "OAuth & Permissions page in .env or the environment; see .env.example"
            )
        return self.bot_token

    def require_signing_secret(self) -> str:
        if not self.signing_secret:
            raise SettingsError(
                "SLACK_SIGNING_SECRET is not set. HTTP mode needs it to check request signatures: "
                "copy it from your Slack app's Basic Information page into .env; see .env.example"
            )
        return self.signing_secret

    @property
    def oauth(self) -> bool:
        """Installed through OAuth into any number of workspaces (else one workspace, one token)."""
        return bool(self.client_id and self.client_secret)

    @property
    def socket_mode(self) -> bool:
        return self.app_token is not None

    def configure_logging(self) -> None:
        logcontext.configure(getattr(logging, self.log_level), json_lines=self.log_format == "json",
                             slack_debug=self.slack_debug)
        # Alembic narrates plugin set-up and each migration at INFO; that is noise on every start.
        if self.log_level != "DEBUG":
            logging.getLogger("alembic").setLevel(logging.WARNING)


def redact(text: str, settings: Settings) -> str:
    """Remove any secret from `text` before it is logged or shown."""
    for secret in (settings.bot_token, settings.signing_secret, settings.app_token, settings.client_secret):
        if secret:
            text = text.replace(secret, "[redacted]")
    return text
