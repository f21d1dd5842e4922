"""The worker's non-post operations (handlers.sender.send): edit or delete a message the bot posted,
under the same error policy as a post."""

from __future__ import annotations

from core.services import make_web_client
from handlers.sender import send
from sandbox import Sandbox
from wiring.harness import BOT_TOKEN


def test_an_update_and_a_delete_change_the_posted_message_and_a_gone_one_counts_as_done(sandbox: Sandbox) -> None:
    sandbox.add_user("U0REP1", name="ana")
    client = make_web_client(BOT_TOKEN, sandbox.api_url)
    posted = send(client, {"channel": "U0REP1", "text": "Ana's words",
                           "metadata": {"event_type": "checkin_answer", "event_payload": {"rep": "U0REP1"}}})
    assert posted.outcome == "ok" and posted.channel and posted.ts
    edited = send(client, {"op": "update", "channel": posted.channel, "ts": posted.ts, "text": "Removed."})
    assert (edited.outcome, edited.ts) == ("ok", posted.ts)
    [message] = sandbox.dms_to("U0REP1")
    assert message.text == "Removed."
    assert send(client, {"op": "delete", "channel": posted.channel, "ts": posted.ts}).outcome == "ok"
    assert sandbox.dms_to("U0REP1") == []
    again = send(client, {"op": "update", "channel": posted.channel, "ts": posted.ts, "text": "x"})
    assert (again.outcome, again.error) == ("ok", "message_not_found"), "nothing left to take out: done"


def test_a_5xx_on_an_edit_is_a_passing_fault(sandbox: Sandbox) -> None:
    sandbox.add_user("U0REP1", name="ana")
    client = make_web_client(BOT_TOKEN, sandbox.api_url)
    posted = send(client, {"channel": "U0REP1", "text": "Ana's words"})
    sandbox.faults.server_error("chat.update", times=3)
    failed = send(client, {"op": "update", "channel": posted.channel, "ts": posted.ts, "text": "Removed."})
    assert (failed.outcome, failed.error) == ("transient", "http_503")
