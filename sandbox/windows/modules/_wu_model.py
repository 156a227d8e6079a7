"""The Windows Update Agent of a simulated guest: catalogue, search, download, install, faults.

Seeded from images/updates.yaml for the guest's build and image version (what is already in the
image is installed, the rest is available). What WUA does, as ansible.windows.win_updates sees it:

- search (``IsInstalled = 0``): every available update whose prerequisites are installed; of the
  cumulative updates only the newest above the guest's UBR (each supersedes the earlier ones);
- ``SystemInfo.RebootRequired``: true while the WindowsUpdate RebootRequired key exists;
- install: a pending servicing reboot (CBS RebootPending, PendingFileRenameOperations) makes the
  whole ``Install`` call fail with 0x80240016 WU_E_INSTALL_NOT_ALLOWED [Obs:
  danielsollondon/azvmimagebuilder#66, rgl/packer-plugin-windows-update#15]; an update that needs a
  reboot sets RebootRequired and RebootPending; a cumulative update's UBR applies at the next boot.

Faults (``WindowsState.inject_fault``): ``update_reinstalls`` {kb} (after it installs, the next boot
puts it back: offered again, as KB5007651 does, rgl/packer-plugin-windows-update#166),
``update_fails`` {kb, hresult} (its install result is Failed with that HRESULT), ``update_hangs``
{kb, count} (an install batch holding it never completes until the job is cancelled).
"""

from __future__ import annotations

import copy
import datetime as dt
import functools
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from sandbox.guest_api import NotModelled

if TYPE_CHECKING:
    from sandbox.windows.state import WindowsState

CATALOGUE = Path(__file__).resolve().parents[1] / "images" / "updates.yaml"
CBS_REBOOT_KEY = r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending"
WU_REBOOT_KEY = r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired"
SESSION_MANAGER_KEY = r"HKLM\SYSTEM\CurrentControlSet\Control\Session Manager"
CURRENT_VERSION_KEY = r"HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion"
E_INSTALL_NOT_ALLOWED = 0x80240016
REBOOTS = ("never", "always", "can_request")
FAULTS = ("update_reinstalls", "update_fails", "update_hangs")


@functools.cache
def _catalogue() -> dict[str, Any]:
    return yaml.safe_load(CATALOGUE.read_text())


def empty() -> dict[str, Any]:
    """The WUA state a guest persists: jobs of win_updates, armed faults, the UBR after reboot."""
    return {"jobs": {}, "reinstalls": [], "fails": {}, "hangs": {}, "pending_ubr": None, "revert_at_boot": []}


def _update_id(build: str, kb: str, title: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"wu:{build}:{kb}:{title}"))


def catalogue_for(build: str, family: str, display_version: str) -> list[dict[str, Any]]:
    """Every update the model knows for a build, with ids, titles and defaults filled in."""
    data = _catalogue()
    if build not in data["builds"]:
        raise NotModelled(f"no Windows Update model for build {build} (sandbox/windows/images/updates.yaml)")
    fam = data["families"][family]
    entry = data["builds"][build]
    out = []
    for lcu in entry.get("cumulative", []):
        month = str(lcu["released"])[:7]
        title = (
            f"{month} Cumulative Update for {fam['os']} Version {display_version} for x64-based Systems "
            f"({lcu['kb']})"
        )
        out.append(
            _record(
                build,
                {
                    **lcu,
                    "title": title,
                    "categories": ["Security Updates", fam["product"]],
                    "reboot": "always",
                },
            )
        )
    for upd in data["common"] + entry.get("updates", []):
        categories = list(upd["categories"])
        if fam["product"] not in categories:
            categories.append(fam["product"])
        out.append(_record(build, {**upd, "categories": categories}))
    return out


def _record(build: str, upd: dict[str, Any]) -> dict[str, Any]:
    if upd.get("reboot") not in REBOOTS:
        raise ValueError(f"updates.yaml: {upd.get('kb')}: reboot must be one of {REBOOTS}")
    return {
        "id": _update_id(build, upd["kb"], upd["title"]),
        "kb": upd["kb"],
        "title": upd["title"],
        "categories": upd["categories"],
        "reboot": upd["reboot"],
        "ubr": upd.get("ubr"),
        "released": str(upd.get("released", "latest")),
        "requires": upd.get("requires"),
        "browse_only": bool(upd.get("browse_only")),
        "downloaded": False,
    }


def seed(st: WindowsState, family: str) -> None:
    """Split the build's catalogue into installed (in the image) and available."""
    made = _image_date(st.image.exact_version)
    for upd in catalogue_for(st.build, family, st.display_version):
        if upd["ubr"] is not None:
            inside = upd["ubr"] <= st.ubr
        else:
            inside = (
                upd["released"] != "latest"
                and made is not None
                and dt.date.fromisoformat(upd["released"]) <= made
            )
        (st.updates_installed if inside else st.updates_available).append(upd)


def _image_date(version: str) -> dt.date | None:
    try:
        return dt.datetime.strptime(version.split(".")[2], "%y%m%d").date()
    except (IndexError, ValueError):
        return None


def offered(st: WindowsState) -> list[dict[str, Any]]:
    """What a search for ``IsInstalled = 0`` finds."""
    lcus = [u for u in st.updates_available if u["ubr"] is not None and u["ubr"] > _current_ubr(st)]
    newest = max(lcus, key=lambda u: u["ubr"], default=None)
    lcu_done = newest is None
    out = [newest] if newest else []
    for upd in st.updates_available:
        if upd["ubr"] is not None:
            continue
        if upd["requires"] == "cumulative" and not lcu_done:
            continue
        out.append(upd)
    return out


def _current_ubr(st: WindowsState) -> int:
    pending = st.windows_update["pending_ubr"]
    return max(st.ubr, pending or 0)


def reboot_required(st: WindowsState) -> bool:
    """Microsoft.Update.SystemInfo.RebootRequired [Unc: modelled as the WU RebootRequired key]."""
    return st.registry.exists(WU_REBOOT_KEY)


def servicing_reboot_pending(st: WindowsState) -> bool:
    pfro = st.registry.get_value(SESSION_MANAGER_KEY, "PendingFileRenameOperations")
    return st.registry.exists(CBS_REBOOT_KEY) or bool(pfro and pfro.data)


def hangs(st: WindowsState, batch: list[dict[str, Any]]) -> str | None:
    """The KB of the batch that hangs the install (consumes one armed hang)."""
    for upd in batch:
        left = st.windows_update["hangs"].get(upd["kb"], 0)
        if left > 0:
            st.windows_update["hangs"][upd["kb"]] = left - 1
            return upd["kb"]
    return None


def install(st: WindowsState, upd: dict[str, Any]) -> tuple[int, int, bool]:
    """Install one update: (result code, HRESULT, reboot required)."""
    code = st.windows_update["fails"].get(upd["kb"])
    if code is not None:
        return 4, _signed(int(code)), False
    st.updates_available.remove(upd)
    installed = dict(upd, installed_at=st.clock())
    st.updates_installed.append(installed)
    reinstalls = upd["kb"] in st.windows_update["reinstalls"]
    needs_reboot = upd["reboot"] != "never" or reinstalls
    if needs_reboot:
        st.registry.create(WU_REBOOT_KEY)
        st.registry.create(CBS_REBOOT_KEY)
    if upd["ubr"] is not None:
        st.windows_update["pending_ubr"] = max(upd["ubr"], st.windows_update["pending_ubr"] or 0)
    if reinstalls:
        st.windows_update["revert_at_boot"].append(upd["id"])
    return 2, 0, needs_reboot


def boot(st: WindowsState) -> None:
    """At boot: a cumulative update's UBR applies; a reinstalling update is back to not installed."""
    wu = st.windows_update
    if wu["pending_ubr"]:
        st.ubr = wu["pending_ubr"]
        st.registry.set_value(CURRENT_VERSION_KEY, "UBR", "REG_DWORD", st.ubr)
        wu["pending_ubr"] = None
    for update_id in wu["revert_at_boot"]:
        for upd in [u for u in st.updates_installed if u["id"] == update_id]:
            st.updates_installed.remove(upd)
            st.updates_available.append({k: v for k, v in upd.items() if k != "installed_at"})
    wu["revert_at_boot"] = []


def inject(st: WindowsState, spec: dict[str, Any]) -> None:
    kind, kb = spec["kind"], str(spec.get("kb", "")).upper()
    known = {u["kb"] for u in st.updates_available + st.updates_installed}
    if kb not in known:
        raise ValueError(
            f"{kind}: kb {kb!r} is not in this guest's Windows Update catalogue ({', '.join(sorted(known))})"
        )
    wu = st.windows_update
    if kind == "update_reinstalls":
        wu["reinstalls"] = sorted(set(wu["reinstalls"]) | {kb})
    elif kind == "update_fails":
        wu["fails"][kb] = int(spec.get("hresult", 0x80070643))
    elif kind == "update_hangs":
        wu["hangs"][kb] = wu["hangs"].get(kb, 0) + int(spec.get("count", 1))


def clear_faults(st: WindowsState) -> None:
    fresh = empty()
    for key in ("reinstalls", "fails", "hangs"):
        st.windows_update[key] = copy.deepcopy(fresh[key])


def _signed(value: int) -> int:
    """HRESULTs come back from PowerShell as signed 32-bit integers."""
    value &= 0xFFFFFFFF
    return value - 0x100000000 if value & 0x80000000 else value
