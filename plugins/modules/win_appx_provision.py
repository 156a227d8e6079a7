#!/usr/bin/python
"""Provision an MSIX package (or bundle) for every user of the image."""

from __future__ import annotations

DOCUMENTATION = r"""
module: win_appx_provision
short_description: Provision an MSIX package or bundle for every user
version_added: "0.3.0"
description:
  - Runs C(Add-AppxProvisionedPackage -Online -PackagePath <path> -SkipLicense) unless a package
    named O(name) is provisioned at O(version) or later, then checks that it is.
  - Provisioned, not installed for the build account (which C(ansible.windows.win_package)'s msix
    provider does with C(Add-AppxPackage)). A package installed for one user but not provisioned
    makes sysprep fail; a provisioned one is registered for every new profile at first sign-in.
author:
  - AVD golden image builders
options:
  path:
    description: The C(.msix), C(.msixbundle), C(.appx) or C(.appxbundle) file on the machine.
    type: path
    required: true
  name:
    description: The package's identity name (C(Identity/@Name) of its manifest).
    type: str
    required: true
  version:
    description: The version the package provides (C(Identity/@Version)).
    type: str
    required: true
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: windows
"""

EXAMPLES = r"""
- name: Provision the package for every user
  avd.golden.win_appx_provision:
    path: C:\ProgramData\avd-golden\applications\Contoso_Notes\ContosoNotes.msixbundle
    name: Contoso.Notes
    version: 1.4.2.0
"""

RETURN = r"""
name:
  description: The identity name.
  returned: always
  type: str
version:
  description: The provisioned version; null when none is.
  returned: always
  type: str
package_name:
  description: The provisioned package's full name.
  returned: when it was provisioned by this run
  type: str
rc:
  description: The HRESULT of a failed provisioning.
  returned: on failure
  type: int
"""
