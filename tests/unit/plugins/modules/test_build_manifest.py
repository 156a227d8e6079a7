"""Unit tests for the avd.golden.build_manifest module and the manifest summary tags."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[4]
sys.path.insert(0, str(REPO_ROOT / "collections"))

from ansible_collections.avd.golden.plugins.module_utils import _manifest  # noqa: E402
from ansible_collections.avd.golden.plugins.modules import build_manifest  # noqa: E402

TS = r"SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services"
REGISTRY_ITEMS = [
    {
        "hive": "HKLM",
        "key": TS,
        "name": "fEnableTimeZoneRedirection",
        "type": "dword",
        "data": 1,
        "source": "avd.tz",
    },
    {
        "hive": "HKLM",
        "key": TS,
        "name": "MaxIdleTime",
        "type": "dword",
        "data": 7200000,
        "source": "avd.limits",
    },
    {
        "hive": "default_user",
        "key": r"Software\X",
        "name": "Y",
        "type": "string",
        "data": "z",
        "source": "du",
    },
]
FIRST_RUN = {
    "changed": True,
    "changes": [
        {
            "hive": "HKLM",
            "key": TS,
            "name": "MaxIdleTime",
            "type": "dword",
            "before": None,
            "after": {"type": "REG_DWORD", "data": 7200000},
            "source": "avd.limits",
        }
    ],
    "unchanged": 2,
}
SECOND_RUN = {"changed": False, "changes": [], "unchanged": 3}


def _args(tmp_path: Path, result: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "artifacts_dir": str(tmp_path),
        "part": "avd_settings",
        "results": [{"kind": "registry", "items": REGISTRY_ITEMS, "result": result}],
        **extra,
    }


def _part(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def test_records_old_and_new_values_and_keeps_them_on_a_rerun(tmp_path: Path, run_module: Any) -> None:
    result, failed, _ = run_module(build_manifest.main, _args(tmp_path, FIRST_RUN))
    assert not failed and result["changed"]
    path = tmp_path / "manifest" / "avd_settings.json"
    assert result["path"] == str(path)
    part = _part(path)
    by_id = {e["id"]: e for e in part["entries"]}
    idle = by_id[rf"HKLM\{TS}\MaxIdleTime"]
    assert (
        idle["changed"] and idle["before"] is None and idle["after"] == {"type": "REG_DWORD", "data": 7200000}
    )
    tz = by_id[rf"HKLM\{TS}\fEnableTimeZoneRedirection"]
    assert not tz["changed"] and tz["after"] == {"type": "dword", "data": 1}
    assert r"DefaultUser\Software\X\Y" in by_id
    assert result["summary"] == {"entries": 3, "changed": 1, "missing": 0, "failed": 0}

    # The second run changed nothing: the record of the first run stays, and nothing is written.
    again, failed, _ = run_module(build_manifest.main, _args(tmp_path, SECOND_RUN))
    assert not failed and not again["changed"]
    assert _part(path) == part


def test_what_if_goes_to_its_own_folder(tmp_path: Path, run_module: Any) -> None:
    result, failed, _ = run_module(build_manifest.main, _args(tmp_path, FIRST_RUN, what_if=True))
    assert not failed and result["changed"]
    assert (tmp_path / "whatif" / "avd_settings.json").is_file()
    assert not (tmp_path / "manifest").exists()


def test_check_mode_writes_nothing(tmp_path: Path, run_module: Any) -> None:
    result, failed, _ = run_module(build_manifest.main, _args(tmp_path, FIRST_RUN), check_mode=True)
    assert not failed and result["changed"]
    assert not (tmp_path / "manifest").exists()


@pytest.mark.parametrize(
    ("kind", "items", "result", "expected"),
    [
        (
            "service",
            [{"name": "SysMain", "start_mode": "disabled"}, {"name": "MapsBroker", "start_mode": "disabled"}],
            {
                "changes": [{"name": "SysMain", "before": "auto", "after": "disabled"}],
                "missing": ["MapsBroker"],
            },
            {"entries": 1, "changed": 1, "missing": 1, "failed": 0},
        ),
        (
            "task",
            [{"path": "\\Microsoft\\Windows\\Defrag\\", "name": "ScheduledDefrag", "enabled": False}],
            {"changes": []},
            {"entries": 1, "changed": 0, "missing": 0, "failed": 0},
        ),
        (
            "appx",
            [
                {"name": "Microsoft.BingNews", "on_failure": "fail"},
                {"name": "Microsoft.Xbox*", "on_failure": "warn"},
            ],
            {
                "removed": [{"name": "Microsoft.BingNews", "provisioned": ["p"], "users": ["u"]}],
                "not_present": [],
                "not_removed": [{"name": "Microsoft.Xbox*", "error": "0x80070032"}],
                "failed": False,
            },
            {"entries": 1, "changed": 1, "missing": 0, "failed": 1},
        ),
        (
            "firewall_rule",
            [{"name": "RemoteDesktop-UserMode-In-Shortpath-UDP", "localport": "3390"}],
            {
                "changed": True,
                "results": [
                    {
                        "changed": True,
                        "ansible_loop_var": "rule",
                        "rule": {"name": "RemoteDesktop-UserMode-In-Shortpath-UDP", "localport": "3390"},
                    }
                ],
            },
            {"entries": 1, "changed": 1, "missing": 0, "failed": 0},
        ),
    ],
)
def test_each_kind(
    kind: str, items: list[dict[str, Any]], result: dict[str, Any], expected: dict[str, int]
) -> None:
    part = _manifest.build_part("p", [{"kind": kind, "items": items, "result": result}])
    assert _manifest.summary([part])["p"] == expected


def test_tags_summarise_within_azure_limits() -> None:
    parts = [
        _manifest.build_part(
            "avd_settings", [{"kind": "registry", "items": REGISTRY_ITEMS, "result": FIRST_RUN}]
        ),
        {
            **_manifest.build_part(
                "optimize",
                [
                    {
                        "kind": "service",
                        "items": [{"name": f"svc{i}", "start_mode": "disabled"} for i in range(300)],
                        "result": {"missing": ["svc1"]},
                    }
                ],
            ),
            "info": {"profile": "win11-24h2-multi-session"},
        },
    ]
    tags = _manifest.tags(parts)
    assert tags == {
        "avd-image-manifest": "avd_settings=3/1;optimize=299/0/1m",
        "avd-image-optimization": "win11-24h2-multi-session",
    }
    many = [_manifest.build_part(f"part_number_{i:03d}", []) for i in range(40)]
    assert all(len(v) <= 256 for v in _manifest.tags(many).values())


def test_tags_name_the_software_languages_and_kbs_and_cut_a_long_list_at_a_whole_item() -> None:
    def entry(kind: str, ident: str, after: Any) -> dict[str, Any]:
        return {"kind": kind, "id": ident, "after": after, "changed": True}

    parts = [
        {"part": "applications", "entries": [entry("application", "7-Zip", {"version": "24.09"})]},
        {
            "part": "avd_stack",
            "entries": [],
            "info": {
                "components": {
                    "fslogix": {"version": "3.26.826.17182"},
                    "teams": {"bootstrapper": {"version": "1.0.2414501"}, "msix": {"version": "25044.2208"}},
                }
            },
        },
        {
            "part": "languages",
            "entries": [
                entry("language", "language_pack/de-DE", "Installed"),
                entry("language", "feature/Language.Basic~~~de-DE~0.0.1.0", "Installed"),
                entry("language", "setting/ui_language", "de-DE"),
            ],
        },
        {"part": "updates", "entries": [entry("update", f"KB{5000000 + i}", {}) for i in range(40)]},
    ]
    tags = _manifest.tags(parts)
    assert tags["avd-image-apps"] == "7-Zip=24.09"
    assert tags["avd-image-avd-stack"] == "fslogix=3.26.826.17182;teams=25044.2208"
    assert tags["avd-image-languages"] == "de-DE"
    kbs = tags["avd-image-updates"].split(",")
    assert len(tags["avd-image-updates"]) <= 256 and kbs[-1] == f"+{40 - len(kbs) + 1}"
    assert kbs[:-1] == [f"KB{5000000 + i}" for i in range(len(kbs) - 1)]


def test_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="kind 'files'"):
        _manifest.build_part("p", [{"kind": "files", "items": [], "result": {}}])


@pytest.mark.parametrize("name", ["Microsoft.BingNews", "Microsoft.Bing*"])
def test_a_rerun_after_a_removal_keeps_the_record_and_reports_nothing_missing(
    tmp_path: Path, run_module: Any, name: str
) -> None:
    items = [{"name": name, "on_failure": "fail"}]
    first = {
        "removed": [{"name": "Microsoft.BingNews", "provisioned": ["p"], "users": ["u"]}],
        "not_present": [],
    }
    second = {"removed": [], "not_present": [name], "not_removed": [], "failed": False}
    args = {"artifacts_dir": str(tmp_path), "part": "appx"}
    run_module(build_manifest.main, {**args, "results": [{"kind": "appx", "items": items, "result": first}]})
    part = _part(tmp_path / "manifest" / "appx.json")
    again, _, _ = run_module(
        build_manifest.main, {**args, "results": [{"kind": "appx", "items": items, "result": second}]}
    )
    assert not again["changed"]
    assert _part(tmp_path / "manifest" / "appx.json") == part and part["missing"] == []


def test_a_missing_task_is_matched_by_its_path() -> None:
    items = [{"path": "\\Microsoft\\XblGameSave\\", "name": "XblGameSaveTask", "enabled": False}]
    result = {"changes": [], "missing": ["\\Microsoft\\XblGameSave\\XblGameSaveTask"], "failed": False}
    part = _manifest.build_part("optimize", [{"kind": "task", "items": items, "result": result}])
    assert (
        part["missing"] == [{"kind": "task", "id": "\\Microsoft\\XblGameSave\\XblGameSaveTask", "source": ""}]
        and part["entries"] == []
    )


def test_plan_warnings_are_kept_and_shown(tmp_path: Path, run_module: Any) -> None:
    warning = r"PolicyRegSettings.json: item 7 (HKCU:\Software\X): written to the default user hive"
    result, failed, warnings = run_module(build_manifest.main, _args(tmp_path, FIRST_RUN, warnings=[warning]))
    assert not failed and result["changed"]
    assert warnings == [f"avd_settings: {warning}"]
    assert _part(tmp_path / "manifest" / "avd_settings.json")["warnings"] == [warning]


def test_two_writes_of_one_part_keep_each_others_entries_and_info(tmp_path: Path, run_module: Any) -> None:
    # An install batch writes the part without info, the role then adds its own info: a second
    # run of both writes reports no change.
    batch = {"artifacts_dir": str(tmp_path), "part": "avd_stack", "results": []}
    record = _args(
        tmp_path, FIRST_RUN, part="avd_stack", info={"components": {"fslogix": {"version": "1.2"}}}
    )
    for expected in (True, False):
        first, failed, _ = run_module(build_manifest.main, batch)
        assert not failed
        second, failed, _ = run_module(
            build_manifest.main,
            record
            if expected
            else {**record, "results": [{"kind": "registry", "items": REGISTRY_ITEMS, "result": SECOND_RUN}]},
        )
        assert not failed
        assert second["changed"] is expected
    part = _part(tmp_path / "manifest" / "avd_stack.json")
    assert part["info"] == {"components": {"fslogix": {"version": "1.2"}}}
    assert len(part["entries"]) == 3
    # The batch's write on the second run kept the info the role wrote.
    assert not first["changed"]


def test_two_writes_with_different_warnings_change_nothing_on_a_rerun(
    tmp_path: Path, run_module: Any
) -> None:
    # The install batch and the role's record each carry their own results' warnings: the part
    # keeps both, so the second run's two writes find the part as they left it.
    batch = {
        "artifacts_dir": str(tmp_path),
        "part": "avd_stack",
        "results": [],
        "warnings": ["from the batch"],
    }
    record = _args(tmp_path, FIRST_RUN, part="avd_stack", warnings=["from the record"])
    changes = []
    for _ in range(2):
        for args in (batch, record):
            result, failed, _ = run_module(build_manifest.main, args)
            assert not failed
            changes.append(result["changed"])
    assert changes == [True, True, False, False], changes
    assert _part(tmp_path / "manifest" / "avd_stack.json")["warnings"] == [
        "from the batch",
        "from the record",
    ]
