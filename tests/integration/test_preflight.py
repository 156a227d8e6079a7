"""The preflight phase: conflicts found before anything exists, by read-only ARM look-ups.

Each case runs the real entry point, `ansible-playbook build-golden.yml`, against one sandbox
(reset between cases) with a copy of images/win11-24h2-avd.yml. Every run stops in preflight, so
each costs seconds: the test then checks that the run failed in that phase naming the image spec
field, that Azure saw no write at all (no PUT, PATCH, POST or DELETE under /subscriptions/), and
that nothing but what the test created itself exists. The gallery, image definition and version
a case needs are created beforehand through ARM, as another tool (or an earlier build) would.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.arm_emulator import nic_body, vm_body, winrm_rule
from tests.support.guest_observer import BuildRun, run_playbook
from tests.support.paths import REPO
from tests.support.sandbox_process import Sandbox

pytestmark = pytest.mark.integration

GALLERY_RG = "rg-avd-images"
GALLERY = "gal_avd_images"
DEFINITION = "win11-24h2-avd"
WRITES = ("PUT", "PATCH", "POST", "DELETE")


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as sb:
        yield sb


def _spec(tmp: Path, gallery: dict[str, Any] | None = None, **top: Any) -> Path:
    """images/win11-24h2-avd.yml with `gallery` merged into its gallery section, `top` into the root."""
    data = yaml.safe_load((REPO / "images" / "win11-24h2-avd.yml").read_text())
    data["gallery"].update(gallery or {})
    for key, value in top.items():
        data[key] = {**data[key], **value} if isinstance(value, dict) else value
    data["gallery"] = {k: v for k, v in data["gallery"].items() if v is not None}
    path = tmp / "image.yml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def _build(sandbox: Sandbox, tmp: Path, spec: Path, *args: str) -> BuildRun:
    evars = {"image_spec": str(spec), "image_spec_artifacts_root": str(tmp / "artifacts")}
    run = run_playbook(sandbox, "build-golden.yml", "-e", json.dumps(evars), *args, timeout=600)
    (tmp / "stdout.txt").write_text(run.stdout + "\n--- stderr\n" + run.stderr)  # for diagnosis
    return run


def _arm(sandbox: Sandbox, method: str, path: str, api: str, body: Any = None) -> None:
    """One ARM call (the test's own setup), waited for when it is a long-running operation."""
    url = f"/subscriptions/{sandbox.subscription_id}{path}?api-version={api}"
    result = sandbox.request(method, url, body)
    assert result.status < 300, result
    poll = result.headers.get("Azure-AsyncOperation")
    for _ in range(50):
        if not poll:
            return
        status = sandbox.request("GET", poll)
        if status.body and status.body.get("status") in ("Succeeded", "Failed", "Canceled"):
            assert status.body["status"] == "Succeeded", status
            return
    raise AssertionError(f"{method} {path} did not finish")


def _gallery(
    sandbox: Sandbox, *, definition: dict[str, Any] | None = None, version: str | None = None
) -> None:
    """The gallery's resource group and gallery; with `definition` (properties) an image
    definition, with `version` also an image version of it (from a generalized VM)."""
    rg = f"/resourceGroups/{GALLERY_RG}"
    _arm(sandbox, "PUT", rg, "2022-09-01", {"location": "westeurope"})
    gallery = f"{rg}/providers/Microsoft.Compute/galleries/{GALLERY}"
    _arm(sandbox, "PUT", gallery, "2022-03-03", {"location": "westeurope"})
    if definition is None:
        return
    image = f"{gallery}/images/{DEFINITION}"
    _arm(sandbox, "PUT", image, "2022-03-03", {"location": "westeurope", "properties": definition})
    if version is not None:
        vm_id = _generalized_vm(sandbox)
        body = {
            "location": "westeurope",
            "tags": {"avd-build-id": "someone-else-20260101000000-abcd"},
            "properties": {"storageProfile": {"source": {"virtualMachineId": vm_id}}},
        }
        _arm(sandbox, "PUT", f"{image}/versions/{version}", "2023-07-03", body)


def _generalized_vm(sandbox: Sandbox) -> str:
    """A Trusted Launch VM in rg-other, stopped and generalized, as an earlier build left it."""
    net = "/resourceGroups/rg-other/providers/Microsoft.Network"
    ids = {
        "vnet": f"{net}/virtualNetworks/vnet1",
        "subnet": f"{net}/virtualNetworks/vnet1/subnets/snet1",
        "nsg": f"{net}/networkSecurityGroups/nsg1",
        "pip": f"{net}/publicIPAddresses/pip1",
        "nic": f"{net}/networkInterfaces/nic1",
    }
    full = {k: f"/subscriptions/{sandbox.subscription_id}{v}" for k, v in ids.items()}
    api = "2024-03-01"
    _arm(sandbox, "PUT", "/resourceGroups/rg-other", "2022-09-01", {"location": "westeurope"})
    vnet = {"location": "westeurope", "properties": {"addressSpace": {"addressPrefixes": ["10.9.0.0/24"]}}}
    _arm(sandbox, "PUT", ids["vnet"], api, vnet)
    _arm(
        sandbox,
        "PUT",
        ids["nsg"],
        api,
        {"location": "westeurope", "properties": {"securityRules": [winrm_rule()]}},
    )
    subnet = {"properties": {"addressPrefix": "10.9.0.0/26", "networkSecurityGroup": {"id": full["nsg"]}}}
    _arm(sandbox, "PUT", ids["subnet"], api, subnet)
    pip = {
        "location": "westeurope",
        "sku": {"name": "Standard"},
        "properties": {"publicIPAllocationMethod": "Static"},
    }
    _arm(sandbox, "PUT", ids["pip"], api, pip)
    _arm(sandbox, "PUT", ids["nic"], api, nic_body(full))
    vm = "/resourceGroups/rg-other/providers/Microsoft.Compute/virtualMachines/vm1"
    _arm(sandbox, "PUT", vm, "2024-07-01", vm_body(full))
    _arm(sandbox, "POST", f"{vm}/powerOff", "2024-07-01")
    sandbox.set_image_state("vm1", "IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE")
    _arm(sandbox, "POST", f"{vm}/generalize", "2024-07-01")
    return f"/subscriptions/{sandbox.subscription_id}{vm}"


TRUSTED_LAUNCH_V2 = {
    "osType": "Windows",
    "osState": "Generalized",
    "hyperVGeneration": "V2",
    "identifier": {"publisher": "Contoso", "offer": "avd-golden", "sku": "win11-24h2-avd"},
    "features": [{"name": "SecurityType", "value": "TrustedLaunch"}],
}


def _writes_since(sandbox: Sandbox, start: int) -> list[str]:
    return [
        f"{r['method']} {r['path']}"
        for r in sandbox.requests()[start:]
        if r["method"] in WRITES and r["path"].startswith("/subscriptions/")
    ]


def _failed_in_preflight(run: BuildRun, *fields: str) -> str:
    """The preflight failure message; asserts the run failed there and names each field."""
    assert run.returncode != 0, run.stdout[-4000:]
    assert "Phase preflight failed" in run.stdout, run.stdout[-6000:]
    report = run.report()
    assert report["result"] == "failed" and report["failure"]["phase"] == "preflight", report["failure"]
    phases = {p["name"]: p["status"] for p in report["phases"]}
    assert phases["provision"] == "skipped" and phases["capture"] == "skipped", phases
    assert report["resources"] == [], "preflight records no resource: nothing was created"
    message = report["failure"]["message"]
    for field in fields:
        assert f"{field}: " in message, message
    return message


def _resource_ids(sandbox: Sandbox) -> set[str]:
    return set(sandbox.state()["resources"])


def test_an_explicit_version_that_exists_fails_before_any_write(sandbox: Sandbox, tmp_path: Path) -> None:
    sandbox.reset()
    _gallery(sandbox, definition=TRUSTED_LAUNCH_V2, version="1.2.3")
    before, start = _resource_ids(sandbox), len(sandbox.requests())
    spec = _spec(tmp_path, {"version": {"strategy": "explicit", "value": "1.2.3"}})
    run = _build(sandbox, tmp_path, spec)
    message = _failed_in_preflight(run, "gallery.version.value")
    assert "1.2.3 already exists" in message and "someone-else-20260101000000-abcd" in message
    assert _writes_since(sandbox, start) == []
    assert _resource_ids(sandbox) == before
    assert sandbox.unmodelled() == []


def test_a_missing_gallery_is_not_created_without_the_key(sandbox: Sandbox, tmp_path: Path) -> None:
    sandbox.reset()
    rg = f"/resourceGroups/{GALLERY_RG}"
    _arm(sandbox, "PUT", rg, "2022-09-01", {"location": "westeurope"})
    before, start = _resource_ids(sandbox), len(sandbox.requests())
    run = _build(sandbox, tmp_path, _spec(tmp_path, {"create_if_missing": None}))
    message = _failed_in_preflight(run, "gallery.name")
    assert "gallery.resource_group: " not in message  # the group exists; only the gallery is missing
    assert "create_if_missing: true" in message
    assert _writes_since(sandbox, start) == []
    assert _resource_ids(sandbox) == before
    assert sandbox.unmodelled() == []


def test_a_version_the_marketplace_does_not_have_fails_naming_it(sandbox: Sandbox, tmp_path: Path) -> None:
    sandbox.reset()
    spec = _spec(tmp_path, source={"version": "26100.1.1"})
    run = _build(sandbox, tmp_path, spec)
    message = _failed_in_preflight(run, "source.version")
    assert "26100.1.1 is not a published version" in message
    assert _writes_since(sandbox, 0) == []
    assert sandbox.state()["resources"] == {}
    assert sandbox.unmodelled() == []


def test_check_mode_reports_the_conflict_too(sandbox: Sandbox, tmp_path: Path) -> None:
    sandbox.reset()
    run = _build(sandbox, tmp_path, _spec(tmp_path, {"create_if_missing": False}), "--check")
    assert run.returncode != 0, run.stdout[-4000:]
    assert "Phase preflight failed" in run.stdout
    assert "gallery.resource_group: " in run.stdout and "gallery.name: " in run.stdout
    assert _writes_since(sandbox, 0) == []
    assert sandbox.state()["resources"] == {}
