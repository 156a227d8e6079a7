"""The transient-fault classifier the phase wrapper re-runs a phase by (plugins/plugin_utils/_faults.py),
over failure results shaped as azure.azcollection and Ansible's winrm connection produce them."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[4]
sys.path.insert(0, str(REPO_ROOT / "collections"))

from ansible_collections.avd.golden.plugins.plugin_utils._faults import (  # noqa: E402
    backoff_seconds,
    classify,
)

SUB = "00000000-0000-0000-0000-000000000000"
VM = f"/subscriptions/{SUB}/resourceGroups/rg-b1/providers/Microsoft.Compute/virtualMachines/vm-b1"
GALLERY = f"/subscriptions/{SUB}/resourceGroups/rg-gal/providers/Microsoft.Compute/galleries/g"
VERSION = f"{GALLERY}/images/img/versions/1.0.0"


def _sdk(code: str, message: str, prefix: str = "Error creating or updating the VM vm-b1 - ") -> str:
    # str(azure.core.exceptions.HttpResponseError), as azcollection's modules put it in msg.
    return f"{prefix}({code}) {message}\nCode: {code}\nMessage: {message}"


@pytest.mark.parametrize(
    ("result", "kind", "code", "status"),
    [
        (
            {"msg": _sdk("TooManyRequests", "The request is being throttled.")},
            "throttled",
            "TooManyRequests",
            None,
        ),
        (
            {
                "msg": "MODULE FAILURE",
                "module_stderr": 'SendRequestException: (\'{"error":{"code":"TooManyRequests",'
                '"message":"throttled"}}\', 429)',
            },
            "throttled",
            "TooManyRequests",
            429,
        ),
        (
            {"msg": _sdk("InternalServerError", "Encountered internal server error.")},
            "server_error",
            "InternalServerError",
            None,
        ),
        ({"msg": "Operation returned an invalid status 'Service Unavailable'"}, "server_error", None, 503),
        (
            {
                "msg": _sdk(
                    "InternalExecutionError", "An internal execution error occurred. Please retry later."
                )
            },
            "lro_retryable",
            "InternalExecutionError",
            None,
        ),
        (
            {"msg": _sdk("AnotherOperationInProgress", f"Operation on {VM} is in progress.")},
            "lro_retryable",
            "AnotherOperationInProgress",
            None,
        ),
        (
            {
                "msg": "Error creating the GalleryImageVersion instance: (GalleryReplicationFailed) Gallery "
                "replication jobs failed in one or more regions. The failing regions' details are as "
                "follows: '{region:northeurope, detail:Failed with internal server error.}'."
            },
            "lro_retryable",
            "GalleryReplicationFailed",
            None,
        ),
        (
            {
                "msg": "winrm connection error: ('Connection aborted.', RemoteDisconnected('Remote end "
                "closed connection without response'))"
            },
            "winrm_connection",
            None,
            None,
        ),
        (
            {
                "msg": "Task failed: HTTPSConnectionPool(host='127.0.0.5', port=5986): Max retries "
                'exceeded with url: /wsman (Caused by NewConnectionError("Failed to establish a new '
                'connection: [Errno 111] Connection refused"))'
            },
            "winrm_connection",
            None,
            None,
        ),
        (
            {"msg": _sdk("AllocationFailed", "Allocation failed. We do not have sufficient capacity.")},
            "fatal",
            "AllocationFailed",
            None,
        ),
        (
            {"msg": _sdk("OperationNotAllowed", f"The source {VM} must be generalized.")},
            "fatal",
            "OperationNotAllowed",
            None,
        ),
        (
            {"msg": _sdk("AuthorizationFailed", "The client does not have authorization.")},
            "fatal",
            "AuthorizationFailed",
            None,
        ),
        ({"msg": "sysprep failed in generalize: see setuperr.log"}, "fatal", None, None),
        ({"msg": "The conditional check 'x' failed."}, "fatal", None, None),
    ],
)
def test_classify(result: dict[str, Any], kind: str, code: str | None, status: int | None) -> None:
    fault = classify(result)
    assert (fault["kind"], fault["code"], fault["status"]) == (kind, code, status)
    assert fault["transient"] is (kind != "fatal")


def test_the_summary_names_the_code_and_the_resource() -> None:
    fault = classify({"msg": _sdk("OperationNotAllowed", f"Cannot create {VERSION} from this source.")})
    assert fault["resource"] == VERSION
    assert fault["summary"] == f"fatal (Azure code OperationNotAllowed) on {VERSION}"


def test_without_an_id_the_resource_comes_from_the_task_arguments() -> None:
    result = {
        "msg": "Error creating the GalleryImageVersion instance: (OperationNotAllowed) Not allowed.",
        "invocation": {
            "module_args": {
                "resource_group": "rg-gal",
                "gallery_name": "g",
                "gallery_image_name": "img",
                "name": "1.0.0",
            }
        },
    }
    fault = classify(result)
    assert (fault["kind"], fault["code"], fault["resource"]) == (
        "fatal",
        "OperationNotAllowed",
        "rg-gal/g/img/1.0.0",
    )
    assert classify({"msg": "x", "invocation": {"module_args": {"url": VM}}})["resource"] == VM
    assert classify({"msg": "x", "invocation": {"module_args": {"name": "only"}}})["resource"] is None
    assert classify({"msg": "Module failed: (Conflict) no."}, VERSION)["resource"] == VERSION


def test_a_status_in_the_result_counts() -> None:
    assert classify({"msg": "request failed", "status_code": 502})["kind"] == "server_error"
    assert classify("not a dict")["kind"] == "fatal"


def test_backoff_is_exponential_and_bounded() -> None:
    assert [backoff_seconds(n, 30, 300) for n in (1, 2, 3, 4, 5)] == [30, 60, 120, 240, 300]
    with pytest.raises(ValueError):
        backoff_seconds(0, 30, 300)
