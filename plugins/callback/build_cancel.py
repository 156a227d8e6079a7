"""Callback plugin avd.golden.build_cancel: a first SIGINT or SIGTERM cancels the build cleanly."""

from __future__ import annotations

DOCUMENTATION = r"""
name: build_cancel
short_description: Turn the first SIGINT or SIGTERM into a clean cancel of the build
description:
  - Installs a handler for SIGINT and SIGTERM in front of ansible-core's own, in the
    ansible-playbook process, when the playbook starts.
  - The first signal only records the cancel request; the running task ends, and
    C(playbooks/phase.yml) skips the rest of the running phase and the remaining phases
    (recording them C(cancelled) and C(skipped)), while the teardown phase and the report still
    run. The report's result is C(cancelled) and the run ends non-zero.
  - A second signal is handed to ansible-core's handler, which ends the run at once, as without
    this plugin; the janitor (C(playbooks/janitor.yml)) then finds the build by its heartbeat.
  - Enabled by the collection's C(ansible.cfg) (C(callbacks_enabled)); the lookup
    C(avd.golden.build_cancel) reads the request, and the validate phase warns when the plugin
    is not enabled.
  - Logic in C(plugins/plugin_utils/_cancel.py).
type: aggregate
requirements:
  - enabled in callbacks_enabled
"""

from ansible.plugins.callback import CallbackBase  # noqa: E402
from ansible_collections.avd.golden.plugins.plugin_utils import _cancel  # noqa: E402


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "avd.golden.build_cancel"
    CALLBACK_NEEDS_ENABLED = True

    def v2_playbook_on_start(self, playbook) -> None:
        # The main thread of ansible-playbook, after TaskQueueManager installed its handlers.
        if not _cancel.install():
            self._display.warning(
                "avd.golden.build_cancel: not in the main thread, no cancel handler installed"
            )
