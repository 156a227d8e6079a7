"""avd.golden.win_scheduled_task_state (simulated): check mode, apply, idempotence, wildcards,
missing tasks (also per image build) and argument errors."""

from __future__ import annotations

from sandbox.guest_api import SourceImage

MODULE = "avd.golden.win_scheduled_task_state"
APP_EXP = "\\Microsoft\\Windows\\Application Experience\\"
DEFRAG = {"path": "\\Microsoft\\Windows\\Defrag\\", "name": "ScheduledDefrag", "enabled": False}
TASKS = [
    DEFRAG,
    {"path": APP_EXP, "name": "*Compatibility*", "enabled": False, "source": "ScheduledTasks.json#9"},
    {"path": "\\Microsoft\\Windows\\Maintenance", "name": "winsat", "enabled": False},  # no trailing \
]
WIN10 = SourceImage("MicrosoftWindowsDesktop", "windows-10", "win10-22h2-avd", "19045.5965.250610")


def _state(guest, path, name):
    return guest.scheduled_tasks[(path + name).lower()]["state"]


def test_check_mode_then_apply_then_no_change(run, guest):
    check = run(MODULE, {"tasks": TASKS}, check=True, diff=True)
    assert _state(guest, DEFRAG["path"], "ScheduledDefrag") == "Ready"
    done = run(MODULE, {"tasks": TASKS}, diff=True)
    expected = [
        {
            "path": DEFRAG["path"],
            "name": "ScheduledDefrag",
            "before": "Ready",
            "after": "Disabled",
            "source": None,
        },
        {
            "path": APP_EXP,
            "name": "Microsoft Compatibility Appraiser",
            "before": "Ready",
            "after": "Disabled",
            "source": "ScheduledTasks.json#9",
        },
        {
            "path": APP_EXP,
            "name": "Microsoft Compatibility Appraiser Exp",
            "before": "Ready",
            "after": "Disabled",
            "source": "ScheduledTasks.json#9",
        },
        {
            "path": "\\Microsoft\\Windows\\Maintenance\\",
            "name": "WinSAT",
            "before": "Ready",
            "after": "Disabled",
            "source": None,
        },
    ]
    assert check["changed"] is True and check["changes"] == expected and check["missing"] == []
    assert done["changed"] is True and done["changes"] == expected and done["diff"] == check["diff"]
    assert done["diff"]["after"]["tasks"][DEFRAG["path"] + "ScheduledDefrag"] == "Disabled"
    assert _state(guest, DEFRAG["path"], "ScheduledDefrag") == "Disabled"
    assert _state(guest, APP_EXP, "Microsoft Compatibility Appraiser Exp") == "Disabled"
    again = run(MODULE, {"tasks": TASKS})
    assert again["changed"] is False and again["changes"] == []


def test_enable_and_running_counts_as_enabled(run, guest):
    run(MODULE, {"tasks": [DEFRAG]})
    guest.scheduled_tasks[("\\Microsoft\\Windows\\Registry\\RegIdleBackup").lower()]["state"] = "Running"
    result = run(
        MODULE,
        {
            "tasks": [
                {**DEFRAG, "enabled": True},
                {"path": "\\Microsoft\\Windows\\Registry\\", "name": "RegIdleBackup", "enabled": True},
            ]
        },
    )
    assert [(c["name"], c["before"], c["after"]) for c in result["changes"]] == [
        ("ScheduledDefrag", "Disabled", "Ready")
    ]
    assert _state(guest, DEFRAG["path"], "ScheduledDefrag") == "Ready"


def test_later_item_wins_and_any_folder_pattern(run, guest):
    result = run(
        MODULE,
        {
            "tasks": [
                {"path": "\\*", "name": "Backup", "enabled": False},
                {"path": "\\Microsoft\\Windows\\AppListBackup\\", "name": "Backup", "enabled": True},
            ]
        },
    )
    assert [c["path"] for c in result["changes"]] == ["\\Microsoft\\Windows\\CloudRestore\\"]
    assert _state(guest, "\\Microsoft\\Windows\\AppListBackup\\", "Backup") == "Ready"


def test_root_folder_is_the_default_path(run):
    # Every modelled task lives in a subfolder: a bare name searches \ only, as Get-ScheduledTask does.
    result = run(MODULE, {"tasks": [{"name": "ScheduledDefrag", "enabled": False}]})
    assert result["missing"] == ["\\ScheduledDefrag"] and result["changed"] is False
    explicit_null = run(MODULE, {"tasks": [{"path": None, "name": "ScheduledDefrag", "enabled": False}]})
    assert explicit_null["missing"] == ["\\ScheduledDefrag"]


def test_missing_reported_and_missing_fail_changes_nothing(run, guest, make_guest):
    w10 = make_guest(WIN10)
    item = {"path": APP_EXP, "name": "Microsoft Compatibility Appraiser Exp", "enabled": False}
    got = w10.run_module(
        MODULE, {"tasks": [item, DEFRAG]}, check_mode=False, diff=False, module_path="x.ps1", internal={}
    )
    assert got["missing"] == [APP_EXP + "Microsoft Compatibility Appraiser Exp"]
    assert [c["name"] for c in got["changes"]] == ["ScheduledDefrag"]
    assert (APP_EXP + "Microsoft Compatibility Appraiser Exp").lower() not in w10.scheduled_tasks
    count = len(guest.scheduled_tasks)
    nope = {"path": "\\Microsoft\\Windows\\Nowhere\\", "name": "Nothing*", "enabled": False}
    failed = run(MODULE, {"tasks": [DEFRAG, nope], "missing": "fail"})
    assert failed["failed"] is True
    assert failed["msg"] == "scheduled tasks not found: \\Microsoft\\Windows\\Nowhere\\Nothing*"
    assert failed["changes"] == [] and _state(guest, DEFRAG["path"], "ScheduledDefrag") == "Ready"
    assert len(guest.scheduled_tasks) == count


def test_argument_errors(run):
    assert run(MODULE, {})["msg"] == "missing required arguments: tasks"
    no_enabled = run(MODULE, {"tasks": [{"name": "x"}]})
    assert no_enabled["msg"] == "missing required arguments: enabled found in tasks"
    assert run(MODULE, {"tasks": [{"name": "x", "enabled": "sometimes"}]})["msg"] == (
        "argument for enabled is of type System.String and we were unable to convert to bool: "
        "The value 'sometimes' is not a valid boolean. Valid booleans include: "
        "y, yes, on, 1, true, t, 1.0, n, no, off, 0, false, f, 0.0 found in tasks"
    )
    assert run(MODULE, {"tasks": [{"name": "x", "enabled": False, "state": "x"}]})["msg"] == (
        "Unsupported parameters for (avd.golden.win_scheduled_task_state) module: state found in tasks. "
        "Supported parameters include: enabled, name, path, source"
    )
