"""The demo's cast and script: a sales manager, four reps in four time zones, six weeks.

The people act only through Slack (slash commands, DMs, thread replies, buttons, modals), and
they react to what the bot actually sent: a rep answers the check-in that arrived, the manager
answers what was passed on to her. Their words come from canned lines picked with a seeded RNG.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol
from zoneinfo import ZoneInfo

from wiring.demo_render import Event

# Monday 2 March 2026: US clocks go forward on 8 March, EU on 29 March, Sydney's go back on 5 April.
WEEK_ONE = dt.date(2026, 3, 2)
START = dt.datetime(2026, 3, 1, 21, 0, tzinfo=dt.UTC)  # Monday 08:00 in Sydney; Sunday afternoon in the US
HOLIDAY = dt.date(2026, 4, 6)  # Easter Monday
REPLY_MINUTES = (45, 80)
NUMBERS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight"}


@dataclass(frozen=True)
class Person:
    id: str
    handle: str
    name: str
    tz: str
    goals: tuple[str, ...] = ()
    voice: tuple[tuple[str, ...], ...] = ()  # canned answers, one tuple per goal
    replies: tuple[str, ...] = ()  # answers to the manager's ad-hoc questions, in order
    plan: tuple[str, ...] = ()  # week by week: dm | thread | modal | help | snooze | skip | late | paused
    first_answer: str | None = None  # what they write to their first check-in, instead of a canned line


MAYA = Person("U0MAYA", "maya", "Maya Okafor", "America/Chicago")
REPS = (
    Person("U0ANA", "ana", "Ana Reyes", "America/Los_Angeles",
           ("Close the Acme renewal by March 31", "Book three discovery calls a week"),
           (("Legal is the blocker: their counsel wants a new DPA. I've sent our template and booked a call for Thursday.",
             "Acme's CFO signed off on the budget! Only procurement paperwork left.",
             "Still waiting on their legal team. I'm drafting a fallback plan with a 6-month term.",
             "Verbal yes from Acme today. Contract is out for signature."),
            ("Booked 3 this week, two from the webinar list. One looks like a real fit.",
             "Only 2 this week; the conference ate Thursday. I'll front-load next Monday.",
             "4 calls booked! The new opener about onboarding time lands well.",
             "Three again. I'm trying shorter emails, replies are up.")),
           ("Their legal team asked for a new data agreement late; I flagged it in our 1:1 two weeks ago.",
            "It's in the CRM now. I was on-site at Acme all day and logged it in the evening.",
            "Honestly? A 20-minute call with their CFO. Could you join on Thursday?",
            "Less time on the weekly pipeline spreadsheet; the CRM already has it all.",
            "That a champion in legal matters as much as one in finance. I'd map them earlier next time."),
           ("dm", "dm", "modal", "thread", "dm", "modal")),
    Person("U0MARCUS", "marcus", "Marcus Bell", "America/New_York",
           ("Expand Globex to two more regions", "Send proposals within 48 hours"),
           (("Globex EMEA is in; APAC wants a pilot first. Pricing for the pilot is my open question.",
             "APAC pilot agreed for April. Need a reference customer in Singapore.",
             "Globex asked for a 30% discount for APAC. I'm holding at 15% with a longer term.",
             "Both regions signed. Next: the LATAM conversation in Q2."),
            ("Averaging 52 hours. The security questionnaire is the slow part.",
             "Down to 40 hours with the new template library.",
             "Two proposals this week, both inside 48h.",
             "Slipped to 60 hours on the Initech one; the pricing approval sat with finance.")),
           ("APAC wanted a bigger discount; I agreed 15% for a 3-year term, which finance approved.",),
           ("help", "snooze", "dm", "skip", "thread", "dm")),
    Person("U0LENA", "lena", "Lena Vogel", "Europe/Berlin",
           ("Land the Initech pilot in Munich", "Hand over the DACH partner list to marketing"),
           (("The pilot scope is agreed. Open point: who owns the data migration on their side.",
             "Initech's IT has approved the pilot environment. Kick-off is on the 12th.",
             "Pilot is running; 14 of 20 users active. I'll meet the holdouts on Thursday.",
             "They want to extend the pilot by two weeks. I think that's a good sign."),
            ("List is 80% clean. Three partners still need a contact person.",
             "Handed over. Marketing has questions about the Austrian resellers.",
             "Done and documented. I've set a check-in with marketing for next month.",
             "Marketing has launched the first campaign from the list.")),
           ("The Munich office is closed on Friday, so I've moved the pilot review to Monday.",),
           ("thread", "skip", "dm", "late", "modal", "dm")),
    Person("U0KAI", "kai", "Kai Nguyen", "Australia/Sydney",
           ("Win the Umbrella tender", "Rebuild the ANZ pipeline to $1M"),
           (("Tender docs are in. Shortlist announced on the 20th, fingers crossed.",
             "We're shortlisted! Presentation prep with the SE team this week.",
             "Presentation went well; their CIO asked great questions about support hours.",
             "Umbrella picked us. Legal is starting on the contract."),
            ("Pipeline at $620k. Two big ones from the partner event.",
             "$740k now; one deal slipped to next quarter.",
             "Hit $810k. The NZ partner is sending us leads.",
             "$930k, nearly there. Going after the mining sector next.")),
           ("Back from leave and catching up; the tender shortlist is still on track.",),
           ("dm", "dm", "paused", "modal", "thread", "dm"),
           # Help asked for in his own words, and a next step his next check-in will ask about.
           "Tender docs are nearly done, but I'm blocked on the security questionnaire. "
           "I'll call their procurement lead on Wednesday."),
)
PEOPLE = (MAYA, *REPS)
NOTES = (
    "Thanks {first}, that's a clear next step. Anything I can unblock?",
    "Great progress, {first}. Want me to join that call?",
    "Good thinking on this. Let's spend ten minutes on it in our 1:1.",
    "Nice one, {first}. What did you learn that the team could use?",
    "Appreciate the update. Shout if the timeline gets tight.",
    "Love this. Could you share how you did it at the team meeting?",
)


def config_toml() -> str:
    """The admin config the demo's workspace runs with (parsed by the real `parse_checked`)."""
    members = ", ".join(f'"{r.id}"' for r in REPS)
    return (f'default_timezone = "UTC"\n\n[cadence]\nholidays = ["{HOLIDAY.isoformat()}"]\n\n'
            f'[[teams]]\nname = "Sales"\nmanager = "{MAYA.id}"\nmembers = [{members}]\n')


def week_of(day: dt.date) -> int:
    return (day - WEEK_ONE).days // 7 + 1


def local(week: int, weekday: int, hour: int, minute: int, person: Person) -> dt.datetime:
    """A wall time in the person's zone, in week N (1-based), weekday 0 = Monday."""
    day = WEEK_ONE + dt.timedelta(weeks=week - 1, days=weekday)
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=ZoneInfo(person.tz)).astimezone(dt.UTC)


def at_desk(person: Person, after: dt.datetime, rng: random.Random) -> dt.datetime:
    """`after`, or the next weekday morning if that falls outside the person's working hours."""
    zone = ZoneInfo(person.tz)
    moment = after.astimezone(zone)
    if moment.weekday() < 5 and dt.time(8, 30) <= moment.time() <= dt.time(17, 30) \
            and moment.date() != HOLIDAY:
        return after
    day = moment.date() + dt.timedelta(days=0 if moment.time() < dt.time(8, 30) else 1)
    while day.weekday() >= 5 or day == HOLIDAY:
        day += dt.timedelta(days=1)
    start = dt.datetime.combine(day, dt.time(9, 0), tzinfo=zone) + dt.timedelta(minutes=rng.randint(0, 50))
    return start.astimezone(dt.UTC)


@dataclass
class Beat:
    """A scripted moment: run `action` at `when` (UTC)."""

    when: dt.datetime
    label: str
    action: Callable[[], None]
    order: int = 0


class Stage(Protocol):
    """What the story needs from the demo that plays it (wiring.demo.Demo), so the two modules
    do not import each other."""

    def now(self) -> dt.datetime: ...
    def later(self, when: dt.datetime, label: str, action: Callable[[], object], order: int = 0) -> None: ...
    def restart(self) -> None: ...
    def say(self, title: str, lines: list[str] | None = None) -> None: ...
    def cannot(self, step: str) -> None: ...
    def check(self, title: str, lines: list[str] | None = None) -> None: ...
    def save_chart(self) -> None: ...
    def slash(self, person: Person, text: str) -> list[Event]: ...
    def dm(self, person: Person, text: str, thread: Event | None = None) -> None: ...
    def click(self, person: Person, action_id: str, source: Event, feature: str | None = None) -> bool: ...
    def answer_in_modal(self, person: Person, source: Event, text: str, confidence: int,
                        help_wanted: bool) -> None: ...
    def write_note(self, person: Person, source: Event, button: dict[str, str], text: str) -> None: ...
    def prompt_text(self, person: Person, reminder: Event) -> str: ...


@dataclass
class Story:
    demo: Stage
    rng: random.Random
    weeks: int
    voices: dict[str, list[list[str]]] = field(default_factory=dict)
    asked: dict[str, int] = field(default_factory=dict)
    snoozed: set[int] = field(default_factory=set)
    last_prompt: dict[str, dt.datetime] = field(default_factory=dict)
    holiday_told: bool = False
    warned: bool = False
    seen: Counter[str] = field(default_factory=Counter)
    missed_help: bool = False  # Maya has let Kai's first answer (a request for help) go unanswered
    last_first: set[str] = field(default_factory=set)  # reps whose first answer was given

    def __post_init__(self) -> None:
        for rep in REPS:
            self.voices[rep.id] = [self.rng.sample(list(lines), len(lines)) for lines in rep.voice]

    # ---- the script -------------------------------------------------------------------------------
    def beats(self) -> list[Beat]:
        d, ana, marcus = self.demo, REPS[0], REPS[1]
        out = [Beat(START, "setup", self.setup)]
        scripted: list[tuple[int, int, int, int, Person, str, Callable[[], None]]] = [
            (2, 2, 9, 0, REPS[3], "Kai goes on leave", lambda: self.pause(REPS[3], "1w")),
            (3, 0, 16, 0, MAYA, "over-asking", lambda: self.ask(
                REPS[3], "Why did you not send me the Umbrella deck yet?", "ask_cancel",
                intro="Week 3. Maya's VP wants numbers, and Maya starts asking \"why\" questions.")),
            (3, 1, 10, 0, MAYA, "over-asking", lambda: self.ask(
                ana, "Why did you let the Acme renewal slip to April?", "ask_send_anyway")),
            (3, 2, 10, 0, MAYA, "over-asking", lambda: self.ask(
                ana, "Why did you not log the Acme call in the CRM?", "ask_send_anyway")),
            (3, 3, 10, 0, MAYA, "changing course", lambda: self.ask(
                marcus, "Where are we on Globex? Send me an update by EOD.", "ask_use_suggestion",
                intro="Maya wants a Globex update, but this time she takes the coach's advice.")),
            # Times chosen so each open question stays within the touch budget (3 in any 7 days).
            (4, 1, 11, 0, MAYA, "coaching", lambda: self.ask(
                ana, "What would help you most with the Acme renewal this week?", None,
                intro="Week 4. Fewer questions, and open ones.")),
            (4, 3, 10, 30, MAYA, "coaching", lambda: self.ask(
                ana, "What's one thing I could take off your plate so Acme can close?", None)),
            (5, 1, 11, 30, MAYA, "coaching", lambda: self.ask(
                ana, "What did you learn from the Acme legal review so far?", None)),
        ]
        # A Thursday-evening deploy mid-story (in week 3 when the story is long enough).
        scripted.append((min(3, self.weeks), 3, 18, 30, MAYA, "restart", d.restart))
        for week, weekday, hour, minute, who, label, action in scripted:
            if week <= self.weeks:
                out.append(Beat(local(week, weekday, hour, minute, who), label, action))
        out.append(Beat(self.finale_at(), "finale", self.finale, order=1))
        return out

    def finale_at(self) -> dt.datetime:
        return local(self.weeks, 4, 15, 0, MAYA)

    def end_at(self) -> dt.datetime:
        return local(self.weeks, 4, 17, 30, MAYA)

    def setup(self) -> None:
        d = self.demo
        span = NUMBERS.get(self.weeks, str(self.weeks))
        d.say(f"A {span}-week story on a local Slack workspace",
              ["Maya Okafor manages a sales team of four: Ana (Los Angeles), Marcus (New York),",
               "Lena (Berlin) and Kai (Sydney). The admin config puts them in one team with weekly",
               f"check-ins on Mondays at 10:00 each rep's own time, and {HOLIDAY.day} {HOLIDAY:%B} (Easter Monday) "
               "as a holiday.",
               "Everything below is the real bot: its handlers, its dispatch pass and its SQLite database.",
               "Each line shows the time where that person is; the date headers are UTC."])
        d.slash(MAYA, "help")
        for rep in REPS:
            for goal in rep.goals:
                d.slash(rep, f"goal add {goal}")

    def finale(self) -> None:
        d = self.demo
        expected = [("checkin_answer", "answers were not passed on to Maya, so she sent no coaching notes"),
                    ("help_nudge", "Kai's unanswered request for help never reached Maya as a nudge")]
        if self.weeks >= 4:  # Kai is asked about the tender again in week 4 (goals take turns; week 3 he is away)
            expected.append(("carry_forward", "no check-in asked how a step named last time went"))
        if self.weeks >= 3:  # Maya's over-asking starts in week 3
            expected += [("held", "the tone coach held none of Maya's questions"),
                         ("drift_warning", "no drift warning reached Maya")]
        for kind, text in expected:
            if not self.seen[kind]:
                d.cannot(text)
        d.say(f"Friday afternoon: Maya looks back over the {NUMBERS.get(self.weeks, self.weeks)} weeks"
              if self.weeks > 1 else "Friday afternoon: Maya looks back over the week")
        d.slash(MAYA, f"summary {self.weeks}w")
        d.slash(MAYA, "health")
        d.save_chart()

    def pause(self, rep: Person, length: str) -> None:
        self.demo.say(f"{rep.name.split()[0]} is taking a week off.")
        self.demo.slash(rep, f"pause {length}")

    def ask(self, rep: Person, question: str, choice: str | None, intro: str | None = None) -> None:
        d = self.demo
        if intro:
            d.say(intro)
        events = d.slash(MAYA, f"ask @{rep.handle} {question}")
        held = next((e for e in events if any(a["action_id"].startswith("ask_") for a in e.data.get("actions", []))),
                    None)
        if held is None:
            if choice is not None:  # the script has Maya respond to the coach holding this question
                d.cannot(f"the tone coach did not hold {question!r}")
            return
        self.seen["held"] += 1
        if choice is None:
            d.say("The coach held it; Maya takes its advice.")
            choice = "ask_use_suggestion"
        d.later(d.now() + dt.timedelta(minutes=3), "held question",
                lambda: d.click(MAYA, choice or "", held, feature="the held-question buttons"))

    # ---- reacting to what the bot sent --------------------------------------------------------------
    def on_event(self, event: Event) -> None:
        if event.kind != "dm" or event.who is None:
            return
        kind = event.event_type
        self.seen[kind or ""] += 1
        rep = next((r for r in REPS if r.id == event.who), None)
        if rep is not None and kind == "checkin_prompt":
            self._prompt(rep, event)
        elif rep is not None and kind == "manager_question":
            self._reply_to_question(rep, event)
        elif rep is not None and kind == "checkin_reminder":
            self._after_reminder(rep, event)
        elif event.who == MAYA.id and kind == "checkin_answer":
            self._acknowledge(event)
        elif event.who == MAYA.id and kind == "checkin_reminder":
            self._help_nudge(event)
        elif event.who == MAYA.id and kind == "drift_warning" and not self.warned:
            self.warned = True
            self.demo.say("Maya reads the private warning. Nobody else sees it. She decides to change course:",
                          ["fewer ad-hoc questions, open ones, and the coach's rewrites when she is stuck."])

    def _prompt(self, rep: Person, event: Event) -> None:
        d, now = self.demo, self.demo.now()
        checkin_id = int(event.data["payload"].get("checkin_id", 0))
        self._notice_time(rep, now)
        if "as your next step on" in event.text and not self.seen["carry_forward"]:
            self.seen["carry_forward"] += 1
            d.check(f"Carry-forward: {rep.name.split()[0]}'s check-in quotes the next step he named last time "
                    "and asks how it went",
                    ["Still one open question about the goal; he can drop the step with [Drop this step]."])
        week = week_of(now.astimezone(ZoneInfo(rep.tz)).date())
        # Past the scripted weeks everyone simply answers, each in their own way.
        plan = rep.plan[week - 1] if week <= len(rep.plan) else ("dm", "thread", "modal")[week % 3]
        if checkin_id in self.snoozed:
            plan = "dm"
        # Reply times vary, but never enough to double from one fortnight to the next (a real signal).
        delay = dt.timedelta(minutes=self.rng.randint(*REPLY_MINUTES))
        when = now + delay
        text = self.answer_for(rep, event.text)
        if rep.first_answer and rep.id not in self.last_first:
            self.last_first.add(rep.id)
            text = rep.first_answer
        if plan == "snooze":
            self.snoozed.add(checkin_id)
            d.later(now + dt.timedelta(minutes=self.rng.randint(5, 30)), "snooze",
                    lambda: d.click(rep, "checkin_snooze", event))
        elif plan == "skip":
            d.later(now + dt.timedelta(minutes=self.rng.randint(5, 60)), "skip",
                    lambda: d.click(rep, "checkin_skip", event))
        elif plan == "late":
            d.say(f"{rep.name.split()[0]} is at a customer workshop all day and doesn't see the check-in.")
        elif plan == "thread":
            d.later(when, "answer", lambda: d.dm(rep, text, thread=event))
        elif plan in ("modal", "help"):
            confidence = self.rng.randint(2, 3) if plan == "help" else self.rng.randint(3, 5)
            d.later(when, "answer", lambda: d.answer_in_modal(rep, event, text, confidence, plan == "help"))
        else:
            d.later(when, "answer", lambda: d.dm(rep, text))

    def _notice_time(self, rep: Person, now: dt.datetime) -> None:
        """Narrate what a person would notice: same local time across a DST change; a holiday moved."""
        d = self.demo
        zone = ZoneInfo(rep.tz)
        previous = self.last_prompt.get(rep.id)
        self.last_prompt[rep.id] = now
        local_now = now.astimezone(zone)
        if previous is not None:
            local_then = previous.astimezone(zone)
            if local_then.utcoffset() != local_now.utcoffset() and local_then.time() == local_now.time():
                d.check(f"DST: {rep.name.split()[0]}'s check-in still arrived at {local_now:%H:%M} local time "
                        f"({local_then.tzname()} → {local_now.tzname()})",
                        [f"In UTC it moved from {previous:%H:%M} to {now:%H:%M}; the cadence is kept in local time."])
        monday = local_now.date() - dt.timedelta(days=local_now.weekday())
        if monday == HOLIDAY and local_now.date() != HOLIDAY and not self.holiday_told:
            self.holiday_told = True
            d.check(f"Holiday: nothing was sent on {HOLIDAY:%a} {HOLIDAY.day} {HOLIDAY:%b} (Easter Monday in the config); "
                    f"check-ins came on the next working day instead.")

    def answer_for(self, rep: Person, prompt_text: str) -> str:
        index = next((i for i, goal in enumerate(rep.goals) if goal in prompt_text), 0)
        lines = self.voices[rep.id][index]
        return lines.pop(0) if lines else self.rng.choice(rep.voice[index])

    def _reply_to_question(self, rep: Person, event: Event) -> None:
        n = self.asked.get(rep.id, 0)
        self.asked[rep.id] = n + 1
        text = rep.replies[min(n, len(rep.replies) - 1)] if rep.replies else "Thanks, on it."
        when = at_desk(rep, self.demo.now() + dt.timedelta(minutes=self.rng.randint(*REPLY_MINUTES)), self.rng)
        self.demo.later(when, "reply", lambda: self.demo.dm(rep, text, thread=event))

    def _after_reminder(self, rep: Person, event: Event) -> None:
        when = at_desk(rep, self.demo.now() + dt.timedelta(minutes=self.rng.randint(20, 90)), self.rng)
        text = self.answer_for(rep, self.demo.prompt_text(rep, event))
        self.demo.later(when, "answer", lambda: self.demo.dm(rep, text))

    def _help_nudge(self, event: Event) -> None:
        """The one nudge about Kai's request: checked, then answered with a note."""
        d = self.demo
        self.seen["help_nudge"] += 1
        if self.seen["help_nudge"] > 1:
            d.cannot("Maya was nudged twice about one request for help")
            return
        local_now = d.now().astimezone(ZoneInfo(MAYA.tz))
        d.check(f"Help nudge: Maya got one gentle reminder of Kai's request for help, {local_now:%a %H:%M} "
                "her time, two of her working days after he asked",
                ["Kai (the rep) got no reminder; a note, a thanks or [Mark resolved] closes it."])
        note = next((b for b in event.data.get("actions") or [] if b["action_id"] == "answer_reply"), None)
        if note is None:
            d.cannot("the help nudge had no [Reply with a note] button")
            return
        when = at_desk(MAYA, d.now() + dt.timedelta(minutes=20), self.rng)
        d.later(when, "note", lambda: d.write_note(
            MAYA, event, note, "Sorry Kai, I missed this. I know their CISO; I'll intro you today."))

    def _acknowledge(self, event: Event) -> None:
        d = self.demo
        rep_id = event.data["payload"].get("rep")
        if rep_id == REPS[3].id and not self.missed_help:
            # Maya misses Kai's first answer, a request for help: the story's help nudge follows.
            self.missed_help = True
            self.seen["help_request"] += 1
            d.say("Maya is at the sales kickoff and misses Kai's answer, although it asks for help "
                  "(it is at the top of her summary and App Home).")
            return
        buttons = event.data.get("actions") or []
        note = next((b for b in buttons if re.search(r"note|reply|comment", b["label"], re.I)), None)
        thanks = next((b for b in buttons if re.search(r"thank", b["label"], re.I)), None)
        if note is None and thanks is None:
            d.cannot("an answer reached Maya without note or thanks buttons")
            return
        rep = next((r for r in REPS if r.id == event.data["payload"].get("rep")), REPS[0])
        when = at_desk(MAYA, d.now() + dt.timedelta(minutes=self.rng.randint(30, 240)), self.rng)
        if note is not None and (thanks is None or self.rng.random() < 0.6):
            text = self.rng.choice(NOTES).format(first=rep.name.split()[0])
            d.later(when, "note", lambda: d.write_note(MAYA, event, note, text))
        elif thanks is not None:
            d.later(when, "thanks", lambda: d.click(MAYA, thanks["action_id"], event))

