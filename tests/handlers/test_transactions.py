"""No listener talks to Slack (ack, respond, a reply or a Web API call) inside a database transaction.

A Slack call can take seconds or fail; holding a transaction open meanwhile blocks other writers
(SQLite has one) and ties the stored state to the fate of the HTTP call.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Names that reach Slack, directly or through a helper that does.
SLACK_CALLS = {
    "ack", "respond", "reply", "say", "_say", "_refuse", "_reply", "_thank", "dm", "post", "deliver",
    "publish_home", "update_checkin_message", "answered", "views_open", "views_update", "views_publish",
    "chat_postMessage", "chat_update", "chat_postEphemeral", "reactions_add", "files_upload_v2",
    "conversations_open",
}
def _slack_calls_in_transactions(root: Path = ROOT) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for path in sorted((root / "handlers").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.With) and any("begin" in ast.unparse(i.context_expr) for i in node.items)):
                continue
            for call in ast.walk(node):
                if isinstance(call, ast.Call):
                    func = call.func
                    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                    if name in SLACK_CALLS:
                        found.add((str(path.relative_to(root)), ast.unparse(call)))
    return found


def test_the_finder_sees_a_reply_inside_a_transaction_and_not_after_it(tmp_path: Path) -> None:
    (tmp_path / "handlers").mkdir()
    (tmp_path / "handlers" / "x.py").write_text(
        "def f(ctx):\n    with ctx.services.sessions.begin() as s:\n        ctx.reply('in')\n"
        "    ctx.reply('after')\n")
    assert _slack_calls_in_transactions(tmp_path) == {("handlers/x.py", "ctx.reply('in')")}


def test_no_listener_calls_slack_inside_a_transaction() -> None:
    assert _slack_calls_in_transactions() == set()
