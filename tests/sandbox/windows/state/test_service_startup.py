"""avd.golden.win_service_startup (simulated): check mode, apply, idempotence, wildcards, per-user
templates, missing services and argument errors."""

from __future__ import annotations

from sandbox.windows.state import Service

MODULE = "avd.golden.win_service_startup"
VDOT_LIKE = [
    {"name": "DiagTrack", "start_mode": "disabled", "source": "Services.json#6"},
    {"name": "Xbl*", "start_mode": "disabled"},
    {"name": "MapsBroker", "start_mode": "disabled"},
    {"name": "InstallService", "start_mode": "manual"},  # already manual: no change
]


def _registry_start(guest, name):
    key = guest.registry.open(rf"HKLM\SYSTEM\CurrentControlSet\Services\{name}")
    return key.get("Start").data, key.get("DelayedAutostart").data if key.get("DelayedAutostart") else None


def test_check_mode_reports_the_same_changes_and_changes_nothing(run, guest):
    check = run(MODULE, {"services": VDOT_LIKE}, check=True, diff=True)
    done = run(MODULE, {"services": VDOT_LIKE}, diff=True)
    expected = [
        {"name": "DiagTrack", "before": "auto", "after": "disabled", "source": "Services.json#6"},
        {"name": "XblAuthManager", "before": "manual", "after": "disabled", "source": None},
        {"name": "XblGameSave", "before": "manual", "after": "disabled", "source": None},
        {"name": "MapsBroker", "before": "delayed", "after": "disabled", "source": None},
    ]
    assert check["changed"] is True and check["changes"] == expected and check["missing"] == []
    assert done["changed"] is True and done["changes"] == expected
    assert check["diff"] == done["diff"]
    assert done["diff"]["before"]["services"]["MapsBroker"] == "delayed"
    assert done["diff"]["after"]["services"]["DiagTrack"] == "disabled"
    assert guest.services["diagtrack"].start_mode == "disabled"
    assert guest.services["xblgamesave"].start_mode == "disabled"
    assert guest.services["installservice"].start_mode == "manual"
    assert _registry_start(guest, "DiagTrack")[0] == 4  # what the PowerShell reads back


def test_check_mode_leaves_the_state(run, guest):
    before = {n: s.start_mode for n, s in guest.services.items()}
    run(MODULE, {"services": VDOT_LIKE}, check=True)
    assert {n: s.start_mode for n, s in guest.services.items()} == before


def test_second_run_reports_no_change(run):
    run(MODULE, {"services": VDOT_LIKE})
    again = run(MODULE, {"services": VDOT_LIKE}, diff=True)
    assert again["changed"] is False and again["changes"] == []
    assert again["diff"] == {"before": {"services": {}}, "after": {"services": {}}}


def test_delayed_and_back_to_auto(run, guest):
    assert run(MODULE, {"services": [{"name": "Spooler", "start_mode": "delayed"}]})["changes"] == [
        {"name": "Spooler", "before": "auto", "after": "delayed", "source": None}
    ]
    assert _registry_start(guest, "Spooler") == (2, 1)
    back = run(MODULE, {"services": [{"name": "spooler", "start_mode": "auto"}]})
    assert back["changes"][0]["name"] == "Spooler" and back["changes"][0]["before"] == "delayed"
    assert _registry_start(guest, "Spooler") == (2, 0)


def test_a_choice_in_another_case_is_accepted_as_given(run, guest):
    # Ansible.Basic matches choices ignoring case and passes the value on as given.
    result = run(MODULE, {"services": [{"name": "SysMain", "start_mode": "Disabled"}], "missing": "FAIL"})
    assert result["changes"] == [{"name": "SysMain", "before": "auto", "after": "Disabled", "source": None}]
    assert guest.services["sysmain"].start_mode == "disabled"
    assert run(MODULE, {"services": [{"name": "SysMain", "start_mode": "DISABLED"}]})["changed"] is False


def test_wildcard_and_later_item_wins(run, guest):
    result = run(
        MODULE,
        {
            "services": [
                {"name": "Xb*", "start_mode": "disabled", "source": "profile"},
                {"name": "XboxGipSvc", "start_mode": "manual", "source": "override"},
            ]
        },
    )
    names = [c["name"] for c in result["changes"]]
    assert names == ["XblAuthManager", "XblGameSave", "XboxNetApiSvc"]  # first-match order, sorted
    assert guest.services["xboxgipsvc"].start_mode == "manual"


def test_missing_services_are_reported_never_created(run, guest):
    count = len(guest.services)
    result = run(
        MODULE,
        {
            "services": [
                {"name": "WindowsAzureTelemetryService", "start_mode": "disabled"},
                {"name": "NoSuch*", "start_mode": "disabled"},
                {"name": "SysMain", "start_mode": "disabled"},
            ]
        },
    )
    assert result["missing"] == ["WindowsAzureTelemetryService", "NoSuch*"]
    assert result["changed"] is True and [c["name"] for c in result["changes"]] == ["SysMain"]
    assert len(guest.services) == count and "windowsazuretelemetryservice" not in guest.services


def test_missing_fail_changes_nothing(run, guest):
    result = run(
        MODULE,
        {
            "services": [
                {"name": "SysMain", "start_mode": "disabled"},
                {"name": "MsRdcWebRTCSvc", "start_mode": "auto"},
            ],
            "missing": "fail",
        },
    )
    assert result["failed"] is True and result["msg"] == "services not found: MsRdcWebRTCSvc"
    assert result["changes"] == [] and result["missing"] == ["MsRdcWebRTCSvc"]
    assert guest.services["sysmain"].start_mode == "auto"


def test_per_user_template_is_set_and_its_instances_are_not(run, guest):
    instance = Service(
        name="BcastDVRUserService_4a8f2",
        display_name="GameDVR and Broadcast User Service_4a8f2",
        start_mode="manual",
        service_type="user_own_process",
    )
    guest.services[instance.name.lower()] = instance
    result = run(MODULE, {"services": [{"name": "BcastDVRUserService*", "start_mode": "disabled"}]})
    assert [c["name"] for c in result["changes"]] == ["BcastDVRUserService"]
    assert guest.services["bcastdvruserservice"].start_mode == "disabled"
    assert instance.start_mode == "manual"
    assert _registry_start(guest, "BcastDVRUserService")[0] == 4
    exact = run(MODULE, {"services": [{"name": "BcastDVRUserService_4a8f2", "start_mode": "disabled"}]})
    assert exact["missing"] == ["BcastDVRUserService_4a8f2"] and exact["changed"] is False


def test_drivers_are_not_services_here(run):
    assert run(MODULE, {"services": [{"name": "mpsdrv", "start_mode": "disabled"}]})["missing"] == ["mpsdrv"]


def test_argument_errors(run):
    assert run(MODULE, {})["msg"] == "missing required arguments: services"
    bad_mode = run(MODULE, {"services": [{"name": "SysMain", "start_mode": "off"}]})
    assert bad_mode["msg"] == (
        "value of start_mode must be one of: auto, delayed, manual, disabled. Got no match for: off "
        "found in services"
    )
    no_name = run(MODULE, {"services": [{"start_mode": "auto"}]})
    assert no_name["msg"] == "missing required arguments: name found in services"
    unknown = run(MODULE, {"services": [], "state": "x"})
    assert unknown["msg"] == (
        "Unsupported parameters for (avd.golden.win_service_startup) module: state. "
        "Supported parameters include: missing, services"
    )
    assert run(MODULE, {"services": [], "missing": "ignore"})["msg"] == (
        "value of missing must be one of: report, fail. Got no match for: ignore"
    )
