#!/usr/bin/python
"""Set the Windows display language and language list, and copy them to the welcome screen and new users."""

from __future__ import annotations

DOCUMENTATION = r"""
module: win_language_settings
short_description: Set the UI language and language list, and copy the international settings to the system
version_added: "0.1.0"
description:
  - Sets what ansible.windows.win_region does not, the system preferred UI language
    (C(Set-SystemPreferredUILanguage)) and the connecting account's language list with its input
    methods (C(Set-WinUserLanguageList)), each only when it differs from what
    C(Get-SystemPreferredUILanguage) and C(Get-WinUserLanguageList) report.
  - Then copies the account's international settings (display language, input languages, regional
    format, home location) to the welcome screen and system accounts and to new user accounts, when
    asked and when they differ there. The format (C(LocaleName)), the home location (C(Geo\Nation))
    and the language list (C(User Profile\Languages)) under C(HKU\.DEFAULT) and in the default user
    hive (C(C:\Users\Default\NTUSER.DAT), loaded with C(reg.exe load) at C(HKU\AVD_LANGUAGES) and
    unloaded again) are compared with the account's own; a change made in the same run is copied
    in any case.
  - The copy uses C(Copy-UserInternationalSettingsToSystem -WelcomeScreen -NewUser) where Windows
    has it (Windows 11), and on Windows 10 the answer file of the Region control panel
    (C(control.exe intl.cpl,,/f:<file>) with C(CopySettingsToSystemAcct) and
    C(CopySettingsToDefaultUserAcct)); RV(copy_method) says which.
author:
  - AVD golden image builders
options:
  ui_language:
    description:
      - The system preferred UI language (an installed language), for example C(de-DE). Not changed
        when omitted.
    type: str
  user_languages:
    description:
      - The account's language list, in order; the first is its display language. Not changed when
        empty.
    type: list
    elements: dict
    default: []
    suboptions:
      language:
        description: The language tag.
        type: str
        required: true
      input_methods:
        description: Input method tips (C(0407:00000407)); empty keeps the language's default ones.
        type: list
        elements: str
        default: []
  copy_to_welcome_screen:
    description: Copy the settings to the welcome screen and the system accounts.
    type: bool
    default: false
  copy_to_new_users:
    description: Copy the settings to the default user profile, so new accounts get them.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: Reports in RV(changes) what would be set and copied; changes nothing.
  diff_mode:
    support: none
notes:
  - The UI language and the copy take effect after a restart or a new logon.
  - Tested against a simulation of the International and LanguagePackManagement cmdlets. Only real
    Windows proves that C(control.exe intl.cpl) completes the copy before it returns on Windows 10.
seealso:
  - module: ansible.windows.win_region
  - module: avd.golden.win_language_install
"""

EXAMPLES = r"""
- name: German display language with a German and a US keyboard, copied to the welcome screen and new users
  avd.golden.win_language_settings:
    ui_language: de-DE
    user_languages:
      - {language: de-DE, input_methods: ['0407:00000407']}
      - {language: en-US}
    copy_to_welcome_screen: true
    copy_to_new_users: true
"""

RETURN = r"""
changes:
  description: One entry per setting changed (in check mode, that would change).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: C(setting/ui_language), C(setting/user_languages) or C(setting/copy).
      type: str
    before:
      description: The value before (for the copy, the targets that differed).
      type: raw
    after:
      description: The value after (for the copy, the targets copied to).
      type: raw
copy_method:
  description:
    - How this machine copies, C(Copy-UserInternationalSettingsToSystem) or C(intl.cpl), when a copy
      is asked for (also when nothing needed copying); null otherwise.
  returned: always
  type: str
"""
