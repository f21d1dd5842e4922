"""Pacing instead of bouncing, and fewer calls (issue 10): the worker spends a shared per-workspace
budget, a 429 pauses every worker, zones come from users.list, and lookups are not repeated.

The sandbox's limits run on the real clock here (the bot's own clock is simulated), since pacing
is about real seconds.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import select

from core.clock import ManualClock
from core.config import parse_config
from core.services import Services, make_web_client
from core.settings import Settings
from handlers.pacing import MAX_WAIT, Pacing
from handlers.sender import SendResult
from handlers.transport import KeepAlive
from sandbox import RateLimits, Sandbox
from storage.budget import Budget, ChannelPacer, MemoryStore, Rate, budget_for, rate_for
from storage.db import make_engine, make_session_factory, upgrade
from storage.models import CheckIn, User
from storage.people import enroll_rep
from wiring.harness import BOT_TOKEN, BotHarness

UTC = dt.UTC


def team_config(reps: list[str], extra: str = "") -> str:
    members = ", ".join(f'"{r}"' for r in reps)
    return ('[cadence]\nworking_days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]\n'
            'quiet_hours = { start = "04:37", end = "04:38" }\n' + extra +
            f'\n[[teams]]\nname = "Field"\nmanager = "U0MANAGER"\nmembers = [{members}]\n')


@pytest.fixture
def limited(clock: ManualClock) -> Iterator[Sandbox]:
    with Sandbox.start(clock=lambda: clock().timestamp(),
                       rate_limits=RateLimits(workspace_post_cap=5, clock=time.monotonic)) as sb:
        yield sb


def due_everyone(bot: BotHarness, clock: ManualClock) -> None:
    bot.dispatch()  # plans (and learns zones)
    with bot.services.sessions.begin() as session:
        due = set(session.scalars(select(CheckIn.due_at).where(CheckIn.state == "scheduled")))
    assert len(due) == 1, "every rep's first check-in falls at the same moment"
    clock.set(due.pop())


def test_fifty_reps_at_a_cap_of_five_a_second_are_sent_without_a_single_429(
        limited: Sandbox, database_url: str, clock: ManualClock) -> None:
    reps = [f"U0PACE{i:03d}" for i in range(50)]
    limited.add_user("U0MANAGER", name="maya", tz="UTC")
    for i, rep in enumerate(reps):
        limited.add_user(rep, name=f"rep{i}", tz="UTC")
    config = parse_config(team_config(reps, "[slack]\npost_rate_per_second = 5\n"), "paced")
    with BotHarness(limited, database_url, config, clock=clock, http=False) as bot:
        due_everyone(bot, clock)
        started = time.monotonic()
        report = bot.dispatch()
        took = time.monotonic() - started
    prompts = [m for m in limited.messages() if (m.metadata or {}).get("event_type") == "checkin_prompt"]
    assert len(prompts) == 50 and report.get("sent") == 50
    assert limited.rate_limited_counts() == {}, "paced under the cap, never bounced off it"
    assert took >= 50 / 5 - 3, "the posts were spread at the cap, not sent in one burst"


def test_without_the_configured_cap_the_same_fan_out_is_answered_429(
        limited: Sandbox, database_url: str, clock: ManualClock) -> None:
    """The scenario above can fail: unpaced at the workspace level, the sandbox limits it."""
    reps = [f"U0PACE{i:03d}" for i in range(30)]
    limited.add_user("U0MANAGER", name="maya", tz="UTC")
    for i, rep in enumerate(reps):
        limited.add_user(rep, name=f"rep{i}", tz="UTC")
    with BotHarness(limited, database_url, parse_config(team_config(reps), "unpaced"), clock=clock,
                    http=False) as bot:
        due_everyone(bot, clock)
        bot.dispatch()
    assert limited.rate_limited_counts().get("chat.postMessage", 0) > 0


def test_users_list_replaces_users_info_for_many_new_reps(bot_sandbox: Sandbox, database_url: str,
                                                          clock: ManualClock) -> None:
    reps = [f"U0NEW{i:03d}" for i in range(60)]
    bot_sandbox.add_user("U0MANAGER", name="maya", tz="UTC")
    for i, rep in enumerate(reps):
        bot_sandbox.add_user(rep, name=f"new{i}", tz="Asia/Tokyo" if i % 2 else "Europe/Berlin")
    with BotHarness(bot_sandbox, database_url, parse_config(team_config(reps), "new"), clock=clock,
                    http=False) as bot:
        bot.dispatch()
        with bot.services.sessions.begin() as session:
            zones = {u.slack_id: u.tz for u in session.scalars(select(User))}
    assert bot_sandbox.calls_to("users.info") == []
    assert len(bot_sandbox.calls_to("users.list")) == 1
    assert all(zones[r] == ("Asia/Tokyo" if i % 2 else "Europe/Berlin") for i, r in enumerate(reps))


@pytest.fixture
def bot_sandbox(clock: ManualClock) -> Iterator[Sandbox]:
    with Sandbox.start(clock=lambda: clock().timestamp()) as sb:
        yield sb


def test_a_profile_without_a_zone_is_not_looked_up_again_within_a_day(bot_sandbox: Sandbox, database_url: str,
                                                                      clock: ManualClock) -> None:
    bot_sandbox.add_user("U0MANAGER", name="maya", tz="UTC")
    bot_sandbox.add_user("U0NOTZ", name="nozone", tz=None)
    with BotHarness(bot_sandbox, database_url, parse_config(team_config(["U0NOTZ"]), "notz"), clock=clock,
                    http=False) as bot:
        start = clock()
        for minutes in range(0, 23 * 60, 20):  # a pass every 20 minutes for 23 hours
            clock.set(start + dt.timedelta(minutes=minutes))
            bot.dispatch()
        with bot.services.sessions.begin() as session:
            user = session.scalar(select(User).where(User.slack_id == "U0NOTZ"))
            assert user is not None and user.tz is None and user.tz_refreshed_at == start
    asked = [c for c in bot_sandbox.calls if c.method in ("users.info", "users.list")]
    assert len(asked) == 1, [c.method for c in asked]


def test_a_rate_limited_lookup_is_not_retried_every_pass(bot_sandbox: Sandbox, database_url: str,
                                                         clock: ManualClock) -> None:
    bot_sandbox.add_user("U0MANAGER", name="maya", tz="UTC")
    bot_sandbox.add_user("U0OLD", name="old", tz="UTC")
    config = parse_config(team_config(["U0OLD"]), "one")
    with BotHarness(bot_sandbox, database_url, config, clock=clock, http=False) as bot:
        bot.dispatch()  # the first sweep
        bot_sandbox.add_user("U0LATE", name="late", tz="Europe/Berlin")
        with bot.services.sessions.begin() as session:  # a newcomer enrols after the day's sweep
            enroll_rep(session, bot.services.team_id, "U0LATE", clock())
        bot_sandbox.faults.rate_limit("users.info", times=1, retry_after=1)
        for _ in range(5):  # five passes a minute apart
            clock.advance(dt.timedelta(minutes=1))
            bot.dispatch()
        infos = [c for c in bot_sandbox.calls_to("users.info") if c.args.get("user") == "U0LATE"]
        assert len(infos) == 1, "answered 429 once, then left for later, not asked again each pass"
        clock.advance(dt.timedelta(hours=1))
        bot.dispatch()
        with bot.services.sessions.begin() as session:
            late = session.scalar(select(User).where(User.slack_id == "U0LATE"))
            assert late is not None and late.tz == "Europe/Berlin"
    assert len(bot_sandbox.calls_to("users.list")) == 1, "one newcomer is one users.info, not a sweep"


# ---- the budget itself ----------------------------------------------------------------------------


class FakeTime:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_a_budget_spends_at_its_rate_and_a_pause_stops_it_until_retry_after() -> None:
    t = FakeTime()
    budget = Budget(MemoryStore(t), t, t.sleep)
    rate = Rate(per_second=10.0, burst=5.0)
    for _ in range(105):
        assert budget.take("T1", "chat.postMessage", rate)
    assert 9.5 <= t.now - 100.0 <= 10.5, "5 at once, then 10 a second"
    budget.pause("T1", "chat.postMessage", 30)
    assert not budget.take("T1", "chat.postMessage", rate, max_wait=5), "paused longer than it may wait"
    before = t.now
    assert budget.take("T1", "chat.postMessage", rate, max_wait=40)
    assert t.now - before >= 30 - 0.01
    assert budget.take("T2", "chat.postMessage", rate), "another workspace has its own budget"


class RemoteStore(MemoryStore):
    """Buckets that stand for PostgreSQL's (a round trip per claim): counts the claims."""

    local = False

    def __init__(self, clock: FakeTime) -> None:
        super().__init__(clock)
        self.claims = 0

    def claim(self, key: tuple[str, str], rate: Rate, wanted: int) -> tuple[int, float]:
        self.claims += 1
        return super().claim(key, rate, wanted)


def test_try_take_spends_only_the_block_held_and_never_asks_a_remote_store() -> None:
    t = FakeTime()
    store = RemoteStore(t)
    remote = Budget(store, t, t.sleep)
    rate = Rate(per_second=10.0, burst=5.0)  # a block of 5
    assert not remote.try_take("T1", "chat.postMessage", rate), "nothing held: the loop must not ask the database"
    assert store.claims == 0
    assert remote.take("T1", "chat.postMessage", rate)  # the blocking path claims a block
    assert store.claims == 1
    assert [remote.try_take("T1", "chat.postMessage", rate) for _ in range(5)] == [True] * 4 + [False]
    assert store.claims == 1, "the held block was spent without another round trip"
    t.now += 10
    assert remote.take("T1", "chat.postMessage", rate)
    remote.pause("T1", "chat.postMessage", 30)
    assert not remote.try_take("T1", "chat.postMessage", rate), "paused: the held tokens are gone"
    # In memory (SQLite, one process) there is no round trip to spare: try_take refills there.
    local = Budget(MemoryStore(t), t, t.sleep)
    assert [local.try_take("T2", "chat.postMessage", rate) for _ in range(6)] == [True] * 5 + [False]


class SlowFirstWorkspace(MemoryStore):
    """Buckets whose round trip for T1 hangs until released (a slow database transaction)."""

    local = False

    def __init__(self) -> None:
        super().__init__()
        self.entered, self.release = threading.Event(), threading.Event()

    def claim(self, key: tuple[str, str], rate: Rate, wanted: int) -> tuple[int, float]:
        if key[0] == "T1":
            self.entered.set()
            self.release.wait(10)
        return super().claim(key, rate, wanted)


def test_one_workspaces_round_trip_does_not_hold_up_another_workspaces_budget() -> None:
    store = SlowFirstWorkspace()
    budget = Budget(store)
    rate = Rate(per_second=10.0, burst=5.0)
    first = threading.Thread(target=budget.take, args=("T1", "chat.postMessage", rate), daemon=True)
    first.start()
    try:
        assert store.entered.wait(5)
        done = threading.Event()
        threading.Thread(target=lambda: (budget.take("T2", "chat.postMessage", rate), done.set()), daemon=True).start()
        assert done.wait(5), "T2's budget waited for T1's round trip"
        assert first.is_alive(), "T1 is still mid round trip"
    finally:
        store.release.set()
        first.join(5)


def test_a_channel_turn_not_free_now_is_not_taken_by_trying() -> None:
    t = FakeTime()
    pacer = ChannelPacer(t, t.sleep)
    assert pacer.try_turn("T1", "D1") and pacer.try_turn("T1", "D1"), "a burst of two"
    assert not pacer.try_turn("T1", "D1")
    assert pacer.try_turn("T1", "D2"), "another channel has its own turns"
    t.now += 1 / pacer.rate.per_second
    assert pacer.try_turn("T1", "D1"), "a refused try took nothing: the next turn came on time"
    assert not pacer.try_turn("T1", "D1")


def test_the_config_lowers_a_tier_but_cannot_raise_it() -> None:
    low = parse_config('[slack]\npost_rate_per_second = 4\n[slack.method_rates]\n"users.info" = 30\n'
                       '"users.list" = 500\n', "rates")
    info, listing, post = rate_for(low, "users.info"), rate_for(low, "users.list"), rate_for(low, "chat.postMessage")
    assert info is not None and listing is not None and post is not None
    default_info = rate_for(parse_config("", "none"), "users.info")
    assert default_info is not None
    assert info.per_second < default_info.per_second and info.per_second <= 30 / 60
    assert listing.per_second <= 20 / 60, "users.list stays within Tier 2 whatever the config says"
    assert post.per_second <= 4
    assert rate_for(parse_config("", "none"), "chat.postMessage") is None  # paced per channel only


# ---- two workers on one PostgreSQL database ----------------------------------------------------------


def services_on(database_url: str, sandbox: Sandbox) -> Services:
    engine = make_engine(database_url)
    return Services(settings=Settings(bot_token=BOT_TOKEN, api_url=sandbox.api_url, database_url=database_url),
                    config=parse_config("", "two"), engine=engine, sessions=make_session_factory(engine),
                    client=make_web_client(BOT_TOKEN, sandbox.api_url), team_id=sandbox.team_id)


def post_paced(services: Services, team_id: str, message: dict[str, Any], max_wait: float = MAX_WAIT) -> SendResult:
    """One post as the outbox worker makes it: through its transport, on the shared budget."""
    assert team_id == services.team_id
    with KeepAlive(services.client, 1, None, Pacing(services, max_wait)) as transport:
        return transport.submit([message]).result()[0]


@pytest.mark.db
def test_a_429_pauses_the_method_for_every_worker_on_postgresql(bot_sandbox: Sandbox, database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("the shared budget lives in PostgreSQL; SQLite runs one process")
    upgrade(make_engine(database_url))
    bot_sandbox.add_user("U0ONE", name="one")
    bot_sandbox.add_user("U0TWO", name="two")
    first, second = services_on(database_url, bot_sandbox), services_on(database_url, bot_sandbox)
    assert budget_for(first.engine)[0] is not budget_for(second.engine)[0], "two workers, two processes' state"
    bot_sandbox.faults.rate_limit("chat.postMessage", times=1, retry_after=3)
    with ThreadPoolExecutor(max_workers=1) as pool:
        # Worker one is answered 429 (Retry-After 3): it pauses the method in the shared row, then waits.
        one = pool.submit(post_paced, first, first.team_id, {"channel": "U0ONE", "text": "one"})
        bot_sandbox.wait_for(lambda: len(bot_sandbox.calls_to("chat.postMessage")) == 1, timeout=5)
        limited_at = time.monotonic()
        time.sleep(0.3)  # the pause is written right after the answer
        # Worker two has never been answered 429 itself, yet it sees the pause and does not call.
        assert post_paced(second, second.team_id, {"channel": "U0TWO", "text": "two"}, max_wait=0.5).error == \
            "ratelimited"
        assert len(bot_sandbox.calls_to("chat.postMessage")) == 1
        assert post_paced(second, second.team_id, {"channel": "U0TWO", "text": "two"}).outcome == "ok"
        assert time.monotonic() - limited_at >= 3 - 0.3, "worker two waited out worker one's Retry-After"
        assert one.result().outcome == "ok"
    assert sorted(c.status for c in bot_sandbox.calls_to("chat.postMessage")) == [200, 200, 429]
    for services in (first, second):
        services.engine.dispose()
