"""Lookup plugin avd.golden.build_cancel: whether a cancel of the running build was requested."""

from __future__ import annotations

DOCUMENTATION = r"""
name: build_cancel
short_description: Whether a cancel (SIGINT or SIGTERM) of the running build was requested
description:
  - Returns one dict, C(installed) (the callback C(avd.golden.build_cancel) is handling signals),
    C(requested), C(signal) (C(SIGINT) or C(SIGTERM), null before a request) and C(at) (UTC).
  - The callback records the request in the ansible-playbook process; a task forked after it
    sees it, so a condition that uses this lookup skips the tasks after a cancel.
  - Takes no terms.
"""

EXAMPLES = r"""
- name: Skip after a cancel
  ansible.builtin.debug:
    msg: still running
  when: not lookup('avd.golden.build_cancel')['requested']
"""

RETURN = r"""
_raw:
  description: One dict with installed, requested, signal and at.
  type: list
  elements: dict
"""

from ansible.errors import AnsibleLookupError  # noqa: E402
from ansible.plugins.lookup import LookupBase  # noqa: E402
from ansible_collections.avd.golden.plugins.plugin_utils import _cancel  # noqa: E402


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        if terms:
            raise AnsibleLookupError("avd.golden.build_cancel takes no terms")
        return [_cancel.state()]
