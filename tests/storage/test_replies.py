"""The rules of replies that land (storage.replies), on a real database without Slack."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.config import parse_config
from storage import replies
from storage.checkins import MAX_ANSWER_CHARS, CheckInError, record_answer
from storage.data_rights import export_data, forget_rep
from storage.models import (
    Answer,
    AnswerRelay,
    CheckIn,
    CoachingNote,
    OutboxKind,
    OutboxMessage,
    OutboxState,
    RelayedMessage,
    User,
)
from storage.people import sync_config_teams

TEAM = "T0TEST"
NOW = dt.datetime(2026, 3, 4, 17, 0, tzinfo=dt.UTC)
MANAGER, REP, LONER = "U0MGR", "U0REP", "U0LONER"
CONFIG = parse_config(f"""
[[teams]]
name = "West"
manager = "{MANAGER}"
members = ["{REP}"]
""")


def _answered(session: Session, rep: str = REP, text: str = "Legal is slow.", ts: str = "10.000001",
              when: dt.datetime = NOW) -> Answer:
    sync_config_teams(session, TEAM, CONFIG, when)
    checkin = CheckIn(team_id=TEAM, rep_id=rep, kind="rep_now", due_at=when, state="sent", created_at=when,
                      channel="D1", message_ts=f"{when.timestamp():.6f}", sent_at=when)
    session.add(checkin)
    session.flush()
    answer = record_answer(session, checkin, text, "dm", when, event_id=f"Ev{ts}", message_ts=ts).answer
    session.add(AnswerRelay(team_id=TEAM, answer_id=answer.id, manager_id=MANAGER, channel="DMGR",
                            message_ts="20.000001", created_at=when))
    session.flush()
    return answer


def _refreshes(session: Session) -> list[OutboxMessage]:
    return list(session.scalars(select(OutboxMessage).where(OutboxMessage.kind == OutboxKind.RELAY_REFRESH)))


def test_an_edit_changes_only_the_edited_part_and_refreshes_the_managers_copy(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        answer = _answered(session, text="Legal is slow.\n\nAlso: pricing agreed.")
        revision = replies.revise(session, TEAM, REP, "10.000001", "Legal is slow.", "Legal signed today!",
                                  "Ev9", NOW)
        assert revision is not None and not revision.deleted and revision.managers == [MANAGER]
        assert answer.text == "Legal signed today!\n\nAlso: pricing agreed."
        [refresh] = _refreshes(session)
        assert refresh.recipient == MANAGER and '"ts":"20.000001"' in refresh.payload
        # The same event again (Slack's retry) queues nothing more.
        replies.revise(session, TEAM, REP, "10.000001", "Legal signed today!", "Legal signed today!", "Ev9", NOW)
        assert len(_refreshes(session)) == 1


def test_an_edit_of_a_message_that_carried_no_answer_changes_nothing(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        _answered(session)
        assert replies.revise(session, TEAM, REP, "99.000001", "hi", "hello", "Ev9", NOW) is None
        assert replies.revise(session, TEAM, "U0OTHER", "10.000001", "Legal is slow.", "x", "Ev9", NOW) is None


def test_deleting_the_whole_answer_removes_it_but_keeps_the_note_written_on_it(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        answer = _answered(session)
        session.add(CoachingNote(team_id=TEAM, answer_id=answer.id, manager_id=MANAGER, rep_id=REP, kind="note",
                                 text="Call counsel?", created_at=NOW))
        session.flush()
        revision = replies.revise(session, TEAM, REP, "10.000001", "Legal is slow.", None, "Ev9", NOW)
        assert revision is not None and revision.deleted and len(revision.outbox_ids) == 1
        assert session.scalars(select(Answer)).all() == [] and session.scalars(select(AnswerRelay)).all() == []
        assert [(n.text, n.answer_id) for n in session.scalars(select(CoachingNote))] == [("Call counsel?", None)]


def test_deleting_one_part_keeps_the_rest(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        answer = _answered(session, text="Legal is slow.\n\nAlso: pricing agreed.")
        revision = replies.revise(session, TEAM, REP, "10.000001", "Legal is slow.", None, "Ev9", NOW)
        assert revision is not None and not revision.deleted
        assert answer.text == "Also: pricing agreed."


def test_a_dm_soon_after_answering_is_appended_and_later_is_offered(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        answer = _answered(session)
        soon = replies.after_answering(session, TEAM, REP, "And pricing too.", "11.000001", "Ev11",
                                       NOW + dt.timedelta(hours=2))
        assert soon.result is replies.LateResult.APPENDED and answer.text == "Legal is slow.\n\nAnd pricing too."
        later = NOW + dt.timedelta(hours=2) + replies.APPEND_WINDOW + dt.timedelta(minutes=1)
        late = replies.after_answering(session, TEAM, REP, "Out Friday.", "12.000001", "Ev12", later)
        assert late.result is replies.LateResult.OFFERED and late.managers == [MANAGER]
        assert answer.text == "Legal is slow.\n\nAnd pricing too."
        [offered] = session.scalars(select(RelayedMessage)).all()
        assert (offered.status, offered.text, offered.recipient) == ("offered", "Out Friday.", MANAGER)


def test_an_addition_that_would_make_the_answer_too_long_is_offered_instead(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        answer = _answered(session, text="x" * (MAX_ANSWER_CHARS - 10))
        outcome = replies.after_answering(session, TEAM, REP, "y" * 20, "11.000001", "Ev11", NOW)
        assert outcome.result is replies.LateResult.OFFERED and len(answer.text) == MAX_ANSWER_CHARS - 10


def test_someone_with_no_answer_and_no_manager_is_told_so(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        sync_config_teams(session, TEAM, CONFIG, NOW)
        outcome = replies.after_answering(session, TEAM, LONER, "Hello?", "1.000001", "Ev1", NOW)
        assert outcome.result is replies.LateResult.NOWHERE
        with pytest.raises(CheckInError):
            replies.after_answering(session, TEAM, LONER, "   ", "2.000001", "Ev2", NOW)


def test_an_offer_is_decided_once(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        sync_config_teams(session, TEAM, CONFIG, NOW)
        replies.after_answering(session, TEAM, REP, "Out Friday.", "12.000001", "Ev12", NOW)
        assert replies.decide_offer(session, TEAM, "U0OTHER", "12.000001", True, NOW) is None  # not theirs
        [(manager, outbox_id)] = replies.decide_offer(session, TEAM, REP, "12.000001", True, NOW) or []
        assert manager == MANAGER and session.get(OutboxMessage, outbox_id) is not None
        assert replies.decide_offer(session, TEAM, REP, "12.000001", True, NOW) is None
        replies.after_answering(session, TEAM, REP, "Never mind.", "13.000001", "Ev13", NOW)
        assert replies.decide_offer(session, TEAM, REP, "13.000001", False, NOW) == []
        assert [r.text for r in session.scalars(select(RelayedMessage))] == ["Out Friday."]


def _sent(session: Session, kind: OutboxKind, recipient: str, ts: str, payload: str) -> OutboxMessage:
    row = OutboxMessage(team_id=TEAM, kind=kind, dedupe_key=f"k:{ts}", recipient=recipient, payload=payload,
                        not_before=NOW, state=OutboxState.SENT, channel="D1", ts=ts, created_at=NOW)
    session.add(row)
    session.flush()
    return row


def test_a_reply_goes_to_the_other_person_once_and_not_from_an_ex_manager(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        answer = _answered(session)
        note = CoachingNote(team_id=TEAM, answer_id=answer.id, manager_id=MANAGER, rep_id=REP, kind="note",
                            text="Call counsel?", created_at=NOW)
        session.add(note)
        session.flush()
        _sent(session, OutboxKind.COACHING_NOTE, REP, "30.000001", f'{{"note_id": {note.id}}}')
        root = replies.thread_root(session, TEAM, REP, "30.000001")
        assert root is not None and replies.thread_root(session, TEAM, MANAGER, "30.000001") is None
        outcome = replies.reply_in_thread(session, TEAM, REP, root, "Yes, Tuesday.", "31.000001", NOW)
        assert outcome is not None and outcome.result is replies.ReplyResult.RELAYED
        assert outcome.recipient == MANAGER
        again = replies.reply_in_thread(session, TEAM, REP, root, "Yes, Tuesday.", "31.000001", NOW)
        assert again is not None and again.result is replies.ReplyResult.DUPLICATE
        [relayed] = session.scalars(select(RelayedMessage)).all()
        # The manager's answer to that, from someone who no longer manages the rep, is refused.
        _sent(session, OutboxKind.NOTE_REPLY, "U0EXMGR", "32.000001", f'{{"reply_id": {relayed.id}}}')
        ex_root = replies.thread_root(session, TEAM, "U0EXMGR", "32.000001")
        assert ex_root is not None
        refused = replies.reply_in_thread(session, TEAM, "U0EXMGR", ex_root, "Hi", "33.000001", NOW)
        assert refused is not None and refused.result is replies.ReplyResult.NOT_ALLOWED
        assert len(session.scalars(select(RelayedMessage)).all()) == 1


def test_a_dm_added_to_an_answer_can_be_edited_and_deleted_on_its_own(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        answer = _answered(session)
        replies.after_answering(session, TEAM, REP, "And pricing too.", "11.000001", "Ev11", NOW)
        edited = replies.revise(session, TEAM, REP, "11.000001", "And pricing too.", "And pricing is agreed.",
                                "Ev12", NOW)
        assert edited is not None and answer.text == "Legal is slow.\n\nAnd pricing is agreed."
        removed = replies.revise(session, TEAM, REP, "11.000001", "And pricing is agreed.", None, "Ev13", NOW)
        assert removed is not None and not removed.deleted and answer.text == "Legal is slow."
        assert replies.revise(session, TEAM, REP, "11.000001", "x", "y", "Ev14", NOW) is None  # gone now


def test_the_export_holds_the_replies_a_person_wrote_and_those_that_reached_them(
        sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        sync_config_teams(session, TEAM, CONFIG, NOW)
        replies.after_answering(session, TEAM, REP, "Out Friday.", "12.000001", "Ev12", NOW)
        replies.decide_offer(session, TEAM, REP, "12.000001", True, NOW)
        replies.after_answering(session, TEAM, REP, "Only offered.", "13.000001", "Ev13", NOW)
        mine, theirs = export_data(session, TEAM, REP, NOW), export_data(session, TEAM, MANAGER, NOW)
    assert [(r["to"], r["text"]) for r in mine["replies_written"]] == [(MANAGER, "Out Friday."),
                                                                        (MANAGER, "Only offered.")]
    assert [(r["from"], r["text"]) for r in theirs["replies_received"]] == [(REP, "Out Friday.")]


def test_forget_takes_the_reps_replies_and_their_posted_copies(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        _answered(session)
        words = RelayedMessage(team_id=TEAM, sender=REP, recipient=MANAGER, rep_id=REP, text="My private reply",
                               message_ts="30.000001", status="queued", created_at=NOW)
        theirs = RelayedMessage(team_id=TEAM, sender=MANAGER, recipient=REP, rep_id=REP, text="Manager's answer",
                                message_ts="31.000001", status="queued", created_at=NOW)
        session.add_all([words, theirs])
        session.flush()
        sent = OutboxMessage(team_id=TEAM, kind=OutboxKind.NOTE_REPLY, recipient=MANAGER,
                             dedupe_key=f"note_reply:{words.id}", state=OutboxState.SENT, channel="DMGR",
                             ts="40.000001", created_at=NOW, not_before=NOW,
                             payload=f'{{"reply_id": {words.id}, "rep": "{REP}", "manager": "{MANAGER}"}}')
        session.add(sent)
        session.flush()
        forgotten = forget_rep(session, TEAM, REP, "summary_rep_x", {})
        assert ("DMGR", "40.000001") in {(c.channel, c.ts) for c in forgotten.copies}
        assert session.scalars(select(RelayedMessage.text)).all() == []


def test_a_managers_reply_to_the_rep_marks_the_rep_for_the_guards_next_pass(
        sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        answer = _answered(session)
        late = _sent(session, OutboxKind.NOTE_REPLY, MANAGER, "40.000001", "{}")
        relayed = RelayedMessage(team_id=TEAM, sender=REP, recipient=MANAGER, rep_id=REP, text="Out Friday.",
                                 message_ts="39.000001", status="queued", created_at=NOW)
        session.add(relayed)
        session.flush()
        late.payload = f'{{"reply_id": {relayed.id}}}'
        rep = session.scalar(select(User).where(User.slack_id == REP))
        assert rep is not None and answer is not None
        rep.guard_dirty = False
        session.flush()
        root = replies.thread_root(session, TEAM, MANAGER, "40.000001")
        assert root is not None
        outcome = replies.reply_in_thread(session, TEAM, MANAGER, root, "Enjoy the day off.", "41.000001", NOW)
        assert outcome is not None and outcome.result is replies.ReplyResult.RELAYED and outcome.recipient == REP
        session.refresh(rep)
        assert rep.guard_dirty, "the guard's feedback signal must see the manager's response"


def test_an_edit_queues_a_silent_rerender_of_each_sent_digest_holding_the_answer(
        sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        answer = _answered(session)
        holding = _sent(session, OutboxKind.TEAM_DIGEST, MANAGER, "50.000001",
                        f'{{"answer_ids": [{answer.id}], "since": "{NOW.isoformat()}", "zone": "UTC"}}')
        _sent(session, OutboxKind.TEAM_DIGEST, MANAGER, "51.000001",
              f'{{"answer_ids": [{answer.id + 1000}], "since": "{NOW.isoformat()}", "zone": "UTC"}}')
        replies.revise(session, TEAM, REP, "10.000001", "Legal is slow.", "Legal is slower.", "EvEdit", NOW)
        replies.revise(session, TEAM, REP, "10.000001", "Legal is slower.", "Legal is slower.", "EvEdit", NOW)
        rows = list(session.scalars(select(OutboxMessage).where(OutboxMessage.kind == OutboxKind.RETRACT)))
        assert [(r.recipient, r.payload) for r in rows] == [
            (MANAGER, f'{{"channel":"D1","source":{holding.id},"ts":"50.000001","what":"digest"}}')]
