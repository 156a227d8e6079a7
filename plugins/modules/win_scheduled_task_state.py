#!/usr/bin/python
"""Enable or disable many scheduled tasks in one module invocation."""

from __future__ import annotations

DOCUMENTATION = r"""
module: win_scheduled_task_state
short_description: Enable or disable many Windows scheduled tasks at once
version_added: "0.1.0"
description:
  - Enables or disables every scheduled task in O(tasks) in one invocation, with
    C(Get-ScheduledTask), C(Enable-ScheduledTask) and C(Disable-ScheduledTask). Nothing else of a
    task (triggers, actions, principal) is touched, and no task is created or deleted.
  - A task the machine does not have is never created. It is listed in RV(missing), as the Virtual
    Desktop Optimization Tool reports it, and the module fails only with O(missing=fail).
  - A task counts as enabled in any state but C(Disabled) (C(Ready), C(Running), C(Queued)).
    Disabling a running task does not stop the instance that is running.
author:
  - AVD golden image builders
options:
  tasks:
    description:
      - The tasks and the state each should have. When two items match the same task, the later
        item wins.
    type: list
    elements: dict
    required: true
    suboptions:
      path:
        description:
          - Task folder as C(Get-ScheduledTask -TaskPath) takes it, for example
            C(\Microsoft\Windows\Defrag\). C(\) is the root folder only; a wildcard pattern such as
            C(\Microsoft\Windows\*) or C(\*) (every folder, the root included) is allowed.
          - A missing leading C(\) is added, and a missing trailing C(\) unless the path ends with
            C(*).
        type: str
        default: '\'
      name:
        description:
          - Task name, compared case-insensitively, or a wildcard pattern (C(*), C(?), C([...])), for
            example C(*Compatibility*).
        type: str
        required: true
      enabled:
        description:
          - V(false) disables the task, V(true) enables it.
        type: bool
        required: true
      source:
        description:
          - Free label echoed in RV(changes), for example C(ScheduledTasks.json#12).
        type: str
  missing:
    description:
      - What to do when an item matches no task.
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
    description: Returns the state of every changed task before and after.
notes:
  - Tested against a simulation of the Task Scheduler. Only real Windows can prove which tasks a
    given image build has and in which folder, and which tasks refuse to be changed even by an
    administrator (some tasks under C(\Microsoft\Windows\) are owned by C(SYSTEM) or
    C(TrustedInstaller) and fail with C(Access is denied)); such a failure fails the module naming
    the task, with the changes made so far in RV(changes).
seealso:
  - module: community.windows.win_scheduled_task
"""

EXAMPLES = r"""
- name: Disable maintenance tasks that make no sense on a pooled session host
  avd.golden.win_scheduled_task_state:
    tasks:
      - {path: '\Microsoft\Windows\Defrag\', name: ScheduledDefrag, enabled: false}
      - {path: '\Microsoft\Windows\Application Experience\', name: '*Compatibility*', enabled: false}
      - path: '\Microsoft\Windows\WindowsUpdate\'
        name: Scheduled Start
        enabled: false
        source: avd.store_auto_update

- name: Apply the tasks of the optimization plan, reporting the ones the image lacks
  avd.golden.win_scheduled_task_state:
    tasks: "{{ plan['tasks'] }}"
"""

RETURN = r"""
changes:
  description: One entry per task whose state changed (in check mode, would change).
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The task's folder (TaskPath).
      type: str
      sample: \Microsoft\Windows\Defrag\
    name:
      description: The task's name (TaskName) as the machine spells it.
      type: str
      sample: ScheduledDefrag
    before:
      description:
        - State before, as C(Get-ScheduledTask) reports it (C(Ready), C(Running), C(Queued),
          C(Disabled)).
      type: str
      sample: Ready
    after:
      description: State after, C(Ready) or C(Disabled).
      type: str
      sample: Disabled
    source:
      description: The item's O(tasks[].source), or null.
      type: str
missing:
  description: C(<path><name>) of every item that matched no task.
  returned: always
  type: list
  elements: str
  sample: ['\Microsoft\Windows\Work Folders\Work Folders Maintenance Work']
"""
