"""The Azure side of a build against the ARM emulator, checked by the emulator's state.

Runs tests/integration/playbooks/azure_side.yml: the real validate, provision, capture, teardown
and report playbooks. The Windows side (connect, configure, sysprep) is tested elsewhere; here a
test-only play stands in for the guest's sysprep: it marks the simulated guest generalized
through the sandbox control endpoint (POST /_sandbox/guests/<vm>/image-state, docs/contracts.md section 1)
and stops the VM through Azure, as `sysprep /generalize /oobe /shutdown` would. The product never
does this.

Secret hygiene: the run passes a canary administrator password (avd_build_admin_password), which
the provision role uses instead of generating one, so the canary takes every path a generated
password takes; the test then searches the -vvv output, the artifacts, the emulator's request log,
state and log for it. That the generated password meets Azure's rules is shown by the failure
test, whose run generates one and gets as far as the VM PUT.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.azure_side import (
    CANARY_PASSWORD,
    Run,
    build_puts,
    changed_tasks_per_play,
    extra_vars,
    image_spec,
    report_of,
    run_azure_side,
    temporary_resources,
)
from tests.support.paths import REPO
from tests.support.runs import image_versions
from tests.support.sandbox_process import Sandbox

pytestmark = pytest.mark.integration

REGIONS = [
    {"name": "westeurope", "replica_count": 2, "storage_account_type": "Standard_ZRS"},
    {"name": "northeurope", "replica_count": 1, "storage_account_type": "Premium_LRS"},
]
REPEAT_PLAY = "Repeat a phase to prove it changes nothing"


class Build:
    """The outcome of one run, with the emulator's state read right after it."""

    def __init__(self, sandbox: Sandbox, tmp: Path, run: Run) -> None:
        self.sandbox = sandbox
        self.tmp = tmp
        self.run = run
        self.state = sandbox.state()
        self.requests = sandbox.requests()
        self.unmodelled = sandbox.unmodelled()
        self.report = report_of(tmp / "artifacts")


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox() as sb:
        yield sb


@pytest.fixture(scope="module")
def build(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Build:
    """One successful build with every role repeated once, at -vvv, with the canary password."""
    tmp = tmp_path_factory.mktemp("azure-side")
    definition = image_spec(
        tmp,
        target_regions=REGIONS,
        exclude_from_latest=True,
        end_of_life_date="2031-12-31",
        version={"strategy": "increment"},
    )
    evars = extra_vars(
        definition, tmp / "artifacts", avd_test_repeat=True, avd_build_admin_password=CANARY_PASSWORD
    )
    run = run_azure_side(sandbox, evars, "-vvv")
    (tmp / "stdout.jsonl").write_text(run.stdout)  # kept for diagnosis with the pytest tmp dir
    assert run.returncode == 0, run.explain()
    return Build(sandbox, tmp, run)


def test_image_version_is_published_as_requested(build: Build) -> None:
    versions = image_versions(build.state)
    assert list(versions) == [build.report["image_version_id"].lower()]
    version = next(iter(versions.values()))
    assert version["name"] == "1.0.0"  # increment strategy on an empty gallery image definition
    props = version["properties"]
    assert props["provisioningState"] == "Succeeded"
    profile = props["publishingProfile"]
    regions = {r["name"].replace(" ", "").lower(): r for r in profile["targetRegions"]}
    assert set(regions) == {"westeurope", "northeurope"}
    assert regions["westeurope"]["regionalReplicaCount"] == 2
    assert regions["westeurope"]["storageAccountType"] == "Standard_ZRS"
    assert regions["northeurope"]["regionalReplicaCount"] == 1
    assert regions["northeurope"]["storageAccountType"] == "Premium_LRS"
    assert profile["excludeFromLatest"] is True
    assert profile["endOfLifeDate"].startswith("2031-12-31")
    vm_id = build.report["details"]["build_vm"]["vm_id"]
    assert props["storageProfile"]["source"]["virtualMachineId"].lower() == vm_id.lower()
    tags = version["tags"]
    assert tags["avd-build-id"] == build.report["build_id"]
    assert tags["avd-image"] == "win11-24h2-avd"
    assert tags["avd-source-image"] == "MicrosoftWindowsDesktop:windows-11:win11-24h2-avd"
    assert tags["avd-source-image-version"] not in ("", "latest")
    assert "avd-build-delete-after" not in tags  # the version outlives the build


def test_image_definition_matches_the_trusted_launch_vm(build: Build) -> None:
    definitions = [
        res
        for res in build.state["resources"].values()
        if res.get("type", "").lower() == "microsoft.compute/galleries/images"
    ]
    assert len(definitions) == 1
    props = definitions[0]["properties"]
    assert props["hyperVGeneration"] == "V2"
    assert props["osState"] == "Generalized"
    assert {"name": "SecurityType", "value": "TrustedLaunch"} in props["features"]
    assert props["identifier"] == {"publisher": "Contoso", "offer": "avd-golden", "sku": "win11-24h2-avd"}


def test_build_vm_was_trusted_launch_windows_client(build: Build) -> None:
    vm_puts = [
        r for r in build_puts(build.requests, _build_rg(build)) if "/virtualmachines/" in r["path"].lower()
    ]
    assert vm_puts, "no VM PUT in the request log"
    for put in vm_puts:  # the create and the generalize step's re-PUT alike
        props = put["body"]["properties"]
        assert props["licenseType"] == "Windows_Client"
        assert props["securityProfile"]["securityType"] == "TrustedLaunch"
        assert props["securityProfile"]["uefiSettings"] == {"secureBootEnabled": True, "vTpmEnabled": True}
    create = vm_puts[0]["body"]["properties"]
    assert create["osProfile"]["windowsConfiguration"]["enableAutomaticUpdates"] is False
    assert create["osProfile"]["windowsConfiguration"]["provisionVMAgent"] is True
    assert create["storageProfile"]["imageReference"]["sku"] == "win11-24h2-avd"
    assert build.report["source_image"]["exact_version"] not in (None, "", "latest")


def test_nsg_admits_winrm_from_the_controller_only(build: Build) -> None:
    nsg_puts = [
        r
        for r in build_puts(build.requests, _build_rg(build))
        if "/networksecuritygroups/" in r["path"].lower()
    ]
    rules = {r["name"]: r["properties"] for r in nsg_puts[0]["body"]["properties"]["securityRules"]}
    allow = [p for p in rules.values() if p["access"] == "Allow"]
    assert len(allow) == 1
    assert allow[0]["sourceAddressPrefix"] == "127.0.0.1"
    assert allow[0]["destinationPortRange"] == "5986" and allow[0]["protocol"] == "Tcp"
    deny = [p for p in rules.values() if p["access"] == "Deny"]
    assert deny and deny[0]["sourceAddressPrefix"] == "*" and deny[0]["destinationPortRange"] == "*"


def test_every_build_resource_was_tagged(build: Build) -> None:
    puts = build_puts(build.requests, _build_rg(build))
    kinds = set()
    for put in puts:
        path = put["path"].lower()
        if "/subnets/" in path:
            continue  # subnets have no tags in ARM
        kinds.add(path.split("/providers/")[-1].split("/")[1] if "/providers/" in path else "resourcegroups")
        tags = put["body"].get("tags") or {}
        assert tags.get("avd-build-id") == build.report["build_id"], put["path"]
        assert tags.get("avd-build-delete-after"), put["path"]
        assert "avd-build-owner" in tags, put["path"]
    assert kinds >= {
        "resourcegroups",
        "virtualnetworks",
        "networksecuritygroups",
        "publicipaddresses",
        "networkinterfaces",
        "virtualmachines",
    }


def test_no_temporary_resource_is_left(build: Build) -> None:
    assert temporary_resources(build.state) == []
    kinds = sorted(res["type"] for res in build.state["resources"].values())
    assert kinds == [
        "Microsoft.Compute/galleries",
        "Microsoft.Compute/galleries/images",
        "Microsoft.Compute/galleries/images/versions",
        "Microsoft.Resources/resourceGroups",
    ], kinds


def test_report_lists_every_resource_removed(build: Build) -> None:
    report = build.report
    assert report["result"] == "succeeded"
    assert (
        report["image_version_id"]
        .lower()
        .endswith("/galleries/gal_avd_images/images/win11-24h2-avd/versions/1.0.0")
    )
    types = {r["type"].lower() for r in report["resources"]}
    assert types == {
        "microsoft.resources/resourcegroups",
        "microsoft.network/virtualnetworks",
        "microsoft.network/virtualnetworks/subnets",
        "microsoft.network/networksecuritygroups",
        "microsoft.network/publicipaddresses",
        "microsoft.network/networkinterfaces",
        "microsoft.compute/virtualmachines",
        "microsoft.compute/disks",
    }
    assert all(r["removed"] is True for r in report["resources"]), report["resources"]
    phases = {p["name"]: p["status"] for p in report["phases"]}
    assert phases["provision"] == phases["capture"] == phases["teardown"] == "ok"
    assert any(report_path_printed(e) for e in build.run.events)


def report_path_printed(event: dict[str, Any]) -> bool:
    if event.get("task", {}).get("name") != "Print the report path":
        return False
    results = (event.get("hosts") or {}).values()
    return any(str(r.get("msg", "")).endswith("/report.json") for r in results)


def test_nothing_unmodelled_was_requested(build: Build) -> None:
    assert build.unmodelled == []


def test_second_run_of_each_role_changes_nothing(build: Build) -> None:
    plays = changed_tasks_per_play(build.run.events)
    repeats = [changed for name, changed in plays if name == REPEAT_PLAY]
    assert len(repeats) == 3, [name for name, _ in plays]
    assert repeats == [[], [], []]
    first = {name: changed for name, changed in plays}
    provision = next(name for name in first if name.endswith(" · Provision the build VM"))
    assert first[provision], "the first provision changed nothing?"


def test_the_admin_password_never_leaks(build: Build) -> None:
    canary = CANARY_PASSWORD
    assert canary not in build.run.stdout and canary not in build.run.stderr
    for path in (build.tmp / "artifacts").rglob("*"):
        if path.is_file():
            assert canary not in path.read_text(errors="replace"), path
    assert canary not in json.dumps(build.requests)
    assert canary not in json.dumps(build.state)
    for path in build.sandbox.state_dir.rglob("*"):
        if path.is_file() and path.suffix in (".json", ".jsonl", ".log", ""):
            assert canary.encode() not in path.read_bytes(), path
    # The canary did reach Azure (it is the VM's password), so its absence above means something.
    vm_put = next(
        r for r in build.requests if r["method"] == "PUT" and "/virtualmachines/" in r["path"].lower()
    )
    assert "adminPassword" in json.dumps(vm_put["body"]) or "osProfile" in vm_put["body"]["properties"]


def test_failed_vm_create_names_the_phase_and_tears_down(sandbox: Sandbox, tmp_path: Path) -> None:
    sandbox.reset()
    sandbox.fault(
        target="arm",
        method="PUT",
        path=r"/virtualMachines/[^/]+$",
        kind="lro_failed",
        count=1,
        code="AllocationFailed",
    )
    try:
        run = run_azure_side(sandbox, extra_vars(image_spec(tmp_path), tmp_path / "artifacts"))
        (tmp_path / "stdout.jsonl").write_text(run.stdout)
    finally:
        sandbox.clear_faults()
    assert run.returncode != 0, run.explain()
    assert "failed in phase provision" in run.stdout, run.explain()
    assert "AllocationFailed" in run.stdout
    state = sandbox.state()
    assert temporary_resources(state) == []
    assert image_versions(state) == {}
    report = report_of(tmp_path / "artifacts")
    assert report["result"] == "failed"
    assert report["failure"]["phase"] == "provision"
    assert report["resources"] and all(r["removed"] for r in report["resources"])
    phases = {p["name"]: p["status"] for p in report["phases"]}
    assert phases["provision"] == "failed" and phases["capture"] == "skipped" and phases["teardown"] == "ok"
    assert sandbox.unmodelled() == []


def _build_rg(build: Build) -> str:
    return f"rg-avdbuild-{build.report['build_id']}"


def test_check_mode_creates_nothing(sandbox: Sandbox, tmp_path: Path) -> None:
    """The whole build in check mode: validate and the provision preview run, the phases that need
    the build VM say they have nothing to check, and nothing is written to Azure or to disk."""
    sandbox.reset()
    run = run_azure_side(
        sandbox,
        extra_vars(image_spec(tmp_path), tmp_path / "artifacts"),
        "--check",
        playbook=REPO / "build-golden.yml",
    )
    assert run.returncode == 0, run.explain()
    assert "failed in phase" not in run.stdout
    for phase in ("connect", "configure", "sysprep", "capture"):
        assert f"so the {phase} phase has nothing to check" in run.stdout, run.explain()
    assert sandbox.state()["resources"] == {}
    writes = [
        r
        for r in sandbox.requests()
        if r["method"] in ("PUT", "POST", "PATCH", "DELETE") and r["path"].startswith("/subscriptions/")
    ]
    assert writes == []
    assert sandbox.unmodelled() == []
    assert not list((tmp_path / "artifacts").glob("*/report.json"))  # check mode writes no files
