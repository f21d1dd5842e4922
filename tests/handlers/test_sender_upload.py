"""handlers.sender.upload: a private upload, then the post showing it; the fallback when Slack won't."""

from __future__ import annotations

from typing import Any

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from handlers.sender import upload


def _error(error: str, status: int = 200) -> SlackApiError:
    response = SlackResponse(client=None, http_verb="POST", api_url="x", req_args={}, data={"ok": False, "error": error},
                             headers={}, status_code=status)
    return SlackApiError(error, response)


class Client:
    def __init__(self, upload_error: Exception | None = None, post_errors: list[str] | None = None) -> None:
        self.upload_error, self.post_errors = upload_error, list(post_errors or [])
        self.uploads: list[dict[str, Any]] = []
        self.posts: list[dict[str, Any]] = []

    def files_upload_v2(self, **kwargs: Any) -> dict[str, Any]:
        self.uploads.append(kwargs)
        if self.upload_error:
            raise self.upload_error
        return {"file": {"id": "F1", "permalink": "https://x.slack.com/files/U/F1/a.csv"}}

    def chat_postMessage(self, **kwargs: Any) -> dict[str, Any]:  # noqa: N802 - slack_sdk's name
        self.posts.append(kwargs)
        if self.post_errors:
            raise _error(self.post_errors.pop(0))
        return {"ok": True, "channel": "D1", "ts": "1.2"}


def message(image: bool = True) -> dict[str, Any]:
    return {"op": "upload", "channel": "U1", "text": "Chart", "blocks": [{"type": "section"}],
            "metadata": {"event_type": "team_digest", "event_payload": {"outbox_id": 7}},
            "fallback": {"blocks": [{"type": "section", "text": "bars"}]},
            "file": {"content": b"png", "filename": "a.png", "title": "T", "alt_txt": "figures", "image": image}}


def test_the_file_goes_up_without_a_channel_and_the_post_shows_it_with_its_alt_text() -> None:
    client = Client()
    result = upload(client, message())  # type: ignore[arg-type]
    assert result.outcome == "ok" and result.ts == "1.2"
    assert "channel" not in client.uploads[0] and "channels" not in client.uploads[0]
    [post] = client.posts
    assert post["blocks"][-1] == {"type": "image", "slack_file": {"id": "F1"}, "alt_text": "figures",
                                  "title": {"type": "plain_text", "text": "T"}}
    assert post["metadata"]["event_payload"]["outbox_id"] == 7 and "file" not in post and "op" not in post


def test_a_file_that_is_not_a_picture_is_linked() -> None:
    client = Client()
    upload(client, message(image=False))  # type: ignore[arg-type]
    assert "<https://x.slack.com/files/U/F1/a.csv>" in str(client.posts[0]["blocks"])


@pytest.mark.parametrize("error", ["file_uploads_disabled", "missing_scope"])
def test_a_refused_upload_sends_the_fallback_not_a_fatal_stop(error: str) -> None:
    client = Client(upload_error=_error(error))
    result = upload(client, message())  # type: ignore[arg-type]
    assert result.outcome == "ok"
    assert client.posts[0]["blocks"] == [{"type": "section", "text": "bars"}]


def test_an_image_slack_cannot_show_yet_falls_back_to_words() -> None:
    client = Client(post_errors=["invalid_blocks"])
    assert upload(client, message()).outcome == "ok"  # type: ignore[arg-type]
    assert [p["blocks"][-1].get("type") for p in client.posts] == ["image", "section"]


def test_a_passing_fault_or_a_lost_upload_reply_is_retried_later_and_a_bad_token_stops_the_pass() -> None:
    assert upload(Client(upload_error=_error("x", 503)), message()).outcome == "transient"  # type: ignore[arg-type]
    assert upload(Client(upload_error=TimeoutError()), message()).outcome == "transient"  # type: ignore[arg-type]
    client = Client(upload_error=_error("invalid_auth"))
    assert upload(client, message()).outcome == "fatal" and client.posts == []  # type: ignore[arg-type]
