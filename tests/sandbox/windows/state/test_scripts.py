"""Product scripts recognised by content: the hash registry and each script's simulated effect."""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from sandbox.guest_api import NotModelled
from sandbox.windows import scripts
from tests.support.paths import REPO

ROOT = REPO
FILES = {
    name: (ROOT / entry["path"]).read_text(encoding="utf-8") for name, entry in scripts.registry().items()
}
NOT_SENT: set[str] = set()  # roles/*/files/*.ps1 the product never sends into a guest (none today)


def test_every_product_script_is_registered_with_its_current_hash():
    """A changed script fails here until the sandbox learns it (`python -m sandbox.windows.scripts`)."""
    on_disk = {p.relative_to(ROOT).as_posix() for p in ROOT.glob("roles/*/files/*.ps1")} - NOT_SENT
    registered = {e["path"]: e for e in scripts.registry().values()}
    assert on_disk, "no product scripts found"
    assert sorted(on_disk - set(registered)) == [], "scripts the sandbox does not know"
    for path in on_disk:
        current = scripts.sha256((ROOT / path).read_text(encoding="utf-8"))
        assert registered[path]["sha256"] == current, (
            f"{path} changed: the sandbox does not know this version"
        )
    assert set(scripts.registry()) <= set(scripts.EFFECTS), "a registered script without an effect"


def test_line_endings_and_trailing_newline_do_not_matter():
    text = FILES["sysprep_preflight"]
    assert scripts.identify(text.replace("\n", "\r\n"), "win_powershell") == "sysprep_preflight"
    assert scripts.identify(text.rstrip("\n"), "win_powershell") == "sysprep_preflight"
    assert scripts.identify("\ufeff" + text, "win_powershell") == "sysprep_preflight"


def test_modified_script_is_refused_naming_it(run):
    changed = FILES["remove_user_only_appx"].replace(
        "Remove-AppxPackage -Package $fullName -AllUsers", "Remove-AppxPackage -Package $fullName"
    )
    with pytest.raises(
        NotModelled,
        match=r"remove_user_only_appx \(roles/windows_sysprep/files/Remove-UserOnlyAppx.ps1\)"
        r".*does not know this version",
    ):
        run("win_powershell", {"script": changed, "parameters": {"PackageFullName": ["x"]}})


def test_changed_repository_file_message(monkeypatch):
    entry = dict(scripts.registry()["stop_build_vm"], sha256="0" * 64)
    monkeypatch.setitem(scripts.registry(), "stop_build_vm", entry)
    with pytest.raises(
        NotModelled, match=r"script stop_build_vm .* has changed: the sandbox does not know this version"
    ):
        scripts.identify(FILES["stop_build_vm"], "win_powershell")


def test_unknown_script(guest):
    with pytest.raises(
        NotModelled, match=r"unknown script \(sha256 [0-9a-f]{64}, first line 'Get-Process'\)"
    ):
        guest.run_command("Get-Process\n", [])


def test_script_sent_through_the_wrong_channel(guest, run):
    with pytest.raises(NotModelled, match="sent through win_powershell"):
        run("win_powershell", {"script": FILES["enable_winrm_https"]})
    with pytest.raises(NotModelled, match="sent through run_command"):
        guest.run_command(FILES["sysprep_preflight"], [])


# --- Enable-WinRMHttps.ps1 (Azure run command) ---------------------------------------------------
def bootstrap(guest, address="127.0.0.7", computer="avdbuild01", controller="127.0.0.1"):
    return guest.run_command(
        "\n".join(FILES["enable_winrm_https"].split("\n")),
        [
            {"name": "PublicAddress", "value": address},
            {"name": "ComputerName", "value": computer},
            {"name": "ControllerAddress", "value": controller},
        ],
    )


def test_bootstrap_creates_pinned_listener(guest, clock):
    res = bootstrap(guest)
    assert res.exit_code == 0 and res.stderr == ""
    lines = res.stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith('{"thumbprint":"')
    out = json.loads(lines[0])
    der = base64.b64decode(out["certificate"])
    assert out["thumbprint"] == hashlib.sha1(der).hexdigest().upper()  # noqa: S324
    cert = x509.load_der_x509_certificate(der)
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.7")]
    assert san.get_values_for_type(x509.DNSName) == ["avdbuild01"]
    assert cert.subject.rfc4514_string() == "CN=avdbuild01"
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    assert (
        ExtendedKeyUsageOID.SERVER_AUTH
        in cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    )
    listener = guest.winrm_listener()
    assert listener is not None and listener.port == 5986
    assert (
        x509.load_pem_x509_certificate(listener.cert_pem.encode()).public_bytes(
            __import__("cryptography").hazmat.primitives.serialization.Encoding.DER
        )
        == der
    )
    assert guest.services["winrm"].state == "started" and guest.services["winrm"].start_mode == "auto"
    assert "avd-golden-winrm-https" in guest.firewall_rules
    assert (
        guest.registry.get_value(
            r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System", "LocalAccountTokenFilterPolicy"
        ).data
        == 1
    )
    dump = json.dumps(guest.dump())
    assert "PRIVATE KEY" not in dump


def test_bootstrap_reuses_a_valid_certificate(guest, clock):
    first = json.loads(bootstrap(guest).stdout)
    clock.advance(3600)
    assert json.loads(bootstrap(guest).stdout) == first
    assert json.loads(bootstrap(guest, address="127.0.0.8").stdout)["thumbprint"] != first["thumbprint"]
    clock.advance(40 * 3600)  # less than 12 hours of validity left: a new certificate
    assert json.loads(bootstrap(guest).stdout)["thumbprint"] != first["thumbprint"]


def test_bootstrap_missing_parameter(guest):
    res = guest.run_command(FILES["enable_winrm_https"], [{"name": "PublicAddress", "value": "127.0.0.7"}])
    assert res.exit_code == 1
    assert "missing mandatory parameters: ComputerName" in res.stderr
    assert guest.winrm_listener() is None


def test_bootstrap_scopes_the_firewall_rule_to_the_controller(guest):
    assert bootstrap(guest, controller="203.0.113.10").exit_code == 0
    rule = guest.firewall_rules["avd-golden-winrm-https"]
    assert rule["remote_address"] == "203.0.113.10" and rule["local_port"] == "5986"
    assert guest.firewall_allows("203.0.113.10", 5986)
    assert not guest.firewall_allows("203.0.113.11", 5986)
    assert not guest.firewall_allows("203.0.113.10", 3389)
    # A re-run with another address rescopes the rule (it is removed and created again).
    assert bootstrap(guest, controller="10.20.0.0/28").exit_code == 0
    assert guest.firewall_rules["avd-golden-winrm-https"]["remote_address"] == "10.20.0.0/28"
    assert guest.firewall_allows("10.20.0.15", 5986) and not guest.firewall_allows("203.0.113.10", 5986)


@pytest.mark.parametrize(
    "controller", ["*", "Any", "Internet", "0.0.0.0/0", "8.8.8.8/0", "10.0.0.0/8", "::/0", ""]
)
def test_bootstrap_refuses_an_open_controller_address(guest, controller):
    res = bootstrap(guest, controller=controller)
    assert res.exit_code == 1
    assert "Cannot validate argument on parameter 'ControllerAddress'" in res.stderr
    assert guest.winrm_listener() is None and "avd-golden-winrm-https" not in guest.firewall_rules


def test_bootstrap_needs_the_controller_address(guest):
    res = guest.run_command(
        FILES["enable_winrm_https"],
        [{"name": "PublicAddress", "value": "127.0.0.7"}, {"name": "ComputerName", "value": "avdbuild01"}],
    )
    assert res.exit_code == 1 and "missing mandatory parameters: ControllerAddress" in res.stderr
    assert guest.winrm_listener() is None


# --- Get-SysprepPreflight.ps1 -------------------------------------------------------------------
def preflight(run):
    result = run("win_powershell", {"script": FILES["sysprep_preflight"]})
    assert result["changed"] is False and "failed" not in result
    (text,) = result["output"]
    return json.loads(text)


def test_preflight_clean(run):
    facts = preflight(run)
    assert list(facts) == [
        "user_only_appx",
        "bitlocker",
        "pending_reboot",
        "services",
        "unattend_files",
        "image_state",
    ]
    assert facts["user_only_appx"] == []
    assert facts["bitlocker"] == {
        "mount_point": "C:",
        "volume_status": "FullyDecrypted",
        "protection_status": "Off",
        "encryption_percentage": 0,
    }
    assert set(facts["pending_reboot"].values()) == {False}
    assert facts["services"] == [
        {"name": "WindowsAzureGuestAgent", "exists": True, "status": "Running", "start_mode": "Automatic"},
        {"name": "RdAgent", "exists": True, "status": "Running", "start_mode": "Automatic"},
    ]
    assert facts["unattend_files"] == [r"C:\Windows\Panther\unattend.xml"]
    assert facts["image_state"] == "IMAGE_STATE_COMPLETE"


def test_preflight_sees_the_faults(run, guest):
    guest.inject_fault({"kind": "user_appx"})
    guest.inject_fault({"kind": "bitlocker_on"})
    guest.inject_fault({"kind": "pending_reboot", "reason": "windows_update"})
    guest.services["rdagent"].state = "stopped"
    facts = preflight(run)
    (pkg,) = facts["user_only_appx"]
    assert pkg["name"] == "Microsoft.Copilot" and pkg["users"] == ["AVDBUILD01\\avdadmin"]
    assert pkg["package_full_name"] == guest.appx_not_provisioned()[0][1]
    assert (
        facts["bitlocker"]["volume_status"] == "FullyEncrypted"
        and facts["bitlocker"]["protection_status"] == "On"
    )
    assert facts["pending_reboot"]["windows_update"] is True
    assert facts["services"][1]["status"] == "Stopped"


def test_preflight_in_check_mode_is_skipped_by_win_powershell(run):
    # The script has no SupportsShouldProcess: win_powershell skips it in check mode (the role sets check_mode: false).  # noqa: E501 - message text
    result = run("win_powershell", {"script": FILES["sysprep_preflight"]}, check=True)
    assert result["changed"] is True and result["msg"] == "skipped, running in check mode"


# --- Remove-UserOnlyAppx.ps1 --------------------------------------------------------------------
def test_remove_user_only_appx(run, guest):
    guest.inject_fault({"kind": "user_appx"})
    ((_user, full),) = guest.appx_not_provisioned()
    args = {"script": FILES["remove_user_only_appx"], "parameters": {"PackageFullName": [full]}}
    check = run("win_powershell", args, check=True)
    assert check["changed"] is True and check["result"] == {"removed": [full]}
    assert guest.appx_not_provisioned() != []
    done = run("win_powershell", args)
    assert done["changed"] is True and done["result"] == {"removed": [full]}
    assert guest.appx_not_provisioned() == []
    again = run("win_powershell", args)
    assert again["changed"] is False and again["result"] == {"removed": []}
    assert (
        run(
            "win_command",
            {"_raw_params": r"C:\Windows\System32\Sysprep\sysprep.exe /generalize /oobe /quit /mode:vm"},
        )["rc"]
        == 0
    )
    assert guest.image_state() == "IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE"


def test_remove_user_only_appx_single_string_and_missing_parameter(run, guest):
    guest.inject_fault({"kind": "user_appx"})
    ((_user, full),) = guest.appx_not_provisioned()
    assert run(
        "win_powershell", {"script": FILES["remove_user_only_appx"], "parameters": {"packagefullname": full}}
    )["result"] == {"removed": [full]}
    missing = run("win_powershell", {"script": FILES["remove_user_only_appx"]})
    assert missing["failed"] is True
    assert "missing mandatory parameters: PackageFullName" in missing["error"][0]["exception"]["message"]
    unknown = run("win_powershell", {"script": FILES["remove_user_only_appx"], "parameters": {"Name": "x"}})
    assert "A parameter cannot be found that matches parameter name 'Name'." in unknown["error"][0]["output"]


# --- Disable-BitLockerForSysprep.ps1 ------------------------------------------------------------
def test_disable_bitlocker_until_decrypted(run, guest):
    guest.inject_fault({"kind": "bitlocker_on"})
    script = {"script": FILES["disable_bitlocker_for_sysprep"]}
    check = run("win_powershell", script, check=True)
    assert check["changed"] is True and check["result"]["started"] is True
    assert guest.bitlocker["C:"]["volume_status"] == "FullyEncrypted"
    first = run("win_powershell", script)
    assert first["changed"] is True and first["result"]["volume_status"] == "DecryptionInProgress"
    assert first["result"]["protection_status"] == "Off"
    polls = [run("win_powershell", script) for _ in range(3)]
    assert all(p["changed"] is False and p["result"]["started"] is False for p in polls)
    assert polls[-1]["result"]["volume_status"] == "FullyDecrypted"
    assert polls[-1]["result"]["encryption_percentage"] == 0


# --- Stop-BuildVm.ps1 ---------------------------------------------------------------------------
def test_stop_build_vm(run, guest):
    bootstrap(guest)
    build_hash = guest.nt_hash
    result = run("win_powershell", {"script": FILES["stop_build_vm"]})
    assert result["changed"] is True
    assert guest.winrm_listener() is None
    assert not any(c["friendly_name"].startswith("avd-golden-winrm ") for c in guest.certificates.values())
    assert "avd-golden-winrm-https" not in guest.firewall_rules
    assert (
        guest.registry.get_value(
            r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System", "LocalAccountTokenFilterPolicy"
        )
        is None
    )
    assert guest.take_power_request() == ("shutdown", 10.0)
    # The build admin has a password nobody knows and is disabled.
    assert guest.admin_enabled is False
    assert guest.nt_hash != build_hash and len(guest.nt_hash) == 16
    assert guest.to_dict()["admin_enabled"] is False


def test_agent_stopped_fault_seen_by_preflight_and_fixed_by_win_service(run, guest):
    guest.inject_fault({"kind": "agent_stopped"})
    assert [s["status"] for s in preflight(run)["services"]] == ["Stopped", "Stopped"]
    for name in ("WindowsAzureGuestAgent", "RdAgent"):
        assert run("win_service", {"name": name, "state": "started"})["changed"] is True
    assert [s["status"] for s in preflight(run)["services"]] == ["Running", "Running"]
