#!/usr/bin/python
"""Record one part of the image manifest (what a role put into the image) in the build artifacts."""

from __future__ import annotations

DOCUMENTATION = r"""
module: build_manifest
short_description: Record what a role put into the image, with old and new values
version_added: "0.2.0"
description:
  - Writes one part of the image manifest, C(<artifacts_dir>/manifest/<part>.json), from the items a
    role planned and the results of the batch modules that applied them (C(avd.golden.win_registry_set),
    C(avd.golden.win_service_startup), C(avd.golden.win_scheduled_task_state),
    C(avd.golden.win_appx_remove), C(community.windows.win_firewall_rule),
    C(avd.golden.win_language_install), C(avd.golden.win_language_settings)) and the KBs
    C(ansible.windows.win_updates) installed. The build report gathers
    the parts into its C(manifest) section; the capture phase puts a summary on the image version's tags.
  - With I(what_if=true) (the roles set it in check mode) it writes C(<artifacts_dir>/whatif/<part>.json)
    instead, the list of every item that would change, old value and new value. Run this task with
    C(check_mode=false), since writing that list is the point of the what-if.
  - An existing part is merged, not replaced; an entry keeps the old value and C(changed) of the first
    run that changed it, so a re-run that changes nothing leaves the record intact and reports no change.
  - Runs on the controller (C(delegate_to=localhost)). Writes are atomic. The format is
    docs/contracts.md section 7.
author:
  - AVD golden image builders
options:
  artifacts_dir:
    description: The build's artifacts directory.
    type: path
    required: true
  part:
    description: Name of the part, the phase that writes it (for example C(optimize)).
    type: str
    required: true
  what_if:
    description: Write the what-if list (C(whatif/)) instead of the manifest (C(manifest/)).
    type: bool
    default: false
  results:
    description:
      - What was applied, one entry per batch module call.
    type: list
    elements: dict
    required: true
    suboptions:
      kind:
        description: What the items are.
        type: str
        required: true
        choices: [registry, service, task, appx, firewall_rule, group, update, application, language]
      items:
        description: The planned items given to the module.
        type: list
        elements: dict
        default: []
      result:
        description: The registered result of the module.
        type: dict
        default: {}
  info:
    description: Facts about the part worth keeping, for example the optimization profile's name.
    type: dict
    default: {}
  warnings:
    description:
      - Warnings of the plan (for example HKCU policies redirected to the default user hive). Each is
        kept in the part and shown as a warning of the task, with the modules' own warnings.
    type: list
    elements: str
    default: []
"""

EXAMPLES = r"""
- name: Record what the optimization applied
  avd.golden.build_manifest:
    artifacts_dir: "{{ hostvars['localhost']['avd_build']['artifacts_dir'] }}"
    part: optimize
    what_if: "{{ ansible_check_mode }}"
    results:
      - kind: service
        items: "{{ plan['services'] }}"
        result: "{{ services_result }}"
  delegate_to: localhost
  check_mode: false
"""

RETURN = r"""
path:
  description: The part's file.
  type: str
  returned: always
summary:
  description: Counts of the part, C({entries, changed, missing, failed}).
  type: dict
  returned: always
"""

from ansible.module_utils.basic import AnsibleModule  # noqa: E402
from ansible_collections.avd.golden.plugins.module_utils import _manifest  # noqa: E402


def main() -> None:
    """Module entry point."""
    module = AnsibleModule(
        argument_spec={
            "artifacts_dir": {"type": "path", "required": True},
            "part": {"type": "str", "required": True},
            "what_if": {"type": "bool", "default": False},
            "results": {
                "type": "list",
                "elements": "dict",
                "required": True,
                "options": {
                    "kind": {"type": "str", "required": True, "choices": list(_manifest.KINDS)},
                    "items": {"type": "list", "elements": "dict", "default": []},
                    "result": {"type": "dict", "default": {}},
                },
            },
            "info": {"type": "dict", "default": {}},
            "warnings": {"type": "list", "elements": "str", "default": []},
        },
        supports_check_mode=True,
    )
    params = module.params
    if not params["part"].replace("_", "").isalnum():
        module.fail_json(msg=f"part: {params['part']!r} must be letters, digits and underscores")
    path = _manifest.part_path(params["artifacts_dir"], params["part"], params["what_if"])
    previous = _manifest.load(path)
    current = _manifest.build_part(params["part"], params["results"], params["info"], params["warnings"])
    merged = _manifest.merge(previous, current)
    for warning in merged["warnings"]:  # e.g. an HKCU policy written to the default user hive
        module.warn(f"{params['part']}: {warning}")
    changed = merged != previous
    if changed and not module.check_mode:
        _manifest.write(path, merged)
    module.exit_json(changed=changed, path=path, summary=_manifest.summary([merged])[params["part"]])


if __name__ == "__main__":
    main()
