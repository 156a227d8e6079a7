#!/usr/bin/python
"""Delete Azure resources by id, in order, each verified gone, with bounded waits."""

from __future__ import annotations

DOCUMENTATION = r"""
module: azure_ordered_delete
short_description: Delete Azure resources by id in a given order, verified and bounded
version_added: "0.1.0"
description:
  - Deletes a list of Azure resources, one after the other in the order given (for a build VM
    VM, NIC, public IP, subnet, VNet, NSG, disks, resource group), in one module run.
  - For each resource - GET (a resource already gone is not an error), DELETE, follow the
    long-running operation (C(Azure-AsyncOperation), else C(Location), honouring C(Retry-After-Ms)
    and C(Retry-After)) until a deadline, then GET until Azure answers 404. Only that 404 counts
    as removed.
  - Retryable failures (408, 409 such as a resource still in use, 429, 5xx, a failed delete
    operation) are tried again; a resource that cannot be removed does not stop the others.
  - Fills gaps of the collection - C(azure.azcollection.azure_rm_resource) has no check mode, does
    not verify, and its long-running-operation wait has no overall bound; the per-type modules need
    one process (about 2 s of SDK import each) per resource.
  - Authentication is the one of azure.azcollection (environment, CLI, managed identity and so on); the module
    builds on its C(AzureRMModuleBase) and C(GenericRestClient).
author:
  - AVD golden image builders
options:
  resources:
    description: Resources to delete, in order.
    type: list
    elements: dict
    required: true
    suboptions:
      id:
        description: Full resource id.
        type: str
        required: true
      api_version:
        description: API version for the resource type.
        type: str
        required: true
  timeout:
    description: Seconds one attempt on one resource may take (delete, wait and verification).
    type: int
    default: 1200
  retries:
    description: Attempts per resource for retryable failures.
    type: int
    default: 5
  delay:
    description: Seconds between attempts.
    type: int
    default: 15
  poll_interval:
    description: Seconds between polls when Azure sends no Retry-After hint.
    type: int
    default: 5
  only_state:
    description:
      - Delete only the resources whose C(provisioningState) is this one (for example C(Failed), what a
        failed long-running operation leaves, before the operation is tried again); the others are left
        alone and reported with C(skipped).
    type: str
extends_documentation_fragment:
  - azure.azcollection.azure
attributes:
  check_mode:
    support: full
    description: Only reads; reports which resources still exist and would be deleted.
  diff_mode:
    support: none
notes:
  - The module fails when any resource could not be removed, and still returns O(resources) results
    so the caller can record which ones were.
"""

EXAMPLES = r"""
- name: Delete the build VM, then its NIC, verified
  avd.golden.azure_ordered_delete:
    resources:
      - id: /subscriptions/xxx/resourceGroups/rg-build/providers/Microsoft.Compute/virtualMachines/vm-build
        api_version: "2024-07-01"
      - id: /subscriptions/xxx/resourceGroups/rg-build/providers/Microsoft.Network/networkInterfaces/nic-build
        api_version: "2024-03-01"
    timeout: 1200
  register: deleted
"""

RETURN = r"""
results:
  description: One entry per resource, in order.
  returned: always
  type: list
  elements: dict
  contains:
    id:
      description: The resource id.
      type: str
    existed:
      description: Whether the resource existed when the module looked (null when the lookup failed).
      type: bool
    removed:
      description: Whether Azure answered 404 for it at the end (in check mode, only for absent ones).
      type: bool
    attempts:
      description: Attempts made.
      type: int
    error:
      description: Why it was not removed, or null.
      type: str
removed:
  description: Ids verified gone.
  returned: always
  type: list
  elements: str
not_removed:
  description: Ids that could not be removed.
  returned: always
  type: list
  elements: str
"""

from typing import Any  # noqa: E402

try:
    from ansible_collections.azure.azcollection.plugins.module_utils.azure_rm_common import AzureRMModuleBase
    from ansible_collections.azure.azcollection.plugins.module_utils.azure_rm_common_rest import (
        GenericRestClient,
    )
except ImportError:  # pragma: no cover - reported by AzureRMModuleBase's own import check
    AzureRMModuleBase = object  # type: ignore[assignment,misc]

from ansible_collections.avd.golden.plugins.module_utils import _arm_rest, _azure_delete  # noqa: E402


class AzureOrderedDelete(AzureRMModuleBase):  # type: ignore[misc,valid-type]
    """Module glue: authenticated transport in, results out."""

    def __init__(self) -> None:
        self.module_arg_spec = {
            "resources": {
                "type": "list",
                "elements": "dict",
                "required": True,
                "options": {
                    "id": {"type": "str", "required": True},
                    "api_version": {"type": "str", "required": True},
                },
            },
            "timeout": {"type": "int", "default": 1200},
            "retries": {"type": "int", "default": 5},
            "delay": {"type": "int", "default": 15},
            "poll_interval": {"type": "int", "default": 5},
            "only_state": {"type": "str"},
        }
        self.results: dict[str, Any] = {"changed": False}
        super().__init__(self.module_arg_spec, supports_check_mode=True, supports_tags=False)

    def _send(self, method: str, url: str, params: dict[str, str] | None) -> _azure_delete.Reply:
        try:
            return _azure_delete.Reply(*_arm_rest.query(self.rest, method, url, params))
        except _arm_rest.ArmRequestError as exc:
            # Already retried below: not retryable again, or the two bounds multiply.
            raise _azure_delete.DeleteError(str(exc), False) from exc

    def exec_module(self, **kwargs: Any) -> dict[str, Any]:
        """Delete in order and report."""
        self.rest = self.get_mgmt_svc_client(
            GenericRestClient, base_url=self._cloud_environment.endpoints.resource_manager
        )
        results = _azure_delete.delete_in_order(
            self._send,
            kwargs["resources"],
            timeout=kwargs["timeout"],
            retries=kwargs["retries"],
            delay=kwargs["delay"],
            poll_interval=kwargs["poll_interval"],
            check_mode=self.check_mode,
            only_state=kwargs.get("only_state"),
        )
        self.results["results"] = results
        self.results["removed"] = [r["id"] for r in results if r["removed"]]
        self.results["not_removed"] = [r["id"] for r in results if not r["removed"] and r["error"]]
        self.results["changed"] = any(r["existed"] for r in results if r["removed"] or self.check_mode)
        if self.results["not_removed"]:
            self.fail(
                msg="could not remove: "
                + "; ".join(
                    f"{r['id']}: {r['error']}" for r in results if r["id"] in self.results["not_removed"]
                ),
                **{k: v for k, v in self.results.items() if k != "changed"},
            )
        return self.results


def main() -> None:
    """Module entry point."""
    AzureOrderedDelete()


if __name__ == "__main__":
    main()
