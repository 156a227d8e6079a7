"""ansible.windows.setup: fact gathering (what `gather_facts` runs on Windows).

Subsets follow setup.ps1 (min, network, hardware; facter yields nothing as facter.exe is absent):
date_time, distribution, env, local (fact_path), platform, powershell_version, user,
all_ipv4_addresses/all_ipv6_addresses, interfaces, windows_domain, winrm, bios, memory, processor,
uptime, virtual. Values come from the simulated state (computer name, OS identity registry values,
ProductType, time zone, boot time, pending reboot, listener certificate); hardware values describe a
Standard_D4s_v5 Hyper-V guest. Unknown gather_subset values only warn, as on Windows.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sandbox.guest_api import NotModelled
from sandbox.windows.argspec import build_spec
from sandbox.windows.modules import Ctx, register

SPEC = build_spec("ansible.windows.setup", "basic", supports_check_mode=True, accept_unknown=True)

GROUPS = {
    "min": ["date_time", "distribution", "dns", "env", "local", "platform", "powershell_version", "user"],
    "network": ["all_ipv4_addresses", "all_ipv6_addresses", "interfaces", "windows_domain", "winrm"],
    "hardware": ["bios", "memory", "processor", "uptime", "virtual"],
    "external": ["facter"],
}
ALL = sorted({s for v in GROUPS.values() for s in v})

# Windows time zone id -> IANA zone, for the ones images/tests use (others fall back to UTC offsets 0).
_IANA = {
    "UTC": "UTC",
    "GMT Standard Time": "Europe/London",
    "W. Europe Standard Time": "Europe/Berlin",
    "Romance Standard Time": "Europe/Paris",
    "Central Europe Standard Time": "Europe/Budapest",
    "Eastern Standard Time": "America/New_York",
    "Pacific Standard Time": "America/Los_Angeles",
    "AUS Eastern Standard Time": "Australia/Sydney",
    "Tokyo Standard Time": "Asia/Tokyo",
}


def subsets(gather: list[str], ctx: Ctx) -> set[str]:
    actual = set(ALL)
    explicit: set[str] = set()
    exclude: set[str] = set()
    for item in gather:
        if item.startswith("!"):
            item = item[1:]
            if item == "all":
                exclude |= set(ALL) - set(GROUPS["min"])
            elif item in GROUPS:
                exclude |= set(GROUPS[item])
            elif item in ALL:
                exclude.add(item)
        elif item in GROUPS or item == "all":
            explicit |= set(ALL if item == "all" else GROUPS[item])
        elif item in ALL:
            explicit.add(item)
        else:
            ctx.warn(f"invalid value {item} specified in gather_subset")
    return (actual - exclude) | explicit


def _date_time_facts(ctx: Ctx, f: dict[str, Any]) -> None:
    st = ctx.state
    tzname = st.time_zone()
    zone = ZoneInfo(_IANA.get(tzname, "UTC"))
    now_utc = datetime.fromtimestamp(st._now(), UTC)
    now = now_utc.astimezone(zone)
    off = now.utcoffset() or timedelta(0)
    mins = int(off.total_seconds() // 60)
    f["ansible_date_time"] = {
        "date": now.strftime("%Y-%m-%d"),
        "day": now.strftime("%d"),
        "epoch_local": str(int(now_utc.timestamp() + off.total_seconds())),
        "epoch": str(int(now_utc.timestamp())),
        "epoch_int": int(now_utc.timestamp()),
        "hour": now.strftime("%H"),
        "iso8601": now_utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "iso8601_basic": now.strftime("%Y%m%dT%H%M%S%f"),
        "iso8601_basic_short": now.strftime("%Y%m%dT%H%M%S"),
        "iso8601_micro": now_utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "minute": now.strftime("%M"),
        "month": now.strftime("%m"),
        "second": now.strftime("%S"),
        "time": now.strftime("%H:%M:%S"),
        "tz": tzname,
        "tz_offset": f"{'+' if mins >= 0 else '-'}{abs(mins) // 60:02d}:{abs(mins) % 60:02d}",
        "weekday": now.strftime("%A"),
        "weekday_number": now.strftime("%w"),
        "weeknumber": now.strftime("%W"),
        "year": now.strftime("%Y"),
    }


def _distribution_facts(ctx: Ctx, f: dict[str, Any]) -> None:
    st = ctx.state
    product = {1: "workstation", 2: "domain_controller", 3: "server"}.get(st.product_type, "unknown")
    caption = _caption(st)
    cv = r"HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion"
    install = st.registry.get_value(cv, "InstallTime")
    itype = st.registry.get_value(cv, "InstallationType")
    f.update(
        ansible_distribution=caption,
        ansible_distribution_version=f"10.0.{st.build}.0",
        ansible_distribution_major_version="10",
        ansible_os_family="Windows",
        ansible_os_name=caption,
        ansible_os_product_type=product,
        ansible_os_installation_type=itype.data if itype else None,
        ansible_os_install_date=(
            datetime.fromtimestamp(install.data / 10_000_000 - 11644473600, UTC).strftime(
                "%Y-%m-%dT%H:%M:%SZ"
            )
            if install
            else None
        ),
    )


def _env_facts(ctx: Ctx, f: dict[str, Any]) -> None:
    env = ctx.state.env()
    f["ansible_env"] = {k: v.rstrip("\\") for k, v in env.items()}


def _local_facts(ctx: Ctx, f: dict[str, Any]) -> None:
    st = ctx.state
    if not ctx.params["fact_path"]:
        return
    fp = ctx.path(ctx.params["fact_path"])
    if st.fs.is_dir(fp):
        for e in st.fs.children(fp):
            if not e.is_dir and e.path.endswith(".json"):
                base = e.path.rsplit("\\", 1)[1][: -len(".json")]
                f[f"ansible_{base}"] = json.loads(e.data.decode("utf-8-sig"))
            elif not e.is_dir and e.path.endswith(".ps1"):
                raise NotModelled(f"setup fact_path script {e.path} is not simulated")
    else:
        ctx.warn(f"Non existing path was set for local facts - {ctx.params['fact_path']}")


def _platform_facts(ctx: Ctx, f: dict[str, Any]) -> None:
    st = ctx.state
    name = st.computer_name
    f.update(
        ansible_domain="",
        ansible_fqdn=name,
        ansible_hostname=name,
        ansible_netbios_name=name.upper(),
        ansible_kernel=f"10.0.{st.build}.0",
        ansible_nodename=name,
        ansible_machine_id=st.machine_sid,
        ansible_owner_name=st.admin_username,
        ansible_system="Win32NT",
        ansible_system_description="",
        ansible_system_vendor="Microsoft Corporation",
        ansible_architecture="64-bit",
        ansible_owner_contact="",
        ansible_reboot_pending=bool(
            {"ComponentBasedServicing", "PendingFileRename"} & set(st.pending_reboot_reasons())
        ),
        ansible_architecture2="x86_64",
    )


def _powershell_version_facts(ctx: Ctx, f: dict[str, Any]) -> None:
    f["ansible_powershell_version"] = 5


def _user_facts(ctx: Ctx, f: dict[str, Any]) -> None:
    st = ctx.state
    env = st.env()
    f.update(
        ansible_user_dir=env["USERPROFILE"],
        ansible_user_gecos="",
        ansible_user_id=st.admin_username,
        ansible_user_sid=st.admin_sid,
    )


def _all_ipv4_addresses_facts(ctx: Ctx, f: dict[str, Any]) -> None:
    f["ansible_ip_addresses"] = ["10.250.0.4", "fe80::20d:3aff:fe12:3456"]


def _interfaces_facts(ctx: Ctx, f: dict[str, Any]) -> None:
    f["ansible_interfaces"] = [
        {
            "connection_name": "Ethernet",
            "default_gateway": "10.250.0.1",
            "dns_domain": "reddog.microsoft.com",
            "interface_index": 6,
            "interface_name": "Microsoft Hyper-V Network Adapter",
            "ipv4": {"address": "10.250.0.4", "prefix": "24"},
            "ipv6": {"address": "fe80::20d:3aff:fe12:3456", "prefix": "64"},
            "macaddress": "00:0D:3A:12:34:56",
            "mtu": 1500,
            "speed": 50000,
        }
    ]


def _windows_domain_facts(ctx: Ctx, f: dict[str, Any]) -> None:
    st = ctx.state
    f.update(
        ansible_windows_domain="WORKGROUP",
        ansible_windows_domain_member=False,
        ansible_windows_domain_role="Stand-alone server"
        if st.product_type == 3
        else "Stand-alone workstation",
    )


def _winrm_facts(ctx: Ctx, f: dict[str, Any]) -> None:
    st = ctx.state
    if not st.listener:
        return
    cert = st.certificates.get(st.listener.get("thumbprint", ""), {})
    if cert:
        f["ansible_win_rm_certificate_expires"] = cert["not_after"]
        f["ansible_win_rm_certificate_thumbprint"] = st.listener["thumbprint"]


def _bios_facts(ctx: Ctx, f: dict[str, Any]) -> None:
    st = ctx.state
    f.update(
        ansible_bios_date="03/08/2024",
        ansible_bios_version="Hyper-V UEFI Release v4.1",
        ansible_product_name="Virtual Machine",
        ansible_product_serial="0000-0000-0000-0000-0000-0000-00",
        ansible_product_uuid=_vm_guid(st).upper(),
    )


def _memory_facts(ctx: Ctx, f: dict[str, Any]) -> None:
    f.update(
        ansible_memtotal_mb=16384,
        ansible_memfree_mb=12288,
        ansible_swaptotal_mb=0,
        ansible_pagefiletotal_mb=4096,
        ansible_pagefilefree_mb=4000,
    )


def _processor_facts(ctx: Ctx, f: dict[str, Any]) -> None:
    f.update(
        ansible_processor=["0", "GenuineIntel", "Intel(R) Xeon(R) Platinum 8370C CPU @ 2.80GHz"],
        ansible_processor_count=1,
        ansible_processor_vcpus=4,
        ansible_processor_cores=2,
        ansible_processor_threads_per_core=2,
    )


def _uptime_facts(ctx: Ctx, f: dict[str, Any]) -> None:
    st = ctx.state
    up = max(0.0, st._now() - st.boot_time)
    f["ansible_lastboot"] = time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(st.boot_time))
    f["ansible_uptime_seconds"] = round(up)


def _virtual_facts(ctx: Ctx, f: dict[str, Any]) -> None:
    f.update(ansible_virtualization_role="guest", ansible_virtualization_type="Hyper-V")


# gather_subset name(s) -> the function that adds those facts.
FACT_SUBSETS: tuple[tuple[tuple[str, ...], Callable[[Ctx, dict[str, Any]], None]], ...] = (
    (("date_time",), _date_time_facts),
    (("distribution",), _distribution_facts),
    (("env",), _env_facts),
    (("local",), _local_facts),
    (("platform",), _platform_facts),
    (("powershell_version",), _powershell_version_facts),
    (("user",), _user_facts),
    (("all_ipv4_addresses", "all_ipv6_addresses"), _all_ipv4_addresses_facts),
    (("interfaces",), _interfaces_facts),
    (("windows_domain",), _windows_domain_facts),
    (("winrm",), _winrm_facts),
    (("bios",), _bios_facts),
    (("memory",), _memory_facts),
    (("processor",), _processor_facts),
    (("uptime",), _uptime_facts),
    (("virtual",), _virtual_facts),
)


@register(SPEC)
def main(ctx: Ctx) -> None:
    want = subsets([str(x) for x in ctx.params["gather_subset"]], ctx)
    f: dict[str, Any] = {"gather_subset": ctx.params["gather_subset"], "module_setup": True}
    for names, gather in FACT_SUBSETS:
        if any(name in want for name in names):
            gather(ctx, f)
    ctx.result["ansible_facts"] = f


def _vm_guid(st: Any) -> str:
    v = st.registry.get_value(r"HKLM\SOFTWARE\Microsoft\Windows Azure", "VmId")
    return v.data if v else "00000000-0000-0000-0000-000000000000"


def _caption(st: Any) -> str:
    """Win32_OperatingSystem.Caption: 'Microsoft Windows 11 Enterprise multi-session'."""
    family = "11" if int(st.build or 0) >= 22000 else "10"
    names = {"ServerRdsh": "Enterprise multi-session", "Professional": "Pro"}
    edition = names.get(st.edition_id, st.edition_id)
    return f"Microsoft Windows {family} {edition}"
