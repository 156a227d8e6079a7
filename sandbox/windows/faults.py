"""WinRM faults armed on demand through the control endpoint (docs/contracts.md section 1).

``{"target": "winrm", "vm": "<name>", "kind": <kind>, "count": N}``; the kinds the transport owns:

- ``drop_connection``: the next N Receive requests are answered by closing the TCP connection
  without a response (the command already ran, as when a real link drops mid-command).
- ``operation_timeout``: the next N Receive requests get the WS-Man OperationTimeout fault
  (code 2150858793) Windows sends when a command runs longer than OperationTimeout; clients
  re-issue Receive and then get the output.
- ``slow_reboot`` (``seconds``, default 10): the next N guest reboots keep the listener down that
  long instead of the default downtime.
- ``guest_reboot`` (``seconds``, default the host's reboot downtime): the guest restarts on its own
  (as after a servicing stack or driver update) while a command runs: the command's effect is
  applied, its Receive is answered by closing the connection, and the listener is down for that
  long; the guest then comes back with a new boot time. N such restarts, one per Receive.

Other kinds (sysprep AppX, BitLocker, ...) belong to the simulated Windows state (Guest.inject_fault).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

KINDS = ("drop_connection", "operation_timeout", "slow_reboot", "guest_reboot")


@dataclass
class WinrmFaults:
    """Counters of armed faults for one VM."""

    armed: dict[str, int] = field(default_factory=dict)
    slow_reboot_seconds: float = 10.0
    guest_reboot_seconds: float | None = None  # None: the host's reboot downtime

    @staticmethod
    def owns(spec: dict[str, Any]) -> bool:
        return spec.get("kind") in KINDS

    def arm(self, spec: dict[str, Any]) -> None:
        """Arm one fault spec; ValueError names the bad field."""
        kind = spec.get("kind")
        if kind not in KINDS:
            raise ValueError(f"kind: unknown WinRM fault {kind!r} (one of {', '.join(KINDS)})")
        count = spec.get("count", 1)
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise ValueError(f"count: must be an integer >= 1, got {count!r}")
        unknown = set(spec) - {"target", "vm", "kind", "count", "seconds"}
        if unknown or ("seconds" in spec and kind not in ("slow_reboot", "guest_reboot")):
            raise ValueError(
                f"fields not known for a {kind} fault: {', '.join(sorted(unknown or {'seconds'}))}"
            )
        if kind in ("slow_reboot", "guest_reboot"):
            seconds = spec.get("seconds", 10)
            if not isinstance(seconds, int | float) or isinstance(seconds, bool) or not 0 < seconds <= 600:
                raise ValueError(f"seconds: must be a number of seconds in (0, 600], got {seconds!r}")
            if kind == "slow_reboot":
                self.slow_reboot_seconds = float(seconds)
            else:
                self.guest_reboot_seconds = float(seconds) if "seconds" in spec else None
        self.armed[kind] = self.armed.get(kind, 0) + count

    def take(self, *kinds: str) -> str | None:
        """Consume one armed fault of the first of ``kinds`` that is armed."""
        for kind in kinds:
            if self.armed.get(kind, 0) > 0:
                self.armed[kind] -= 1
                return kind
        return None

    def remaining(self, kind: str) -> int:
        return self.armed.get(kind, 0)

    def clear(self) -> None:
        self.armed.clear()

    def dump(self) -> dict[str, int]:
        return {kind: n for kind, n in self.armed.items() if n}
