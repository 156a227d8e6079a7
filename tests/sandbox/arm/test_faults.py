"""The ARM fault kinds the fault matrix needs, produced the way Azure produces them (in-process
emulator): throttling headers, 5xx bursts, failed LROs, AllocationFailed on a VM create, a
replication failure in one region, and strict refusal of faults that could not happen."""

from __future__ import annotations

from typing import Any

import pytest

from tests.sandbox.arm.test_lifecycle import GALLERY_VERSION_API, NET, READY, _gallery, _post, _version_body
from tests.support.arm_emulator import Emu, vm_body


def _arm(emu: Emu, **spec: Any) -> Any:
    return emu.call("POST", "/_sandbox/faults", {"target": "arm", **spec}, token=None)


def test_throttle_sends_retry_after_and_the_ratelimit_headers(emu: Emu) -> None:
    emu.put_rg()
    r = _arm(emu, method="GET", path="resourcegroups/rg1$", kind="throttle", retry_after=7)
    assert r.status == 201
    r = emu.call("GET", emu.rg(), api="2022-09-01")
    assert (r.status, r.body["error"]["code"]) == (429, "TooManyRequests")
    assert r.headers["Retry-After"] == "7"
    assert r.headers["x-ms-ratelimit-remaining-subscription-reads"] == "0"
    rid = f"{emu.rg()}/providers/Microsoft.Network/publicIPAddresses/p1"
    _arm(emu, method="PUT", path="publicIPAddresses", kind="throttle", policy="Microsoft.Network/PutPip3Min")
    r = emu.call("PUT", rid, {"location": "westeurope"}, api=NET)
    assert r.status == 429
    assert r.headers["x-ms-ratelimit-remaining-subscription-writes"] == "0"
    assert r.headers["x-ms-ratelimit-remaining-resource"] == "Microsoft.Network/PutPip3Min;0"
    assert emu.call("GET", emu.rg(), api="2022-09-01").status == 200  # used up


def test_a_burst_of_n_server_errors_then_success(emu: Emu) -> None:
    emu.put_rg()
    _arm(emu, method="GET", path="resourcegroups/rg1$", kind="server_error", status=503, count=3)
    codes = [emu.call("GET", emu.rg(), api="2022-09-01").status for _ in range(4)]
    assert codes == [503, 503, 503, 200]


def test_allocation_failed_on_the_vm_create(emu: Emu) -> None:
    ids = emu.network()
    assert _arm(emu, kind="allocation_failed").status == 201
    vid = f"{emu.rg()}/providers/Microsoft.Compute/virtualMachines/vm1"
    r = emu.call("PUT", vid, vm_body(ids), api="2024-07-01")
    assert r.status == 201, r.body
    status = emu.done(r)
    assert status.body["status"] == "Failed"
    assert status.body["error"]["code"] == "AllocationFailed"
    assert "sufficient capacity" in status.body["error"]["message"]
    vm = emu.call("GET", vid, api="2024-07-01").body
    assert vm["properties"]["provisioningState"] == "Failed"


def test_replication_failure_in_one_region(emu: Emu) -> None:
    ids = emu.network()
    emu.vm(ids)
    image = _gallery(emu)
    emu.done(_post(emu, ids["vm"], "deallocate"))
    emu.guest.image_states[ids["vm"].lower()] = READY
    assert _post(emu, ids["vm"], "generalize").status == 200
    # A region the version does not target never fires.
    _arm(emu, kind="replication_failed", region="eastus")
    _arm(emu, kind="replication_failed", region="northeurope")
    r = emu.call("PUT", image + "/versions/1.0.0", _version_body(ids["vm"]), api=GALLERY_VERSION_API)
    status = emu.done(r)
    assert status.body["status"] == "Failed"
    assert "Gallery replication jobs failed in one or more regions" in status.body["error"]["message"]
    assert "region:northeurope" in status.body["error"]["message"]
    v = emu.call(
        "GET", image + "/versions/1.0.0", api=GALLERY_VERSION_API, query={"$expand": "ReplicationStatus"}
    ).body
    assert v["properties"]["provisioningState"] == "Failed"
    summary = {s["region"]: s["state"] for s in v["properties"]["replicationStatus"]["summary"]}
    assert summary == {"West Europe": "Completed", "North Europe": "Failed"}
    assert v["properties"]["replicationStatus"]["aggregatedState"] == "Failed"
    faults = emu.call("GET", "/_sandbox/faults", token=None).body["faults"]
    assert [(f["region"], f["hits"]) for f in faults] == [("eastus", 0), ("northeurope", 1)]
    # A failed version can be deleted (teardown does), and the name used again.
    r = emu.call("DELETE", image + "/versions/1.0.0", api=GALLERY_VERSION_API)
    emu.done(r)
    assert emu.call("GET", image + "/versions/1.0.0", api=GALLERY_VERSION_API).status == 404


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ({"kind": "throttle", "status": 503}, "status: must be an integer from 429 to 429"),
        ({"kind": "server_error", "status": 429}, "status: must be an integer from 500 to 599"),
        ({"kind": "server_error", "count": 0}, "count: must be an integer"),
        ({"kind": "throttle", "retry_after": "soon"}, "retry_after"),
        ({"kind": "lro_failed", "status": 500}, "Fields not known"),
        ({"kind": "lro_failed", "code": "not a code"}, "code: not a valid value"),
        ({"kind": "allocation_failed", "path": "x"}, "VM PUTs only"),
        ({"kind": "replication_failed"}, "region: the target region"),
        ({"kind": "replication_failed", "region": "northeurope", "method": "GET"}, "image version PUTs only"),
        ({"kind": "throttle", "method": "FETCH"}, "method: one of"),
        ({"kind": "throttle", "policy": "PutVM3Min"}, "policy: not a valid value"),
    ],
)
def test_faults_that_could_not_happen_are_refused(emu: Emu, spec: dict[str, Any], fragment: str) -> None:
    r = _arm(emu, **spec)
    assert (r.status, r.body["error"]["code"]) == (400, "InvalidFault")
    assert fragment in r.body["error"]["message"]
