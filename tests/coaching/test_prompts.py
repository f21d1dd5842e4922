"""Behaviour of the built-in coaching prompt library (coaching.prompts)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coaching.prompts import NO_GOAL_PROMPT, PROMPTS, choose_prompt, render_prompt, validate_prompts
from coaching.tone import classify


def test_the_library_has_at_least_24_distinct_prompts_each_with_one_goal() -> None:
    assert len(PROMPTS) >= 24
    assert len(set(PROMPTS)) == len(PROMPTS)
    assert all(template.count("{goal}") == 1 for template in PROMPTS)


@pytest.mark.parametrize("template", PROMPTS)
def test_every_built_in_prompt_reads_as_coaching(template: str) -> None:
    assert classify(render_prompt(template, "*Close 3 new logos this quarter*")).label == "coaching"
    assert classify(template).label == "coaching"


def test_the_built_in_library_passes_validation() -> None:
    assert validate_prompts(PROMPTS) == []


def test_render_substitutes_the_goal_literally() -> None:
    # Braces in a goal must not be read as format fields.
    rendered = render_prompt("What would help you with {goal}?", "*Grow {region} by 10%*")
    assert rendered == "What would help you with *Grow {region} by 10%*?"


def test_no_goal_prompt_invites_a_goal_and_reads_as_coaching() -> None:
    assert "/checkin goal add" in NO_GOAL_PROMPT
    assert "{goal}" not in NO_GOAL_PROMPT
    assert classify(NO_GOAL_PROMPT).label == "coaching"


def test_validate_flags_a_status_demand_custom_prompt() -> None:
    problems = validate_prompts(["What would help you with {goal}?", "Any update on {goal}?"])
    assert len(problems) == 1
    assert problems[0].startswith('prompt 2 "Any update on {goal}?" reads as status demand (from ')
    assert "“any update”" in problems[0]  # the words that drove the label are named


@pytest.mark.parametrize(
    ("template", "fragment"),
    [
        ("What's the status of {goal}?", "reads as status demand"),
        ("Why didn't you hit {goal}?", "reads as blame"),
        ("You need to finish {goal} today.", "reads as directive"),
        ("What would help you most this week?", "does not contain {goal}"),
        ("How is {goal} going, and what would help with {goal}?", "contains {goal} 2 times"),
        ("   ", "must be non-empty"),
    ],
)
def test_validate_explains_each_bad_prompt(template: str, fragment: str) -> None:
    problems = validate_prompts([template])
    assert len(problems) == 1 and fragment in problems[0]


def test_validate_accepts_an_open_custom_prompt() -> None:
    assert validate_prompts(["Which customer conversation about {goal} taught you the most?"]) == []


def test_choose_prompt_is_deterministic_per_rep() -> None:
    # Golden values, worked out by hand from the standard CRC-32 of the rep key, so a switch to
    # hash() (which changes per process) or to another walk fails here:
    # crc32("U0REP1") = 2962248973 -> start 2962248973 % 7 = 5, stride 1 + (2962248973 // 7) % 6 = 3;
    # crc32("U0REP2") = 697894071 -> start 0, stride 4.
    templates = [f"T{i} {{goal}}" for i in range(7)]
    walk = lambda rep: [templates.index(choose_prompt(rep, n, templates)) for n in range(7)]  # noqa: E731
    assert walk("U0REP1") == [5, 1, 4, 0, 3, 6, 2]
    assert walk("U0REP2") == [0, 4, 1, 5, 2, 6, 3]
    # And on the built-in library (28 prompts): crc32("U0REP1") -> start 5, stride 23.
    assert [PROMPTS.index(choose_prompt("U0REP1", n)) for n in range(4)] == [5, 0, 23, 18]
    firsts = {choose_prompt(f"U{i:04d}", 0) for i in range(50)}
    assert len(firsts) > 5  # reps do not all start on the same prompt


@given(st.text(min_size=1, max_size=20), st.integers(min_value=0, max_value=10_000),
       st.integers(min_value=2, max_value=40))
def test_choose_prompt_never_repeats_in_a_row_and_covers_the_library(rep: str, start: int, size: int) -> None:
    templates = [f"Prompt {i} about {{goal}}?" for i in range(size)]
    picks = [choose_prompt(rep, start + step, templates) for step in range(size + 1)]
    assert all(a != b for a, b in zip(picks, picks[1:], strict=False))
    assert set(picks[:size]) == set(templates)


def test_choose_prompt_copes_with_duplicates_and_one_template() -> None:
    templates = ["A {goal}?", "B {goal}?", "A {goal}?"]
    picks = [choose_prompt("U1", i, templates) for i in range(6)]
    assert all(a != b for a, b in zip(picks, picks[1:], strict=False))
    assert choose_prompt("U1", 3, ["Only {goal}?"]) == "Only {goal}?"
    with pytest.raises(ValueError):
        choose_prompt("U1", 0, [])


# ---- carry-forward (issue 13) ----------------------------------------------------------------

from coaching.prompts import CARRY_PROMPTS, carry_prompt  # noqa: E402


@pytest.mark.parametrize("template", CARRY_PROMPTS)
@pytest.mark.parametrize("step", ["call their CFO on Tuesday", "send the revised quote", "book a demo"])
def test_a_carry_forward_prompt_is_one_open_coaching_question(template: str, step: str) -> None:
    rendered = render_prompt(template.replace("{step}", step), "*Close the Acme renewal*")
    assert rendered.count("?") == 1 and step in rendered
    assert classify(rendered).label == "coaching"
    assert validate_prompts([template.replace("{step}", step)]) == []


def test_a_step_with_braces_cannot_take_the_goal_slot() -> None:
    template = carry_prompt("U1", 0, "send {goal} to legal")
    assert template.count("{goal}") == 1 and "(goal)" in template
