"""The `checkin-bot` command line (CONTRACT §1).

Exit codes: 0 success; 1 bad input or config (one line on stderr, no traceback); 2 usage error.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from core.config import AdminConfig, ConfigError
from core.settings import Settings, SettingsError, config_path_from, load_env_file, redact
from core.version import package_version
from storage.db import DatabaseURLError, describe, make_engine, upgrade
from wiring.config import load_checked

# Each command imports what it runs when it runs: cron starts `dispatch` every minute, and it
# needs neither Bolt and the listeners (serve), nor Rich and the sandbox (demo). These are the
# only function-level imports of project modules (tests/test_layers.py); the CLI is the top of
# the layers, so none of them can hide a cycle.

log = logging.getLogger("checkin_bot")


class UserError(Exception):
    """Bad input or environment: reported as one line, exit code 1."""


def parse_port(text: str, source: str) -> int:
    """A TCP port from the command line or the environment: ASCII digits, 1-65535.

    0 is refused too: it would make the server pick a random port nobody is told about.
    """
    value = text.strip()
    if value.isascii() and value.isdigit() and len(value) <= 5 and 1 <= int(value) <= 65535:
        return int(value)
    raise UserError(f"{source} must be a port number from 1 to 65535, not {value[:20]!r}")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="checkin-bot",
        description="Check-in Coach: goal-linked, respectful Slack check-ins with a micromanagement guard.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    sub = parser.add_subparsers(dest="command", metavar="<command>", required=True)

    serve = sub.add_parser("serve", help="run the bot (Socket Mode when SLACK_APP_TOKEN is set, else HTTP)",
                           description="Run the bot. Socket Mode when SLACK_APP_TOKEN is set and --http is "
                                       "not given; otherwise HTTP on POST /slack/events, with GET /healthz.")
    serve.add_argument("--http", action="store_true", help="serve HTTP even if SLACK_APP_TOKEN is set")
    # A string, checked by parse_port: a bad port is bad input (exit 1), like a bad PORT.
    serve.add_argument("--port", default=None, help="HTTP port, 1-65535 (default: $PORT, else 3000)")
    serve.add_argument("--no-scheduler", action="store_true", help="do not run the dispatch scheduler here")
    serve.add_argument("--metrics-port", type=int, default=None,
                       help="also serve /healthz, /readyz and /metrics on this port (default: $METRICS_PORT; "
                            "in HTTP mode they are on --port anyway)")

    sub.add_parser("dispatch", help="run one idempotent scheduler pass and exit",
                   description="One pass of the scheduler as of now: due check-ins, reminders, warnings "
                               "and digests. Safe to run twice or from two processes at once.")

    demo = sub.add_parser("demo", help="run the bot against a local simulated Slack workspace",
                          description="Play a simulated six-week story against the built-in local Slack "
                                      "workspace. Needs no tokens and no network.")
    demo.add_argument("--weeks", type=int, default=6, help="simulated weeks to play (default 6)")
    demo.add_argument("--seed", type=int, default=7, help="random seed for the reps' voices")
    demo.add_argument("--speed", type=float, default=0.0,
                      help="real seconds to pause per simulated day (default 0: as fast as possible)")
    demo.add_argument("--json", action="store_true", help="print events as JSON lines")

    config = sub.add_parser("config", help="admin config tools",
                            description="Admin config tools.")
    config_sub = config.add_subparsers(dest="config_command", metavar="<subcommand>", required=True)
    check = config_sub.add_parser("check", help="validate a config and print each team's effective cadence",
                                  description="Validate an admin config (TOML) and print the effective "
                                              "cadence for each team.")
    check.add_argument("path", nargs="?", type=Path, default=None,
                       help="config path (default: $CHECKINS_CONFIG, else checkins.toml, else built-in)")

    config_sub.add_parser("schema", help="print the admin config's JSON Schema",
                          description="Print the admin config's JSON Schema (draft 2020-12), for "
                                      "editors; docs/checkins.schema.json is the same text.")

    tone = sub.add_parser("tone", help="classify manager questions; one JSON object per line",
                          description="Classify each question (arguments, or one per line on stdin) as "
                                      "coaching, status_demand, blame or directive.")
    tone.add_argument("text", nargs="*", help="questions to classify (default: read stdin)")

    db = sub.add_parser("db", help="database tools", description="Database tools.")
    db_sub = db.add_subparsers(dest="db_command", metavar="<subcommand>", required=True)
    db_sub.add_parser("upgrade", help="apply the database migrations",
                      description="Apply the database migrations to DATABASE_URL.")
    return parser


def cmd_config_check(path: Path | None) -> int:
    load_env_file()
    # Only the path: config check must work without tokens, whatever else the environment holds.
    path = path if path is not None else config_path_from(os.environ)
    try:
        config = load_checked(path)
    except ConfigError as exc:
        for line in exc.lines():
            print(line, file=sys.stderr)
        if len(exc.problems) > 1:  # a single problem stays the promised single line
            print(f"{len(exc.problems)} errors in {exc.source}", file=sys.stderr)
        return 1
    print(f"{path if path else 'built-in defaults'}: OK")
    print(f"default: {config.cadence.describe()}")
    for team in config.teams:
        print(f"team {team.name} (manager {team.manager}, {len(team.members)} rep(s)): "
              f"{config.team_cadence(team).describe()}")
    for key in config.workspaces:  # [workspaces.KEY]: what that workspace runs on
        own = config.for_workspace(key)
        print(f"workspace {key}: {own.cadence.describe()}")
        for team in own.teams:
            print(f"  team {team.name} (manager {team.manager}, {len(team.members)} rep(s)): "
                  f"{own.team_cadence(team).describe()}")
    return 0


def cmd_tone(texts: Sequence[str]) -> int:
    from coaching.tone import classify

    try:
        # Decoded here, strictly: sys.stdin's own decoding depends on the locale (and may let
        # undecodable bytes through as surrogates that cannot be printed back).
        lines = list(texts) if texts else sys.stdin.buffer.read().decode("utf-8").splitlines()
    except UnicodeDecodeError:
        raise UserError("the questions on stdin are not UTF-8 text") from None
    for text in lines:
        if not text.strip():
            continue
        result = classify(text)
        print(json.dumps({"text": result.text, "label": result.label, "suggestion": result.suggestion},
                         ensure_ascii=False))
    return 0


def cmd_db_upgrade(settings: Settings) -> int:
    engine = make_engine(settings.database_url)
    upgrade(engine)
    print(f"database is up to date: {describe(engine)}")
    return 0


def _load(settings: Settings) -> AdminConfig:
    try:
        return load_checked(settings.config_path)
    except ConfigError as exc:
        more = f" (and {len(exc.problems) - 1} more)" if len(exc.problems) > 1 else ""
        raise UserError(f"{exc}{more}; run `checkin-bot config check` for the full list") from None


def cmd_dispatch(settings: Settings) -> int:
    from handlers.passes import run_pass
    from wiring.boot import build_services, settle_heap, stop_claiming_on_sigterm

    services = build_services(settings, _load(settings))
    stop_claiming_on_sigterm(services.stopping)
    settle_heap()
    report = run_pass(services)
    print(report.summary())
    if report.fatal:
        # The pass stopped: cron must hear of it, not read a cheerful exit 0 (README, "Exit codes").
        raise UserError(f"Slack rejected SLACK_BOT_TOKEN during the pass: {report.fatal}; "
                        "nothing more was sent. Reinstall the app or update the token")
    return 0


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    from wiring.runner import serve

    config = _load(settings)
    if not settings.oauth:  # OAuth installs bring their own tokens (README, "Several workspaces")
        settings.require_bot_token()
    use_http = args.http or not settings.socket_mode
    if use_http:
        settings.require_signing_secret()
    port = 3000
    if args.port is not None:
        port = parse_port(args.port, "--port")
    elif use_http and os.environ.get("PORT", "").strip():
        # Only HTTP listens: a platform's PORT must not stop Socket Mode from starting.
        port = parse_port(os.environ["PORT"], "PORT")
    metrics_port = args.metrics_port if args.metrics_port is not None else settings.metrics_port
    if metrics_port is not None and not 0 < metrics_port < 65536:
        raise UserError(f"--metrics-port {metrics_port} is not a TCP port number (1-65535)")
    return serve(settings, config, http=use_http, port=port, scheduler=not args.no_scheduler,
                 metrics_port=metrics_port)


def cmd_demo(args: argparse.Namespace) -> int:
    from wiring.demo import run_demo

    return run_demo(weeks=args.weeks, seed=args.seed, speed=args.speed, as_json=args.json)


def run(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "config":
        if args.config_command == "schema":
            from core.config_schema import config_schema_text

            sys.stdout.write(config_schema_text())
            return 0
        return cmd_config_check(args.path)
    if args.command == "tone":
        return cmd_tone(args.text)
    if args.command == "demo":
        return cmd_demo(args)
    settings = Settings.from_env()
    settings.configure_logging()
    if args.command == "db":
        return cmd_db_upgrade(settings)
    if args.command == "dispatch":
        return cmd_dispatch(settings)
    return cmd_serve(settings, args)


def _first_line(exc: BaseException) -> str:
    lines = str(exc).strip().splitlines()
    return lines[0] if lines else "(no detail)"


def main(argv: Sequence[str] | None = None) -> int:
    settings_for_redaction = Settings()
    try:
        return run(argv)
    except (UserError, SettingsError) as exc:
        message = str(exc)
    except DatabaseURLError as exc:
        message = str(exc)
    except SQLAlchemyError as exc:
        message = f"cannot use the database: {type(exc).__name__}: {_first_line(exc)}"
    except RuntimeError as exc:
        message = str(exc)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - the contract promises one line, never a traceback
        log.debug("unexpected error", exc_info=exc)
        message = (f"unexpected error: {type(exc).__name__}: {_first_line(exc)} "
                   "(run with LOG_LEVEL=DEBUG for the details)")
    try:
        settings_for_redaction = Settings.from_env(dotenv=False)
    except SettingsError:
        pass
    print(f"checkin-bot: {redact(message, settings_for_redaction)}", file=sys.stderr)
    return 1
