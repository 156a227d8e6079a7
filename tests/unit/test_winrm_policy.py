"""WinRM policy (docs/contracts.md section 6; reliability requirement 10) as a lint over the content.

Every WinRM connection setting in playbooks, roles, inventories and Molecule scenarios must be
HTTPS on 5986, NTLM, certificate validation on: never `ignore`, never Basic/plaintext/ssl
transports, never plain HTTP or port 5985. The build VM's entry (windows_connect's add_host) must
set each of them explicitly, pinned to the certificate learned through Azure.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
SCANNED = ["build-golden.yml", "playbooks", "roles", "inventories", "tests/integration"]
FORBIDDEN = [
    (re.compile(r"server_cert_validation['\"]?\s*[:=]\s*['\"]?ignore", re.I), "certificate validation off"),
    (
        re.compile(r"winrm_transport['\"]?\s*[:=]\s*['\"]?(basic|plaintext|ssl)\b", re.I),
        "Basic authentication",
    ),
    (re.compile(r"winrm_scheme['\"]?\s*[:=]\s*['\"]?http\b", re.I), "plain HTTP"),
    (re.compile(r"\b5985\b"), "the HTTP WinRM port"),
    (re.compile(r"AllowUnencrypted['\"]?\s*[:=]?\s*\$?true", re.I), "unencrypted WinRM"),
]


def _content_files() -> list[Path]:
    files: list[Path] = []
    for entry in SCANNED:
        path = REPO / entry
        if path.is_file():
            files.append(path)
        elif path.is_dir():
            files.extend(p for p in path.rglob("*") if p.suffix in (".yml", ".yaml", ".ps1", ".json", ".py"))
    # This test names the forbidden values itself.
    return sorted(p for p in files if p.name != Path(__file__).name)


@pytest.mark.parametrize("pattern", FORBIDDEN, ids=[reason for _, reason in FORBIDDEN])
def test_no_insecure_winrm_setting(pattern: tuple[re.Pattern[str], str]) -> None:
    regex, reason = pattern
    hits = [
        f"{path.relative_to(REPO)}:{number}: {line.strip()}"
        for path in _content_files()
        for number, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
        if regex.search(line) and not line.lstrip().startswith("#")
    ]
    assert hits == [], f"{reason}: {hits}"


@pytest.mark.parametrize(
    "line",
    [
        "ansible_winrm_server_cert_validation: ignore",
        'ansible_winrm_transport: "basic"',
        "ansible_winrm_scheme: http",
        "ansible_port: 5985",
        "Set-Item WSMan:\\localhost\\Service\\AllowUnencrypted $true",
    ],
)
def test_the_lint_catches_insecure_lines(line: str) -> None:
    assert any(regex.search(line) for regex, _ in FORBIDDEN), line


def test_the_build_vm_joins_with_the_pinned_https_ntlm_connection() -> None:
    tasks = yaml.safe_load((REPO / "roles/windows_connect/tasks/inventory.yml").read_text())
    add_host = next(t for t in tasks if "ansible.builtin.add_host" in t)
    args = add_host["ansible.builtin.add_host"]
    assert args["ansible_connection"] == "winrm"
    assert args["ansible_winrm_scheme"] == "https"
    assert args["ansible_winrm_transport"] == "ntlm"
    assert args["ansible_winrm_server_cert_validation"] == "validate"
    assert "winrm-" in (REPO / "roles/windows_connect/vars/main.yml").read_text()
    assert args["ansible_winrm_ca_trust_path"] == "{{ __windows_connect_pem_path }}"
    assert add_host.get("no_log") is True, "the password passes through this task"
    defaults = yaml.safe_load((REPO / "roles/windows_connect/defaults/main.yml").read_text())
    assert defaults["windows_connect_port"] == 5986


def test_the_bootstrap_script_keeps_basic_and_unencrypted_off() -> None:
    script = (REPO / "roles/windows_connect/files/Enable-WinRMHttps.ps1").read_text()
    assert re.search(r"Set-Item -Path 'WSMan:\\localhost\\Service\\Auth\\Basic' -Value \$false", script)
    assert re.search(r"Set-Item -Path 'WSMan:\\localhost\\Service\\AllowUnencrypted' -Value \$false", script)
    assert "Transport = 'HTTPS'" in script


def test_winrm_is_open_to_the_controller_only_in_both_network_modes() -> None:
    """The NSG rule (temporary mode) and the guest firewall rule (both modes; with an existing subnet
    it is the only scope) admit the normalised controller address, never the raw variable."""
    script = (REPO / "roles/windows_connect/files/Enable-WinRMHttps.ps1").read_text()
    mandatory = (
        r"\[Parameter\(Mandatory = \$true\)\]\s*\[ValidatePattern\('[^']+'\)\]\s*"
        r"\[string\] \$ControllerAddress"
    )
    assert re.search(mandatory, script)
    assert re.search(r"RemoteAddress\s*=\s*\$ControllerAddress", script)
    bootstrap = yaml.safe_load((REPO / "roles/windows_connect/tasks/bootstrap.yml").read_text())
    params = bootstrap[0]["azure.azcollection.azure_rm_resource"]["body"]["parameters"]
    assert {"name": "ControllerAddress", "value": "{{ __windows_connect_controller_source }}"} in params
    assert (
        "avd.golden.controller_source_prefix"
        in (REPO / "roles/windows_connect/tasks/validate.yml").read_text()
    )
    nsg_tasks = yaml.safe_load((REPO / "roles/azure_build_vm/tasks/network_temporary.yml").read_text())
    nsg = next(t for t in nsg_tasks if "azure.azcollection.azure_rm_securitygroup" in t)
    rules = nsg["azure.azcollection.azure_rm_securitygroup"]["rules"]
    allow = [r for r in rules if r["access"] == "Allow"]
    assert [r["source_address_prefix"] for r in allow] == ["{{ __azure_build_vm_controller_source }}"]
    validate = (REPO / "roles/azure_build_vm/tasks/validate.yml").read_text()
    assert "__azure_build_vm_controller_source" in validate and "controller_source_prefix" in validate
    assert "when:" not in validate.split("- name: validate | Check the existing subnet id")[0], "both modes"
