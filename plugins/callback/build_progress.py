"""Callback plugin avd.golden.build_progress: phase progress with elapsed time, and a summary table."""

from __future__ import annotations

DOCUMENTATION = r"""
name: build_progress
short_description: Show each phase of a build with its elapsed time, and a summary table at the end
description:
  - Next to the stdout callback's own output (which shows each phase's title as it starts),
    prints a line when a phase ends, with the build's elapsed time and how long the phase took.
  - When the run ends, prints a table of the phases with their status (from the build report,
    when the run got that far) and wall time, then the total, the result and the image version.
  - A phase is a play that sets C(avd_phase); nothing else of a play's variables is read.
  - Enabled by the collection's C(ansible.cfg) (C(callbacks_enabled)).
  - Logic in C(plugins/plugin_utils/_progress.py).
type: aggregate
requirements:
  - enabled in callbacks_enabled
"""

import time  # noqa: E402

from ansible.plugins.callback import CallbackBase  # noqa: E402
from ansible_collections.avd.golden.plugins.plugin_utils import _progress  # noqa: E402


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "avd.golden.build_progress"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self) -> None:
        super().__init__()
        self._progress = _progress.Progress(started=time.monotonic())

    def _show(self, lines: list[str]) -> None:
        for line in lines:
            self._display.display(line)

    def v2_playbook_on_play_start(self, play) -> None:
        phase = (play.vars or {}).get("avd_phase")
        self._show(self._progress.play_start(phase, play.get_name(), time.monotonic()))

    def v2_runner_on_ok(self, result) -> None:
        self._progress.task_result(result._task.action, result._result)

    def v2_runner_on_failed(self, result, ignore_errors=False) -> None:
        self._progress.task_ran()

    def v2_runner_on_unreachable(self, result) -> None:
        self._progress.task_ran()

    def v2_playbook_on_stats(self, stats) -> None:
        self._show(self._progress.finish(time.monotonic()))
