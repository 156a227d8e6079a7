"""ansible.windows.win_timezone (tzutil /g, /l, /s) over the TimeZoneInformation registry key."""

from __future__ import annotations

import json
from functools import cache

from sandbox.windows.argspec import build_spec
from sandbox.windows.modules import Ctx, ModuleFail, register
from sandbox.windows.state import IMAGES_DIR, TZ_KEY, WindowsState

SPEC = build_spec("ansible.windows.win_timezone", "basic", supports_check_mode=True)


@cache
def time_zone_ids() -> tuple[str, ...]:
    """What `tzutil /l` lists (sandbox/windows/images/timezones.json)."""
    return tuple(json.loads((IMAGES_DIR / "timezones.json").read_text())["ids"])


def set_time_zone(state: WindowsState, tz: str) -> None:
    """tzutil /s: TimeZoneKeyName (and DynamicDaylightTimeDisabled for the _dstoff suffix)."""
    base = tz.removesuffix("_dstoff")
    state.registry.set_value(TZ_KEY, "TimeZoneKeyName", "REG_SZ", base)
    state.registry.set_value(
        TZ_KEY, "DynamicDaylightTimeDisabled", "REG_DWORD", 1 if tz.endswith("_dstoff") else 0
    )


def current(state: WindowsState) -> str:
    """tzutil /g prints the id, with _dstoff when daylight saving is disabled."""
    tz = state.time_zone()
    dst = state.registry.get_value(TZ_KEY, "DynamicDaylightTimeDisabled")
    return tz + "_dstoff" if dst and dst.data == 1 and tz != "UTC" else tz


@register(SPEC)
def main(ctx: Ctx) -> None:
    tz = ctx.params["timezone"]
    ctx.result["previous_timezone"] = None
    ctx.result["timezone"] = tz
    previous = current(ctx.state)
    ctx.result["previous_timezone"] = previous
    if ctx.diff_mode:
        ctx.diff["before"] = f"{previous}\n"
        ctx.diff["after"] = f"{tz}\n"
    # PowerShell -ne is case-insensitive: "utc" equals "UTC" and reports no change.
    if previous.lower() != tz.lower():
        if tz.removesuffix("_dstoff") not in time_zone_ids():
            raise ModuleFail(f"The specified timezone: {tz} isn't supported on the machine.")
        if not ctx.check_mode:
            set_time_zone(ctx.state, tz)
        ctx.result["changed"] = True
