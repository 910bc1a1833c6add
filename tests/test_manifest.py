"""manifest.yml is a valid Slack app manifest and declares what the app handles, with few scopes."""

from __future__ import annotations

import json

import jsonschema
import yaml

from tests.support import ROOT, SHARED

SCHEMA = SHARED / "specs" / "slack-manifest" / "schemas" / "manifest.schema.1.0.0.json"


def manifest() -> dict:
    return yaml.safe_load((ROOT / "manifest.yml").read_text())


def test_manifest_validates_against_slacks_schema() -> None:
    schema = json.loads(SCHEMA.read_text())
    jsonschema.validate(manifest(), schema)


def test_the_schema_rejects_a_broken_manifest() -> None:
    schema = json.loads(SCHEMA.read_text())
    broken = manifest()
    broken["features"]["slash_commands"][0]["command"] = "launch without slash"
    broken["settings"]["not_a_setting"] = True
    errors = list(jsonschema.Draft7Validator(schema).iter_errors(broken))
    assert errors


def test_manifest_declares_the_surfaces_the_app_serves() -> None:
    data = manifest()
    assert {c["command"] for c in data["features"]["slash_commands"]} == {"/launch", "/okr"}
    assert data["features"]["app_home"]["home_tab_enabled"] is True
    assert data["settings"]["interactivity"]["is_enabled"] is True
    assert "app_home_opened" in data["settings"]["event_subscriptions"]["bot_events"]
    scopes = set(data["oauth_config"]["scopes"]["bot"])
    assert {"commands", "chat:write", "users:read"} <= scopes
    assert not scopes & {"admin", "channels:manage", "chat:write.customize", "files:read", "users:read.email"}
