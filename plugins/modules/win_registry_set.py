#!/usr/bin/python
"""Set many registry values, in HKLM or the default user hive, in one module run."""

from __future__ import annotations

DOCUMENTATION = r"""
module: win_registry_set
short_description: Set or remove many registry values, in HKLM or the default user hive, at once
version_added: "0.1.0"
description:
  - Applies a list of registry items in one run, so hundreds of settings cost one WinRM round trip
    instead of one each (C(ansible.windows.win_regedit) takes a single value).
  - Each item names a hive (C(HKLM) or C(default_user)), a key relative to it, a value name, a type
    and the data. The item is compared with what the registry holds; only a value that is missing,
    of another type or with other data is written, and only a value that exists is removed.
  - Items with O(values[].hive=default_user) go to the default user profile,
    O(default_user_hive) (C(C:\Users\Default\NTUSER.DAT)), which every new user profile is copied
    from. The module loads it once at C(HKLM\AVD_DEFAULT_USER) with C(reg.exe load), only when an
    item needs it, and unloads it when done (C(reg.exe unload), after closing every key it opened
    and a garbage collection) - also when an item fails. It never writes to the connecting
    account's own C(HKCU).
  - A missing key is created, with its missing parents. A key that exists is opened, never created
    again (C(New-Item -Force) on an existing key deletes its values and subkeys). Keys are never
    deleted; O(values[].state=absent) removes a value.
  - All items are checked (types, data, duplicates) before anything is read or written; a bad item
    fails the module naming it (C(values[<index>])) and nothing is changed. Items are then applied
    in order; an error while applying (for example access denied) stops there and returns the
    O(changes) made so far.
  - Runs on the Windows host, over WinRM.
author:
  - AVD golden image builders
options:
  values:
    description:
      - The registry items, applied in order. The same value (hive, key and name, compared
        case-insensitively) may appear only once.
    type: list
    elements: dict
    required: true
    suboptions:
      hive:
        description:
          - C(HKLM) is C(HKEY_LOCAL_MACHINE). C(default_user) is the default user hive
            O(default_user_hive). There is deliberately no C(HKCU) - per-user settings of an image
            belong in the default user hive.
        type: str
        choices: [HKLM, default_user]
        default: HKLM
      key:
        description:
          - Key path below the hive, for example C(SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services).
          - No drive (C(HKLM:)), root name (C(HKEY_LOCAL_MACHINE\)) or leading backslash; such a
            path is refused. Empty segments (C(A\\B)) and a trailing backslash are ignored.
        type: str
        required: true
      name:
        description:
          - Value name. An empty string is the key's C((Default)) value.
        type: str
        required: true
      type:
        description:
          - Value type, required with O(values[].state=present). C(string) is C(REG_SZ),
            C(expandstring) C(REG_EXPAND_SZ) (stored unexpanded), C(multistring) C(REG_MULTI_SZ),
            C(dword) C(REG_DWORD), C(qword) C(REG_QWORD), C(binary) C(REG_BINARY).
          - With O(values[].json_merge=true) it must be C(string) (the default then).
        type: str
        choices: [string, expandstring, multistring, dword, qword, binary]
      data:
        description:
          - The data, required with O(values[].state=present).
          - C(string), C(expandstring) - a string (a number is written as its decimal text).
          - C(multistring) - a list of strings (a single string is a list of one).
          - C(dword), C(qword) - an integer, or a string holding a decimal number or a C(0x)
            hexadecimal one. C(dword) takes 0 to 4294967295 (C(0xffffffff)); a negative number down
            to -2147483648 is stored as its two's complement, as C(reg.exe) does. C(qword) likewise
            with 64 bits. Booleans are refused.
          - C(binary) - a list of byte values (integers 0 to 255), or a string of comma-separated
            hexadecimal bytes as C(regedit) exports them (C(01,0a,ff), an optional C(hex:) prefix).
          - With O(values[].json_merge=true) - a dictionary (JSON object).
        type: raw
      state:
        description:
          - C(present) sets the value; C(absent) removes it (a missing value or key is no change).
        type: str
        choices: [present, absent]
        default: present
      json_merge:
        description:
          - The value is a C(REG_SZ) holding a JSON object (such as the Edge and Chrome
            C(ExtensionSettings) policy) and O(values[].data) is merged into it key by key - each
            top-level key of O(values[].data) replaces that key, the other keys already there are
            kept. A missing or empty value counts as C({}).
          - A top-level key counts as unchanged when its JSON text (compact, keys in their order) is
            the same.
          - An existing value that is not a C(REG_SZ) JSON object fails the module, naming the item;
            it is not overwritten.
        type: bool
        default: false
      source:
        description:
          - Label of where the item comes from, for example C(avd.fslogix) or
            C(PolicyRegSettings.json#12). Not used; returned with the item's change so a manifest
            can say why a value was set.
        type: str
  default_user_hive:
    description:
      - The hive file loaded for items with O(values[].hive=default_user).
    type: path
    default: C:\Users\Default\NTUSER.DAT
attributes:
  check_mode:
    support: full
    description:
      - Reports the same O(changes) a real run would make and writes nothing. The default user
        hive is still loaded (read-only use) and unloaded, as reading it requires.
  diff_mode:
    support: full
    description:
      - Returns the changed values before and after, by C(<hive>\<key>) and value name.
notes:
  - Run as an administrator; C(reg.exe load) and C(reg.exe unload) need the backup and restore
    privileges an elevated administrator has.
  - If C(HKLM\AVD_DEFAULT_USER) is already loaded (a previous run was killed before it could
    unload), the module unloads it first with a warning, then loads O(default_user_hive).
  - If the hive cannot be unloaded at the end (a handle is still open, for example an antivirus
    scan of the hive), the module fails with C(reg.exe)'s message after retrying three times; the
    hive then stays loaded until a reboot, and a sysprep or a new user's first logon may see an
    outdated copy.
  - "What only real Windows can prove - the collection's tests run the PowerShell against a
    simulated registry, so these are not tested there: that C(reg.exe unload) succeeds once the
    module's keys are closed and garbage collected (a handle another process holds, or one the
    .NET runtime has not finalised yet, makes it fail with access denied); the exact C(reg.exe)
    messages; that a value written in the loaded hive is in C(NTUSER.DAT) after the unload and
    reaches a new user's profile; the JSON text Windows PowerShell 5.1's C(ConvertTo-Json)
    writes for a merged value (the simulation writes the same compact form, escaping C(<), C(>),
    C(&) and C(') as C(\\u003c) and so on, as 5.1 does); behaviour under registry
    virtualisation or a key with restrictive permissions."
seealso:
  - module: ansible.windows.win_regedit
"""

EXAMPLES = r"""
- name: AVD session-host policies and a default user setting, in one run
  avd.golden.win_registry_set:
    values:
      - key: SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services
        name: fEnableTimeZoneRedirection
        type: dword
        data: 1
        source: avd.time_zone_redirection
      - key: SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services
        name: MaxIdleTime
        type: dword
        data: 7200000
      - key: SOFTWARE\FSLogix\Profiles
        name: VHDLocations
        type: multistring
        data: ['\\files.example.com\profiles']
      - hive: default_user
        key: Software\Microsoft\Windows\CurrentVersion\ContentDeliveryManager
        name: PreInstalledAppsEnabled
        type: dword
        data: 0
      - key: SOFTWARE\Policies\Microsoft\Windows\Appx
        name: SomeOldValue
        state: absent
  register: registry_set

- name: Force-install an Edge extension without dropping the ExtensionSettings already there
  avd.golden.win_registry_set:
    values:
      - key: SOFTWARE\Policies\Microsoft\Edge
        name: ExtensionSettings
        type: string
        json_merge: true
        data:
          joeclbldhdmoijbaagobkhlpfjglcihd:
            installation_mode: force_installed
            update_url: https://edge.microsoft.com/extensionwebstorebase/v1/crx

- name: A binary value as regedit exports it
  avd.golden.win_registry_set:
    values:
      - hive: default_user
        key: Control Panel\Desktop
        name: UserPreferencesMask
        type: binary
        data: 90,12,03,80,10,00,00,00
"""

RETURN = r"""
changes:
  description:
    - One entry per item that changed (in check mode - would change), in the order of O(values).
  returned: always
  type: list
  elements: dict
  contains:
    hive:
      description: C(HKLM) or C(default_user), as in the item.
      type: str
    key:
      description: The key, as in the item (empty segments removed).
      type: str
    name:
      description: The value name (empty for C((Default))).
      type: str
    type:
      description: The item's type; for a removed value the type it had.
      type: str
    before:
      description:
        - The value before, C(null) when it did not exist. C(type) is the stored kind in the
          option's spelling (C(string), C(expandstring), C(multistring), C(dword), C(qword),
          C(binary); C(none) or C(unknown) for other kinds). C(data) is a string, a list of
          strings (multistring), an unsigned integer (dword, qword) or a list of byte values
          (binary, none).
      type: dict
      sample: {type: dword, data: 0}
    after:
      description: The value after, in the same form; C(null) when it was removed.
      type: dict
      sample: {type: dword, data: 1}
    source:
      description: The item's O(values[].source), C(null) when it had none.
      type: str
  sample:
    - hive: HKLM
      key: SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services
      name: fEnableTimeZoneRedirection
      type: dword
      before: null
      after: {type: dword, data: 1}
      source: avd.time_zone_redirection
unchanged:
  description: How many items were already as asked.
  returned: always
  type: int
  sample: 41
default_user_hive_loaded:
  description: Whether the default user hive was loaded (and unloaded again) by this run.
  returned: always
  type: bool
  sample: true
diff:
  description:
    - With C(--diff), the changed values only. C(before) and C(after) each map C(<hive>\<key>)
      to a dictionary of value names, each with C(type) and C(data); a value missing on one side
      is left out of it.
  returned: diff mode
  type: dict
  sample:
    before: {'HKLM\SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services': {}}
    after:
      'HKLM\SOFTWARE\Policies\Microsoft\Windows NT\Terminal Services':
        fEnableTimeZoneRedirection: {type: dword, data: 1}
"""
