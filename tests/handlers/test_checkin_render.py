"""The check-in's buttons, serialised once with a slot for the id, against slack_sdk's own rendering."""

from __future__ import annotations

import pytest
from slack_sdk.models.blocks import ActionsBlock, ButtonElement, PlainTextObject

from handlers.render import checkin
from handlers.render.help import HELP_ASK


def by_the_models(checkin_id: int, with_goal: bool) -> dict[str, object]:
    value = str(checkin_id)
    labels = [("Answer", checkin.ANSWER), ("Skip this one", checkin.SKIP), ("Snooze 2h", checkin.SNOOZE),
              ("I'd like help", HELP_ASK)] + ([] if with_goal else [("Add a goal", checkin.ADD_GOAL)])
    elements = [ButtonElement(text=PlainTextObject(text=label, emoji=True), action_id=action, value=value,
                              style="primary" if action == checkin.ANSWER else None) for label, action in labels]
    return ActionsBlock(block_id=f"checkin_actions_{checkin_id}", elements=elements).to_dict()


@pytest.mark.parametrize("with_goal", [True, False])
def test_the_filled_buttons_are_what_slack_sdk_renders_for_that_id(with_goal: bool) -> None:
    for checkin_id in (7, 123456789012):
        assert checkin.buttons(checkin_id, with_goal) == [by_the_models(checkin_id, with_goal)]


def test_filling_one_check_in_leaves_the_next_ones_ids_alone() -> None:
    first = checkin.buttons(11, True)[0]
    first["elements"][0]["value"] = "tampered"
    second = checkin.buttons(12, True)[0]
    assert {e["value"] for e in second["elements"]} == {"12"}
    assert second["block_id"] == "checkin_actions_12"


def test_an_id_that_is_not_digits_is_refused_rather_than_rendered() -> None:
    with pytest.raises(ValueError):
        checkin.buttons(-1, True)
