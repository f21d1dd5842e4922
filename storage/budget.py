"""Web API budgets: a token bucket per (workspace, method), shared by every process that calls Slack.

Slack limits each method per workspace by tier, and chat.postMessage per channel plus a workspace
cap. Every process sending for a workspace spends one shared budget, so together they stay just
under the limit instead of each finding it with 429s:

- On PostgreSQL the bucket is a `rate_budget` row (team_id, method). A process takes a small block
  of tokens at a time in one short transaction (`SELECT … FOR UPDATE`, then `UPDATE`) and spends
  it locally; a block it does not spend within its time expires, so no process hoards a burst.
  The row's times are the database's clock, so processes on hosts whose clocks differ agree.
- A 429 stores `paused_until = now + Retry-After` in the row: every process stops calling that
  method for that workspace until then.
- On SQLite (one process) the same buckets live in memory.

chat.postMessage is also paced per channel (`ChannelPacer`), in process: a person's messages are
posted in order by one thread, so pacing that thread keeps to Slack's one a second per channel.

The rates are Slack's published tiers (a copy of the numbers, below), lowered by the admin config
(`[slack]`), and slightly under them (HEADROOM) so that network jitter does not tip a call over.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine, func, select, update
from sqlalchemy.dialects import postgresql

from core.config import AdminConfig
from storage.models import RateBudget

# Slack's tiers in calls a minute ("Tier 1: 1+ per minute" … "Tier 4: 100+ per minute").
TIER_PER_MINUTE = {1: 1.0, 2: 20.0, 3: 50.0, 4: 100.0}
# The tier of each method the bot calls (from Slack's method reference); chat.postMessage is
# "special": about one a second per channel, plus a workspace-wide cap.
METHOD_TIERS = {
    "users.list": 2, "users.info": 4, "conversations.open": 3, "conversations.history": 3,
    "conversations.replies": 3, "chat.update": 3, "chat.delete": 3, "chat.postEphemeral": 4,
    "reactions.add": 3, "views.open": 4, "views.push": 4, "views.update": 4, "views.publish": 4,
    "files.getUploadURLExternal": 4, "files.completeUploadExternal": 4,
}
POST_MESSAGE = "chat.postMessage"
CHANNEL_PER_SECOND = 1.0
# Pace at 95% of a limit, with bursts well inside Slack's (half a second of posts at the workspace
# cap, five seconds of a tier's calls, two posts to one channel): a call that reaches Slack a little
# early (the network is not a metronome) still finds a token in Slack's own bucket.
HEADROOM = 0.95
BURST_SECONDS = 0.5
TIER_BURST_SECONDS = 5.0
CHANNEL_BURST = 2.0
# A process takes at most this many seconds' worth of tokens per database round trip.
BLOCK_SECONDS = 0.5


@dataclass(frozen=True)
class Rate:
    per_second: float
    burst: float

    @classmethod
    def of(cls, per_second: float, burst_seconds: float = BURST_SECONDS) -> Rate:
        paced = per_second * HEADROOM
        return cls(paced, max(1.0, paced * burst_seconds))

    @property
    def block(self) -> int:
        return max(1, min(int(self.burst), int(self.per_second * BLOCK_SECONDS)))


def rate_for(config: AdminConfig, method: str) -> Rate | None:
    """The workspace-wide budget for `method` (None: not limited per workspace)."""
    configured = config.slack.method_rates.get(method)
    if method == POST_MESSAGE:
        per_second = config.slack.post_rate_per_second
        if configured is not None:
            per_second = min(per_second or configured / 60.0, configured / 60.0)
        return Rate.of(per_second) if per_second else None
    tier = METHOD_TIERS.get(method)
    per_minute = TIER_PER_MINUTE[tier] if tier else None
    if configured is not None:
        per_minute = min(per_minute or configured, configured)  # the config can only lower it
    return Rate.of(per_minute / 60.0, TIER_BURST_SECONDS) if per_minute else None


Key = tuple[str, str]  # (team_id, method)


class _Store:
    """Where the buckets live. `claim` returns (tokens granted, seconds until `wanted` have refilled)."""

    local = False  # in this process's memory: asking costs no round trip

    def claim(self, key: Key, rate: Rate, wanted: int) -> tuple[int, float]:
        raise NotImplementedError

    def pause(self, key: Key, seconds: float) -> None:
        raise NotImplementedError

    def paused_for(self, key: Key) -> float:
        """Seconds left of a 429's pause (0 if none)."""
        raise NotImplementedError


class MemoryStore(_Store):
    local = True

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._rows: dict[Key, list[float]] = {}  # tokens, refilled_at, paused_until

    def claim(self, key: Key, rate: Rate, wanted: int) -> tuple[int, float]:
        with self._lock:
            now = self.clock()
            row = self._rows.setdefault(key, [rate.burst, now, 0.0])
            return _spend(row, rate, wanted, now)

    def pause(self, key: Key, seconds: float) -> None:
        with self._lock:
            now = self.clock()
            row = self._rows.setdefault(key, [0.0, now, 0.0])
            row[2] = max(row[2], now + seconds)

    def paused_for(self, key: Key) -> float:
        with self._lock:
            row = self._rows.get(key)
            return max(0.0, row[2] - self.clock()) if row else 0.0


def _spend(row: list[float], rate: Rate, wanted: int, now: float) -> tuple[int, float]:
    """Refill a bucket [tokens, refilled_at, paused_until] to `now` and take up to `wanted`."""
    tokens, at, paused = row
    if paused > now:
        return 0, paused - now
    tokens = min(rate.burst, tokens + max(0.0, now - at) * rate.per_second)
    granted = min(wanted, int(tokens + 1e-9))  # 0.9999999 is a token: floats drift
    row[0], row[1] = max(0.0, tokens - granted), now
    # Also when granted: when `wanted` will have refilled. A caller that runs out comes back then,
    # for a whole block, not for each single token (at the cap, a round trip per call).
    return granted, max(0.001, (min(float(wanted), rate.burst) - row[0]) / rate.per_second)


class PostgresStore(_Store):
    """The buckets as `rate_budget` rows, each taken in its own short transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def _row(self, connection: Connection, key: Key, rate: Rate) -> tuple[list[float], dt.datetime]:
        """The bucket's row, locked until the transaction ends (made full on first use), and the
        database's time."""
        mine = (RateBudget.team_id == key[0], RateBudget.method == key[1])
        query = (select(RateBudget.tokens, RateBudget.refilled_at, RateBudget.paused_until, func.clock_timestamp())
                 .where(*mine).with_for_update())
        found = connection.execute(query).first()
        if found is None:
            connection.execute(postgresql.insert(RateBudget).values(
                team_id=key[0], method=key[1], tokens=rate.burst, refilled_at=func.clock_timestamp())
                .on_conflict_do_nothing())
            found = connection.execute(query).one()
        tokens, refilled, paused, now = found
        return [tokens, refilled.timestamp(), paused.timestamp() if paused else 0.0], now

    def claim(self, key: Key, rate: Rate, wanted: int) -> tuple[int, float]:
        with self.engine.begin() as connection:
            row, now = self._row(connection, key, rate)
            before = row[0]
            granted, wait = _spend(row, rate, wanted, now.timestamp())
            if granted or row[0] != before:
                connection.execute(update(RateBudget).where(RateBudget.team_id == key[0], RateBudget.method == key[1])
                                   .values(tokens=row[0], refilled_at=now))
            return granted, wait

    def pause(self, key: Key, seconds: float) -> None:
        with self.engine.begin() as connection:
            self._row(connection, key, Rate(1.0, 1.0))
            until = func.clock_timestamp() + dt.timedelta(seconds=seconds)
            connection.execute(update(RateBudget).where(
                RateBudget.team_id == key[0], RateBudget.method == key[1],
                (RateBudget.paused_until.is_(None)) | (RateBudget.paused_until < until))
                .values(paused_until=until, tokens=0.0))


    def paused_for(self, key: Key) -> float:
        with self.engine.connect() as connection:
            left = connection.execute(select(func.extract("epoch", RateBudget.paused_until - func.clock_timestamp()))
                                      .where(RateBudget.team_id == key[0], RateBudget.method == key[1])).scalar()
        return max(0.0, float(left)) if left is not None else 0.0


# A method with no workspace-wide rate (chat.postMessage without a configured cap) is not claimed
# token by token; a worker only looks for another's 429 pause, at most this often.
PAUSE_POLL = 1.0


@dataclass
class _Held:
    tokens: int = 0
    until: float = 0.0  # monotonic; unspent tokens expire then
    paused_until: float = 0.0  # monotonic; this process knows of a pause until then
    polled_at: float = float("-inf")  # monotonic; when the shared pause was last looked at
    refill_at: float = 0.0  # monotonic; the store said it has no block before then
    # One per bucket: a round trip for one workspace's method must not hold up another's (with many
    # workspaces in one pass, a single lock made every first claim wait for all the others').
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)


class Budget:
    """This process's door to the shared buckets: `take` before a call, `pause` after a 429."""

    def __init__(self, store: _Store, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.store = store
        self.clock = clock
        self.sleep = sleep
        self._lock = threading.Lock()  # guards `_held` itself; each bucket has its own lock
        self._held: dict[Key, _Held] = {}

    def _held_for(self, key: Key) -> _Held:
        held = self._held.get(key)
        if held is None:
            with self._lock:
                held = self._held.setdefault(key, _Held())
        return held

    def take(self, team_id: str, method: str, rate: Rate | None, max_wait: float = 20.0) -> bool:
        """Spend one call of `method` for `team_id`, waiting for it up to `max_wait` seconds.

        False when it can't be had in time (a 429's pause lasts longer, or the budget is spent):
        the caller leaves the call for later rather than trying it and being answered 429.
        """
        key = (team_id, method)
        held = self._held_for(key)
        deadline = self.clock() + max_wait
        while True:
            with held.lock:
                taken, wait = self._attempt(held, key, rate, ask_store=True)
            if taken:
                return True
            if self.clock() + wait > deadline:
                return False
            self.sleep(min(wait, 1.0))

    def try_take(self, team_id: str, method: str, rate: Rate | None) -> bool:
        """Spend one call only if it can be had at once without a database round trip: from the
        block this process holds, or from buckets in memory. For a caller that must not block
        (the transport's event loop); on False it calls `take` off the loop."""
        key = (team_id, method)
        held = self._held_for(key)
        if not held.lock.acquire(blocking=False):
            return False  # another thread is mid round trip: don't wait for it on the loop
        try:
            return self._attempt(held, key, rate, ask_store=self.store.local)[0]
        finally:
            held.lock.release()

    def _attempt(self, held: _Held, key: Key, rate: Rate | None, ask_store: bool) -> tuple[bool, float]:
        """One try, under held.lock: (taken, else seconds to wait). Without `ask_store`, what
        would need the store is (False, 0)."""
        now = self.clock()
        if held.paused_until > now:
            return False, held.paused_until - now
        if rate is None:
            if now - held.polled_at < PAUSE_POLL:
                return True, 0.0
            if not ask_store:
                return False, 0.0
            held.polled_at = now
            wait = self.store.paused_for(key)
            if wait <= 0:
                return True, 0.0
            held.paused_until = now + wait
            return False, wait
        if held.tokens and held.until > now:
            held.tokens -= 1
            return True, 0.0
        if held.refill_at > now:
            # The store was asked and said when: every thread waiting here asking it again meanwhile
            # (a database round trip each, on PostgreSQL) would only hear the same.
            return False, held.refill_at - now
        if not ask_store:
            return False, 0.0
        # One block a round trip; the other threads wait on the lock meanwhile, so a process asks
        # the database once per block, not once per thread.
        granted, wait = self.store.claim(key, rate, rate.block)
        held.refill_at = now + wait
        if granted:
            held.tokens, held.until = granted - 1, self.clock() + granted / rate.per_second
            return True, 0.0
        return False, wait

    def pause(self, team_id: str, method: str, seconds: float) -> None:
        """Slack answered 429: nobody calls `method` for `team_id` for `seconds`."""
        seconds = max(1.0, seconds)
        key = (team_id, method)
        held = self._held_for(key)
        with held.lock:
            held.tokens = 0
            held.paused_until = max(held.paused_until, self.clock() + seconds)
        self.store.pause(key, seconds)

    def paused(self, team_id: str, method: str) -> bool:
        held = self._held.get((team_id, method))
        if held is None:
            return False
        with held.lock:
            return held.paused_until > self.clock()


class ChannelPacer:
    """chat.postMessage about once a second per channel (short bursts allowed), in this process."""

    def __init__(self, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.clock = clock
        self.sleep = sleep
        self.rate = Rate(CHANNEL_PER_SECOND * HEADROOM, CHANNEL_BURST)
        self._lock = threading.Lock()
        self._rows: dict[Key, list[float]] = {}

    def try_turn(self, team_id: str, channel: str) -> bool:
        """Take the channel's turn only if it is free now (never waits, for the event loop)."""
        if not self._lock.acquire(blocking=False):
            return False
        try:
            return self._turn(team_id, channel, self.clock()) == 0.0
        finally:
            self._lock.release()

    def wait_turn(self, team_id: str, channel: str, max_wait: float = float("inf")) -> bool:
        """Wait for the channel's next turn; False (and no turn taken) if it is more than `max_wait` off."""
        deadline = self.clock() + max_wait
        while True:
            with self._lock:
                now = self.clock()
                wait = self._turn(team_id, channel, now)
            if wait == 0.0:
                return True
            if now + wait > deadline:
                return False
            self.sleep(wait)

    def _turn(self, team_id: str, channel: str, now: float) -> float:
        """Under self._lock: take the channel's turn (0.0), or the seconds until it comes (none taken)."""
        if len(self._rows) > 50_000:  # forget channels that have refilled
            horizon = now - self.rate.burst / self.rate.per_second
            self._rows = {k: v for k, v in self._rows.items() if v[1] > horizon}
        row = self._rows.setdefault((team_id, channel), [self.rate.burst, now, 0.0])
        granted, wait = _spend(row, self.rate, 1, now)
        return 0.0 if granted else wait


_BUDGETS: weakref.WeakKeyDictionary[Engine, tuple[Budget, ChannelPacer]] = weakref.WeakKeyDictionary()
_REGISTRY_LOCK = threading.Lock()


def budget_for(engine: Engine) -> tuple[Budget, ChannelPacer]:
    """The process's budget and channel pacer for a database (PostgreSQL rows, else in memory)."""
    with _REGISTRY_LOCK:
        found = _BUDGETS.get(engine)
        if found is None:
            store: _Store = PostgresStore(engine) if engine.dialect.name == "postgresql" else MemoryStore()
            found = _BUDGETS[engine] = (Budget(store), ChannelPacer())
        return found
