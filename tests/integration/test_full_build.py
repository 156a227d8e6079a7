"""The whole build end to end: `ansible-playbook build-golden.yml` against a fresh sandbox.

Each test starts its own sandbox (own state dir, port and VM address pool), runs the real entry
point unchanged, and then checks what is left in the ARM emulator, the build report, and the
simulated Windows guest as the control endpoint showed it while the build ran (the sandbox forgets
a guest when teardown deletes its VM; see guest_observer.py). Faults are injected from outside,
through the control endpoint, when the guest reaches the right moment.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import full_example
from tests.support import guest_dump as gd
from tests.support.guest_observer import BuildRun, GuestObserver, run_playbook
from tests.support.runs import assert_nothing_left, image_versions
from tests.support.sandbox_process import Sandbox

pytestmark = pytest.mark.integration

GENERALIZED = "IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE"
POLICY_KEY = r"HKEY_LOCAL_MACHINE\SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services"
TOKEN_POLICY_KEY = r"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System"
UNINSTALL = r"SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall"
# The sandbox's installers finish at once: polling them at the default 10 s would only add waits.
FAST_POLLS = ("-e", "windows_applications_poll_seconds=2", "-e", "avd_stack_poll_seconds=2")


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as sb:
        yield sb


@pytest.fixture
def storage_sandbox() -> Iterator[Sandbox]:
    """A sandbox with blob storage (Azurite), for the full example's installers and languages."""
    with Sandbox(azurite=True) as sb:
        yield sb


def _explain(run: BuildRun) -> str:
    return (
        f"rc={run.returncode}\n--- stdout (tail)\n{run.stdout[-6000:]}\n"
        f"--- stderr (tail)\n{run.stderr[-3000:]}"
    )


def _registry_value(dump: dict[str, Any], key: str, name: str) -> Any:
    """[type, data] of a value in the guest dump's flat HKLM view (key paths compared case-blind)."""
    for path, values in dump["registry"]["HKLM"].items():
        if path.lower() == key.lower():
            return values.get(name)
    return None


def _phase(report: dict[str, Any], name: str) -> dict[str, Any]:
    return next(p for p in report["phases"] if p["name"] == name)


def _build_vms(names: list[str]) -> list[str]:
    """The build VMs among guest names (the verify phase's validation VM is vmv-<build id>)."""
    return [n for n in names if not n.startswith("vmv-")]


def _the_guest(observer: GuestObserver) -> tuple[str, dict[str, Any]]:
    """The build VM (the verify phase's validation VM, named vmv-<build id>, is not it)."""
    build_vms = {name: observer.last[name] for name in _build_vms(list(observer.last))}
    assert len(build_vms) == 1, f"expected one build VM, saw {sorted(observer.last)}"
    return next(iter(build_vms.items()))


def test_full_build_publishes_the_image_and_leaves_nothing_else(
    storage_sandbox: Sandbox, tmp_path: Path
) -> None:
    # One build proves four things, because every full build costs minutes: the full example (a
    # multi-session image with Microsoft 365 Apps, FSLogix, Teams, two languages and two
    # applications from blob storage, the month's updates, every AVD setting and the default
    # optimization profile) is built into the image and recorded in its manifest; the image is
    # published and nothing else is left; a user-only AppX package (what sysprep rejects with
    # 0x80073cf2) is removed by default; connections dropped during the reboot are survived.
    sandbox = storage_sandbox
    example = full_example.prepare(sandbox, tmp_path)
    with GuestObserver(sandbox, interval=0.2) as observer:
        observer.when(
            "user_appx",
            lambda dump: True,
            lambda sb, vm: sb.fault(target="winrm", vm=vm, kind="user_appx", package="Microsoft.Copilot"),
        )
        # A slow reboot, so the observer sees it; when it starts, the next WinRM operations fail
        # with a dropped connection (after the guest comes back, while win_reboot polls).
        observer.when(
            "slow_reboot",
            lambda dump: True,
            lambda sb, vm: sb.fault(target="winrm", vm=vm, kind="slow_reboot", seconds=4),
        )
        observer.when(
            "drop",
            lambda dump: bool((dump.get("winrm") or {}).get("rebooting")),
            lambda sb, vm: sb.fault(target="winrm", vm=vm, kind="drop_connection", count=2),
        )
        run = run_playbook(sandbox, "build-golden.yml", "-e", f"image_spec={example.spec}", *FAST_POLLS)
    assert run.returncode == 0, _explain(run)
    report = run.report()
    assert report["result"] == "succeeded"
    # The page people read, written with the report from the same data.
    page = (run.report_path().parent / "report.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "<script" not in page.lower()
    for shown in (report["result"], report["image_version_id"], *(p["name"] for p in report["phases"])):
        assert shown in page, shown
    _assert_summary_matches(run, report)

    # ARM: the image version exists (and is the one reported); nothing of the build is left.
    versions = image_versions(sandbox.state())
    assert report["image_version_id"].lower() in versions, sorted(versions)
    assert versions[report["image_version_id"].lower()]["properties"]["provisioningState"] == "Succeeded"
    assert_nothing_left(sandbox, report)

    # Windows, as last seen before teardown deleted the VM: configured, generalized, shut down,
    # and without the build's remote access.
    vm, guest = _the_guest(observer)
    assert guest["image_state"] == GENERALIZED
    assert guest["time_zone"] == "W. Europe Standard Time"
    assert _registry_value(guest, POLICY_KEY, "fEnableTimeZoneRedirection") == ["REG_DWORD", 1]
    _assert_content_in_image(guest, report, versions[report["image_version_id"].lower()])
    _assert_software_in_image(
        guest, observer.history[vm], report, versions[report["image_version_id"].lower()], example
    )
    for shown in (run.stdout, run.stderr, json.dumps(report), json.dumps(sandbox.requests())):
        assert "sig=" not in shown, "a SAS reached the output, the report or the request log"
    assert _registry_value(guest, TOKEN_POLICY_KEY, "LocalAccountTokenFilterPolicy") is None
    assert guest["listener"] is None
    # Nor the build's credential: the last request disabled the build admin (password rotated).
    assert guest["admin_enabled"] is False
    sysprep = next(p for p in report["manifest"]["parts"] if p["part"] == "sysprep")
    assert sysprep["info"]["build_admin"]["state"] == "Disabled", sysprep
    assert guest["winrm"]["power"] in ("stopped", "deallocated")
    # The optimization's handler rebooted once: two distinct boot times were observed.
    boot_times = {dump["boot_time_filetime"] for _, dump in observer.history[vm]}
    assert len(boot_times) >= 2, "the optimize phase did not reboot the VM"
    modules = guest["winrm"]["module_invocations"]
    for module in (
        "ansible.windows.win_timezone",
        "avd.golden.win_registry_set",
        "avd.golden.win_service_startup",
        "avd.golden.win_scheduled_task_state",
        "avd.golden.win_appx_remove",
        "community.windows.win_firewall_rule",
        "ansible.windows.win_powershell",
    ):
        assert modules.get(module, 0) > 0, modules

    # Windows Update ran first: the KBs the manifest records are exactly those the build installed
    # (the first dump the observer took is the guest before the build touched it), over two rounds
    # with the cumulative update's reboot, and the shipped deny list kept KB5007651 out.
    first_seen = observer.history[vm][0][1]
    installed = {u["kb"] for u in guest["updates_installed"]} - {
        u["kb"] for u in first_seen["updates_installed"]
    }
    updates = next(p for p in report["manifest"]["parts"] if p["part"] == "updates")
    assert {e["id"] for e in updates["entries"]} == installed and installed, (updates["entries"], installed)
    assert {e["after"]["round"] for e in updates["entries"]} <= {1, 2}
    assert "KB5007651" not in installed and guest["pending_reboot"] == []
    assert guest["os"]["ubr"] > first_seen["os"]["ubr"], "the cumulative update was not applied"
    assert _phase(report, "updates")["status"] == "ok"

    # Nothing pointed at the version before a VM booted from it proved it: published excluded from
    # latest, a Trusted Launch validation VM from that exact version checked every manifest entry,
    # then promote set excludeFromLatest as the spec asks (true for this example) and the
    # validation VM's four resources were removed with the rest.
    publish = report["details"]["publish"]
    assert publish["validation"]["result"] == "passed" and publish["validation"]["problems"] == []
    unchecked_kinds = ("update", "application", "language")
    entries = [e for p in report["manifest"]["parts"] for e in p["entries"]]
    # What two phases set (Teams' IsWVDEnvironment: the AVD settings and the stack) is checked once.
    rechecked = {(e["kind"], e["id"].lower()) for e in entries if e["kind"] not in unchecked_kinds}
    assert publish["validation"]["checked"] == len(rechecked)
    assert len(publish["validation"]["unchecked"]) == len(
        [e for e in entries if e["kind"] in unchecked_kinds]
    )
    assert _phase(report, "verify")["status"] == "ok" and _phase(report, "promote")["status"] == "ok"
    assert [r for r in report["resources"] if r.get("phase") == "verify" and not r["removed"]] == []
    assert len([r for r in report["resources"] if r.get("phase") == "verify"]) == 4
    requests = sandbox.requests()
    vm_puts = [r for r in requests if r["method"] == "PUT" and "/virtualmachines/vmv-" in r["path"].lower()]
    image = vm_puts[0]["body"]["properties"]["storageProfile"]["imageReference"]["id"]
    assert image.lower() == report["image_version_id"].lower()
    assert vm_puts[0]["body"]["properties"]["securityProfile"]["securityType"] == "TrustedLaunch"
    first_put = next(r for r in requests if r["method"] == "PUT" and "/versions/" in r["path"].lower())
    assert first_put["body"]["properties"]["publishingProfile"]["excludeFromLatest"] is True

    # The user-only package was there, and the sysprep preflight removed it.
    assert _build_vms(observer.fired("user_appx")) == [vm]
    seen_blocked = [
        dump["appx_not_provisioned"] for _, dump in observer.history[vm] if dump["appx_not_provisioned"]
    ]
    assert seen_blocked, "the fault never showed in the guest"
    assert guest["appx_not_provisioned"] == []
    assert "Remove AppX packages installed for a user but not provisioned" in run.stdout

    # The reboot was seen and every dropped connection was consumed by a retried operation.
    assert _build_vms(observer.fired("drop")) == [vm], "the reboot was not observed"
    assert guest["winrm"]["faults"] == {}, "the dropped connections were not all consumed"

    _assert_same_inputs_are_up_to_date(
        sandbox, report, versions[report["image_version_id"].lower()], example.spec
    )


def _assert_same_inputs_are_up_to_date(
    sandbox: Sandbox, report: dict[str, Any], version: dict[str, Any], spec: Path
) -> None:
    """The same image spec again (docs/contracts.md section 19): the promote phase tagged the
    version with the digest of the build's inputs, so the preflight finds it and the run stops as
    up to date, exit 0, without one ARM write."""
    assert version["tags"]["avd-inputs-sha256"] == report["details"]["inputs"]["sha256"], version["tags"]
    seen = len(sandbox.requests())
    again = run_playbook(sandbox, "build-golden.yml", "-e", f"image_spec={spec}", *FAST_POLLS)
    assert again.returncode == 0, _explain(again)
    second = again.report()
    assert second["result"] == "up_to_date", second["result"]
    assert second["image_version_id"] == report["image_version_id"]
    assert second["details"]["inputs"] == report["details"]["inputs"]
    statuses = {p["name"]: p["status"] for p in second["phases"]}
    ran = {name for name, status in statuses.items() if status != "skipped"}
    assert ran == {"validate", "preflight", "teardown"}, statuses
    assert second["resources"] == []
    _assert_summary_matches(again, second)
    writes = [
        r
        for r in sandbox.requests()[seen:]
        if r["method"] != "GET" and r["path"].startswith("/subscriptions/")
    ]
    assert writes == [], writes
    assert image_versions(sandbox.state())[report["image_version_id"].lower()] == version


def _assert_summary_matches(run: BuildRun, report: dict[str, Any]) -> None:
    """report.md, the summary CI job pages show, says what report.json says: the result, the
    version, one row per phase with its status, and what teardown removed."""
    summary = (run.report_path().parent / "report.md").read_text()
    lines = summary.splitlines()
    assert lines[0].endswith(f": {report['result']}"), lines[0]
    assert f"- Image version: {report['image_version_id']}" in lines, summary
    rows = [line.split(" | ") for line in lines if line.startswith("| ") and not line.startswith("| Phase")]
    rows = [(cells[0].removeprefix("| "), cells[1]) for cells in rows if cells[0] != "| ---"]
    assert rows == [(p["name"], p["status"]) for p in report["phases"]], rows
    done, recorded = report["summary"]["resources_removed"], report["summary"]["resources_recorded"]
    removed = f"Teardown removed {done} of {recorded} recorded resources."
    assert removed in lines, summary


def _assert_content_in_image(guest: dict[str, Any], report: dict[str, Any], version: dict[str, Any]) -> None:
    """What the example's content phases put into the image: in Windows, in the report's manifest
    and in the image version's tags."""
    parts = {p["part"]: p for p in report["manifest"]["parts"]}
    assert set(parts) == {
        "updates",
        "languages",
        "applications",
        "avd_stack",
        "avd_settings",
        "default_user",
        "optimize",
        "appx",
        "sysprep",
    }, sorted(parts)
    assert all(p["failed"] == [] for p in parts.values()), [p["failed"] for p in parts.values()]
    assert report["manifest"]["summary"]["optimize"]["changed"] > 20, report["manifest"]["summary"]
    assert gd.hklm(guest, r"SOFTWARE\FSLogix\Profiles", "Enabled") == ["REG_DWORD", 1]
    assert gd.hklm(guest, r"SOFTWARE\Microsoft\Teams", "IsWVDEnvironment") == ["REG_DWORD", 1]
    outlook = r"Software\Policies\Microsoft\office\16.0\outlook\cached mode"
    assert gd.default_user(guest, outlook, "enable") == ["REG_DWORD", 1]
    assert gd.service(guest, "DiagTrack")["start_mode"] == "disabled"
    removed = {e["id"] for e in parts["appx"]["entries"] if e["changed"]}
    assert removed and not removed & gd.appx_names(guest), removed & gd.appx_names(guest)
    assert "RemoteDesktop-UserMode-In-Shortpath-UDP" in guest["firewall_rules"]
    tags = version["tags"]
    assert tags["avd-image-manifest"].startswith("appx="), tags
    assert "updates=" in tags["avd-image-manifest"], tags
    assert tags["avd-image-optimization"], tags
    assert all(len(v) <= 256 for v in tags.values())


def _installed_programs(dump: dict[str, Any]) -> dict[str, str]:
    """DisplayName -> DisplayVersion of the guest's Uninstall keys (what Programs and Features shows)."""
    prefix = f"hkey_local_machine\\{UNINSTALL.lower()}\\"
    return {
        values["DisplayName"][1]: values.get("DisplayVersion", [None, ""])[1]
        for path, values in dump["registry"]["HKLM"].items()
        if path.lower().startswith(prefix) and "DisplayName" in values
    }


def _boots_per_phase(history: list[tuple[float, dict[str, Any]]], report: dict[str, Any]) -> dict[str, int]:
    """How many times the build VM booted in each phase (the boot times the observer saw, placed in
    the phases' start and end, which the report gives to the second)."""

    def second(stamp: str) -> float:
        return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()

    boots = sorted({dump["boot_time"] for _, dump in history} - {history[0][1]["boot_time"]})
    out: dict[str, int] = {}
    for boot in boots:
        phase = next(
            (
                p["name"]
                for p in report["phases"]
                if p.get("start") and second(p["start"]) <= int(boot) <= second(p["end"])
            ),
            "(between phases)",
        )
        out[phase] = out.get(phase, 0) + 1
    return out


def _assert_software_in_image(
    guest: dict[str, Any],
    history: list[tuple[float, dict[str, Any]]],
    report: dict[str, Any],
    version: dict[str, Any],
    example: full_example.Example,
) -> None:
    """What the example's software phases put into the image (languages, applications, the AVD
    stack): in Windows, in the manifest and in the version's tags; every file downloaded once;
    reboots only where something needed one."""
    first = history[0][1]
    programs, before = _installed_programs(guest), _installed_programs(first)
    # The two applications, from their blobs, by their MSIs' own ProductName and ProductVersion.
    assert programs["7-Zip 24.09 (x64 edition)"] == "24.09.00.0", programs
    assert programs["Contoso Line of Business"] == "4.2.1", programs
    # The AVD stack: FSLogix upgraded in place (the image had its own), the redirectors, Teams
    # provisioned from the offline MSIX, OneDrive per machine, Microsoft 365 Apps by the ODT.
    assert before["Microsoft FSLogix Apps"] != "3.26.826.17182"
    assert programs["Microsoft FSLogix Apps"] == "3.26.826.17182"
    assert programs["Remote Desktop WebRTC Redirector Service"] == "1.54.2408.19001"
    assert programs["Remote Desktop Multimedia Redirection"] == "1.0.2404.4003"
    teams = [p["version"] for p in guest["appx_provisioned"] if p["name"] == "MSTeams"]
    assert teams == ["25044.2208.3471.2155"], teams
    assert r"c:\program files\microsoft onedrive\onedrive.exe" in {f.lower() for f in guest["files"]}
    c2r = r"SOFTWARE\Microsoft\Office\ClickToRun\Configuration"
    assert gd.hklm(guest, c2r, "VersionToReport") == ["REG_SZ", "16.0.18129.20158"]
    assert gd.hklm(guest, c2r, "ProductReleaseIds") == ["REG_SZ", "O365ProPlusRetail"]
    assert gd.hklm(guest, c2r, "SharedComputerLicensing") == ["REG_SZ", "1"]
    # German and French: language packs, the Basic feature, the experience packs.
    for tag in full_example.LANGUAGES:
        assert any(f"~{tag}~" in p and s == "Installed" for p, s in guest["language_packages"].items()), tag
        assert guest["capabilities"][f"Language.Basic~~~{tag}~0.0.1.0"] == "Installed"
        assert f"Microsoft.LanguageExperiencePack{tag}" in {p["name"] for p in guest["appx_provisioned"]}

    # The manifest records what was installed, with the hashes of the files the build checked.
    parts = {p["part"]: p for p in report["manifest"]["parts"]}
    apps = {e["id"]: e["after"] for e in parts["applications"]["entries"]}
    assert {name: (a["version"], a["sha256"]) for name, a in apps.items()} == {
        a["name"]: (a["version"], a["download"]["sha256"]) for a in example.data["applications"]
    }
    assert apps["Contoso Line of Business"]["signer"]["subject"] == "CN=Contoso Code Signing, O=Contoso Ltd"
    components = parts["avd_stack"]["info"]["components"]
    assert components["fslogix"]["version"] == "3.26.826.17182"
    assert components["fslogix"]["sha256"] == example.data["avd_stack"]["fslogix"]["download"]["sha256"]
    languages = {e["id"]: e["after"] for e in parts["languages"]["entries"]}
    assert languages["setting/system_locale"] == "de-DE" and languages["language_pack/fr-FR"] == "Installed"
    tags = version["tags"]
    assert tags["avd-image-apps"] == "7-Zip=24.09;Contoso Line of Business=4.2.1", tags
    assert {"fslogix=3.26.826.17182", "teams=25044.2208.3471.2155", "m365_apps=16.0.18129.20158"} <= set(
        tags["avd-image-avd-stack"].split(";")
    ), tags
    assert tags["avd-image-languages"] == "de-DE,fr-FR", tags
    assert tags["avd-image-updates"] == ",".join(e["id"] for e in parts["updates"]["entries"]), tags

    # Every file came from its blob once: the guest downloaded exactly what was uploaded.
    assert guest["bytes_downloaded"] - first["bytes_downloaded"] == example.bytes
    assert not any("avd-stack" in f.lower() or "avd-languages" in f.lower() for f in guest["files"])
    # Reboots where something needed one, once: the language packs and the system locale, the
    # FSLogix upgrade (its drivers), the optimization; Windows Update once per round that asked.
    boots = _boots_per_phase(history, report)
    assert {k: v for k, v in boots.items() if k != "updates"} == {
        "languages": 1,
        "avd_stack": 1,
        "optimize": 1,
    }, boots
    assert 1 <= boots.get("updates", 0) <= 2, boots


def test_user_only_appx_blocks_sysprep_naming_the_package_and_teardown_still_runs(sandbox: Sandbox) -> None:
    with GuestObserver(sandbox) as observer:
        # As soon as the VM exists: a package installed for the administrator in a version that
        # is not provisioned (a Store update), what sysprep rejects with 0x80073cf2.
        observer.when(
            "user_appx",
            lambda dump: True,
            lambda sb, vm: sb.fault(target="winrm", vm=vm, kind="user_appx", package="Microsoft.Copilot"),
        )
        run = run_playbook(sandbox, "build-golden.yml", "-e", '{"windows_sysprep_remove_user_appx": false}')
    assert run.returncode != 0, _explain(run)
    vm, guest = _the_guest(observer)
    assert _build_vms(observer.fired("user_appx")) == [vm]
    blocked = [full for _user, full in guest["appx_not_provisioned"]]
    assert blocked and all(full.startswith("Microsoft.Copilot_") for full in blocked), blocked

    report = run.report()
    assert report["result"] == "failed"
    assert report["failure"]["phase"] == "sysprep"
    for full in blocked:
        assert full in report["failure"]["message"]
        assert full in run.stdout
    assert "windows_sysprep_remove_user_appx" in report["failure"]["message"]
    assert _phase(report, "sysprep")["status"] == "failed"
    assert _phase(report, "capture")["status"] == "skipped"
    # The console's closing table (callback avd.golden.build_progress) says the same.
    table = dict(re.findall(r"^(\w+) +(ok|failed|skipped|cancelled) +\d+:\d\d$", run.stdout, re.M))
    assert table["sysprep"] == "failed" and table["capture"] == "skipped", table
    assert table.keys() >= {"validate", "provision", "teardown"}, table
    # Sysprep never ran, nothing was captured, and teardown removed everything.
    assert guest["image_state"] == "IMAGE_STATE_COMPLETE"
    assert image_versions(sandbox.state()) == {}
    assert_nothing_left(sandbox, report)
