#!/usr/bin/python
"""Remove AppX packages for every user and from the provisioned set, in the order sysprep needs."""

from __future__ import annotations

DOCUMENTATION = r"""
module: win_appx_remove
short_description: Remove AppX packages for all users and deprovision them, sysprep-safe
version_added: "0.1.0"
description:
  - Removes each package of O(packages) from the image in one invocation, in two steps.
  - 1. every user's copy, C(Remove-AppxPackage -Package <PackageFullName> -AllUsers) for each
    package of C(Get-AppxPackage -AllUsers) whose C(Name) is C(-like <name>) (any version, so a
    copy the Store updated for one user goes too);
  - 2. then the provisioned package, C(Remove-AppxProvisionedPackage -Online -PackageName
    <PackageName> -AllUsers) for each package of C(Get-AppxProvisionedPackage -Online) whose
    C(DisplayName) is C(-like <name>).
  - This order cannot leave a package installed for a user but not provisioned for all users, the
    state in which sysprep refuses to generalize (C(SYSPRP Package ... was installed for a user, but
    not provisioned for all users)); when a step fails, the package is still provisioned. Removing
    the provisioned package first, as the Virtual Desktop Optimization Tool and the Azure Virtual
    Desktop image template script do, leaves that state whenever the second step fails.
  - Both lists are read once per invocation (they are slow to read), so a package that two items
    match is handled once, for the first of them.
  - Framework packages (C(IsFramework), for example C(Microsoft.VCLibs.140.00)) are never matched.
  - A package Windows refuses to remove (a system app such as C(Microsoft.SecHealthUI), error
    C(0x80070032) This app is part of Windows and cannot be uninstalled on a per-user basis) is
    listed in RV(not_removed) with Windows' error. With O(packages[].on_failure=fail) the module then
    fails, naming every such package, after all other packages were processed; with C(warn) it
    warns and succeeds.
  - Removal is permanent for the image; a removed package can only come back from the Store or a
    package file.
author:
  - AVD golden image builders
options:
  packages:
    description:
      - The packages to remove.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description:
          - Package name (the C(Name) of C(Get-AppxPackage), the C(DisplayName) of
            C(Get-AppxProvisionedPackage)), compared case-insensitively, or a wildcard pattern such
            as C(Microsoft.Xbox*). Not a full name with version.
        type: str
        required: true
      on_failure:
        description:
          - C(fail) fails the module when a matching package cannot be removed; C(warn) lists it in
            RV(not_removed) with a warning.
        type: str
        choices: [fail, warn]
        default: fail
      source:
        description:
          - Free label echoed in RV(removed) and RV(not_removed), for example C(AppxPackages.json#4) or
            C(appx.remove).
        type: str
attributes:
  check_mode:
    support: full
    description:
      - Computes the same RV(removed) and RV(not_present) as a real run and removes nothing.
      - A package marked C(NonRemovable) is predicted in RV(not_removed) (with an error that says so,
        not Windows' own, since nothing is attempted); other failures only a real run can see.
  diff_mode:
    support: full
    description: Returns the matching package names installed or provisioned before and after.
notes:
  - Tested against a simulation of the AppX deployment service. Only real Windows can prove the
    exact error text of a refused removal, that C(Remove-AppxPackage -AllUsers) reaches the copies
    of users who are not signed in, which packages a given image build provisions, and that sysprep
    accepts the result.
  - Run it before sysprep and after the last Store or C(winget) activity, or the Store may install
    a package for a user again.
seealso:
  - module: community.windows.win_appx_package
"""

EXAMPLES = r"""
- name: Remove consumer apps; a system app that refuses only warns
  avd.golden.win_appx_remove:
    packages:
      - {name: Microsoft.BingNews}
      - {name: 'Microsoft.Xbox*', source: appx.remove}
      - {name: Microsoft.SecHealthUI, on_failure: warn}

- name: Remove the packages of the optimization plan
  avd.golden.win_appx_remove:
    packages: "{{ plan['appx'] }}"
"""

RETURN = r"""
removed:
  description: One entry per package name removed (in check mode, that would be removed).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The package name.
      type: str
      sample: Microsoft.BingNews
    provisioned:
      description: The C(PackageName) of every provisioned package removed.
      type: list
      elements: str
      sample: [Microsoft.BingNews_4.55.62231.0_neutral_~_8wekyb3d8bbwe]
    users:
      description: The C(PackageFullName) of every user copy removed.
      type: list
      elements: str
      sample: [Microsoft.BingNews_4.55.62231.0_x64__8wekyb3d8bbwe]
    source:
      description: The item's O(packages[].source), or null.
      type: str
not_present:
  description: The O(packages[].name) entries (names or patterns) that matched nothing.
  returned: always
  type: list
  elements: str
  sample: [Microsoft.ZuneVideo]
not_removed:
  description:
    - One entry per package that could not be removed.
    - Not called C(failed), which Ansible reads as the task's own failure flag (a non-empty list
      would fail the task even with O(packages[].on_failure=warn)).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The package name.
      type: str
      sample: Microsoft.SecHealthUI
    package:
      description: The full name of the package whose removal failed.
      type: str
    error:
      description: Windows' error (in check mode, the reason it is expected to fail).
      type: str
    on_failure:
      description: The item's O(packages[].on_failure).
      type: str
    source:
      description: The item's O(packages[].source), or null.
      type: str
"""
