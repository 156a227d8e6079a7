"""avd.golden.azure_build_vm's validate entry point (run by the validate phase before anything
exists): the controller address is normalised in both network modes, and refused naming the
variable and the reason."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
VENV_BIN = Path(sys.executable).parent
SUBNET = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-net/providers/"
    "Microsoft.Network/virtualNetworks/vnet-hub/subnets/build"
)
PLAYBOOK = """\
---
- name: Check the provision inputs
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Run the validate entry point
      ansible.builtin.include_role:
        name: avd.golden.azure_build_vm
        tasks_from: validate
    - name: Show the normalised address
      ansible.builtin.debug:
        var: __azure_build_vm_controller_source
"""


def _run(tmp_path: Path, **extra: Any) -> tuple[int, str]:
    playbook = tmp_path / "validate.yml"
    playbook.write_text(PLAYBOOK)
    variables = {
        # The build context the validate phase sets (only what the role's defaults read).
        "avd_build": {
            "ledger_path": str(tmp_path / "ledger.json"),
            "location": "westeurope",
            "resource_group": "rg-avd-build",
            "resource_group_created_by_build": True,
            "names": {
                key: f"{key}-avd-build"
                for key in ("vnet", "subnet", "nsg", "public_ip", "nic", "vm", "os_disk")
            }
            | {"computer_name": "avdbuild01"},
            "tags": {},
        },
        "avd_image": {
            "source": {"publisher": "p", "offer": "o", "sku": "s", "version": "latest"},
            "build_vm": {"size": "Standard_D4s_v5", "os_disk_size_gb": 128, "os_disk_type": "Premium_LRS"},
            "gallery": {"image_definition": {"security_type": "TrustedLaunch"}},
            "network": {"mode": "existing_subnet", "address_prefix": None, "existing_subnet_id": SUBNET},
        },
        **extra,
    }
    env = {
        **os.environ,
        "ANSIBLE_COLLECTIONS_PATH": str(REPO_ROOT / "collections"),
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / ".ansible-tmp"),
        "ANSIBLE_NOCOLOR": "1",
    }
    env.pop("ANSIBLE_CONFIG", None)
    proc = subprocess.run(
        [
            str(VENV_BIN / "ansible-playbook"),
            "-i",
            "localhost,",
            "-c",
            "local",
            "-e",
            f"ansible_python_interpreter={sys.executable}",
            "-e",
            json.dumps(variables),
            str(playbook),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    return proc.returncode, proc.stdout + proc.stderr


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({}, "azure_build_vm_controller_address: must be the controller's IPv4 address"),
        (
            {"azure_build_vm_network_mode": "temporary", "azure_build_vm_controller_address": "8.8.8.8/0"},
            "azure_build_vm_controller_address: '8.8.8.8/0' is refused: a /0 prefix is every address",
        ),
    ],
    ids=["existing_subnet needs it too", "temporary refuses a /0"],
)
def test_refused_before_anything_exists(tmp_path: Path, extra: dict[str, Any], message: str) -> None:
    rc, out = _run(tmp_path, **extra)
    assert rc == 2, out
    assert message in " ".join(out.split()), out


def test_normalised_within_the_bound(tmp_path: Path) -> None:
    rc, out = _run(
        tmp_path,
        azure_build_vm_controller_address="10.20.0.0/255.255.255.240",
        azure_build_vm_controller_widest_prefix=28,
    )
    assert rc == 0, out
    assert '"__azure_build_vm_controller_source": "10.20.0.0/28"' in out, out
