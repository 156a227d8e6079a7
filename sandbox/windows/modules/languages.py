"""avd.golden.win_language_install, avd.golden.win_language_settings and ansible.windows.win_region
over the simulated language state (sandbox/windows/modules/_languages.py).

win_language_install follows plugins/modules/win_language_install.ps1: DISM installs what the CAB's
update.mum names (a language pack is InstallPending until the next boot and asks for a restart; a
feature on demand is installed at once), Add-AppxProvisionedPackage provisions what the .appx's
manifest names, and the module then checks that the component it was asked for is installed.
While a LanguageComponentsInstaller task (Installation, ReconcileLanguageResources) is enabled,
every install fails with ERROR_SHARING_VIOLATION: on Windows that is a race the tasks may lose or
win, here it always happens, so a test proves the tasks were disabled. Install-Language fails as
often as the ``language_install_fail`` fault says, with 0x80240438 (Windows Update unreachable).
"""

from __future__ import annotations

from typing import Any

from sandbox.guest_api import NotModelled
from sandbox.windows.argspec import build_spec
from sandbox.windows.modules import Ctx, ModuleFail, Unhandled, register
from sandbox.windows.modules import _languages as lang
from sandbox.windows.state import CBS_REBOOT_KEY

INSTALL = build_spec("avd.golden.win_language_install", "basic", supports_check_mode=True)
SETTINGS = build_spec("avd.golden.win_language_settings", "basic", supports_check_mode=True)
REGION = build_spec("ansible.windows.win_region", "basic", supports_check_mode=True)
ONLINE_ERROR = "Install-Language failed: 0x80240438 (WU_E_PT_ENDPOINT_UNREACHABLE)"
LXP_PREFIX = "Microsoft.LanguageExperiencePack"
ONLINE_FEATURES = ("Basic", "Handwriting", "OCR", "Speech", "TextToSpeech")


class _Failed(Exception):
    """An install cmdlet's error (caught by the module's try/catch)."""


def installed(ctx: Ctx, c: dict[str, Any]) -> bool:
    st, tag = ctx.state, c["language"].lower()
    if c["kind"] == "language_pack":
        return any(t.lower() == tag for t in lang.installed_languages(st))
    if c["kind"] == "feature":
        state = next((v for k, v in st.capabilities.items() if k.lower() == c["name"].lower()), None)
        return state in ("Installed", "InstallPending")
    if c["kind"] == "experience_pack":
        return any(p["name"].lower() == c["name"].lower() for p in st.appx_provisioned)
    lxp = f"{LXP_PREFIX}{tag}"
    return any(t.lower() == tag for t in lang.installed_languages(st)) or any(
        p["name"].lower() == lxp for p in st.appx_provisioned
    )


@register(INSTALL)
def language_install(ctx: Ctx) -> None:
    p = ctx.params
    ctx.result.update(changes=[], pending=[], attempts=[], reboot_required=False)
    for c in p["components"]:
        ident = f"{c['kind']}/{c['name']}"
        if installed(ctx, c):
            continue
        ctx.result["pending"].append(ident)
        if not ctx.check_mode:
            _install_one(ctx, c, ident)
        ctx.result["changes"].append(
            {"name": ident, "before": "NotPresent", "after": "Installed", "source": None}
        )
        ctx.result["changed"] = True


def _install_one(ctx: Ctx, c: dict[str, Any], ident: str) -> None:
    for key in ("path", "license_path"):
        needed = c["kind"] != "online" if key == "path" else c["kind"] == "experience_pack"
        if needed and not (c[key] and ctx.state.fs.exists(ctx.path(c[key]))):
            raise ModuleFail(
                f"{ident} for {c['language']} is not installed and its {key} '{c[key] or ''}' does not exist"
            )
    try:
        reboot = _install(ctx, c)
    except _Failed as err:
        raise ModuleFail(f"failed to install {ident} for {c['language']}: {err}") from None
    if reboot:
        ctx.result["reboot_required"] = True
    if not installed(ctx, c):
        raise ModuleFail(
            f"{ident} for {c['language']}: installed '{c['path']}', but the component is still not "
            "installed: the file holds another package"
        )


def _install(ctx: Ctx, c: dict[str, Any]) -> bool:
    st = ctx.state
    if c["kind"] == "online":
        return _install_online(ctx, c)
    if lang.racing_tasks_enabled(st):
        raise _Failed(lang.SHARING_VIOLATION)
    data = st.fs.read(ctx.path(c["path"]))
    if c["kind"] == "experience_pack":
        return _provision_lxp(ctx, c, data)
    try:
        ident = lang.package_identity(data)
    except lang.BadPackage as err:
        raise _Failed(f"An error occurred trying to open - {c['path']} Error: 0x80070057: {err}") from None
    version = ident.get("version", "").split(".")
    if ident.get("processorArchitecture") != "amd64" or version[:3] != ["10", "0", st.build]:
        raise _Failed(lang.NOT_APPLICABLE)
    if ident.get("name") == lang.LP_PACKAGE:
        full = f"{lang.LP_PACKAGE}~{lang.PUBLIC_KEY_TOKEN}~amd64~{ident.get('language')}~{ident['version']}"
        st.language_packages[full] = "InstallPending"
        st.registry.create(CBS_REBOOT_KEY)
        return True
    capability = lang.feature_capability(ident.get("name", ""))
    if capability is None:
        raise NotModelled(f"package {ident.get('name')!r} is not a language package the sandbox models")
    real = next((k for k in st.capabilities if k.lower() == capability.lower()), capability)
    st.capabilities[real] = "Installed"
    return False


def _provision_lxp(ctx: Ctx, c: dict[str, Any], data: bytes) -> bool:
    st = ctx.state
    try:
        ident = lang.appx_identity(data)
        lang.ElementTree.fromstring(st.fs.read(ctx.path(c["license_path"])))
    except (lang.BadPackage, lang.ElementTree.ParseError) as err:
        raise _Failed(f"Add-AppxProvisionedPackage: 0x80070057 The parameter is incorrect: {err}") from None
    st.appx_provisioned = [x for x in st.appx_provisioned if x["name"] != ident["Name"]]
    st.appx_provisioned.append(
        {
            "name": ident["Name"],
            "version": ident.get("Version", ""),
            "publisher_id": "8wekyb3d8bbwe",
            "non_removable": False,
        }
    )
    return False


def _install_online(ctx: Ctx, c: dict[str, Any]) -> bool:
    st, p = ctx.state, ctx.params
    attempts = max(1, p["attempts"])
    for n in range(1, attempts + 1):
        error = None
        if lang.racing_tasks_enabled(st):
            error = lang.SHARING_VIOLATION
        elif st.faults.language_install_fail > 0:
            st.faults.language_install_fail -= 1
            error = ONLINE_ERROR
        last = n == attempts
        wait = 0 if error is None or last else p["retry_delay_seconds"] * 2 ** (n - 1)
        ctx.result["attempts"].append(
            {"language": c["language"], "attempt": n, "error": error, "wait_seconds": wait}
        )
        if error is None:
            tag = lang.canonical(c["language"])
            full = f"{lang.LP_PACKAGE}~{lang.PUBLIC_KEY_TOKEN}~amd64~{tag}~10.0.{st.build}.1"
            st.language_packages[full] = "InstallPending"
            for feature in ONLINE_FEATURES:
                st.capabilities[f"Language.{feature}~~~{lang.canonical(c['language'])}~0.0.1.0"] = "Installed"
            st.registry.create(CBS_REBOOT_KEY)
            return True
        ctx.warn(f"Install-Language {c['language']}: attempt {n} of {attempts} failed: {error}")
        if last:
            raise _Failed(error)
    return True


# -- win_language_settings -----------------------------------------------------------------------
def _render(languages: list[dict[str, Any]]) -> list[str]:
    return [f"{item['language']}={','.join(item['input_methods'])}" for item in languages]


@register(SETTINGS)
def language_settings(ctx: Ctx) -> None:
    p, st = ctx.params, ctx.state
    ctx.result.update(changes=[], copy_method=None)

    def change(name: str, before: Any, after: Any) -> None:
        ctx.result["changes"].append(
            {"name": f"setting/{name}", "before": before, "after": after, "source": None}
        )
        ctx.result["changed"] = True

    ui = p["ui_language"]
    if ui:
        current = lang.system_ui_language(st)
        if current != ui:
            known = {t.lower() for t in lang.installed_languages(st)} | {lang.install_language(st).lower()}
            # Check mode never calls Set-SystemPreferredUILanguage, so it cannot fail on it.
            if not ctx.check_mode and ui.lower() not in known:
                raise Unhandled(
                    f"Set-SystemPreferredUILanguage : The language {ui} is not installed on this device."
                )
            if not ctx.check_mode:
                st.registry.set_value(lang.MUI_SETTINGS_KEY, "PreferredUILanguages", "REG_MULTI_SZ", [ui])
            change("ui_language", current, ui)
    if p["user_languages"]:
        wanted = [
            {
                "language": lang.canonical(i["language"]),
                "input_methods": i["input_methods"] or [lang.culture(i["language"])[1]],
            }
            for i in p["user_languages"]
        ]
        before, after = _render(lang.read_profile(st, "admin")["languages"]), _render(wanted)
        if before != after:
            if not ctx.check_mode:
                lang.write_profile(st, "admin", {"languages": wanted})
            change("user_languages", before, after)
    _copy(ctx, change)


def _copy(ctx: Ctx, change: Any) -> None:
    p, st = ctx.params, ctx.state
    targets = [
        t
        for t, on in (("welcome_screen", p["copy_to_welcome_screen"]), ("new_users", p["copy_to_new_users"]))
        if on
    ]
    if not targets:
        return
    # Copy-UserInternationalSettingsToSystem exists from Windows 11 (build 22000) on.
    ctx.result["copy_method"] = (
        "Copy-UserInternationalSettingsToSystem" if int(st.build) >= 22000 else "intl.cpl"
    )
    mine = lang.read_profile(st, "admin")
    profiles = {"welcome_screen": "welcome", "new_users": "default_user"}
    stale = [t for t in targets if lang.read_profile(st, profiles[t]) != mine]
    if not stale and not ctx.result["changed"]:
        return
    if not ctx.check_mode:
        for target in targets:
            lang.write_profile(st, profiles[target], mine)
    change("copy", stale, targets)


# -- ansible.windows.win_region --------------------------------------------------------------------
@register(REGION)
def region(ctx: Ctx) -> None:
    p, st = ctx.params, ctx.state
    ctx.result["restart_required"] = False
    if p["format"] is None and p["location"] is None and p["unicode_language"] is None:
        raise ModuleFail("An argument for 'format', 'location' or 'unicode_language' needs to be supplied")
    if p["copy_settings"]:
        raise NotModelled(
            "win_region copy_settings is not modelled (copy with avd.golden.win_language_settings)"
        )
    for key in ("format", "unicode_language"):
        if p[key] is not None:
            lang.culture(p[key])
    mine = lang.read_profile(st, "admin")
    if p["location"] is not None:
        if not str(p["location"]).isdigit():
            raise ModuleFail(f"The argument location '{p['location']}' does not contain a valid Geo ID")
        if int(p["location"]) not in lang.GEOIDS:
            raise NotModelled(f"GeoID {p['location']} is not in the sandbox's table ({sorted(lang.GEOIDS)})")
        if mine["home_location"] != int(p["location"]):
            _region_set(ctx, {"home_location": int(p["location"])})
    if p["format"] is not None and mine["culture"] != p["format"]:
        _region_set(ctx, {"culture": p["format"]})
    if p["unicode_language"] is not None and lang.system_locale(st) != lang.canonical(p["unicode_language"]):
        if not ctx.check_mode:
            lcid = f"{lang.culture(p['unicode_language'])[0]:04x}"
            st.registry.set_value(lang.SYSTEM_LOCALE_KEY, "Default", "REG_SZ", lcid)
        ctx.result.update(changed=True, restart_required=True)


def _region_set(ctx: Ctx, values: dict[str, Any]) -> None:
    if not ctx.check_mode:
        lang.write_profile(ctx.state, "admin", values)
    ctx.result["changed"] = True
