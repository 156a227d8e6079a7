"""The janitor's selection (plugins/plugin_utils/_janitor.py): only a build's groups, by heartbeat."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from ansible.errors import AnsibleFilterError

REPO_ROOT = Path(__file__).resolve().parents[4]
sys.path.insert(0, str(REPO_ROOT / "collections"))

from ansible_collections.avd.golden.plugins.filter.janitor import janitor_select  # noqa: E402

NOW = "2026-12-01T12:00:00Z"


def group(name: str, **tags: str) -> dict:
    return {"name": name, "id": f"/subscriptions/s/resourceGroups/{name}", "tags": tags or None}


CASES = [
    # name, tags, deleted?
    ("stopped", {"avd-build-id": "b1", "avd-build-heartbeat": "2026-12-01T11:00:00Z"}, True),
    ("fresh", {"avd-build-id": "b2", "avd-build-heartbeat": "2026-12-01T11:50:00Z"}, False),
    (
        "fresh-but-expired",
        {
            "avd-build-id": "b3",
            "avd-build-heartbeat": "2026-12-01T11:59:00Z",
            "avd-build-delete-after": "2020-01-01T00:00:00Z",
        },
        False,
    ),
    ("old-no-heartbeat", {"avd-build-id": "b4", "avd-build-delete-after": "2026-12-01T11:00:00Z"}, True),
    ("young-no-heartbeat", {"avd-build-id": "b5", "avd-build-delete-after": "2026-12-02T00:00:00Z"}, False),
    ("unreadable-heartbeat", {"avd-build-id": "b6", "avd-build-heartbeat": "soon\n"}, False),
    ("trailing-newline", {"avd-build-id": "b7", "avd-build-heartbeat": "2026-12-01T11:00:00Z\n"}, False),
]


def test_only_dead_builds_are_selected() -> None:
    groups = [group(name, **tags) for name, tags, _ in CASES]
    groups += [
        group("expired-not-a-build", **{"avd-build-delete-after": "2020-01-01T00:00:00Z"}),
        group("stale-heartbeat-not-a-build", **{"avd-build-heartbeat": "2020-01-01T00:00:00Z"}),
        group("untagged"),
    ]
    out = janitor_select(groups, NOW, 30)
    assert [g["name"] for g in out["delete"]] == [n for n, _, dead in CASES if dead]
    assert [g["name"] for g in out["kept"]] == [n for n, _, dead in CASES if not dead]
    assert out["resources"] == [{"id": g["id"], "api_version": "2022-09-01"} for g in out["delete"]]
    assert "stopped 60.0 min ago (threshold 30 min)" in out["delete"][0]["reason"]


def test_the_threshold_is_a_strict_age() -> None:
    beat = [group("g", **{"avd-build-id": "b", "avd-build-heartbeat": "2026-12-01T11:30:00Z"})]
    assert janitor_select(beat, NOW, 30)["delete"] == []
    assert [g["name"] for g in janitor_select(beat, NOW, 29.5)["delete"]] == ["g"]


@pytest.mark.parametrize(
    ("now", "age", "field"),
    [
        ("yesterday", 30, "now"),
        (NOW, -1, "janitor_heartbeat_max_age_minutes"),
        (NOW, "x", "janitor_heartbeat_max_age_minutes"),
    ],
)
def test_bad_input_names_the_field(now: str, age: object, field: str) -> None:
    with pytest.raises(AnsibleFilterError, match=field):
        janitor_select([], now, age)
