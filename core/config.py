"""The admin config (CONTRACT §3): strict TOML parsing with errors that name the key and line.

Every key is optional. An unknown key, a wrong type, a bad time/zone/weekday/date, quiet hours
that leave no time to send, or a prompt that reads as a status demand is an error.

This module is a leaf: it imports no other project package. Checking custom prompts needs the tone
classifier, so the caller passes that check in (`check_prompts`); the wiring layer always does.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from core.calendars import check_calendar
from core.toml_lines import LineIndex

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # index = date.weekday()

Every = Literal["day", "week", "2 weeks", "month"]
DeliverAnswers = Literal["immediately", "daily", "weekly"]
SlackUserId = Annotated[str, Field(pattern=r"^[UW][A-Z0-9]{2,}$")]

_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
# Quiet hours must leave at least this much of the day for check-ins, else nothing could be sent.
MIN_SENDING_WINDOW = dt.timedelta(hours=1)


def parse_hhmm(value: str) -> dt.time:
    match = _TIME.match(value)
    if not match:
        raise ValueError(f"{value!r} is not a 24-hour time like \"09:30\"")
    return dt.time(int(match.group(1)), int(match.group(2)))


def _check_weekday(value: str) -> str:
    if value not in WEEKDAYS:
        raise ValueError(f"{value!r} is not a weekday (use one of {', '.join(WEEKDAYS)})")
    return value


def _check_date(value: str) -> str:
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value!r} is not a date like \"2026-12-25\"") from None
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError(f"{value!r} is not a date like \"2026-12-25\"")
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class QuietHours(_Strict):
    start: str = "18:00"
    end: str = "09:00"

    @field_validator("start", "end")
    @classmethod
    def _time(cls, value: str) -> str:
        parse_hhmm(value)
        return value

    @model_validator(mode="after")
    def _leaves_time_to_send(self) -> QuietHours:
        start, end = parse_hhmm(self.start), parse_hhmm(self.end)
        minutes = lambda t: t.hour * 60 + t.minute  # noqa: E731
        # Quiet runs start -> end (wrapping midnight); the sending window is end -> start.
        window = (minutes(start) - minutes(end)) % (24 * 60)
        if start == end or dt.timedelta(minutes=window) < MIN_SENDING_WINDOW:
            raise ValueError(
                f"quiet hours {self.start}-{self.end} cover every working hour; "
                "leave at least one hour a day in which check-ins can be sent"
            )
        return self


class CadenceOverride(_Strict):
    """A team's partial cadence: any [cadence] key, all optional."""

    every: Every | None = None
    day: str | None = None
    time: str | None = None
    working_days: list[str] | None = None
    quiet_hours: QuietHours | None = None
    holidays: list[str] | None = None
    # Public holidays of a country or region ("DE-BY", "US-CA"), on top of `holidays`.
    holiday_calendar: str | None = None
    reminder_after_hours: Annotated[int, Field(ge=0, le=24 * 14)] | None = None

    @field_validator("day")
    @classmethod
    def _day(cls, value: str | None) -> str | None:
        return None if value is None else _check_weekday(value)

    @field_validator("time")
    @classmethod
    def _time(cls, value: str | None) -> str | None:
        if value is not None:
            parse_hhmm(value)
        return value

    @field_validator("working_days")
    @classmethod
    def _days(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        for day in value:
            _check_weekday(day)
        if not value:
            raise ValueError("working_days cannot be empty; check-ins need at least one day")
        if len(set(value)) != len(value):
            raise ValueError("working_days lists a day twice")
        return value

    @field_validator("holiday_calendar")
    @classmethod
    def _calendar(cls, value: str | None) -> str | None:
        return None if value is None else check_calendar(value)

    @field_validator("holidays")
    @classmethod
    def _holidays(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            for day in value:
                _check_date(day)
        return value


class CadenceConfig(CadenceOverride):
    every: Every = "week"
    day: str = "mon"
    time: str = "10:00"
    working_days: list[str] = Field(default_factory=lambda: ["mon", "tue", "wed", "thu", "fri"])
    quiet_hours: QuietHours = Field(default_factory=QuietHours)
    holidays: list[str] = Field(default_factory=list)
    reminder_after_hours: Annotated[int, Field(ge=0, le=24 * 14)] = 24

    def merged(self, override: CadenceOverride | None) -> CadenceConfig:
        if override is None:
            return self
        changes = {k: v for k, v in override.model_dump(exclude_none=True).items()}
        return CadenceConfig.model_validate({**self.model_dump(), **changes})

    def with_changes(self, every: str, day: str | None = None, time: str | None = None) -> CadenceConfig:
        """This cadence with an agreed or proposed `every` (and day/time where given), validated."""
        return self.merged(CadenceOverride.model_validate({"every": every, "day": day, "time": time}))

    def rhythm(self) -> str:
        """How often, in words people read in Slack: "every week on Tue at 09:30 local time"."""
        when = {"day": "every working day", "week": f"every week on {self.day.title()}",
                "2 weeks": f"every 2 weeks on {self.day.title()}", "month": "every month"}[self.every]
        return f"{when} at {self.time} local time"

    def describe(self) -> str:
        """The rhythm plus the hours around it, for `config check`."""
        return (f"{self.rhythm()}; working days {','.join(self.working_days)}; "
                f"quiet {self.quiet_hours.start}-{self.quiet_hours.end}; "
                f"{len(self.holidays)} holiday(s)"
                f"{f' plus the {self.holiday_calendar} calendar' if self.holiday_calendar else ''}; "
                f"reminder after {self.reminder_after_hours}h")


class GuardConfig(_Strict):
    max_touches_per_rep_per_week: Annotated[int, Field(ge=1, le=50)] = 3
    status_demand_share: Annotated[float, Field(ge=0.0, le=1.0)] = 0.5
    contact_gap_days: Annotated[int, Field(ge=1, le=365)] = 14
    warning_cooldown_days: Annotated[int, Field(ge=0, le=365)] = 7
    # Hold an ad-hoc question for tone only when the classifier is at least this sure it reads as
    # pressure; below it the question goes out with a private hint and does not count against you.
    tone_hold_confidence: Annotated[float, Field(ge=0.0, le=1.0)] = 0.7
    # A rep's help request their manager hasn't answered after this many of the manager's working
    # days gets the manager (never the rep) one gentle nudge; 0 turns the nudge off.
    help_nudge_working_days: Annotated[int, Field(ge=0, le=30)] = 2

    @field_validator("status_demand_share", "tone_hold_confidence", mode="before")
    @classmethod
    def _int_share(cls, value: Any) -> Any:
        # TOML `1` for a share is a fair thing to write; accept ints, still reject strings.
        return float(value) if isinstance(value, int) and not isinstance(value, bool) else value


class CheckinsConfig(_Strict):
    # A DM this many days after the rep's latest check-in was answered is added to that answer;
    # later (or with 0) the rep is asked whether to send it to their manager as a note.
    append_window_days: Annotated[int, Field(ge=0, le=30)] = 3

    @field_validator("append_window_days", mode="before")
    @classmethod
    def _window(cls, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 30:
            raise ValueError(f"must be a whole number of days from 0 to 30 (got {value!r}): how long after a "
                             "check-in was answered a DM is still added to that answer; 0 always offers it "
                             "to the manager as a note instead")
        return value


# A Web API method's name, as in Slack's docs ("users.info").
SlackMethod = Annotated[str, Field(pattern=r"^[a-z]+(\.[a-zA-Z0-9]+)+$")]


class SlackConfig(_Strict):
    """How fast the bot may call Slack. These can only lower the limits Slack publishes per method
    tier (a value above a method's tier is capped at the tier); chat.postMessage has no published
    workspace-wide figure, so `post_rate_per_second` is the one to set when a workspace has one."""

    # Posts a second across the whole workspace (every process together); unset = paced only per
    # channel (about one a second per conversation, as Slack asks).
    post_rate_per_second: Annotated[float, Field(gt=0.0, le=1000.0)] | None = None
    # Calls a minute, per method, for this workspace (e.g. "users.info" = 50).
    method_rates: dict[SlackMethod, Annotated[float, Field(gt=0.0, le=10000.0)]] = Field(default_factory=dict)

    @field_validator("post_rate_per_second", mode="before")
    @classmethod
    def _int_rate(cls, value: Any) -> Any:
        return float(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("method_rates", mode="before")
    @classmethod
    def _int_rates(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: float(v) if isinstance(v, int) and not isinstance(v, bool) else v for k, v in value.items()}
        return value


class TeamConfig(_Strict):
    name: Annotated[str, Field(min_length=1, max_length=80)]
    manager: SlackUserId
    members: list[SlackUserId] = Field(default_factory=list)
    cadence: CadenceOverride | None = None
    # The manager's own working days, quiet hours and holidays, where they differ from the team's
    # (messages to the manager wait for these; by default the team's apply to its manager too).
    manager_cadence: CadenceOverride | None = None
    # Per-rep public-holiday calendars where a member's differs from the team's holiday_calendar.
    holiday_calendars: dict[SlackUserId, str] = Field(default_factory=dict)

    @field_validator("holiday_calendars")
    @classmethod
    def _calendars(cls, value: dict[str, str]) -> dict[str, str]:
        for code in value.values():
            check_calendar(code)
        return value


class DataConfig(_Strict):
    # Days a workspace's data is kept after the app is uninstalled there (OAuth installs); then the
    # dispatch pass deletes it. 0 deletes it at the first pass after the uninstall.
    uninstalled_retention_days: Annotated[int, Field(ge=0, le=3650)] = 30


def _no_duplicate_team(teams: list[TeamConfig]) -> None:
    names = [t.name for t in teams]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate:
        raise ValueError(f"team name {duplicate!r} is used twice")


class WorkspaceConfig(_Strict):
    """`[workspaces.T…]` (`.E…` for an org-wide Grid install): what differs in that workspace.

    Each key given replaces the top-level one for that workspace only (`cadence` is merged).
    """

    admins: list[SlackUserId] | None = None
    deliver_answers: DeliverAnswers | None = None
    cadence: CadenceOverride | None = None
    guard: GuardConfig | None = None
    teams: list[TeamConfig] | None = None

    @model_validator(mode="after")
    def _unique_teams(self) -> WorkspaceConfig:
        _no_duplicate_team(self.teams or [])
        return self


WorkspaceKey = Annotated[str, Field(pattern=r"^[TE][A-Z0-9]{2,}$")]


class AdminConfig(_Strict):
    default_timezone: str = "UTC"
    admins: list[SlackUserId] = Field(default_factory=list)
    deliver_answers: DeliverAnswers = "immediately"
    # Extra coaching prompts, each with `{goal}`; they join the built-in library.
    prompts: list[str] = Field(default_factory=list)
    cadence: CadenceConfig = Field(default_factory=CadenceConfig)
    guard: GuardConfig = Field(default_factory=GuardConfig)
    checkins: CheckinsConfig = Field(default_factory=CheckinsConfig)
    teams: list[TeamConfig] = Field(default_factory=list)
    data: DataConfig = Field(default_factory=DataConfig)
    workspaces: dict[WorkspaceKey, WorkspaceConfig] = Field(default_factory=dict)
    slack: SlackConfig = Field(default_factory=SlackConfig)

    @field_validator("default_timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone like \"Europe/Berlin\"") from None
        return value

    @model_validator(mode="after")
    def _unique_teams(self) -> AdminConfig:
        _no_duplicate_team(self.teams)
        return self

    def for_workspace(self, key: str) -> AdminConfig:
        """The config one workspace runs on: the top level with its `[workspaces.KEY]` table applied."""
        own = self.workspaces.get(key)
        if own is None:
            return self
        changes: dict[str, Any] = {name: getattr(own, name) for name in ("admins", "deliver_answers", "guard", "teams")
                                   if getattr(own, name) is not None}
        if own.cadence is not None:
            changes["cadence"] = self.cadence.merged(own.cadence)
        # Only this workspace's table is kept: its digest (the config-teams sync) is its own.
        return self.model_copy(update={**changes, "workspaces": {key: own}})

    def team_cadence(self, team: TeamConfig | None) -> CadenceConfig:
        return self.cadence.merged(team.cadence if team else None)

    def manager_hours(self, team: TeamConfig | None) -> CadenceConfig:
        """The hours in which messages may reach a team's manager."""
        merged = self.team_cadence(team)
        return merged.merged(team.manager_cadence) if team and team.manager_cadence else merged

    def digest(self) -> str:
        """SHA-256 of the effective config: equal configs (whatever their layout) match."""
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()


@dataclass(frozen=True)
class ConfigProblem:
    line: int | None
    key: str
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line else ""
        return f"{where}{self.key}: {self.message}"


class ConfigError(Exception):
    def __init__(self, source: str, problems: list[ConfigProblem]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: {problems[0]}" if problems else source)

    def lines(self) -> list[str]:
        return [f"{self.source}: {p}" for p in self.problems]


def _key_name(loc: tuple[Any, ...]) -> str:
    name = ""
    for part in loc:
        if isinstance(part, int):
            name += f"[{part}]"
        else:
            name += f".{part}" if name else str(part)
    return name or "(top level)"


def _clean_loc(loc: tuple[Any, ...]) -> tuple[str | int, ...]:
    # pydantic inserts validator tags such as "function-after[...]" into locations.
    return tuple(p for p in loc if isinstance(p, int) or "[" not in str(p))


def _message(error: dict[str, Any]) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown key (check the spelling; see checkins.example.toml)"
    msg = str(error["msg"])
    return msg.removeprefix("Value error, ")


# Given custom prompt templates, one message per template that may not be used.
PromptCheck = Callable[[Sequence[str]], list[str]]


def _prompt_problems(raw: dict[str, Any], index: LineIndex, check: PromptCheck | None) -> list[ConfigProblem]:
    prompts = raw.get("prompts")
    if check is None or not isinstance(prompts, list) or not all(isinstance(p, str) for p in prompts):
        return []  # a wrong type is reported by the model itself
    messages = check(prompts)
    return [ConfigProblem(index.line_of(("prompts",)), "prompts", "; ".join(messages))] if messages else []


def parse_config(text: str, source: str = "config", check_prompts: PromptCheck | None = None) -> AdminConfig:
    """Parse and validate `text`; every problem is reported at once, sorted by line.

    `check_prompts` vets the custom prompts; without it they are only type-checked.
    """
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line_match = re.search(r"line (\d+)", str(exc))
        line = int(line_match.group(1)) if line_match else None
        raise ConfigError(source, [ConfigProblem(line, "(syntax)", f"not valid TOML: {exc}")]) from None
    index = LineIndex(text)
    problems = _prompt_problems(raw, index, check_prompts)
    try:
        config = AdminConfig.model_validate(raw)
    except ValidationError as exc:
        for error in exc.errors():
            loc = _clean_loc(error["loc"])
            problems.append(ConfigProblem(index.line_of(loc), _key_name(loc), _message(dict(error))))
    if problems:
        problems.sort(key=lambda p: (p.line or 0, p.key))
        raise ConfigError(source, problems) from None
    return config


def load_config(path: Path | None, check_prompts: PromptCheck | None = None) -> AdminConfig:
    """Load `path`, or built-in defaults when `path` is None."""
    if path is None:
        return parse_config("", "built-in defaults", check_prompts)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(str(path), [ConfigProblem(None, "(file)", f"cannot read: {exc.strerror}")]) from None
    except UnicodeDecodeError as exc:
        line = exc.object[:exc.start].count(b"\n") + 1
        raise ConfigError(str(path), [ConfigProblem(line, "(file)", f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x}); "
                                                          "save the file as UTF-8")]) from None
    return parse_config(text, str(path), check_prompts)
