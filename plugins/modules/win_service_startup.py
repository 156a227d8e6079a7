#!/usr/bin/python
"""Set the start mode of many Windows services in one module invocation."""

from __future__ import annotations

DOCUMENTATION = r"""
module: win_service_startup
short_description: Set the start mode of many Windows services at once
version_added: "0.1.0"
description:
  - Sets the start mode of every service in O(services) in one invocation, so that an optimization
    profile of dozens of services costs one WinRM round trip instead of one per service.
  - Start modes are read from C(HKLM:\SYSTEM\CurrentControlSet\Services\<name>) (C(Start) and
    C(DelayedAutostart)), because C(Get-Service) does not tell Automatic from Automatic (Delayed
    Start). C(manual) and C(disabled) are set with C(Set-Service -StartupType); C(auto) and
    C(delayed) with C(sc.exe config <name> start= auto) and C(start= delayed-auto) (Windows
    PowerShell 5.1 has no C(AutomaticDelayedStart) start type).
  - A service the image does not have is never created. It is listed in RV(missing), as the Virtual
    Desktop Optimization Tool reports it, and the module fails only with O(missing=fail).
  - B(Per-user service templates.) Some services (for example C(BcastDVRUserService),
    C(MessagingService), C(CDPUserSvc)) are templates from which Windows creates one instance per
    signed-in user, named C(<template>_<suffix>) (for example C(BcastDVRUserService_4a8f2)). Name
    the template; its start mode is what every new instance gets at the next sign-in. The Service
    Control Manager refuses to change a template's configuration, so a template (registry C(Type)
    with the user-service bit C(0x40)) is set by writing its C(Start) and C(DelayedAutostart)
    values. Instances (C(Type) bit C(0x80)) are never changed (they belong to a session and are
    recreated from the template) and never match, so naming one exactly reports it in RV(missing).
  - Only the start mode is changed. A running service keeps running until it is stopped or the
    machine restarts.
author:
  - AVD golden image builders
options:
  services:
    description:
      - The services and the start mode each should have. When two items match the same service,
        the later item wins (so overrides can follow a profile).
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description:
          - Service name (not the display name), compared case-insensitively, or a wildcard pattern
            (C(*), C(?), C([...])) as C(Get-Service -Name) takes it, for example C(Xbl*).
        type: str
        required: true
      start_mode:
        description:
          - C(auto) Automatic, C(delayed) Automatic (Delayed Start), C(manual) Manual (demand start),
            C(disabled) Disabled.
        type: str
        required: true
        choices: [auto, delayed, manual, disabled]
      source:
        description:
          - Free label echoed in RV(changes), for example C(Services.json#3) or C(avd.fslogix).
        type: str
  missing:
    description:
      - What to do when an exact name is not a service of the machine, or a pattern matches none.
      - C(report) lists it in RV(missing) and goes on. C(fail) fails the module before anything is
        changed, naming every missing entry.
    type: str
    choices: [report, fail]
    default: report
attributes:
  check_mode:
    support: full
    description: Computes the same RV(changes) and RV(missing) as a real run and changes nothing.
  diff_mode:
    support: full
    description: Returns the start mode of every changed service before and after.
notes:
  - Tested against a simulation of the Service Control Manager. Only real Windows can prove that
    C(sc.exe config start= auto) clears the delayed flag of a delayed service, that the Service
    Control Manager refuses C(ChangeServiceConfig) on a per-user service template (the reason the
    template's registry values are written instead) and that Windows creates new instances from
    the template's C(Start) value; and the default start modes of a given image build.
  - Protected services (for example C(WinDefend)) refuse changes even to administrators; the module
    then fails naming the service and Windows' error, with the changes made so far in RV(changes).
seealso:
  - module: ansible.windows.win_service
"""

EXAMPLES = r"""
- name: Disable telemetry and Xbox services, keep the Store installer manual
  avd.golden.win_service_startup:
    services:
      - {name: DiagTrack, start_mode: disabled, source: Services.json#6}
      - {name: 'Xbl*', start_mode: disabled}
      - {name: XboxGipSvc, start_mode: disabled}
      - {name: BcastDVRUserService, start_mode: disabled}   # the per-user template
      - {name: InstallService, start_mode: manual}

- name: Refuse a profile that names services this image does not have
  avd.golden.win_service_startup:
    services: "{{ plan['services'] }}"
    missing: fail
"""

RETURN = r"""
changes:
  description:
    - One entry per service whose start mode changed (in check mode, would change), in the order
      of first match.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The service name as the machine spells it.
      type: str
      sample: DiagTrack
    before:
      description:
        - Start mode before (C(auto), C(delayed), C(manual), C(disabled), or C(boot)/C(system) for
          drivers).
      type: str
      sample: auto
    after:
      description: Start mode after.
      type: str
      sample: disabled
    source:
      description: The item's O(services[].source), or null.
      type: str
missing:
  description: The O(services[].name) entries (names or patterns) that matched no service.
  returned: always
  type: list
  elements: str
  sample: [MessagingService]
"""
