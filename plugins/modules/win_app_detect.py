#!/usr/bin/python
"""Tell which applications are installed already, for many applications in one invocation."""

from __future__ import annotations

DOCUMENTATION = r"""
module: win_app_detect
short_description: Tell which applications are installed already
version_added: "0.3.0"
description:
  - Checks the detection rule of every application in O(applications) in one invocation, so a
    re-run of the applications phase finds what is installed without downloading anything.
  - C(product_code) is installed when the Uninstall key of that name exists (64-bit or 32-bit
    view); RV(applications[].version) is its C(DisplayVersion).
  - C(registry) is installed when the value exists under the HKLM key, and equals C(value) when
    that is given (compared as text).
  - C(file) is installed when the file exists and, when C(version) is given, its file version
    (C([System.Diagnostics.FileVersionInfo])) equals it as a C([System.Version]), the comparison
    C(ansible.windows.win_package)'s O(ansible.windows.win_package#module:creates_version) makes.
  - C(package_name) is installed when an MSIX package of that name is provisioned
    (C(Get-AppxProvisionedPackage -Online)) at the application's O(applications[].version) or later.
  - Reads only; never changes anything, also outside check mode.
author:
  - AVD golden image builders
options:
  applications:
    description: The applications to look for (the normalised entries of docs/contracts.md section 9).
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: The application's name, repeated in the result.
        type: str
        required: true
      kind:
        description: What installs it.
        type: str
        required: true
        choices: [msi, exe, msix]
      version:
        description: The version the image spec pins.
        type: str
        required: true
      detection:
        description: The rule; exactly one of its keys is set.
        type: dict
        required: true
        suboptions:
          product_code:
            description: An Uninstall key name, for an MSI its ProductCode (C({GUID})).
            type: str
          registry:
            description: A registry value under HKLM.
            type: dict
            suboptions:
              key:
                description: The key, C(HKLM\...).
                type: str
                required: true
              name:
                description: The value's name.
                type: str
                required: true
              value:
                description: The data it must have; omitted, the value only has to exist.
                type: str
          file:
            description: A file and optionally its version.
            type: dict
            suboptions:
              path:
                description: The absolute path.
                type: str
                required: true
              version:
                description: The file version it must have (C(a.b.c.d)).
                type: str
          package_name:
            description: The MSIX identity name.
            type: str
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: windows
"""

EXAMPLES = r"""
- name: Find which applications are installed already
  avd.golden.win_app_detect:
    applications:
      - name: 7-Zip
        kind: msi
        version: "24.09"
        detection: {product_code: "{23170F69-40C1-2702-2409-000001000000}"}
"""

RETURN = r"""
applications:
  description: One entry per application, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The application's name.
      type: str
    installed:
      description: Whether its rule found it installed.
      type: bool
    version:
      description: The version found (DisplayVersion, the value's data, the file version, the provisioned version), null when nothing was found.
      type: str
    detected_by:
      description: What was looked at.
      type: str
"""
