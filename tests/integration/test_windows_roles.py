"""The Windows roles against simulated build VMs.

- The Molecule scenario of every Windows role, on one build VM (create with the product's provision
  and connect roles in a sandbox, then converge, idempotence and verify of each role, destroy with
  the product's teardown).
- Cheaper, role-level checks on one simulated VM reached over the real pinned WinRM HTTPS
  connection (the WinRM double's harness, without ARM): check mode changes nothing, a second run
  changes nothing, and the sysprep preflight fixes or names each blocker.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sandbox import pki
from sandbox.windows.modules import _languages as lang
from sandbox.windows.state import nt_hash
from tests.support import guest_dump as gd
from tests.support import language_files as lf
from tests.support.build_vm import BuildVm, PlayResult
from tests.support.file_server import FileServer
from tests.support.guest_observer import GuestObserver
from tests.support.paths import REPO
from tests.support.runs import build_resources, playbook_env
from tests.support.sandbox_process import Sandbox

pytestmark = pytest.mark.integration

PLAYS = Path(__file__).resolve().parent / "windows_roles"
POLICY_KEY = r"HKEY_LOCAL_MACHINE\SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services"
GENERALIZED = "IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE"
PRE = "preflight |"


def _admin_password() -> str:
    """A per-run password meeting Azure's complexity rules (and the provision role's checks)."""
    return "Mo1!" + secrets.token_urlsafe(24).replace("-", "x").replace("_", "y")


@pytest.fixture
def vm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[BuildVm]:
    monkeypatch.setenv("ANSIBLE_COLLECTIONS_PATH", str(REPO / "collections"))
    build_vm = BuildVm(tmp_path)
    try:
        yield build_vm
    finally:
        build_vm.close()
    assert build_vm.unmodelled() == []


def _dump(vm: BuildVm) -> dict[str, Any]:
    with vm.host.lock:
        return vm.host.dump()[vm.name]


def _policy(dump: dict[str, Any]) -> Any:
    for path, values in dump["registry"]["HKLM"].items():
        if path.lower() == POLICY_KEY.lower():
            return values.get("fEnableTimeZoneRedirection")
    return None


def _play(vm: BuildVm, name: str, *args: str) -> PlayResult:
    return vm.play(str(PLAYS / name), *args)


def _task(run: PlayResult, name: str) -> dict[str, Any]:
    """The last result of the role task named ``name`` (the callback prefixes the role name)."""
    found = None
    for play in run.data["plays"]:
        for task in play["tasks"]:
            if task["task"]["name"].split(" : ", 1)[-1] == name:
                found = task["hosts"]["buildvm"]
    assert found is not None, f"task {name!r} did not run: {run.explain()}"
    return found


# --- windows_config ------------------------------------------------------------------------------
def test_windows_config_check_mode_then_apply_then_no_change(vm: BuildVm) -> None:
    before = _dump(vm)
    assert before["time_zone"] != "W. Europe Standard Time"

    check = _play(vm, "config.yml", "--check", "--diff")
    assert check.rc == 0, check.explain()
    assert check.stats["changed"] >= 2, "check mode must report the changes it would make"
    unchanged = _dump(vm)
    assert unchanged["time_zone"] == before["time_zone"]
    assert _policy(unchanged) is None
    assert unchanged["boot_time_filetime"] == before["boot_time_filetime"], "check mode rebooted"

    first = _play(vm, "config.yml")
    assert first.rc == 0, first.explain()
    after = _dump(vm)
    assert after["time_zone"] == "W. Europe Standard Time"
    assert _policy(after) == ["REG_DWORD", 1]
    assert after["boot_time_filetime"] != before["boot_time_filetime"], "the policy change did not reboot"

    second = _play(vm, "config.yml")
    assert second.rc == 0, second.explain()
    assert second.stats["changed"] == 0, second.explain()
    assert _dump(vm)["boot_time_filetime"] == after["boot_time_filetime"], "an unchanged run rebooted"


# --- the content of the image: AVD settings, default user, optimization, AppX ---------------------
EXAMPLE = REPO / "images" / "win11-24h2-avd-m365.yml"
CONTENT_PARTS = {"avd_settings", "default_user", "optimize", "appx"}
# What a check-mode run must leave exactly as it was.
STATE_KEYS = ("registry", "services", "scheduled_tasks", "appx_provisioned", "appx_user", "firewall_rules")


def _content(vm: BuildVm, artifacts: Path, *args: str) -> PlayResult:
    return _play(vm, "content.yml", "-e", f"spec_file={EXAMPLE}", "-e", f"artifacts_dir={artifacts}", *args)


def _module_calls(vm: BuildVm) -> dict[str, int]:
    with vm.host.lock:
        return dict(vm.host.vms[vm.vm_id].modules)


def _parts(folder: Path) -> dict[str, dict[str, Any]]:
    return {p.stem: json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))}


REG_KIND = {
    "string": "REG_SZ",
    "expandstring": "REG_EXPAND_SZ",
    "multistring": "REG_MULTI_SZ",
    "dword": "REG_DWORD",
    "qword": "REG_QWORD",
    "binary": "REG_BINARY",
}


def _guest_value(dump: dict[str, Any], entry: dict[str, Any]) -> Any:
    """[type, data] in the guest of a manifest registry entry."""
    read = gd.hklm if entry["hive"] == "HKLM" else gd.default_user
    return read(dump, entry["key"], entry["name"])


def _as_guest(value: dict[str, Any] | None) -> list[Any] | None:
    """A manifest value ({type, data} in win_registry_set's spelling) as the guest dump shows it."""
    return None if value is None else [REG_KIND[value["type"]], value["data"]]


def test_content_check_mode_is_a_what_if(vm: BuildVm, tmp_path: Path) -> None:
    before = _dump(vm)
    run = _content(vm, tmp_path / "artifacts", "--check", "--diff")
    assert run.rc == 0, run.explain()
    after = _dump(vm)
    for key in STATE_KEYS:
        assert after[key] == before[key], f"check mode changed {key}"
    assert after["boot_time_filetime"] == before["boot_time_filetime"], "check mode rebooted"
    parts = _parts(tmp_path / "artifacts" / "whatif")
    assert set(parts) == CONTENT_PARTS
    assert not (tmp_path / "artifacts" / "manifest").exists()
    # Every change is listed with the old value (what the guest has) and the new one.
    changes = [e for p in parts.values() for e in p["entries"] if e["changed"]]
    registry = [e for e in changes if e["kind"] == "registry"]
    assert len(changes) >= 50 and registry, [p["part"] for p in parts.values()]
    for entry in registry:
        assert _as_guest(entry["before"]) == _guest_value(before, entry), entry
    assert [e for e in changes if e["kind"] == "appx"], "the what-if lists no AppX removal"


def test_content_applies_in_few_module_calls_then_changes_nothing(vm: BuildVm, tmp_path: Path) -> None:
    calls_before = _module_calls(vm)
    run = _content(vm, tmp_path / "artifacts")
    assert run.rc == 0, run.explain()
    calls = {
        m: n - calls_before.get(m, 0) for m, n in _module_calls(vm).items() if n - calls_before.get(m, 0)
    }
    # The default optimization profile plus every AVD setting: at most 10 module invocations.
    assert sum(calls.values()) <= 10, calls
    dump = _dump(vm)
    parts = _parts(tmp_path / "artifacts" / "manifest")
    assert set(parts) == CONTENT_PARTS
    # Every registry value the manifest records is what the guest now has.
    for part in parts.values():
        for entry in part["entries"]:
            if entry["kind"] == "registry":
                assert _guest_value(dump, entry) == _as_guest(entry["after"]), entry
    for entry in parts["optimize"]["entries"]:
        if entry["kind"] == "service":
            assert gd.service(dump, entry["id"])["start_mode"] == entry["after"], entry
    removed = {e["id"] for e in parts["appx"]["entries"] if e["changed"]}
    assert removed and not removed & gd.appx_names(dump), removed & gd.appx_names(dump)
    assert dump["appx_not_provisioned"] == []
    # FSLogix and the AVD policies, spelled out (the example sets them).
    assert gd.hklm(dump, r"SOFTWARE\FSLogix\Profiles", "Enabled") == ["REG_DWORD", 1]
    assert gd.hklm(
        dump, r"SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services", "fEnableTimeZoneRedirection"
    ) == [
        "REG_DWORD",
        1,
    ]
    assert "RemoteDesktop-UserMode-In-Shortpath-UDP" in dump["firewall_rules"]

    again = _content(vm, tmp_path / "artifacts")
    assert again.rc == 0, again.explain()
    assert again.stats["changed"] == 0, again.explain()
    assert _parts(tmp_path / "artifacts" / "manifest") == parts, "a re-run rewrote the manifest"

    # What the AppX removal left, sysprep accepts.
    sysprep = _play(vm, "sysprep.yml", "-e", f"artifacts_dir={tmp_path / 'artifacts'}")
    assert sysprep.rc == 0, sysprep.explain()
    assert _dump(vm)["image_state"] == GENERALIZED


# --- windows_sysprep -----------------------------------------------------------------------------
def test_windows_sysprep_check_mode_runs_only_the_preflight(vm: BuildVm, tmp_path: Path) -> None:
    vm.fault("user_appx", package="Microsoft.Copilot")
    run = _play(vm, "sysprep.yml", "--check", "-e", f"artifacts_dir={tmp_path / 'artifacts'}")
    assert run.rc == 0, run.explain()
    removal = _task(run, "preflight | Remove AppX packages installed for a user but not provisioned")
    assert removal["changed"], removal
    dump = _dump(vm)
    assert dump["appx_not_provisioned"], "check mode removed the package"
    assert dump["image_state"] == "IMAGE_STATE_COMPLETE"
    assert dump["listener"] is not None
    # The build admin is untouched; the what-if list says what the real run does to it.
    with vm.host.lock:
        assert (vm.guest.admin_enabled, vm.guest.nt_hash) == (True, nt_hash(vm.password))
    whatif = json.loads((tmp_path / "artifacts" / "whatif" / "sysprep.json").read_text())
    assert whatif["info"]["build_admin"]["state"] == "Disabled"
    assert not (tmp_path / "artifacts" / "manifest" / "sysprep.json").exists()


@pytest.mark.parametrize(
    ("faults", "fixed_by"),
    [
        (
            [{"kind": "user_appx"}],
            "preflight | Remove AppX packages installed for a user but not provisioned",
        ),
        (
            [{"kind": "pending_reboot", "reason": "windows_update"}],
            "preflight | Reboot because a reboot is pending",
        ),
        ([{"kind": "bitlocker_on"}], "preflight | Start decrypting the OS volume"),
    ],
)
def test_windows_sysprep_fixes_the_blocker_then_generalizes(
    vm: BuildVm, tmp_path: Path, faults: list[dict[str, Any]], fixed_by: str
) -> None:
    for fault in faults:
        vm.fault(**fault)
    run = _play(vm, "sysprep.yml", "-e", f"artifacts_dir={tmp_path / 'artifacts'}")
    assert run.rc == 0, run.explain()
    assert _task(run, fixed_by)["changed"], run.explain()
    dump = _dump(vm)
    assert dump["image_state"] == GENERALIZED
    assert dump["appx_not_provisioned"] == []
    assert dump["pending_reboot"] == []
    assert dump["bitlocker"]["C:"]["volume_status"] == "FullyDecrypted"
    # Stop-BuildVm.ps1 removed the build's access before the shutdown.
    assert dump["listener"] is None
    assert not [
        c for c in dump["certificates"].values() if c["friendly_name"].startswith("avd-golden-winrm ")
    ]
    assert "avd-golden-winrm-https" not in dump["firewall_rules"]
    # ... and retired the build admin: disabled, with a password the controller never knew.
    assert dump["admin_enabled"] is False
    with vm.host.lock:
        assert vm.guest.nt_hash != nt_hash(vm.password)
    part = (tmp_path / "artifacts" / "manifest" / "sysprep.json").read_text()
    assert json.loads(part)["info"]["build_admin"] == {
        "account": vm.admin,
        "state": "Disabled",
        "credential": "rotated on the guest to a random value that was never returned",
    }
    assert vm.password not in part and vm.password not in json.dumps(run.data) + run.stderr


def test_windows_sysprep_names_the_user_appx_when_it_may_not_remove_it(vm: BuildVm, tmp_path: Path) -> None:
    vm.fault("user_appx", package="Microsoft.Copilot")
    blocked = [full for _user, full in _dump(vm)["appx_not_provisioned"]]
    run = _play(
        vm,
        "sysprep.yml",
        "-e",
        f"artifacts_dir={tmp_path / 'artifacts'}",
        "-e",
        '{"windows_sysprep_remove_user_appx": false}',
    )
    assert run.rc != 0
    message = _task(run, "preflight | Fail on what blocks sysprep")["msg"]
    assert blocked and all(full in message for full in blocked), message
    assert _dump(vm)["image_state"] == "IMAGE_STATE_COMPLETE"


def test_windows_sysprep_failure_fetches_the_logs_and_names_the_error(vm: BuildVm, tmp_path: Path) -> None:
    vm.fault("sysprep_fail")
    artifacts = tmp_path / "artifacts"
    run = _play(
        vm, "sysprep.yml", "-e", f"artifacts_dir={artifacts}", "-e", "windows_sysprep_image_state_timeout=3"
    )
    assert run.rc != 0
    message = _task(run, "sysprep | Fail naming the cause")["msg"]
    setuperr = (artifacts / "sysprep" / "setuperr.log").read_text()
    error_line = next(line for line in setuperr.splitlines() if ", Error" in line)
    assert error_line.strip() in message
    assert (artifacts / "sysprep" / "setupact.log").is_file()
    assert _dump(vm)["image_state"] == "IMAGE_STATE_COMPLETE"


# --- Molecule ------------------------------------------------------------------------------------
# Every role with a scenario, in the order a build runs them (the shared VM sees them in turn).
SCENARIOS = (
    "windows_config",
    "windows_update",
    "windows_applications",
    "avd_stack",
    "windows_languages",
    "avd_session_host",
    "windows_default_user",
    "windows_optimize",
    "windows_appx",
)


def test_every_role_has_a_molecule_scenario() -> None:
    found = {p.parts[-4] for p in (REPO / "roles").glob("*/molecule/default/molecule.yml")}
    # The controller's Azure roles get their scenarios with issue 11; every Windows role has one.
    windows_roles = {p.parts[-3] for p in (REPO / "roles").glob("*/tasks/main.yml")} - {
        "image_spec",
        "azure_preflight",
        "azure_download_urls",
        "azure_build_vm",
        "azure_teardown",
        "gallery_capture",
        "gallery_verify",
        "gallery_promote",
        "windows_connect",
        "windows_sysprep",
    }
    assert windows_roles <= found, f"roles without a Molecule scenario: {sorted(windows_roles - found)}"
    assert set(SCENARIOS) | {"image_spec"} == found


def _molecule(role: str, command: str, env: dict[str, str]) -> str:
    proc = subprocess.run(
        ["molecule", command],
        cwd=REPO / "roles" / role,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"molecule {command} of {role} failed:\n{output[-8000:]}"
    assert env["AVD_MOLECULE_ADMIN_PASSWORD"] not in output
    return output


def test_molecule_scenarios_of_every_role(tmp_path: Path) -> None:
    """Each role's scenario (converge, idempotence, verify) on one build VM: the first scenario's
    create provisions it with the product's roles, the scenarios share Molecule's ephemeral
    directory (so its instance), and the last destroy runs the product's teardown. ``molecule
    test`` in one role directory runs the same steps for that role alone."""
    with Sandbox() as sandbox:
        env = playbook_env(sandbox)
        env["AVD_MOLECULE_ADMIN_PASSWORD"] = _admin_password()
        env["MOLECULE_EPHEMERAL_DIRECTORY"] = str(tmp_path / "molecule")
        with GuestObserver(sandbox) as observer:
            try:
                # The controller-only scenario first (no VM; its own create/destroy are not run).
                _molecule(
                    "image_spec", "test", {**env, "MOLECULE_EPHEMERAL_DIRECTORY": str(tmp_path / "spec")}
                )
                _molecule(SCENARIOS[0], "create", env)
                for role in SCENARIOS:
                    for command in ("converge", "idempotence", "verify"):
                        _molecule(role, command, env)
                    observer.poll_once()
                # Read before destroy: Molecule prunes its ephemeral directory then.
                manifest = tmp_path / "molecule" / "artifacts" / "manifest"
                parts = {p.stem: json.loads(p.read_text()) for p in manifest.glob("*.json")}
            finally:
                _molecule(SCENARIOS[-1], "destroy", env)
        # What the converges did, seen from the sandbox rather than through WinRM.
        assert len(observer.last) == 1, sorted(observer.last)
        guest = next(iter(observer.last.values()))
        assert guest["time_zone"] == "W. Europe Standard Time"
        assert _policy(guest) == ["REG_DWORD", 1]
        _assert_molecule_converges(guest, parts)
        # destroy ran the product's teardown: nothing of the build is left.
        state = sandbox.state()
        leftovers = [rid for rid in state.get("resources", {}) if "rg-avdbuild-" in rid]
        assert leftovers == [], leftovers
        assert build_resources(state, "avd-molecule") == []
        assert sandbox.unmodelled() == []
        assert os.environ.get("AVD_MOLECULE_ADMIN_PASSWORD") is None


def _assert_molecule_converges(guest: dict[str, Any], parts: dict[str, dict[str, Any]]) -> None:
    """The state each scenario's converge.yml asks for, and the manifest parts they wrote."""
    advanced = r"Software\Microsoft\Windows\CurrentVersion\Explorer\Advanced"
    assert gd.default_user(guest, advanced, "TaskbarAl") == ["REG_DWORD", 0]
    telemetry = r"SOFTWARE\Policies\Microsoft\Windows\DataCollection"
    assert gd.hklm(guest, telemetry, "AllowTelemetry") == ["REG_DWORD", 0]
    assert gd.service(guest, "SysMain")["start_mode"] == "disabled"
    assert gd.task(guest, "\\Microsoft\\Windows\\Defrag\\", "ScheduledDefrag")["state"] == "Disabled"
    left = {n for n in gd.appx_names(guest) if n == "Microsoft.BingNews" or n.startswith("Microsoft.Xbox")}
    assert left == set(), left
    assert guest["appx_not_provisioned"] == []
    assert set(parts) == {
        "updates",
        "languages",
        "applications",
        "avd_stack",
        "avd_settings",
        "default_user",
        "optimize",
        "appx",
    }, sorted(parts)
    assert [e["id"] for e in parts["updates"]["entries"]] == ["KB2267602"], parts["updates"]
    assert {e["id"] for e in parts["languages"]["entries"] if e["changed"]} >= {
        "online/fr-FR",
        "setting/ui_language",
    }
    assert [e["id"] for e in parts["applications"]["entries"] if e["changed"]] == ["Molecule Tool"]
    assert all(e["changed"] for e in parts["default_user"]["entries"]), parts["default_user"]


# --- windows_update ------------------------------------------------------------------------------
def _updates(vm: BuildVm, artifacts: Path, *args: str) -> PlayResult:
    return vm.play(str(PLAYS / "updates.yml"), "-e", f"artifacts_dir={artifacts}", *args, timeout=400)


def _installed_kbs(dump: dict[str, Any]) -> list[str]:
    return sorted(u["kb"] for u in dump["updates_installed"])


def _updates_part(artifacts: Path, folder: str = "manifest") -> dict[str, Any]:
    return json.loads((artifacts / folder / "updates.json").read_text())


def test_windows_update_check_mode_then_rounds_then_no_change(vm: BuildVm, tmp_path: Path) -> None:
    artifacts = tmp_path / "artifacts"
    vm.fault("pending_reboot", reason="cbs")
    before = _dump(vm)
    offered_before = {u["kb"] for u in before["updates_available"]}
    installed_before = _installed_kbs(before)  # the dump's lists are the live state

    check = _updates(vm, artifacts, "--check")
    assert check.rc == 0, check.explain()
    after_check = _dump(vm)
    assert _installed_kbs(after_check) == installed_before, "check mode installed updates"
    assert after_check["boot_time_filetime"] == before["boot_time_filetime"], "check mode rebooted"
    whatif = _updates_part(artifacts, "whatif")
    assert not (artifacts / "manifest").exists()
    assert _task(check, "Reboot first, because a reboot is pending")["changed"]

    first = _updates(vm, artifacts)
    assert first.rc == 0, first.explain()
    dump = _dump(vm)
    # The pending reboot was cleared before the first install (else 0x80240016).
    assert _task(first, "Reboot first, because a reboot is pending")["changed"], first.explain()
    part = _updates_part(artifacts)
    recorded = {e["id"]: e["after"] for e in part["entries"]}
    new = set(_installed_kbs(dump)) - set(installed_before)
    assert set(recorded) == new and new, (sorted(recorded), sorted(new))
    rounds = {after["round"] for after in recorded.values()}
    assert rounds == {1, 2}, recorded  # the .NET update is offered only after the cumulative update
    assert dump["os"]["ubr"] > before["os"]["ubr"], "the cumulative update's reboot did not happen"
    assert dump["pending_reboot"] == []
    # The shipped deny list kept KB5007651 out; the optional preview stayed out too.
    assert "KB5007651" in offered_before and "KB5007651" not in new
    assert {e["kb"] for e in part["info"]["excluded"]} >= {"KB5007651"}
    # Check mode listed what round 1 then installed (a search cannot see round 2 yet).
    assert {e["id"] for e in whatif["entries"]} == {k for k, a in recorded.items() if a["round"] == 1}
    assert whatif["info"]["excluded"] == part["info"]["excluded"]

    again = _updates(vm, artifacts)
    assert again.rc == 0, again.explain()
    assert again.stats["changed"] == 0, again.explain()
    assert _installed_kbs(_dump(vm)) == sorted(new | set(installed_before))
    assert _updates_part(artifacts) == part, "a re-run rewrote the manifest"


def test_windows_update_loop_excluded_and_the_cap_stops_a_run(vm: BuildVm, tmp_path: Path) -> None:
    # KB890830 comes back after every reboot; with one round allowed, the .NET update that only
    # the second round would install is left: the cap stops the run, naming it.
    vm.fault("update_reinstalls", kb="KB890830")
    artifacts = tmp_path / "artifacts"
    capped = _updates(vm, artifacts, "-e", "max_rounds=1")
    assert capped.rc != 0
    message = _task(capped, "Fail naming what stopped Windows Update")["msg"]
    assert "KB5089560" in message and "windows_update.max_rounds" in message, message
    part = _updates_part(artifacts)
    assert [f["id"] for f in part["failed"]] == ["KB890830"], part["failed"]
    assert any("KB890830" in w and "offered again" in w for w in part["warnings"]), part["warnings"]
    assert {e["id"] for e in part["entries"]} >= {"KB890830", "KB5089573"}

    # With rounds to spare the build goes on: KB890830 stays excluded (warned again), the rest installs.
    run = _updates(vm, artifacts)
    assert run.rc == 0, run.explain()
    manifest_task = _task(run, "record | Write the updates manifest part")
    assert any("KB890830" in w for w in manifest_task.get("warnings", [])), manifest_task
    dump = _dump(vm)
    assert "KB890830" in {u["kb"] for u in dump["updates_available"]}, "the looping KB installed again"
    assert "KB5089560" in _installed_kbs(dump)
    assert {e["id"]: e["after"]["round"] for e in _updates_part(artifacts)["entries"]}["KB5089560"] == 1


def test_windows_update_hang_is_stopped_by_the_time_bound(vm: BuildVm, tmp_path: Path) -> None:
    # The cumulative update's install never completes: the poll blocks (the WinRM command keeps
    # running) until the phase's bound stops the task; the action plugin then cancels the update task.
    vm.fault("update_hangs", kb="KB5089573")
    run = _updates(vm, tmp_path / "artifacts", "-e", "timeout=15")
    assert run.rc != 0
    message = _task(run, "Fail naming what stopped Windows Update")["msg"]
    assert "windows_update_timeout_seconds (15 s)" in message, message
    assert "round | Install the updates of round 1" in message, message
    assert run.seconds < 120, run.seconds
    dump = _dump(vm)
    assert dump["windows_update"]["jobs"] == {}, "the update task was left running"
    assert "KB5089573" in {u["kb"] for u in dump["updates_available"]}


# --- the AVD software stack ------------------------------------------------------------------------
STACK_STATE = (*STATE_KEYS, "services", "local_groups")


def _stack_spec(tmp: Path, server: Any, files: dict[str, Any], signer: str) -> Path:
    def pin(key: str, version: str) -> dict[str, Any]:
        return {
            "version": version,
            "download": {"url": server.url(files[key].path.name), "sha256": files[key].sha256},
        }

    # Teams (the MSIX download and the provisioning check) and Microsoft 365 Apps (the generated
    # configuration and the Click-to-Run check): the steps the stack adds around the install
    # batch. Each installer costs an async run of win_package, so the other parts, which add no
    # step of their own, are covered by tests/sandbox/windows/state/test_avd_stack_installers.py.
    vc = pin("vc", "14.44.35211.0")
    vc["download"]["signer"] = {"subject": signer}
    spec = {
        "name": "stack-test",
        "source": {"offer": "windows-11", "sku": "win11-24h2-avd"},
        "location": "northeurope",
        "gallery": {
            "resource_group": "rg-img",
            "name": "gal",
            "image_definition": {"name": "d", "publisher": "p", "offer": "o", "sku": "s"},
        },
        "avd_stack": {
            "vc_redist": vc,
            "teams": {
                "webrtc_redirector": {
                    **pin("webrtc", "1.54.2408.19001"),
                    "product_code": files["webrtc"].product_code,
                },
                "bootstrapper": pin("bootstrapper", "1.0.2414501"),
                "msix": pin("msix", "25044.2208.3471.2155"),
            },
            "m365_apps": {
                "odt": pin("odt", "16.0.18129.20100"),
                "version": "16.0.12345.20000",
                "visio": "pro",
            },
        },
    }
    path = tmp / "stack.yml"
    path.write_text(json.dumps(spec))
    return path


@pytest.fixture
def stack_files(tmp_path: Path) -> dict[str, Any]:
    from sandbox import pki
    from tests.support import installers as ti

    assert ti.missing_tools() == [], "run make setup"
    ca = pki.ensure_ca(tmp_path / "pki")
    cert = ti.code_signing_cert(ca, tmp_path / "pki")
    www = tmp_path / "www"
    www.mkdir()
    ms = "Microsoft Corporation"
    vc = ti.build_exe(www / "vc_redist.x64.exe", "14.44.35211.0", "Visual C++", ms, "VC_redist.x64.exe")
    webrtc = "Remote Desktop WebRTC Redirector Service"
    return {
        "ca": ca,
        "www": www,
        "vc": ti.sign(vc, cert),
        "webrtc": ti.build_msi(www / "MsRdcWebRTCSvc_x64.msi", webrtc, "1.54.2408.19001", ms),
        "bootstrapper": ti.build_exe(
            www / "teamsbootstrapper.exe", "1.0.2414501", "Teams", ms, "teamsbootstrapper.exe"
        ),
        "msix": ti.build_msix(www / "MSTeams-x64.msix", cert, "MSTeams", "25044.2208.3471.2155", "CN=" + ms),
        "odt": ti.build_exe(www / "setup.exe", "16.0.18129.20100", "Office Deployment Tool", ms),
    }


def test_avd_stack_check_mode_then_install_then_no_change(vm: BuildVm, tmp_path: Path, stack_files) -> None:
    from tests.support.file_server import FileServer

    with vm.host.lock:
        vm.guest.trusted_ca = str(stack_files["ca"].cert)
    artifacts = tmp_path / "artifacts"
    with FileServer(stack_files["www"], stack_files["ca"]) as server:
        spec = _stack_spec(tmp_path, server, stack_files, "CN=Contoso Code Signing, O=Contoso Ltd")
        args = (
            "-e",
            f"spec_file={spec}",
            "-e",
            f"artifacts_dir={artifacts}",
            "-e",
            "avd_stack_poll_seconds=1",
        )
        before = _dump(vm)
        check = _play(vm, "avd_stack.yml", "--check", *args)
        assert check.rc == 0, check.explain()
        after_check = _dump(vm)
        for key in STACK_STATE:
            assert after_check[key] == before[key], f"check mode changed {key}"
        assert server.requests == [], "check mode downloaded"
        whatif = json.loads((artifacts / "whatif" / "avd_stack.json").read_text())
        assert {e["id"] for e in whatif["entries"] if e["kind"] == "application" and e["changed"]} >= {
            "Visual C++ Redistributable (x64)",
            "Remote Desktop WebRTC Redirector Service",
            "Microsoft Teams (new) for VDI",
            "Microsoft 365 Apps",
        }

        first = _play(vm, "avd_stack.yml", *args)
        assert first.rc == 0, first.explain()
        downloads = list(server.requests)
        assert len(downloads) == 5, downloads  # every installer and the MSIX, once
        second = _play(vm, "avd_stack.yml", *args)
        assert second.rc == 0, second.explain()
        assert second.stats["changed"] == 0, second.explain()
        assert server.requests == downloads, "the second run downloaded"

    guest = _dump(vm)
    uninstall = r"SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall"
    versions = {
        values["DisplayName"][1]: values["DisplayVersion"][1]
        for path, values in guest["registry"]["HKLM"].items()
        if path.lower().startswith(f"hkey_local_machine\\{uninstall.lower()}\\") and "DisplayName" in values
    }
    assert versions["Remote Desktop WebRTC Redirector Service"] == "1.54.2408.19001"
    assert [p["version"] for p in guest["appx_provisioned"] if p["name"] == "MSTeams"] == [
        "25044.2208.3471.2155"
    ]
    assert gd.hklm(guest, r"SOFTWARE\Microsoft\Teams", "IsWVDEnvironment") == ["REG_DWORD", 1]
    c2r = r"SOFTWARE\Microsoft\Office\ClickToRun\Configuration"
    assert gd.hklm(guest, c2r, "VersionToReport") == ["REG_SZ", "16.0.12345.20000"]
    assert gd.hklm(guest, c2r, "ProductReleaseIds") == ["REG_SZ", "O365ProPlusRetail,VisioProRetail"]
    assert gd.hklm(guest, c2r, "SharedComputerLicensing") == ["REG_SZ", "1"]
    assert guest["boot_time_filetime"] == before["boot_time_filetime"], "no installer asked for a reboot"
    assert not any("avd-stack" in p.lower() for p in guest["files"]), "the work folder stayed"
    part = json.loads((artifacts / "manifest" / "avd_stack.json").read_text())
    apps = {e["id"]: e for e in part["entries"] if e["kind"] == "application"}
    assert apps["Microsoft 365 Apps"]["after"]["sha256"] == stack_files["odt"].sha256
    assert apps["Microsoft 365 Apps"]["after"]["version"] == "16.0.12345.20000"
    vc = apps["Visual C++ Redistributable (x64)"]["after"]
    assert vc["signer"]["subject"] == "CN=Contoso Code Signing, O=Contoso Ltd"
    components = part["info"]["components"]
    assert components["teams"]["msix"] == {
        "version": "25044.2208.3471.2155",
        "sha256": stack_files["msix"].sha256,
        "download": server.url("MSTeams-x64.msix"),
    }
    assert components["m365_apps"]["products"] == ["O365ProPlusRetail", "VisioProRetail"]
    assert {e["id"] for e in part["entries"] if e["kind"] == "registry"} == {
        r"HKLM\SOFTWARE\Microsoft\Teams\IsWVDEnvironment"
    }


# --- windows_languages ---------------------------------------------------------------------------
LANGUAGE_TASKS = "\\Microsoft\\Windows\\LanguageComponentsInstaller\\"
SPEC = REPO / "images" / "win11-24h2-avd.yml"


def _language_files(root: Path, build: str = "26100") -> dict[str, Path]:
    """The ISO's layout below root/lof: the de-DE language pack, one feature, the LXP and its license."""
    lof = root / "lof"
    (lof / "x64" / "langpacks").mkdir(parents=True, exist_ok=True)
    (lof / "LanguagesAndOptionalFeatures").mkdir(exist_ok=True)
    appx, lic = lf.experience_pack(lof / "LocalExperiencePack" / "de-de", "de-DE", build)
    files = {
        "lp": lf.language_pack(lof / "x64" / "langpacks", "de-DE", build),
        "fod": lf.feature(lof / "LanguagesAndOptionalFeatures", "Basic", "de-DE", build),
        "lxp": appx,
        "license": lic,
    }
    return files


def _languages_section(server: FileServer, files: dict[str, Path], root: Path) -> dict[str, Any]:
    return {
        "install": ["de-DE"],
        "source": {
            "type": "offline",
            "base": {"url": server.url("lof")},
            "files": {p.relative_to(root / "lof").as_posix(): lf.sha256(p) for p in files.values()},
        },
        "ui_language": "de-DE",
        "system_locale": "de-DE",
        "culture": "de-DE",
        "home_location": 94,
        "user_languages": [{"language": "de-DE", "input_methods": ["0407:00000407"]}, {"language": "en-US"}],
    }


def _languages(vm: BuildVm, section: dict[str, Any], artifacts: Path, *args: str) -> PlayResult:
    extra = artifacts.parent / "languages.json"
    extra.write_text(json.dumps({"languages": section}))
    return _play(
        vm,
        "languages.yml",
        "-e",
        f"spec_file={SPEC}",
        "-e",
        f"artifacts_dir={artifacts}",
        "-e",
        f"@{extra}",
        *args,
    )


def _language_state(vm: BuildVm) -> dict[str, Any]:
    with vm.host.lock:
        guest = vm.guest
        return {
            "packages": dict(guest.language_packages),
            "features": {k: v for k, v in guest.capabilities.items() if "de-DE" in k},
            "lxp": sorted(p["name"] for p in guest.appx_provisioned if "LanguageExperiencePack" in p["name"]),
            "tasks": {
                t["name"]: t["state"] for t in guest.scheduled_tasks.values() if t["path"] == LANGUAGE_TASKS
            },
            "locale": lang.system_locale(guest),
            "ui": lang.system_ui_language(guest),
            "profiles": {p: lang.read_profile(guest, p) for p in ("admin", "welcome", "default_user")},
            "boot": guest.boot_time_filetime(),
            "files": sorted(f for f in guest.fs.entries if "avd-languages" in f.lower()),
        }


def test_languages_offline_restores_the_tasks_on_failure_then_installs_once(
    vm: BuildVm, tmp_path: Path
) -> None:
    ca = pki.ensure_ca(tmp_path / "pki")
    with vm.host.lock:
        vm.guest.trusted_ca = str(ca.cert)
    root = tmp_path / "www"
    with FileServer(root, ca) as server:
        # A file whose bytes are not the ones pinned: the download names it and nothing installs.
        section = _languages_section(server, _language_files(root), root)
        pack = next(name for name in section["source"]["files"] if "Language-Pack" in name)
        section["source"]["files"][pack] = "0" * 64
        corrupt = _languages(vm, section, tmp_path / "c-artifacts")
        assert corrupt.rc != 0
        message = _task(corrupt, "download | Fail naming the files that did not download")["msg"]
        assert pack.rsplit("/", 1)[-1] in message and "language_pack" in message, message
        untouched = _language_state(vm)
        assert untouched["tasks"] == {"Installation": "Ready", "ReconcileLanguageResources": "Ready"}
        assert not any("~de-DE~" in p for p in untouched["packages"]), untouched["packages"]
        assert not any(f.lower().endswith(pack.rsplit("/", 1)[-1].lower()) for f in untouched["files"])
        server.requests.clear()

        # A language pack of another Windows build: DISM refuses it after the tasks were disabled.
        wrong = _language_files(root, build="22631")
        failed = _languages(vm, _languages_section(server, wrong, root), tmp_path / "a-artifacts")
        assert failed.rc != 0
        message = _task(failed, "Install the missing language components")["msg"]
        assert "language_pack/de-DE" in message and "0x800F081E" in message, message
        state = _language_state(vm)
        assert state["tasks"] == {"Installation": "Ready", "ReconcileLanguageResources": "Ready"}, (
            "tasks not restored"
        )
        assert not any("~de-DE~" in p for p in state["packages"]) and state["files"] == []

        files = _language_files(root)
        section = _languages_section(server, files, root)
        check = _languages(vm, section, tmp_path / "artifacts", "--check")
        assert check.rc == 0, check.explain()
        assert _language_state(vm) == state, "check mode changed the guest"
        # Not the License.xml: the one the corrupt run downloaded is the same file, and is kept.
        assert server.requests == [
            f"/lof/{p.relative_to(root / 'lof').as_posix()}"
            for p in wrong.values()
            if p.name != "License.xml"
        ]
        whatif = _parts(tmp_path / "artifacts" / "whatif")["languages"]
        assert {e["id"] for e in whatif["entries"] if e["changed"]} >= {
            "language_pack/de-DE",
            "setting/system_locale",
        }

        server.requests.clear()
        first = _languages(vm, section, tmp_path / "artifacts")
        assert first.rc == 0, first.explain()
        done = _language_state(vm)
        assert len(server.requests) == 4
        assert any(
            p.endswith("~de-DE~10.0.26100.1") and s == "Installed" for p, s in done["packages"].items()
        )
        assert done["features"]["Language.Basic~~~de-DE~0.0.1.0"] == "Installed"
        assert done["lxp"] == ["Microsoft.LanguageExperiencePackde-DE"]
        assert done["tasks"] == {"Installation": "Ready", "ReconcileLanguageResources": "Ready"}
        assert (done["locale"], done["ui"]) == ("de-DE", "de-DE")
        wanted = {
            "culture": "de-DE",
            "home_location": 94,
            "languages": [
                {"language": "de-DE", "input_methods": ["0407:00000407"]},
                {"language": "en-US", "input_methods": ["0409:00000409"]},
            ],
        }
        assert done["profiles"] == {"admin": wanted, "welcome": wanted, "default_user": wanted}
        assert done["boot"] != state["boot"], "the language pack and system locale need a reboot"
        assert done["files"] == [], "the downloaded files were left on the build VM"
        policy = gd.hklm(
            _dump(vm),
            r"SOFTWARE\Policies\Microsoft\Control Panel\International",
            "BlockCleanupOfUnusedPreinstalledLangPacks",
        )
        assert policy == ["REG_DWORD", 1], "LPRemove may clean the language packs up"
        part = _parts(tmp_path / "artifacts" / "manifest")["languages"]
        assert part["info"]["copy_method"] == "Copy-UserInternationalSettingsToSystem"

        server.requests.clear()
        again = _languages(vm, section, tmp_path / "artifacts")
        assert again.rc == 0, again.explain()
        assert again.stats["changed"] == 0, again.explain()
        assert server.requests == [], "a re-run downloaded again"
        assert _language_state(vm) == done
        assert _parts(tmp_path / "artifacts" / "manifest")["languages"] == part
