"""The shipped custom roles (rbac/*.json) are what `az role definition create` takes, name exact
actions (no wildcards), and keep to their part: the builder never writes to a gallery, the
publisher touches nothing but the gallery, only the sources role reads storage keys, and none
may grant access."""

from __future__ import annotations

import json
import re

import pytest

from tests.support.paths import REPO

ROLES = sorted((REPO / "rbac").glob("*.json"))
KEYS = {
    "Name",
    "IsCustom",
    "Description",
    "Actions",
    "NotActions",
    "DataActions",
    "NotDataActions",
    "AssignableScopes",
}
ACTION = re.compile(
    r"^Microsoft\.(Resources|Compute|Network|Storage)(/[A-Za-z]+)+/(read|write|delete|action)$"
)


def _role(name: str) -> dict:
    return json.loads((REPO / "rbac" / name).read_text())


def test_both_roles_are_shipped() -> None:
    assert [p.name for p in ROLES] == [
        "avd-golden-builder.json",
        "avd-golden-publisher.json",
        "avd-golden-sources.json",
    ]


@pytest.mark.parametrize("path", ROLES, ids=lambda p: p.name)
def test_role_file_is_an_exact_custom_role(path) -> None:
    role = json.loads(path.read_text())
    assert set(role) == KEYS and role["IsCustom"] is True
    bad = [a for a in role["Actions"] if not ACTION.match(a)]
    assert bad == [], bad
    assert len(set(a.lower() for a in role["Actions"])) == len(role["Actions"]), "an action is listed twice"
    assert role["NotActions"] == role["DataActions"] == role["NotDataActions"] == []
    assert all(s.startswith("/subscriptions/") for s in role["AssignableScopes"])


def test_builder_and_publisher_keep_to_their_part() -> None:
    builder, publisher = _role("avd-golden-builder.json"), _role("avd-golden-publisher.json")
    sources = _role("avd-golden-sources.json")
    assert not [a for a in builder["Actions"] + publisher["Actions"] if a.startswith("Microsoft.Storage")]
    assert all(a.startswith("Microsoft.Storage/storageAccounts/") for a in sources["Actions"])
    assert not [a for a in builder["Actions"] if "/galleries" in a.lower()]
    assert all(
        a.startswith("Microsoft.Compute/galleries")
        or a == "Microsoft.Resources/subscriptions/resourceGroups/read"
        for a in publisher["Actions"]
    )
