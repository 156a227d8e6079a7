#!/usr/bin/python
"""Install Windows language packs, features on demand and Local Experience Packs."""

from __future__ import annotations

DOCUMENTATION = r"""
module: win_language_install
short_description: Install Windows language components from files or from Windows Update
version_added: "0.1.0"
description:
  - Installs each component in O(components) that the machine does not have, in the order given;
    language pack and feature-on-demand CABs with C(Add-WindowsPackage -Online -NoRestart), a Local
    Experience Pack with C(Add-AppxProvisionedPackage -Online -LicensePath), or a whole language
    from Windows Update with C(Install-Language).
  - Whether a component is installed is asked by its identity, never by its file, so the files are
    needed only for what is missing (RV(pending) in check mode says which). A language pack by the
    package C(Microsoft-Windows-Client-LanguagePack-Package~31bf3856ad364e35~amd64~<language>~*)
    in C(Get-WindowsPackage -Online), a feature by its capability name in
    C(Get-WindowsCapability -Online), a Local Experience Pack by its provisioned package's
    C(DisplayName), an online language by C(Get-InstalledLanguage).
  - C(Install-Language) is tried up to O(attempts) times. After failed attempt n it waits
    O(retry_delay_seconds) times 2^(n-1) seconds. Every attempt is in RV(attempts) and each failure
    is a warning. Offline installs are not retried, a failure fails the module naming the component.
  - The module does not touch the scheduled tasks that race with language installs
    (C(\Microsoft\Windows\LanguageComponentsInstaller\)); the role avd.golden.windows_languages
    disables them around it.
author:
  - AVD golden image builders
options:
  components:
    description:
      - The components to install, in order (a language pack before its features and its Local
        Experience Pack).
    type: list
    elements: dict
    required: true
    suboptions:
      language:
        description: The language tag, for example C(de-DE).
        type: str
        required: true
      kind:
        description: What the component is.
        type: str
        required: true
        choices: [language_pack, feature, experience_pack, online]
      name:
        description:
          - The component's identity. C(language_pack) and C(online) the language tag, C(feature) the
            capability (C(Language.Basic~~~de-DE~0.0.1.0)), C(experience_pack) the package name
            (C(Microsoft.LanguageExperiencePackde-DE)).
        type: str
        required: true
      path:
        description:
          - The CAB or .appx file on the machine; required for a missing offline component unless in
            check mode.
        type: path
      license_path:
        description:
          - The Local Experience Pack's License.xml; required with O(components[].path) for
            C(experience_pack).
        type: path
  attempts:
    description: How many times C(Install-Language) is tried per language.
    type: int
    default: 1
  retry_delay_seconds:
    description: The wait after the first failed attempt; it doubles after each further one.
    type: int
    default: 0
attributes:
  check_mode:
    support: full
    description:
      - Lists in RV(pending) and RV(changes) what would be installed; installs nothing and needs no file.
  diff_mode:
    support: none
notes:
  - Tested against a simulation of DISM, AppX provisioning and Install-Language. Only real Windows proves
    that a CAB is applicable to the image's build and how long an install takes.
seealso:
  - module: ansible.windows.win_capability
  - module: avd.golden.win_language_settings
"""

EXAMPLES = r"""
- name: Install German from the Languages and Optional Features ISO's files
  avd.golden.win_language_install:
    components:
      - language: de-DE
        kind: language_pack
        name: de-DE
        path: 'C:\Temp\lp\Microsoft-Windows-Client-Language-Pack_x64_de-de.cab'
      - language: de-DE
        kind: feature
        name: Language.Basic~~~de-DE~0.0.1.0
        path: 'C:\Temp\lp\Microsoft-Windows-LanguageFeatures-Basic-de-de-Package~31bf3856ad364e35~amd64~~.cab'

- name: Install French from Windows Update, three attempts, waiting 60 s then 120 s
  avd.golden.win_language_install:
    components: [{language: fr-FR, kind: online, name: fr-FR}]
    attempts: 3
    retry_delay_seconds: 60
"""

RETURN = r"""
changes:
  description: One entry per component installed (in check mode, that would be installed).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: C(<kind>/<name>).
      type: str
      sample: language_pack/de-DE
    before:
      description: C(NotPresent).
      type: str
    after:
      description: C(Installed).
      type: str
    source:
      description: Always null (the caller's plan knows where each component comes from).
      type: str
pending:
  description: C(<kind>/<name>) of every component that was not installed when the module started.
  returned: always
  type: list
  elements: str
attempts:
  description: Every C(Install-Language) attempt.
  returned: always
  type: list
  elements: dict
  contains:
    language:
      description: The language tag.
      type: str
    attempt:
      description: The attempt's number, from 1.
      type: int
    error:
      description: The error of a failed attempt; null when it succeeded.
      type: str
    wait_seconds:
      description: How long the module waited after this attempt.
      type: int
reboot_required:
  description:
    - Whether an install needs a restart to complete (DISM's RestartNeeded; always after
      Install-Language).
  returned: always
  type: bool
"""
