"""Block Kit builders, shared by listeners and the dispatcher. Every message has a `text` fallback."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.metadata import Metadata


def metadata(event_type: str, **ids: object) -> Metadata:
    """Message metadata (CONTRACT §4): the event type plus the IDs involved, None values dropped."""
    return Metadata(event_type=event_type, event_payload={k: v for k, v in ids.items() if v is not None})


def message(channel: str, text: str, blocks: list[Any], meta: Metadata, **extra: Any) -> dict[str, Any]:
    return {"channel": channel, "text": text, "blocks": blocks, "metadata": meta, **extra}
