"""The cancel handler (plugins/plugin_utils/_cancel.py): a first signal is only recorded, a second
one reaches the handler that was there before, and a forked child sees the request."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[4]
sys.path.insert(0, str(REPO_ROOT / "collections"))

from ansible_collections.avd.golden.plugins.lookup.build_cancel import LookupModule  # noqa: E402
from ansible_collections.avd.golden.plugins.plugin_utils import _cancel  # noqa: E402


@pytest.fixture
def previous() -> Iterator[list[int]]:
    """A stand-in for TaskQueueManager's handler on both signals, restored afterwards."""
    seen: list[int] = []
    saved = {s: signal.getsignal(s) for s in _cancel.SIGNALS}
    for s in _cancel.SIGNALS:
        signal.signal(s, lambda signum, frame: seen.append(signum))
    yield seen
    _cancel.reset()
    for s, handler in saved.items():
        signal.signal(s, handler)


def test_nothing_is_requested_before_a_signal(previous: list[int]) -> None:
    assert _cancel.install() is True
    assert _cancel.state() == {"installed": True, "requested": False, "signal": None, "at": None}


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_the_first_signal_is_recorded_and_not_passed_on(previous: list[int], signum: int) -> None:
    _cancel.install()
    os.kill(os.getpid(), signum)
    state = _cancel.state()
    assert state["requested"] is True
    assert state["signal"] == signal.Signals(signum).name
    assert state["at"].endswith("Z")
    assert previous == []


def test_a_second_signal_reaches_the_previous_handler(previous: list[int]) -> None:
    _cancel.install()
    os.kill(os.getpid(), signal.SIGTERM)
    os.kill(os.getpid(), signal.SIGTERM)
    assert previous == [signal.SIGTERM]
    # Forcing restored the previous handler: a third signal goes straight to it.
    assert signal.getsignal(signal.SIGTERM) is not _cancel.handle


def test_installing_twice_keeps_the_real_previous_handler(previous: list[int]) -> None:
    _cancel.install()
    _cancel.install()
    os.kill(os.getpid(), signal.SIGINT)
    os.kill(os.getpid(), signal.SIGINT)
    assert previous == [signal.SIGINT]


def test_a_forked_child_sees_the_request(previous: list[int]) -> None:
    # Ansible forks a worker per task: the lookup in a task after the signal must see it.
    _cancel.install()
    os.kill(os.getpid(), signal.SIGTERM)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.write(write, b"1" if LookupModule().run([])[0]["requested"] else b"0")
        os._exit(0)
    os.waitpid(pid, 0)
    assert os.read(read, 1) == b"1"


def test_the_lookup_takes_no_terms() -> None:
    with pytest.raises(Exception, match="takes no terms"):
        LookupModule().run(["x"])


def test_install_outside_the_main_thread_says_so() -> None:
    import threading

    results: list[bool] = []
    thread = threading.Thread(target=lambda: results.append(_cancel.install()))
    thread.start()
    thread.join()
    assert results == [False]
    assert _cancel.state()["installed"] is False
