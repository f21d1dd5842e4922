"""manifest.yml: valid against Slack's official schema, escaping on, and the smallest set of scopes."""

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT.parent / "shared" / "slack-spec"
SCHEMA_URL = "https://raw.githubusercontent.com/slackapi/manifest-schema/v0.5.0/schemas/manifest.schema.{}.json"

needs_spec = pytest.mark.skipif(not SPEC.is_dir(), reason="../shared/slack-spec is not present")

# Every Web API method the bot calls, with the bot scopes that allow it (one of them is enough).
# Copied from the method specs in ../shared/slack-spec; test_the_scope_table_matches_the_spec keeps it honest.
BOT_METHODS: dict[str, list[str]] = {
    "auth.test": [],
    "apps.connections.open": [],
    "chat.postMessage": ["chat:write"],
    "chat.postEphemeral": ["chat:write"],
    "chat.update": ["chat:write"],
    "chat.delete": ["chat:write"],
    "conversations.open": ["channels:manage", "groups:write", "im:write", "mpim:write"],
    "conversations.history": ["groups:history", "im:history", "mpim:history", "channels:history"],
    "conversations.replies": ["groups:history", "im:history", "mpim:history", "channels:history"],
    "users.info": ["users:read"],
    "users.list": ["users:read"],
    "reactions.add": ["reactions:write"],
    "files.getUploadURLExternal": ["files:write"],
    "files.completeUploadExternal": ["files:write"],
    "views.open": [],
    "views.push": [],
    "views.update": [],
    "views.publish": [],
}
# Scopes that come with a feature rather than a method.
FEATURE_SCOPES = {"commands": "slash_commands"}
# Bot events and the scopes they need (from events.json).
EVENT_SCOPES: dict[str, list[str]] = {"app_home_opened": [], "message.im": ["im:history"],
                                      # OAuth installs: a workspace leaving stops all sending there.
                                      "app_uninstalled": [], "tokens_revoked": [],
                                      "user_change": ["users:read"]}


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "manifest.yml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def bot_scopes(manifest: dict[str, Any]) -> set[str]:
    return set(manifest["oauth_config"]["scopes"]["bot"])


@needs_spec
def test_the_manifest_is_valid_against_slacks_schema(manifest: dict[str, Any]) -> None:
    schemas = SPEC / "manifest-schema"
    registry: Registry = Registry().with_resources(
        (SCHEMA_URL.format(version),
         Resource.from_contents(json.loads((schemas / f"manifest.schema.{version}.json").read_text()),
                                default_specification=DRAFT7))
        for version in ("1.0.0", "2.0.0")
    )
    validator = jsonschema.Draft7Validator(json.loads((schemas / "manifest.schema.json").read_text()),
                                           registry=registry)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(manifest)]
    assert errors == []
    assert manifest["_metadata"]["major_version"] == 2
    # the validator does reject a bad manifest
    assert list(validator.iter_errors(json.loads((schemas / "manifest.invalid.json").read_text())))


def test_checkin_is_the_one_slash_command_and_it_escapes(manifest: dict[str, Any]) -> None:
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == "/checkin"
    assert command["should_escape"] is True
    assert command["description"] and command["usage_hint"]


def test_home_tab_messages_tab_and_socket_mode_are_on(manifest: dict[str, Any]) -> None:
    home = manifest["features"]["app_home"]
    assert home == {"home_tab_enabled": True, "messages_tab_enabled": True, "messages_tab_read_only_enabled": False}
    settings = manifest["settings"]
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["socket_mode_enabled"] is True
    assert set(settings["event_subscriptions"]["bot_events"]) == set(EVENT_SCOPES)


def test_every_method_and_event_the_bot_uses_is_allowed(manifest: dict[str, Any]) -> None:
    scopes = bot_scopes(manifest)
    for method, allowed in BOT_METHODS.items():
        assert not allowed or scopes.intersection(allowed), f"{method} needs one of {allowed}"
    for event, needed in EVENT_SCOPES.items():
        assert not needed or scopes.intersection(needed), f"{event} needs one of {needed}"


def test_the_scopes_are_minimal(manifest: dict[str, Any]) -> None:
    needed_by_something: set[str] = set()
    for allowed in list(BOT_METHODS.values()) + list(EVENT_SCOPES.values()):
        needed_by_something.update(allowed)
    features = manifest["features"]
    needed_by_something.update(scope for scope, feature in FEATURE_SCOPES.items() if features.get(feature))
    scopes = bot_scopes(manifest)
    assert scopes <= needed_by_something, f"unneeded scopes: {sorted(scopes - needed_by_something)}"
    # and no method is covered twice over by alternative scopes
    for method, allowed in BOT_METHODS.items():
        assert len(scopes.intersection(allowed)) <= 1, f"{method} is allowed by {scopes.intersection(allowed)}"


@needs_spec
def test_the_scope_table_matches_the_spec() -> None:
    for method, allowed in BOT_METHODS.items():
        spec = json.loads((SPEC / "methods" / f"{method}.json").read_text())
        assert sorted((spec.get("scope") or {}).get("bot") or []) == sorted(allowed), method
    events = {e["name"]: e for e in json.loads((SPEC / "events.json").read_text())}
    for event, needed in EVENT_SCOPES.items():
        assert sorted(events[event]["scopes"]) == sorted(needed), event
