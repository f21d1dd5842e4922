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

from core.config import AdminConfig, ConfigError, load_config
from core.settings import Settings, SettingsError, config_path_from, redact

log = logging.getLogger("checkin_bot")


class UserError(Exception):
    """Bad input or environment: reported as one line, exit code 1."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="checkin-bot",
        description="Check-in Coach: goal-linked, respectful Slack check-ins with a micromanagement guard.",
    )
    sub = parser.add_subparsers(dest="command", metavar="<command>", required=True)

    serve = sub.add_parser("serve", help="run the bot (Socket Mode when SLACK_APP_TOKEN is set, else HTTP)",
                           description="Run the bot. Socket Mode when SLACK_APP_TOKEN is set and --http is "
                                       "not given; otherwise HTTP on POST /slack/events, with GET /healthz.")
    serve.add_argument("--http", action="store_true", help="serve HTTP even if SLACK_APP_TOKEN is set")
    serve.add_argument("--port", type=int, default=None, help="HTTP port (default: $PORT, else 3000)")
    serve.add_argument("--no-scheduler", action="store_true", help="do not run the dispatch scheduler here")

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
    from dotenv import load_dotenv

    load_dotenv(Path.cwd() / ".env", override=False)
    # Only the path: config check must work without tokens, whatever else the environment holds.
    path = path if path is not None else config_path_from(os.environ)
    try:
        config = load_config(path)
    except ConfigError as exc:
        for line in exc.lines():
            print(line, file=sys.stderr)
        print(f"{len(exc.problems)} error(s) in {exc.source}", file=sys.stderr)
        return 1
    print(f"{path if path else 'built-in defaults'}: OK")
    print(f"default: {config.cadence.describe()}")
    for team in config.teams:
        print(f"team {team.name} (manager {team.manager}, {len(team.members)} rep(s)): "
              f"{config.team_cadence(team).describe()}")
    return 0


def cmd_tone(texts: Sequence[str]) -> int:
    from coaching.tone import classify

    lines = list(texts) if texts else [line.rstrip("\n") for line in sys.stdin]
    for text in lines:
        if not text.strip():
            continue
        result = classify(text)
        print(json.dumps({"text": result.text, "label": result.label, "suggestion": result.suggestion},
                         ensure_ascii=False))
    return 0


def cmd_db_upgrade(settings: Settings) -> int:
    from storage.db import describe, make_engine, upgrade

    engine = make_engine(settings.database_url)
    upgrade(engine)
    print(f"database is up to date: {describe(engine)}")
    return 0


def _load(settings: Settings) -> AdminConfig:
    try:
        return settings.load_admin_config()
    except ConfigError as exc:
        more = f" (and {len(exc.problems) - 1} more)" if len(exc.problems) > 1 else ""
        raise UserError(f"{exc}{more}; run `checkin-bot config check` for the full list") from None


def cmd_dispatch(settings: Settings) -> int:
    from core.boot import build_services
    from scheduling.dispatch import run_pass

    services = build_services(settings, _load(settings))
    report = run_pass(services)
    print(report.summary())
    return 0


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    from core.runner import serve

    config = _load(settings)
    settings.require_bot_token()
    use_http = args.http or not settings.socket_mode
    if use_http:
        settings.require_signing_secret()
    port = args.port if args.port is not None else int(os.environ.get("PORT") or 3000)
    return serve(settings, config, http=use_http, port=port, scheduler=not args.no_scheduler)


def cmd_demo(args: argparse.Namespace) -> int:
    from sandbox.demo import run_demo

    return run_demo(weeks=args.weeks, seed=args.seed, speed=args.speed, as_json=args.json)


def run(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "config":
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


def main(argv: Sequence[str] | None = None) -> int:
    settings_for_redaction = Settings()
    try:
        return run(argv)
    except (UserError, SettingsError) as exc:
        message = str(exc)
    except SQLAlchemyError as exc:
        message = f"cannot use the database: {type(exc).__name__}: {str(exc).splitlines()[0]}"
    except RuntimeError as exc:
        message = str(exc)
    except KeyboardInterrupt:
        return 130
    try:
        settings_for_redaction = Settings.from_env(dotenv=False)
    except SettingsError:
        pass
    print(f"checkin-bot: {redact(message, settings_for_redaction)}", file=sys.stderr)
    return 1
