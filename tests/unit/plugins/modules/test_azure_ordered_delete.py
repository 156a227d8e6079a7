"""Unit tests for the avd.golden.azure_ordered_delete module glue (transport and result shape).

The Azure client is mocked at its boundary (GenericRestClient.query); the delete logic itself is
tested in tests/unit/plugins/module_utils/test_azure_delete.py.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "collections"))

from ansible_collections.avd.golden.plugins.modules import azure_ordered_delete as m

VM = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm"
NIC = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Network/networkInterfaces/nic"


class Response:
    def __init__(self, status: int, body: Any = None, headers: dict[str, str] | None = None) -> None:
        self.status_code = status
        self.headers = headers or {}
        self._body = json.dumps(body).encode() if body is not None else b""

    def body(self) -> bytes:
        return self._body


class FakeRest:
    """Answers GET 200 then 404 after a DELETE; records every query."""

    def __init__(self, present: set[str], refuse: set[str] = frozenset()) -> None:
        self.present = set(present)
        self.refuse = refuse
        self.calls: list[tuple[str, str, dict[str, str]]] = []

    def query(
        self,
        url: str,
        method: str,
        params: dict[str, str],
        headers: Any,
        body: Any,
        expected: list[int],
        polling_timeout: int,
        polling_interval: int,
    ) -> Response:
        assert polling_timeout == 0 and 404 in expected and 409 in expected
        self.calls.append((method, url, params))
        if method == "DELETE":
            if url in self.refuse:
                return Response(409, {"error": {"code": "NicInUse", "message": "in use"}})
            self.present.discard(url)
            return Response(200)
        return Response(200, {"id": url}) if url in self.present else Response(404)


class Failed(Exception):
    def __init__(self, msg: str, **kwargs: Any) -> None:
        super().__init__(msg)
        self.result = kwargs


def make(rest: FakeRest, check_mode: bool = False) -> m.AzureOrderedDelete:
    module = m.AzureOrderedDelete.__new__(m.AzureOrderedDelete)
    module.results = {"changed": False}
    module.check_mode = check_mode
    module.azure_auth = mock.Mock()  # _cloud_environment reads it
    module.get_mgmt_svc_client = mock.Mock(return_value=rest)

    def fail(msg: str, **kwargs: Any) -> None:
        raise Failed(msg, **kwargs)

    module.fail = fail
    return module


def params(*ids: str) -> dict[str, Any]:
    return {
        "resources": [{"id": i, "api_version": "2024-07-01"} for i in ids],
        "timeout": 30,
        "retries": 2,
        "delay": 0,
        "poll_interval": 0,
    }


def test_deletes_and_reports_removed_in_order() -> None:
    rest = FakeRest({VM, NIC})
    result = make(rest).exec_module(**params(VM, NIC))
    assert result["changed"] is True
    assert result["removed"] == [VM, NIC] and result["not_removed"] == []
    assert [c[0] for c in rest.calls] == ["GET", "DELETE", "GET", "GET", "DELETE", "GET"]
    assert all(c[2] == {"api-version": "2024-07-01"} for c in rest.calls)


def test_second_run_changes_nothing() -> None:
    rest = FakeRest(set())
    result = make(rest).exec_module(**params(VM, NIC))
    assert result["changed"] is False and result["removed"] == [VM, NIC]
    assert {c[0] for c in rest.calls} == {"GET"}


def test_check_mode_reports_change_without_deleting() -> None:
    rest = FakeRest({VM})
    result = make(rest, check_mode=True).exec_module(**params(VM))
    assert result["changed"] is True and result["removed"] == []
    assert rest.present == {VM}


def test_failure_names_the_resource_and_keeps_the_results() -> None:
    rest = FakeRest({VM, NIC}, refuse={NIC})
    with pytest.raises(Failed) as exc:
        make(rest).exec_module(**params(VM, NIC))
    assert NIC in str(exc.value) and "NicInUse" in str(exc.value)
    assert exc.value.result["removed"] == [VM] and exc.value.result["not_removed"] == [NIC]
