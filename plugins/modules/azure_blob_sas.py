#!/usr/bin/python
"""Mint read-only, expiring SAS URLs for blob downloads, the keys read through ARM."""

from __future__ import annotations

DOCUMENTATION = r"""
module: azure_blob_sas
short_description: HTTPS URLs with a read-only SAS that expires, for blobs in Azure Storage
version_added: "0.1.0"
description:
  - For every storage account the downloads name, reads the account through ARM (its blob endpoint as
    C(properties.primaryEndpoints.blob) says, and that shared-key access is allowed), lists its keys
    (C(POST listKeys)) and signs one service SAS per blob - read permission only, HTTPS only, valid
    from 15 minutes ago until O(lifetime_hours) from now.
  - The keys stay inside the module. The returned URLs are secrets - use C(no_log) on the task and
    on whatever sets a fact from them.
  - Fills a gap of the collection - C(azure.azcollection.azure_rm_storageaccount_info) returns keys
    only inside connection strings and mints no SAS.
  - Authentication is the one of azure.azcollection; the module builds on its C(AzureRMModuleBase) and
    C(GenericRestClient). The SAS is made by C(azure-storage-blob), which azure.azcollection requires.
author:
  - AVD golden image builders
options:
  downloads:
    description: The blob downloads (the image spec's, as the filter C(avd.golden.blob_downloads) lists them).
    type: list
    elements: dict
    required: true
    suboptions:
      id:
        description: The download's id, C(blob://<account>/<container>/<name>); the key of O(urls).
        type: str
        required: true
      storage_account:
        description: Storage account name.
        type: str
        required: true
      resource_group:
        description: Resource group of the storage account.
        type: str
        required: true
      container:
        description: Blob container.
        type: str
        required: true
      name:
        description: Blob name.
        type: str
        required: true
      fields:
        description: The image spec fields that name the blob; problems name them.
        type: list
        elements: str
        default: []
  lifetime_hours:
    description: Hours each SAS stays valid, from 1 to 24.
    type: int
    default: 3
  mint:
    description:
      - false - only read the storage accounts (GET, no listKeys, no SAS), as the preflight phase does before
        anything exists.
    type: bool
    default: true
extends_documentation_fragment:
  - azure.azcollection.azure
attributes:
  check_mode:
    support: full
    description: Reads only (listKeys changes nothing); mints the URLs in check mode too.
  diff_mode:
    support: none
notes:
  - Does not fail - a storage account that cannot serve its downloads is returned in O(problems), each
    naming the image spec fields and the cause, so that a caller with C(no_log) can still fail with a
    readable message.
"""

EXAMPLES = r"""
- name: Mint the download URLs
  avd.golden.azure_blob_sas:
    downloads:
      - id: blob://stavdsoftware/installers/fslogix/FSLogixAppsSetup.exe
        storage_account: stavdsoftware
        resource_group: rg-software
        container: installers
        name: fslogix/FSLogixAppsSetup.exe
    lifetime_hours: 3
  register: sas
  no_log: true
"""

RETURN = r"""
urls:
  description: Download id to its HTTPS URL with the SAS (secret); empty with O(problems) or O(mint=false).
  returned: always
  type: dict
expires_on:
  description: When the SAS expire (UTC, ISO 8601), or null.
  returned: always
  type: str
problems:
  description: One per storage account that cannot serve (its image spec fields, then the cause).
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

from ansible_collections.avd.golden.plugins.module_utils import _arm_rest, _blob_sas  # noqa: E402


class AzureBlobSas(AzureRMModuleBase):  # type: ignore[misc,valid-type]
    """Module glue: authenticated transport in, URLs out."""

    def __init__(self) -> None:
        text = {"type": "str", "required": True}
        self.module_arg_spec = {
            "downloads": {
                "type": "list",
                "elements": "dict",
                "required": True,
                "options": {
                    **{
                        k: dict(text)
                        for k in ("id", "storage_account", "resource_group", "container", "name")
                    },
                    "fields": {"type": "list", "elements": "str", "default": []},
                },
            },
            "lifetime_hours": {"type": "int", "default": 3},
            "mint": {"type": "bool", "default": True},
        }
        self.results: dict[str, Any] = {"changed": False, "urls": {}, "expires_on": None, "problems": []}
        super().__init__(self.module_arg_spec, supports_check_mode=True, supports_tags=False)

    def _send(self, method: str, url: str, params: dict[str, str]) -> _blob_sas.Reply:
        status, _headers, body = _arm_rest.query(self.rest, method, url, params)
        if isinstance(body, dict) and isinstance(body.get("keys"), list):
            # Mask the keys in anything the module might print.
            self.module.no_log_values.update(str(k.get("value")) for k in body["keys"] if k.get("value"))
        return _blob_sas.Reply(status, body)

    def exec_module(self, **kwargs: Any) -> dict[str, Any]:
        self.rest = self.get_mgmt_svc_client(
            GenericRestClient, base_url=self._cloud_environment.endpoints.resource_manager
        )
        try:
            urls, expires, problems = _blob_sas.mint_urls(
                self._send,
                self.subscription_id,
                kwargs["downloads"],
                kwargs["lifetime_hours"],
                mint=kwargs["mint"],
            )
        except _blob_sas.SourceError as exc:
            self.results["problems"] = [str(exc)]
            return self.results
        except _arm_rest.ArmRequestError as exc:
            self.fail(msg=str(exc))
        self.results.update(urls=urls, expires_on=expires if kwargs["mint"] else None, problems=problems)
        return self.results


def main() -> None:
    """Module entry point."""
    AzureBlobSas()


if __name__ == "__main__":
    main()
