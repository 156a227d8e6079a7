"""The simulated Windows state of one build VM (implements sandbox.windows.guest.Guest).

Everything inside the guest lives here: registry (HKLM, HKU/HKCU, hive files such as the Default
User NTUSER.DAT), the C: volume, services, scheduled tasks, optional features, capabilities,
installed programs (uninstall registry), AppX packages (per user and provisioned), Windows updates,
boot time and pending reboot, time zone, sysprep ImageState, BitLocker, certificates, firewall rules
and the WinRM HTTPS listener. The initial state is seeded from data files under
sandbox/windows/images/ chosen by the marketplace image; an unknown image raises NotModelled.

Ansible modules (sandbox/windows/modules/) and recognised scripts (sandbox/windows/scripts.py) act
on this state. Every call arrives with World.lock held; nothing here blocks or sleeps.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import json
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sandbox.guest_api import ArmCallbacks, NotModelled, RunCommandResult, SourceImage, VmSpec
from sandbox.windows import guest_firewall, modules, scripts
from sandbox.windows.guest import WINRM_HTTPS_PORT, WinRMListener
from sandbox.windows.modules import _languages, _wu_model
from sandbox.windows.modules import _winpath as wp
from sandbox.windows.modules._fs import FileSystem
from sandbox.windows.modules._registry import Registry, RegKey
from sandbox.windows.modules._sid import convert_from_sid

IMAGES_DIR = Path(__file__).resolve().parent / "images"

IMAGE_STATE_KEY = r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Setup\State"
IMAGE_STATE_COMPLETE = "IMAGE_STATE_COMPLETE"
IMAGE_STATE_GENERALIZED = "IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE"
TZ_KEY = r"HKLM\SYSTEM\CurrentControlSet\Control\TimeZoneInformation"
CBS_REBOOT_KEY = r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending"
WU_REBOOT_KEY = r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired"
SESSION_MANAGER_KEY = r"HKLM\SYSTEM\CurrentControlSet\Control\Session Manager"
COMPUTER_NAME_KEY = r"HKLM\SYSTEM\CurrentControlSet\Control\ComputerName\ComputerName"
ACTIVE_COMPUTER_NAME_KEY = r"HKLM\SYSTEM\CurrentControlSet\Control\ComputerName\ActiveComputerName"
AUTOLOGON_CHECKED_KEY = r"HKLM\SOFTWARE\Microsoft\Windows NT\CurrentVersion\Winlogon\AutoLogonChecked"
UNINSTALL_KEY = r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall"
UNINSTALL_WOW_KEY = r"HKLM\SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall"

# Optional features whose enabling needs a reboot (DISM RestartNeeded); the rest apply online.
REBOOT_FEATURES = {
    "microsoft-hyper-v-all",
    "virtualmachineplatform",
    "microsoft-windows-subsystem-linux",
    "containers-disposableclientvm",
    "smb1protocol",
    "smb1protocol-client",
    "smb1protocol-server",
    "appserverclient",
}

SERVICES_KEY = r"HKLM\SYSTEM\CurrentControlSet\Services"
# start_mode -> (Start, DelayedAutostart)
_START_VALUES = {"auto": (2, 0), "delayed": (2, 1), "manual": (3, 0), "disabled": (4, 0)}
_START_MODES = {v: k for k, v in _START_VALUES.items()}


def _dw(value: Any) -> int:
    return int(value.data) if value is not None else 0


FILETIME_EPOCH_OFFSET = 11644473600  # seconds between 1601-01-01 and 1970-01-01


def to_filetime(unix: float) -> int:
    """Unix seconds -> Windows FILETIME (100 ns ticks since 1601-01-01 UTC)."""
    return round((unix + FILETIME_EPOCH_OFFSET) * 10_000_000)


def nt_hash(password: str) -> bytes:
    """MD4 of the UTF-16LE password (hashlib's md4 is gone under OpenSSL 3; pyspnego has one)."""
    from spnego._ntlm_raw.md4 import md4

    return md4(password.encode("utf-16-le"))


@dataclass
class Service:
    """One Windows service as the SCM reports it (win_service/win_service_info vocabulary)."""

    name: str
    display_name: str
    path: str = ""
    description: str | None = None
    start_mode: str = "manual"  # auto | delayed | manual | disabled
    state: str = "stopped"  # started | stopped | paused
    username: str = "LocalSystem"
    dependencies: list[str] = field(default_factory=list)
    service_type: str = "win32_own_process"
    error_control: str = "normal"
    can_pause_and_continue: bool = False
    synced: list[int] | None = None  # [Start, DelayedAutostart] last written to the registry

    @classmethod
    def from_seed(cls, d: dict[str, Any]) -> Service:
        return cls(**{k: v for k, v in d.items()})


@dataclass
class FaultPlan:
    """Pending Windows-side faults (inject_fault)."""

    sysprep_fail: int = 0
    language_install_fail: int = 0  # Install-Language attempts that fail (Windows Update unreachable)
    # installer_exit: [{"installer": file name or ProductName, "rc": int, "count": int}]
    installer_exit: list[dict[str, Any]] = field(default_factory=list)


def _stable_int(*parts: str, mod: int) -> int:
    digest = hashlib.sha256("|".join(parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") % mod


class WindowsState:
    """One simulated Windows machine. See the module docstring; implements ``Guest``."""

    clock = staticmethod(time.time)  # tests may replace it (deterministic timestamps)

    # ------------------------------------------------------------------------------------------
    # construction
    # ------------------------------------------------------------------------------------------
    def __init__(
        self,
        *,
        vm_id: str,
        computer_name: str,
        admin_username: str,
        nt_hash_: bytes,
        image: SourceImage,
        arm: ArmCallbacks | None,
    ) -> None:
        self.vm_id = vm_id.lower()
        self.name = vm_id.rstrip("/").split("/")[-1]
        self.computer_name = computer_name
        self.admin_username = admin_username
        self.nt_hash = nt_hash_
        self.admin_enabled = True
        self.image = image
        self._arm = arm
        sid_a = _stable_int(self.vm_id, "a", mod=2**32)
        sid_b = _stable_int(self.vm_id, "b", mod=2**32)
        sid_c = _stable_int(self.vm_id, "c", mod=2**32)
        self.machine_sid = f"S-1-5-21-{sid_a}-{sid_b}-{sid_c}"
        self.admin_sid = f"{self.machine_sid}-500"
        self.registry = Registry(self.admin_sid)
        self.fs = FileSystem(self._now)
        self.services: dict[str, Service] = {}
        self.scheduled_tasks: dict[str, dict[str, Any]] = {}
        self.optional_features: dict[str, str] = {}
        self.capabilities: dict[str, str] = {}
        # DISM packages of languages (Get-WindowsPackage): name -> Installed | InstallPending.
        self.language_packages: dict[str, str] = {}
        self.appx_provisioned: list[dict[str, Any]] = []
        self.appx_user: dict[str, list[dict[str, Any]]] = {}
        self.updates_installed: list[dict[str, Any]] = []
        self.updates_available: list[dict[str, Any]] = []
        self.windows_update: dict[str, Any] = _wu_model.empty()  # WUA jobs, faults (modules/_wu_model.py)
        self.product_type = 1
        self.edition_id = "Enterprise"
        self.display_version = ""
        self.build = ""
        self.ubr = 0
        self.bitlocker: dict[str, dict[str, Any]] = {}
        self.certificates: dict[str, dict[str, Any]] = {}  # thumbprint -> cert (LocalMachine\My)
        self.firewall_rules: dict[str, dict[str, Any]] = {}
        # Local groups (win_group_membership): name -> {"sid", "description", "members": [SID, ...]}
        self.local_groups: dict[str, dict[str, Any]] = {}
        self.listener: dict[str, Any] | None = None
        self.public_address: str | None = None
        self.boot_time = self._now()
        self.powered = True
        self.power_request: tuple[str, float] | None = None  # see request_power / take_power_request
        self.listener_reset_at_boot = False  # sysprep generalize: the next boot has no listener
        self.winrm_service_config: dict[str, str] = {"Auth\\Basic": "false", "AllowUnencrypted": "false"}
        self.faults = FaultPlan()
        # The sandbox CA's PEM file, trusted as a root (set by the host; not part of the state).
        self.trusted_ca: str | None = None
        self.bytes_downloaded = 0  # by the guest's downloads (win_get_url), for benchmarks
        self._frameworks: list[dict[str, Any]] = []  # seed-time only: framework AppX packages
        self.sysprep_runs = 0
        self.module_invocations = 0

    def _now(self) -> float:
        return type(self).clock()

    # ------------------------------------------------------------------------------------------
    # environment and paths
    # ------------------------------------------------------------------------------------------
    @property
    def user_profile(self) -> str:
        return f"C:\\Users\\{self.admin_username}"

    def env(self) -> dict[str, str]:
        """The environment of the admin's WinRM (network logon) process."""
        profile = self.user_profile
        return {
            "ALLUSERSPROFILE": "C:\\ProgramData",
            "APPDATA": f"{profile}\\AppData\\Roaming",
            "CommonProgramFiles": "C:\\Program Files\\Common Files",
            "CommonProgramFiles(x86)": "C:\\Program Files (x86)\\Common Files",
            "CommonProgramW6432": "C:\\Program Files\\Common Files",
            "COMPUTERNAME": self.computer_name.upper(),
            "ComSpec": "C:\\Windows\\system32\\cmd.exe",
            "DriverData": "C:\\Windows\\System32\\Drivers\\DriverData",
            "LOCALAPPDATA": f"{profile}\\AppData\\Local",
            "NUMBER_OF_PROCESSORS": "4",
            "OS": "Windows_NT",
            "Path": (
                "C:\\Windows\\system32;C:\\Windows;C:\\Windows\\System32\\Wbem;"
                "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\;C:\\Windows\\System32\\OpenSSH\\;"
                f"{profile}\\AppData\\Local\\Microsoft\\WindowsApps"
            ),
            "PATHEXT": ".COM;.EXE;.BAT;.CMD;.VBS;.VBE;.JS;.JSE;.WSF;.WSH;.MSC;.CPL",
            "PROCESSOR_ARCHITECTURE": "AMD64",
            "ProgramData": "C:\\ProgramData",
            "ProgramFiles": "C:\\Program Files",
            "ProgramFiles(x86)": "C:\\Program Files (x86)",
            "ProgramW6432": "C:\\Program Files",
            "PSModulePath": (
                f"{profile}\\Documents\\WindowsPowerShell\\Modules;"
                "C:\\Program Files\\WindowsPowerShell\\Modules;"
                "C:\\Windows\\system32\\WindowsPowerShell\\v1.0\\Modules"
            ),
            "PUBLIC": "C:\\Users\\Public",
            "SystemDrive": "C:",
            "SystemRoot": "C:\\Windows",
            "TEMP": f"{profile}\\AppData\\Local\\Temp",
            "TMP": f"{profile}\\AppData\\Local\\Temp",
            "USERDOMAIN": self.computer_name.upper(),
            "USERNAME": self.admin_username,
            "USERPROFILE": profile,
            "windir": "C:\\Windows",
        }

    def path(self, raw: str) -> str:
        """Expand %VAR% and normalise a path the client sent."""
        return wp.normalise(raw, self.env(), cwd=self.user_profile)

    # ------------------------------------------------------------------------------------------
    # seeding
    # ------------------------------------------------------------------------------------------
    def seed(self) -> None:
        """Populate the state from images/ for self.image (NotModelled for an unknown image)."""
        catalog = _image_data("skus")
        img = self.image
        entry = next(
            (
                e
                for e in catalog["images"]
                if (e["publisher"].lower(), e["offer"].lower(), e["sku"].lower())
                == (img.publisher.lower(), img.offer.lower(), img.sku.lower())
            ),
            None,
        )
        if entry is None:
            raise NotModelled(
                f"marketplace image {img.publisher}/{img.offer}/{img.sku} is not modelled by the sandbox "
                f"(known: {', '.join(sorted(e['sku'] for e in catalog['images']))})"
            )
        parts = img.exact_version.split(".")
        if len(parts) != 3 or not all(p.isdigit() for p in parts):
            raise NotModelled(
                f"image version {img.exact_version!r} of {img.sku}: expected <build>.<UBR>.<YYMMDD>"
            )
        build, ubr = parts[0], int(parts[1])
        if build != entry["build"]:
            raise NotModelled(
                f"image {img.sku} version {img.exact_version}: build {build} "
                f"is not the SKU's build {entry['build']}"
            )
        binfo = catalog["builds"][build]
        self.build, self.ubr, self.display_version = build, ubr, binfo["display_version"]
        install = self._now()
        fields = {
            "build": build,
            "ubr": str(ubr),
            "display_version": binfo["display_version"],
            "release_family": binfo["family"],
            "computer_name": self.computer_name,
            "admin": self.admin_username,
            "install_time": str(to_filetime(install)),
            "install_date": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(install)),
            "vm_guid": str(uuid.UUID(hashlib.md5(self.vm_id.encode()).hexdigest())),  # noqa: S324 - an id, not security
        }
        for layer_name in entry["layers"]:
            layer = _image_data(layer_name)
            self._apply_layer(layer, fields)
            self._apply_local_groups(layer)
        _wu_model.seed(self, binfo["family"])
        # The admin's profile (created by Azure provisioning / first logon).
        for sub in ("AppData\\Local\\Temp", "AppData\\Roaming", "Desktop", "Documents"):
            self.fs.mkdir(f"{self.user_profile}\\{sub}")
        self.fs.write(f"{self.user_profile}\\NTUSER.DAT", b"regf")
        # Every provisioned package is registered for the admin at first logon (same version).
        self.appx_user[self.admin_username] = [
            dict(self._user_pkg(p["name"], p["version"], p["publisher_id"]), non_removable=p["non_removable"])
            for p in self.appx_provisioned
        ] + [
            self._user_pkg(f["name"], f["version"], f["publisher_id"], framework=True)
            for f in self._frameworks
        ]
        self.boot_time = self._now()
        self.sync_services()

    def _apply_layer(self, layer: dict[str, Any], fields: dict[str, str]) -> None:
        def fmt(v: Any) -> Any:
            return v.format_map(fields) if isinstance(v, str) else v

        os_ = layer.get("os", {})
        self.product_type = os_.get("product_type", self.product_type)
        self.edition_id = os_.get("edition_id", self.edition_id)
        if "bitlocker" in os_:
            self.bitlocker["C:"] = dict(os_["bitlocker"])
        for r in layer.get("registry", []):
            data = fmt(r.get("data"))
            if r.get("type") in ("REG_DWORD", "REG_QWORD") and isinstance(data, str):
                data = int(data)
            if "hive_file" in r:
                hkey = wp.key(self.path(r["hive_file"]))
                root = self.registry.hive_files.setdefault(hkey, RegKey("ANSIBLE"))
                key = root.ensure([p for p in r["path"].split("\\") if p])
            else:
                key = self.registry.create(r["path"])
            if "name" in r:
                key.set(r["name"], r["type"], data)
        for f in layer.get("files", []):
            p = self.path(fmt(f["path"]))
            if f.get("type") == "dir":
                self.fs.mkdir(p)
            else:
                content = fmt(f.get("content", "")).replace("\r\n", "\n").replace("\n", "\r\n")
                self.fs.write(p, content.encode("utf-8"), make_parents=True)
        for s in layer.get("services", []):
            svc = Service.from_seed(s)
            self.services[svc.name.lower()] = svc
        for t in layer.get("scheduled_tasks", []):
            self.scheduled_tasks[(t["path"] + t["name"]).lower()] = {
                "path": t["path"],
                "name": t["name"],
                "state": t.get("state", "Ready"),
            }
        for t in layer.get("scheduled_tasks_absent", []):  # a later layer's build lacks the task
            self.scheduled_tasks.pop((t["path"] + t["name"]).lower(), None)
        self.optional_features.update(layer.get("optional_features", {}))
        self.capabilities.update(layer.get("capabilities", {}))
        if "languages" in layer:
            _languages.seed(self, layer["languages"], fmt)
        for prog in layer.get("programs", []):
            base = UNINSTALL_WOW_KEY if prog.get("wow64") else UNINSTALL_KEY
            k = f"{base}\\{prog['id']}"
            self.registry.set_value(k, "DisplayName", "REG_SZ", prog["display_name"])
            self.registry.set_value(k, "DisplayVersion", "REG_SZ", prog["display_version"])
            self.registry.set_value(k, "Publisher", "REG_SZ", prog["publisher"])
        appx = layer.get("appx", {})
        default_pub = appx.get("publisher_id", "8wekyb3d8bbwe")
        for p in appx.get("provisioned", []):
            pub = p.get("publisher_id", default_pub)
            self.appx_provisioned = [x for x in self.appx_provisioned if x["name"] != p["name"]]
            self.appx_provisioned.append(
                {
                    "name": p["name"],
                    "version": p["version"],
                    "publisher_id": pub,
                    "non_removable": bool(p.get("non_removable")),
                }
            )
        for f in appx.get("frameworks", []):
            self._frameworks.append({"name": f["name"], "version": f["version"], "publisher_id": default_pub})
        for name in appx.get("remove_provisioned", []):
            self.appx_provisioned = [x for x in self.appx_provisioned if x["name"] != name]

    def _apply_local_groups(self, layer: dict[str, Any]) -> None:
        """A layer's ``local_groups`` (a group of the same name replaces the earlier layer's); SIDs
        may use {machine_sid}."""
        sids = {"machine_sid": self.machine_sid}
        for name, group in (layer.get("local_groups") or {}).items():
            self.local_groups[name] = {
                "sid": group["sid"].format_map(sids),
                "description": group.get("description", ""),
                "members": [m.format_map(sids) for m in group.get("members") or []],
            }

    # ------------------------------------------------------------------------------------------
    # services <-> HKLM\SYSTEM\CurrentControlSet\Services\<name>
    # ------------------------------------------------------------------------------------------
    def sync_services(self) -> None:
        """Keep each service's registry key (Start, DelayedAutostart, DisplayName, ImagePath,
        ObjectName) and the SCM view consistent. A Start/DelayedAutostart written through the
        registry (as optimisation scripts do) wins over the service record; otherwise the record
        is written."""
        for svc in self.services.values():
            key = self.registry.create(f"{SERVICES_KEY}\\{svc.name}")
            reg_start = key.get("Start")
            if svc.synced is not None and reg_start is not None:
                in_registry = [int(reg_start.data), _dw(key.get("DelayedAutostart"))]
                if in_registry != svc.synced:  # changed through the registry since the last sync
                    svc.start_mode = _START_MODES.get(tuple(in_registry), svc.start_mode)
            start, delayed = _START_VALUES[svc.start_mode]
            key.set("Start", "REG_DWORD", start)
            if delayed or key.get("DelayedAutostart") is not None:
                key.set("DelayedAutostart", "REG_DWORD", delayed)
            key.set("DisplayName", "REG_SZ", svc.display_name)
            key.set("ImagePath", "REG_EXPAND_SZ", svc.path)
            if svc.service_type not in ("kernel_driver", "file_system_driver"):
                key.set("ObjectName", "REG_SZ", svc.username)
            svc.synced = [start, delayed]

    # ------------------------------------------------------------------------------------------
    # AppX helpers
    # ------------------------------------------------------------------------------------------
    @staticmethod
    def _user_pkg(
        name: str, version: str, publisher_id: str, *, framework: bool = False, arch: str = "x64"
    ) -> dict[str, Any]:
        return {
            "name": name,
            "version": version,
            "arch": arch,
            "publisher_id": publisher_id,
            "framework": framework,
        }

    @staticmethod
    def package_full_name(pkg: dict[str, Any]) -> str:
        """Get-AppxPackage PackageFullName: <Name>_<Version>_<Arch>__<PublisherId>."""
        return f"{pkg['name']}_{pkg['version']}_{pkg['arch']}__{pkg['publisher_id']}"

    @staticmethod
    def provisioned_package_name(pkg: dict[str, Any]) -> str:
        """Get-AppxProvisionedPackage PackageName: <Name>_<Version>_neutral_~_<PublisherId> (a bundle)."""
        return f"{pkg['name']}_{pkg['version']}_neutral_~_{pkg['publisher_id']}"

    def appx_not_provisioned(self) -> list[tuple[str, str]]:
        """(user, PackageFullName) of every non-framework package installed for a user whose exact
        name and version is not provisioned for all users: what sysprep's AppX validation rejects."""
        provisioned = {(p["name"].lower(), p["version"]) for p in self.appx_provisioned}
        out = []
        for user, pkgs in sorted(self.appx_user.items()):
            for pkg in pkgs:
                if pkg.get("framework") or pkg.get("non_removable"):
                    continue
                if (pkg["name"].lower(), pkg["version"]) not in provisioned:
                    out.append((user, self.package_full_name(pkg)))
        return out

    # ------------------------------------------------------------------------------------------
    # identity, setup state, reboot
    # ------------------------------------------------------------------------------------------
    def image_state(self) -> str:
        value = self.registry.get_value(IMAGE_STATE_KEY, "ImageState")
        return value.data if value else "IMAGE_STATE_UNDEPLOYABLE"

    def set_image_state(self, state: str) -> None:
        self.registry.set_value(IMAGE_STATE_KEY, "ImageState", "REG_SZ", state)
        self.fs.write(
            r"C:\Windows\Setup\State\State.ini",
            f"[State]\r\nImageState={state}\r\n".encode(),
            make_parents=True,
        )

    def time_zone(self) -> str:
        value = self.registry.get_value(TZ_KEY, "TimeZoneKeyName")
        return value.data if value else "UTC"

    def pending_reboot_reasons(self) -> list[str]:
        """The ComputerManagementDsc PendingReboot triggers that fire (windows-image-facts 6.2)."""
        reasons = []
        if self.registry.exists(CBS_REBOOT_KEY):
            reasons.append("ComponentBasedServicing")
        if self.registry.exists(WU_REBOOT_KEY):
            reasons.append("WindowsUpdate")
        pfro = self.registry.get_value(SESSION_MANAGER_KEY, "PendingFileRenameOperations")
        if pfro and pfro.data:
            reasons.append("PendingFileRename")
        active = self.registry.get_value(ACTIVE_COMPUTER_NAME_KEY, "ComputerName")
        pending = self.registry.get_value(COMPUTER_NAME_KEY, "ComputerName")
        if active and pending and active.data.lower() != pending.data.lower():
            reasons.append("PendingComputerRename")
        return reasons

    def boot_time_filetime(self) -> int:
        return to_filetime(self.boot_time)

    def _boot(self) -> None:
        """What a (re)boot does to the state."""
        self.boot_time = max(self._now(), self.boot_time + 1.0)  # strictly later than the last boot
        self.powered = True
        self.power_request = None
        if self.listener_reset_at_boot:
            self.listener = None
            self.listener_reset_at_boot = False
        # Pending operations complete.
        self.registry.delete_key(CBS_REBOOT_KEY)
        self.registry.delete_key(WU_REBOOT_KEY)
        sm = self.registry.open(SESSION_MANAGER_KEY)
        if sm is not None:
            sm.delete_value("PendingFileRenameOperations")
        pending = self.registry.get_value(COMPUTER_NAME_KEY, "ComputerName")
        if pending:
            self.registry.set_value(ACTIVE_COMPUTER_NAME_KEY, "ComputerName", "REG_SZ", pending.data)
            self.computer_name = pending.data
        for name, st in list(self.optional_features.items()):
            if st == "EnablePending":
                self.optional_features[name] = "Enabled"
            elif st == "DisablePending":
                self.optional_features[name] = "Disabled"
        for name, st in list(self.language_packages.items()):
            if st == "InstallPending":
                self.language_packages[name] = "Installed"
        for name, st in list(self.capabilities.items()):
            if st == "InstallPending":
                self.capabilities[name] = "Installed"
            elif st == "RemovePending":
                self.capabilities[name] = "NotPresent"
        _wu_model.boot(self)
        # Winlogon recreates AutoLogonChecked at boot (win_reboot's default test waits for it).
        self.registry.create(AUTOLOGON_CHECKED_KEY)
        # Auto-start services run again; manual ones stay as they were left only if auto.
        for svc in self.services.values():
            if svc.start_mode in ("auto", "delayed"):
                svc.state = "started"
            elif svc.state == "paused":
                svc.state = "stopped"

    def reboot(self) -> None:
        self._boot()

    def power_on(self) -> None:
        self._boot()

    def power_off(self) -> None:
        self.powered = False

    def shutdown(self) -> None:
        self.powered = False
        if self._arm is not None:
            self._arm.guest_shutdown(self.vm_id)

    def request_power(self, action: str, delay: float = 0.0) -> None:
        """A module or script asked Windows to reboot or shut down after ``delay`` seconds
        (``shutdown.exe /r|/s /t N``, ``sysprep /shutdown``). Nothing happens inside the module: the
        answer must reach the controller first. The transport collects it with take_power_request()."""
        if action not in ("reboot", "shutdown"):
            raise ValueError(action)
        self.power_request = (action, float(delay))

    def take_power_request(self) -> tuple[str, float] | None:
        """("reboot" | "shutdown", delay seconds) once after a module or run command requested it,
        else None. The transport calls this after delivering each module/run-command answer: a
        reboot takes the listener down for the downtime and then calls reboot(); a shutdown calls
        shutdown() (-> ArmCallbacks.guest_shutdown) after the (scaled) delay."""
        request, self.power_request = self.power_request, None
        return request

    # ------------------------------------------------------------------------------------------
    # WinRM listener and certificates
    # ------------------------------------------------------------------------------------------
    def firewall_allows(self, source_address: str, port: int) -> bool:
        """Whether the guest firewall admits inbound TCP <port> from source_address (default block)."""
        return guest_firewall.inbound_tcp_allowed(self.firewall_rules, source_address, port)

    def winrm_listener(self) -> WinRMListener | None:
        if not self.listener:
            return None
        return WinRMListener(self.listener["cert_pem"], self.listener["key_pem"], self.listener["port"])

    def configure_listener(self, cert_pem: str, key_pem: str, thumbprint: str) -> None:
        self.listener = {
            "cert_pem": cert_pem,
            "key_pem": key_pem,
            "thumbprint": thumbprint,
            "port": WINRM_HTTPS_PORT,
            "transport": "HTTPS",
            "address": "*",
        }
        svc = self.services.get("winrm")
        if svc:
            svc.start_mode = "auto" if svc.start_mode == "manual" else svc.start_mode
            svc.state = "started"

    # ------------------------------------------------------------------------------------------
    # Ansible modules, raw scripts, run commands
    # ------------------------------------------------------------------------------------------
    def run_module(
        self,
        module: str,
        args: dict[str, Any],
        *,
        check_mode: bool,
        diff: bool,
        module_path: str,
        internal: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        self.module_invocations += 1
        self.sync_services()
        try:
            return modules.run(
                self,
                module,
                args,
                check_mode=check_mode,
                diff=diff,
                module_path=module_path,
                internal=internal or {},
            )
        finally:
            self.sync_services()

    def write_async_result(self, async_dir: str, jid: str, result: dict[str, Any]) -> str:
        d = self.path(async_dir)
        self.fs.mkdir(d)
        p = wp.join(d, jid)
        self.fs.write(p, json.dumps(result).encode("utf-8"))
        return p

    def run_raw(self, script: str) -> tuple[str, str, int]:
        return scripts.run_raw(self, script)

    def run_command(self, script: str, parameters: list[dict]) -> RunCommandResult:
        try:
            return scripts.run_command(self, script, parameters)
        finally:
            self.sync_services()

    # ------------------------------------------------------------------------------------------
    # files (action-plugin transfers)
    # ------------------------------------------------------------------------------------------
    def mkdtemp(self, base: str, name: str) -> str:
        d = wp.join(self.path(base), name)
        self.fs.mkdir(d)
        return d

    def put_file(self, path: str, data: bytes) -> None:
        self.fs.write(self.path(path), data)

    def read_file(self, path: str) -> bytes:
        return self.fs.read(self.path(path))

    def remove_path(self, path: str) -> None:
        self.fs.remove(self.path(path))

    # ------------------------------------------------------------------------------------------
    # faults
    # ------------------------------------------------------------------------------------------
    FAULT_KINDS = (
        "user_appx",
        "bitlocker_on",
        "bitlocker_encrypting",
        "pending_reboot",
        "agent_stopped",
        "sysprep_fail",
        "registry_value_lost",
        *_wu_model.FAULTS,
        "language_install_fail",
        "installer_exit",
    )

    def inject_fault(self, spec: dict[str, Any]) -> None:
        """Windows-side faults:
        - user_appx {package?: "Microsoft.Copilot", version?, user?}: the package is installed
          for a user in a version that is not provisioned (as after a Store update);
        - bitlocker_on {protection?: "On"}: C: FullyEncrypted; protection "Off" is Windows 11's
          automatic device encryption waiting for activation, which sysprep refuses as well;
        - bitlocker_encrypting: C: EncryptionInProgress (50 %), protection Off;
        - pending_reboot {reason?: cbs|windows_update|file_rename|computer_rename}: a reboot
          indicator from windows-image-facts 6.2 is set;
        - agent_stopped {services?: [WindowsAzureGuestAgent, RdAgent]}: the Azure VM agent
          services are stopped (start mode unchanged; the next boot starts them again);
        - sysprep_fail {count?: 1}: the next sysprep run(s) fail in generalize (generic error);
        - registry_value_lost {path: "HKLM\\...", name}: the value is gone (as if something in the
          guest removed it), e.g. before capture so that the image lacks it.
        - update_reinstalls {kb}, update_fails {kb, hresult?}, update_hangs {kb, count?}: Windows
          Update faults (sandbox/windows/modules/_wu_model.py).
        - installer_exit {installer, rc, count?}: see _arm_installer_exit.
        - language_install_fail {count?: 1}: the next Install-Language attempt(s) fail (0x80240438).
        """
        kind = spec.get("kind")
        if kind == "user_appx":
            name = spec.get("package", "Microsoft.Copilot")
            user = spec.get("user", self.admin_username)
            prov = next((p for p in self.appx_provisioned if p["name"].lower() == name.lower()), None)
            version = spec.get("version") or _bump_version(prov["version"] if prov else "1.0.0.0")
            publisher = prov["publisher_id"] if prov else spec.get("publisher_id", "8wekyb3d8bbwe")
            pkgs = self.appx_user.setdefault(user, [])
            pkgs[:] = [p for p in pkgs if p["name"].lower() != name.lower()]
            pkgs.append(self._user_pkg(prov["name"] if prov else name, version, publisher))
        elif kind == "bitlocker_on":
            protection = str(spec.get("protection", "On"))
            if protection not in ("On", "Off"):
                raise ValueError(f"bitlocker_on protection {protection!r}: On or Off")
            self.bitlocker["C:"] = {
                "volume_status": "FullyEncrypted",
                "protection_status": protection,
                "encryption_percentage": 100,
            }
        elif kind == "bitlocker_encrypting":
            self.bitlocker["C:"] = {
                "volume_status": "EncryptionInProgress",
                "protection_status": "Off",
                "encryption_percentage": 50,
            }
        elif kind == "pending_reboot":
            self._set_pending_reboot(str(spec.get("reason", "cbs")))
        elif kind == "agent_stopped":
            names = spec.get("services") or ["WindowsAzureGuestAgent", "RdAgent"]
            for name in names:
                svc = self.services.get(str(name).lower())
                if svc is None:
                    raise ValueError(f"agent_stopped: no service {name!r}")
                svc.state = "stopped"
        elif kind in ("sysprep_fail", "language_install_fail"):  # counters of the FaultPlan
            setattr(self.faults, kind, getattr(self.faults, kind) + int(spec.get("count", 1)))
        elif kind == "registry_value_lost":
            key = self.registry.open(str(spec.get("path", "")))
            if key is None or not key.delete_value(str(spec.get("name", ""))):
                raise ValueError(
                    f"registry_value_lost: no value {spec.get('name')!r} at {spec.get('path')!r}"
                )
        elif kind in _wu_model.FAULTS:
            _wu_model.inject(self, spec)
        elif kind == "installer_exit":
            self._arm_installer_exit(spec)
        else:
            raise ValueError(f"unknown Windows fault kind {kind!r}; known: {', '.join(self.FAULT_KINDS)}")

    def _set_pending_reboot(self, reason: str) -> None:
        """pending_reboot {reason}: set one reboot indicator of windows-image-facts 6.2."""
        if reason == "cbs":
            self.registry.create(CBS_REBOOT_KEY)
        elif reason == "windows_update":
            self.registry.create(WU_REBOOT_KEY)
        elif reason == "file_rename":
            self.registry.set_value(
                SESSION_MANAGER_KEY,
                "PendingFileRenameOperations",
                "REG_MULTI_SZ",
                ["\\??\\C:\\Windows\\Temp\\pending.tmp", ""],
            )
        elif reason == "computer_rename":
            self.registry.set_value(COMPUTER_NAME_KEY, "ComputerName", "REG_SZ", self.computer_name + "X")
        else:
            raise ValueError(
                f"pending_reboot reason {reason!r}: one of cbs, windows_update, file_rename, computer_rename"
            )

    def _arm_installer_exit(self, spec: dict[str, Any]) -> None:
        """installer_exit {installer: file name or ProductName, rc: int, count?: 1}: the next
        install(s) of that installer exit with rc (sandbox/windows/installers/model.py)."""
        installer, rc, count = spec.get("installer"), spec.get("rc"), spec.get("count", 1)
        if not isinstance(installer, str) or not installer:
            raise ValueError("installer_exit installer: a file name or ProductName is required")
        if isinstance(rc, bool) or not isinstance(rc, int):
            raise ValueError(f"installer_exit rc: an integer exit code is required, got {rc!r}")
        self.faults.installer_exit.append({"installer": installer, "rc": rc, "count": int(count)})

    def clear_faults(self) -> None:
        """DELETE /_sandbox/faults: disarm pending faults (sysprep_fail, installer_exit). State changes
        made by user_appx, bitlocker_* and pending_reboot are part of the machine now and stay."""
        self.faults = FaultPlan()
        _wu_model.clear_faults(self)

    # ------------------------------------------------------------------------------------------
    # persistence and dumps
    # ------------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "version": 1,
            "vm_id": self.vm_id,
            "computer_name": self.computer_name,
            "admin_username": self.admin_username,
            "nt_hash": self.nt_hash.hex(),
            "admin_enabled": self.admin_enabled,
            "image": asdict(self.image),
            "machine_sid": self.machine_sid,
            "registry": self.registry.to_dict(),
            "files": self.fs.to_dict(),
            "services": [asdict(s) for s in self.services.values()],
            "scheduled_tasks": list(self.scheduled_tasks.values()),
            "optional_features": self.optional_features,
            "capabilities": self.capabilities,
            "language_packages": self.language_packages,
            "local_groups": self.local_groups,
            "appx_provisioned": self.appx_provisioned,
            "appx_user": self.appx_user,
            "updates_installed": self.updates_installed,
            "updates_available": self.updates_available,
            "windows_update": self.windows_update,
            "os": {
                "product_type": self.product_type,
                "edition_id": self.edition_id,
                "build": self.build,
                "ubr": self.ubr,
                "display_version": self.display_version,
            },
            "bitlocker": self.bitlocker,
            "certificates": self.certificates,
            "firewall_rules": self.firewall_rules,
            "listener": self.listener,
            "public_address": self.public_address,
            "boot_time": self.boot_time,
            "powered": self.powered,
            "power_request": list(self.power_request) if self.power_request else None,
            "listener_reset_at_boot": self.listener_reset_at_boot,
            "winrm_service_config": self.winrm_service_config,
            "faults": asdict(self.faults),
            "sysprep_runs": self.sysprep_runs,
            "module_invocations": self.module_invocations,
            "bytes_downloaded": self.bytes_downloaded,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], arm: ArmCallbacks | None) -> WindowsState:
        st = cls(
            vm_id=data["vm_id"],
            computer_name=data["computer_name"],
            admin_username=data["admin_username"],
            nt_hash_=bytes.fromhex(data["nt_hash"]),
            image=SourceImage(**data["image"]),
            arm=arm,
        )
        st.machine_sid = data["machine_sid"]
        st.registry = Registry.from_dict(data["registry"])
        st.admin_sid = st.registry.admin_sid
        st.fs = FileSystem.from_dict(data["files"], st._now)
        st.services = {s["name"].lower(): Service(**s) for s in data["services"]}
        st.scheduled_tasks = {(t["path"] + t["name"]).lower(): t for t in data["scheduled_tasks"]}
        st.optional_features = dict(data["optional_features"])
        st.capabilities = dict(data["capabilities"])
        st.language_packages = dict(data.get("language_packages", {}))
        st.local_groups = copy.deepcopy(data.get("local_groups", {}))
        st.appx_provisioned = list(data["appx_provisioned"])
        st.appx_user = {u: list(p) for u, p in data["appx_user"].items()}
        st.updates_installed = list(data["updates_installed"])
        st.updates_available = list(data["updates_available"])
        st.windows_update = copy.deepcopy(data.get("windows_update") or _wu_model.empty())
        os_ = data["os"]
        st.product_type, st.edition_id = os_["product_type"], os_["edition_id"]
        st.build, st.ubr, st.display_version = os_["build"], os_["ubr"], os_["display_version"]
        st.bitlocker = data["bitlocker"]
        st.certificates = data["certificates"]
        st.firewall_rules = data["firewall_rules"]
        st.listener = data["listener"]
        st.public_address = data.get("public_address")
        st.boot_time = data["boot_time"]
        st.powered = data["powered"]
        pr = data.get("power_request")
        st.power_request = (pr[0], float(pr[1])) if pr else None
        st.listener_reset_at_boot = data.get("listener_reset_at_boot", False)
        st.winrm_service_config = dict(data.get("winrm_service_config", {}))
        st.faults = FaultPlan(**data["faults"])
        st.faults.installer_exit = [dict(f) for f in st.faults.installer_exit]
        st.sysprep_runs = data["sysprep_runs"]
        st.admin_enabled = data.get("admin_enabled", True)
        st.module_invocations = data.get("module_invocations", 0)
        st.bytes_downloaded = data.get("bytes_downloaded", 0)
        return st

    def dump(self) -> dict[str, Any]:
        """A readable view for /_sandbox/state: no NT hash, no private key, no file contents."""
        d = self.to_dict()
        d.pop("nt_hash")
        if d["listener"]:
            d["listener"] = {k: v for k, v in d["listener"].items() if k != "key_pem"}
        d["certificates"] = {
            t: {k: v for k, v in c.items() if k not in ("key_pem", "pem", "der_b64")}
            for t, c in self.certificates.items()
        }
        d["registry"] = {
            "HKLM": self.registry.hklm.flat(""),
            "HKU": self.registry.hku.flat(""),
            "hive_files": {p: k.flat("") for p, k in self.registry.hive_files.items()},
        }
        d["files"] = {e.path: ("<dir>" if e.is_dir else len(e.data)) for e in self.fs.entries.values()}
        d["image_state"] = self.image_state()
        d["time_zone"] = self.time_zone()
        d["local_groups"] = self._dump_local_groups()
        d["pending_reboot"] = self.pending_reboot_reasons()
        d["boot_time_filetime"] = self.boot_time_filetime()
        d["appx_not_provisioned"] = [list(x) for x in self.appx_not_provisioned()]
        return d

    def _dump_local_groups(self) -> dict[str, Any]:
        """Local groups with their members as Convert-FromSID spells them (SID when untranslatable)."""
        return {
            name: {**g, "member_names": [convert_from_sid(self, sid) or sid for sid in g["members"]]}
            for name, g in self.local_groups.items()
        }


@functools.cache
def _image_data_cached(name: str) -> Any:
    return yaml.safe_load((IMAGES_DIR / f"{name}.yaml").read_text()) or {}


def _image_data(name: str) -> Any:
    """A parsed file of images/ (parsed once per process; callers get their own copy)."""
    return copy.deepcopy(_image_data_cached(name))


def _bump_version(version: str) -> str:
    parts = [int(p) for p in version.split(".")]
    parts[1 if len(parts) > 1 else 0] += 1
    return ".".join(str(p) for p in parts)


# ----------------------------------------------------------------------------------------------
# entry points used by the host (sandbox/windows/host.py)
# ----------------------------------------------------------------------------------------------
def create_guest(spec: VmSpec, arm: ArmCallbacks | None) -> WindowsState:
    """ARM created the VM: seed its state from spec.image; keep only the NT hash of the password."""
    st = WindowsState(
        vm_id=spec.vm_id,
        computer_name=spec.computer_name,
        admin_username=spec.admin_username,
        nt_hash_=nt_hash(spec.admin_password),
        image=spec.image,
        arm=arm,
    )
    st.seed()
    return st


DEFAULT_USER_HIVE = r"c:\users\default\ntuser.dat"


def specialize_guest(image: dict[str, Any], spec: VmSpec, arm: ArmCallbacks | None) -> WindowsState:
    """A VM created from a gallery image version: the captured (generalized) state, booted through
    OOBE and specialize as Windows does on Azure: a new machine SID, the computer name and the
    built-in administrator (RID 500, renamed to the osProfile's adminUsername, with its password)
    from the new VM's osProfile, whose profile and HKCU come from the Default User profile. The
    build's own user profile stays on disk (Windows does not remove it). ImageState becomes
    IMAGE_STATE_COMPLETE; the WinRM listener the build removed is not there."""
    st = WindowsState.from_dict(copy.deepcopy(image), arm)
    if st.image_state() != IMAGE_STATE_GENERALIZED:
        raise NotModelled(
            f"a VM from an image captured with ImageState {st.image_state()} (not generalized) "
            "is not simulated"
        )
    old_sid = st.admin_sid
    st.vm_id = spec.vm_id.lower()
    st.name = st.vm_id.rstrip("/").split("/")[-1]
    parts = [_stable_int(st.vm_id, x, mod=2**32) for x in "abc"]
    st.machine_sid = "S-1-5-21-{}-{}-{}".format(*parts)
    st.admin_sid = st.registry.admin_sid = f"{st.machine_sid}-500"
    st.registry.hku.subkeys.pop(old_sid.lower(), None)
    default_hive = st.registry.hive_files.get(DEFAULT_USER_HIVE)
    st.registry.hku.subkeys[st.admin_sid.lower()] = (
        RegKey.from_dict(default_hive.to_dict()) if default_hive else RegKey(st.admin_sid)
    )
    st.registry.hku.subkeys[st.admin_sid.lower()].name = st.admin_sid
    st.computer_name = spec.computer_name
    for key in (COMPUTER_NAME_KEY, ACTIVE_COMPUTER_NAME_KEY):
        st.registry.set_value(key, "ComputerName", "REG_SZ", spec.computer_name)
    frameworks = [p for p in st.appx_user.get(st.admin_username, []) if p.get("framework")]
    st.admin_username = spec.admin_username
    st.nt_hash = nt_hash(spec.admin_password)
    # Azure's unattend sets the new password on the renamed RID-500 account and enables it, which
    # the build disabled (Stop-BuildVm.ps1).
    st.admin_enabled = True
    # First logon registers every provisioned package for the new user (removed ones are gone).
    st.appx_user[st.admin_username] = [
        dict(st._user_pkg(p["name"], p["version"], p["publisher_id"]), non_removable=p["non_removable"])
        for p in st.appx_provisioned
    ] + [dict(f) for f in frameworks]
    for sub in ("AppData\\Local\\Temp", "AppData\\Roaming", "Desktop", "Documents"):
        st.fs.mkdir(f"{st.user_profile}\\{sub}")
    st.fs.write(f"{st.user_profile}\\NTUSER.DAT", b"regf")
    for group in st.local_groups.values():
        group["members"] = [st.admin_sid if m == old_sid else m for m in group["members"]]
    st.set_image_state(IMAGE_STATE_COMPLETE)
    st.certificates, st.listener, st.listener_reset_at_boot = {}, None, False
    st.faults, st.sysprep_runs, st.module_invocations = FaultPlan(), 0, 0
    st.power_on()
    return st


def load_guest(data: dict[str, Any], arm: ArmCallbacks | None) -> WindowsState:
    """Inverse of WindowsState.to_dict() (persistence across a sandbox restart)."""
    return WindowsState.from_dict(data, arm)
