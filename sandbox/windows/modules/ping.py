"""ansible.windows.win_ping (win_ping.ps1): returns ``ping`` = data; data "crash" throws."""

from __future__ import annotations

from sandbox.windows.argspec import build_spec
from sandbox.windows.modules import Ctx, Unhandled, register

SPEC = build_spec("ansible.windows.win_ping", "basic", supports_check_mode=True)


@register(SPEC)
def main(ctx: Ctx) -> None:
    data = ctx.params["data"]
    if data == "crash":
        # `throw "boom"` inside the module: the exec wrapper reports the unhandled exception.
        raise Unhandled("boom")
    ctx.result["ping"] = data
