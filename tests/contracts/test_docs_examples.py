"""Every example of the published reference page validates against its schema.

Where an example and SPEC.md disagree, the example wins and the schema bends:
- the list and get examples carry no `deleted_at` and the second list item no
  `created_by`, so both stay optional in responses although the fake sends them;
- the list example's database config has no `engine` or `port`, so response
  configs require no field at all, whatever create requires;
- the update example sends only two config keys, so the update request schema
  checks the shape and the merged config is validated against the create rules.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import contracts

EXAMPLES = Path(__file__).resolve().parents[2] / "fixtures" / "docs-examples"
PUBLISHED_PAGE = Path(__file__).resolve().parents[3] / "shared" / "seed" / "credentials-api.md"

RESPONSE_KINDS = {
    "list-credentials.response.json": "credential_list",
    "create-credential.response.json": "credential_envelope",
    "get-credential.response.json": "credential_envelope",
    "delete-credential.response.json": "delete_result",
    "restore-credential.response.json": "restore_result",
    "purge-credential.response.json": "purge_result",
}
REQUESTS = {
    "create-credential.request.json": contracts.validate_create,
    "update-credential.request.json": contracts.validate_update,
}


def load(name: str) -> Any:
    return json.loads((EXAMPLES / name).read_text())


def test_every_example_file_is_mapped_to_a_schema() -> None:
    assert {p.name for p in EXAMPLES.glob("*.json")} == set(RESPONSE_KINDS) | set(REQUESTS)


@pytest.mark.parametrize("name", sorted(RESPONSE_KINDS))
def test_response_examples_validate_strictly(name: str) -> None:
    assert contracts.validate_response(RESPONSE_KINDS[name], load(name), strict=True) == []


@pytest.mark.parametrize("name", sorted(REQUESTS))
def test_request_examples_validate(name: str) -> None:
    assert REQUESTS[name](load(name)) == []


def test_the_create_example_response_is_the_request_without_its_secret() -> None:
    request, response = (
        load("create-credential.request.json"),
        load("create-credential.response.json"),
    )
    assert response["data"]["config"] == contracts.redact("database", request["config"])


def test_the_update_example_merged_into_the_get_example_is_a_valid_config() -> None:
    stored = load("get-credential.response.json")["data"]["config"]
    patch = load("update-credential.request.json")["config"]
    assert contracts.validate_config("database", {**stored, **patch}) == []


@pytest.mark.skipif(not PUBLISHED_PAGE.exists(), reason="shared/ is not beside this checkout")
def test_the_files_are_the_examples_of_the_published_page() -> None:
    import re

    blocks = re.findall(r"```json[^\n]*\n(.*?)```", PUBLISHED_PAGE.read_text(), re.S)
    published = [json.loads(b) for b in blocks]
    ours = [load(n) for n in sorted(RESPONSE_KINDS) + sorted(REQUESTS)]
    assert sorted(map(json.dumps, published)) == sorted(map(json.dumps, ours))
