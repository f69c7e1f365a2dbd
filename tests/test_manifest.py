"""manifest.yml is a valid Slack app manifest and asks for everything the code relies on."""

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from jsonschema import Draft7Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7

from bot.slack.app import BOT_SCOPES

ROOT = Path(__file__).resolve().parents[1]
SCHEMA_DIR = ROOT / ".." / "shared" / "fixtures" / "slack" / "specs" / "app_manifest_schema"

EVENTS_URL_PATH = "/slack/events"
COMMANDS = {"/decision", "/meeting", "/outcome", "/hygiene"}
MESSAGE_SHORTCUTS = {"record_decision", "record_outcome"}
REQUIRED_BOT_EVENTS = {"app_home_opened", "app_uninstalled", "tokens_revoked"}


def schema_dir() -> Path:
    if not SCHEMA_DIR.is_dir():
        pytest.skip(reason=f"Slack manifest schema not found at {SCHEMA_DIR}")
    return SCHEMA_DIR


def load_json(path: Path) -> Any:
    return json.loads(path.read_text())


def external_refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"]} if str(node.get("$ref", "")).startswith("http") else set()
        return found.union(*(external_refs(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(external_refs(value) for value in node))
    return set()


def validator() -> Draft7Validator:
    """The all-versions schema, its remote $refs served from the local per-version files."""
    folder = schema_dir()
    top = load_json(folder / "manifest.schema.json")
    resources = []
    for uri in external_refs(top):
        local = folder / "schemas" / Path(urlsplit(uri).path).name
        assert local.is_file(), f"{uri} has no local copy"
        contents = load_json(local)
        resources.append((uri, Resource.from_contents(contents, default_specification=DRAFT7)))
    registry: Registry[Any] = Registry().with_resources(resources)
    return Draft7Validator(top, registry=registry)


def version_validator(manifest: dict[str, Any]) -> Draft7Validator:
    major = manifest.get("_metadata", {}).get("major_version", 1)
    schema = load_json(schema_dir() / "schemas" / f"manifest.schema.{major}.0.0.json")
    return Draft7Validator(schema)


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "manifest.yml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_manifest_is_valid(manifest: dict[str, Any]) -> None:
    for check in (validator(), version_validator(manifest)):
        errors = [f"{list(e.absolute_path)}: {e.message}" for e in check.iter_errors(manifest)]
        assert errors == []


def test_background_color_matches_the_schema_pattern(manifest: dict[str, Any]) -> None:
    # The schema spells this pattern "regex", which JSON Schema ignores, so check it here.
    schema = load_json(schema_dir() / "schemas" / "manifest.schema.1.0.0.json")
    display = schema["definitions"]["app-manifests.v1.display_information.schema"]
    pattern = display["properties"]["background_color"]["regex"]
    assert re.fullmatch(pattern, manifest["display_information"]["background_color"])


@pytest.mark.parametrize("version", [1, 2])
def test_validator_is_wired_up(version: int) -> None:
    examples = schema_dir() / "examples"
    valid = load_json(examples / f"v{version}_manifest.valid.json")
    invalid = load_json(examples / f"v{version}_manifest.invalid.json")
    for check in (validator(), version_validator(valid)):
        assert list(check.iter_errors(valid)) == []
        assert list(check.iter_errors(invalid)) != []


def test_commands_escape_and_point_at_the_events_endpoint(manifest: dict[str, Any]) -> None:
    commands = manifest["features"]["slash_commands"]
    assert {c["command"] for c in commands} == COMMANDS
    for command in commands:
        # The parsers expect mentions as <@U…>; without escaping Slack sends plain names.
        assert command["should_escape"] is True, command["command"]
        assert urlsplit(command["url"]).path == EVENTS_URL_PATH, command["command"]
        assert command["description"] and command["usage_hint"]


def test_message_shortcuts(manifest: dict[str, Any]) -> None:
    shortcuts = manifest["features"]["shortcuts"]
    assert {s["callback_id"] for s in shortcuts if s["type"] == "message"} == MESSAGE_SHORTCUTS


def test_scopes_events_and_urls(manifest: dict[str, Any]) -> None:
    # The OAuth install asks for BOT_SCOPES; the manifest must grant every one of them.
    assert set(BOT_SCOPES) - set(manifest["oauth_config"]["scopes"]["bot"]) == set()
    settings = manifest["settings"]
    assert REQUIRED_BOT_EVENTS - set(settings["event_subscriptions"]["bot_events"]) == set()
    assert urlsplit(settings["event_subscriptions"]["request_url"]).path == EVENTS_URL_PATH
    assert settings["interactivity"]["is_enabled"] is True
    assert urlsplit(settings["interactivity"]["request_url"]).path == EVENTS_URL_PATH
    redirects = manifest["oauth_config"]["redirect_urls"]
    assert [urlsplit(url).path for url in redirects] == ["/slack/oauth_redirect"]
    hosts = {
        urlsplit(url).netloc
        for url in [
            *redirects,
            settings["event_subscriptions"]["request_url"],
            settings["interactivity"]["request_url"],
            *(c["url"] for c in manifest["features"]["slash_commands"]),
        ]
    }
    assert len(hosts) == 1, f"one host for every URL, got {hosts}"


def test_app_home_and_bot_user(manifest: dict[str, Any]) -> None:
    features = manifest["features"]
    assert features["app_home"] == {
        "home_tab_enabled": True,
        "messages_tab_enabled": True,
        "messages_tab_read_only_enabled": False,
    }
    assert features["bot_user"] == {"display_name": "followthrough", "always_online": True}
    assert manifest["display_information"]["name"] == "Followthrough"
