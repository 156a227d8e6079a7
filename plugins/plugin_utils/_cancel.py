"""Cancel of a running build (pure Python, no Ansible imports, unit-tested).

ansible-core's TaskQueueManager answers SIGINT and SIGTERM by forwarding the signal to its
workers and ending the run at once (SIGINT becomes KeyboardInterrupt, SIGTERM kills the process
again with the default action): no teardown, no report. The callback ``avd.golden.build_cancel``
puts ``handle`` in front of that handler in the main process:

- the first SIGINT or SIGTERM only records the request: the running task ends normally, and the
  phase wrapper (playbooks/phase.yml) skips the rest of the phase and the remaining phases while
  teardown and the report still run;
- a second one is passed to the handler that was there before (TaskQueueManager's): it forces the
  run to end as Ansible would have ended it.

The state lives in this module. Ansible forks a worker per task from the main process, so a
lookup (``avd.golden.build_cancel``) in a task started after the signal sees the request.
"""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
import time
from types import FrameType
from typing import Any

SIGNALS = (signal.SIGINT, signal.SIGTERM)

_state: dict[str, Any] = {"installed": False, "requested": False, "signal": None, "at": None}
_previous: dict[int, Any] = {}


def state() -> dict[str, Any]:
    """A copy of the cancel state: installed (bool), requested (bool), signal (name), at (UTC)."""
    return dict(_state)


def install() -> bool:
    """Put ``handle`` in front of the SIGINT and SIGTERM handlers; False outside the main thread
    (Python allows signal handlers only there). Installing twice keeps the first previous handlers."""
    try:
        for signum in SIGNALS:
            current = signal.getsignal(signum)
            if current is not handle:
                _previous[signum] = current
                signal.signal(signum, handle)
    except ValueError:
        return False
    _state["installed"] = True
    return True


def reset() -> None:
    """Forget a request and restore the previous handlers (tests)."""
    for signum, previous in _previous.items():
        signal.signal(signum, previous)
    _previous.clear()
    _state.update(installed=False, requested=False, signal=None, at=None)


def handle(signum: int, frame: FrameType | None) -> None:
    """The signal handler: the first signal records the request, a second one forces."""
    if not _state["requested"]:
        _state.update(requested=True, signal=signal.Signals(signum).name, at=_utc_now())
        # Only a write(2) here: the handler may interrupt Display while it holds its lock.
        forward(signum)
        _say(
            f"\n[avd.golden] {_state['signal']} received: the running task ends, the remaining "
            "phases are skipped, teardown and the report run. Send it again to force an "
            "immediate stop (then run playbooks/janitor.yml).\n"
        )
        return
    _force(signum, frame)


def forward_dir(main_pid: int | None = None) -> str:
    """Where a worker of this run registers a pid that must get the first signal too (the
    fan-out of many builds, plugins/action/build_fanout.py, runs in a forked worker)."""
    return os.path.join(tempfile.gettempdir(), f"avd-golden-forward-{main_pid or os.getpid()}")


def forward(signum: int) -> None:
    """Send the signal on to every registered pid that is still alive."""
    with contextlib.suppress(OSError):
        for name in os.listdir(forward_dir()):
            with contextlib.suppress(OSError, ValueError):
                os.kill(int(name), signum)


def _force(signum: int, frame: FrameType | None) -> None:
    previous = _previous.get(signum, signal.SIG_DFL)
    signal.signal(signum, previous)
    if callable(previous):
        previous(signum, frame)
    elif previous == signal.SIG_DFL:
        os.kill(os.getpid(), signum)


def _say(text: str) -> None:
    with contextlib.suppress(OSError):
        os.write(2, text.encode())


def _utc_now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
