#!/usr/bin/python
"""Install a winget package at a pinned version for the machine."""

from __future__ import annotations

DOCUMENTATION = r"""
module: win_winget
short_description: Install a winget package at a pinned version
version_added: "0.3.0"
description:
  - Lists the package with C(winget list --exact --id <id> --source <source>) and, unless that
    version is installed, runs C(winget install --exact --id <id> --version <version> --scope
    machine --silent --accept-package-agreements --accept-source-agreements --disable-interactivity).
  - Runs the C(winget.exe) of the provisioned App Installer package, since a WinRM session has no
    App Execution Alias for it; the module fails when App Installer is not provisioned.
  - A package is never installed at "latest": O(version) is required.
author:
  - AVD golden image builders
options:
  id:
    description: The package identifier (C(Publisher.Package)).
    type: str
    required: true
  version:
    description: The version to install.
    type: str
    required: true
  source:
    description: The configured winget source to install from.
    type: str
    default: winget
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: windows
"""

EXAMPLES = r"""
- name: Install Git at a pinned version
  avd.golden.win_winget:
    id: Git.Git
    version: 2.47.1
"""

RETURN = r"""
installed_version:
  description: The version winget listed before the install; null when none.
  returned: always
  type: str
rc:
  description: winget's exit code.
  returned: always
  type: int
stdout:
  description: What winget install printed.
  returned: when it ran
  type: str
"""
