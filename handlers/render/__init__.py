"""Block Kit builders, shared by listeners and the dispatcher. Every message has a `text` fallback."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.metadata import Metadata

# CONTRACT §4: the only event types the bot's messages may carry.
EVENT_TYPES = frozenset({
    "checkin_prompt", "manager_question", "checkin_reminder", "checkin_answer", "coaching_note",
    "cadence_proposal", "drift_warning", "contact_gap", "team_digest",
})


def metadata(event_type: str, **ids: object) -> Metadata:
    """Message metadata (CONTRACT §4): the event type plus the IDs involved, None values dropped."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"{event_type!r} is not a contract metadata event type")
    return Metadata(event_type=event_type, event_payload={k: v for k, v in ids.items() if v is not None})


def message(channel: str, text: str, blocks: list[Any], meta: Metadata, **extra: Any) -> dict[str, Any]:
    return {"channel": channel, "text": text, "blocks": blocks, "metadata": meta, **extra}
