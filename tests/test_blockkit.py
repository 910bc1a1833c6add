"""The Block Kit validator: the shared JSON Schema plus Slack's payload-level rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.blockkit import SHARED
from tests.standin_samples import APPROVAL_BLOCKS, BRIEF_MODAL, VALIDATE, plain, section


def test_validator_accepts_good_payloads() -> None:
    assert VALIDATE("message", {"text": "fallback", "blocks": [section("hi"), *APPROVAL_BLOCKS]}) == []
    assert VALIDATE("modal", BRIEF_MODAL) == []
    assert VALIDATE("home", {"type": "home", "blocks": [{"type": "header", "text": plain("Liftoff")}]}) == []


@pytest.mark.parametrize(
    ("kind", "payload", "expected"),
    [
        ("message", {"blocks": [{"type": "divider"}] * 51}, "51 blocks, more than the 50"),
        ("message", {"blocks": [section("a", "dup"), section("b", "dup")]}, "duplicate block_id 'dup'"),
        ("message", {"blocks": [section("x" * 3001)]}, "blocks[0].text.text: 3001 characters"),
        ("message", {"blocks": [{"type": "header", "text": plain("h" * 151)}]}, "151 characters, more than the 150"),
        ("message", {"blocks": [{"type": "sectoin", "text": plain("x")}]}, "unknown block type 'sectoin'"),
        ("message", {"blocks": [{"type": "section"}]}, "blocks[0]"),
        ("modal", {**BRIEF_MODAL, "title": plain("A title much too long for it")}, "view.title.text: 28 characters"),
        ("modal", {k: v for k, v in BRIEF_MODAL.items() if k != "submit"}, "'submit' is a required property"),
        ("home", {"type": "home", "title": plain("x"), "blocks": [section("x")]}, "view: Additional properties"),
        ("home", {"type": "home", "blocks": [{"type": "divider"}] * 101}, "101 blocks, more than the 100"),
    ],
)
def test_validator_rejects_bad_payloads(kind: str, payload: dict[str, Any], expected: str) -> None:
    errors = VALIDATE(kind, payload)
    assert any(expected in error for error in errors), errors


def test_shared_specs_are_where_the_validator_looks() -> None:
    assert (SHARED / "specs" / "slack-block-kit" / "slack-block-kit.schema.json").is_file()
    assert Path(__file__).resolve().parents[2] / "shared" == SHARED
