"""ansible.windows.win_get_url and ansible.windows.win_package over the simulated guest.

win_get_url (win_get_url.ps1 of ansible.windows 3.8.0): a real HTTPS download
(sandbox/windows/downloads.py), the checksum of the bytes, ``dest`` a file or a folder (the URL's
last segment), ``force`` with a matching ``checksum`` skipping the request, check mode (downloaded,
not written), the module's messages for a missing folder, an HTTP error and a checksum mismatch.
Not simulated (NotModelled): ``checksum_url``, credentials, client certificates, proxies, headers,
methods other than GET, ``validate_certs: false``, and ``force: false`` without a checksum (the
Last-Modified comparison).

win_package (``state: present`` of a local ``path``): the msi provider (the product code read from
the MSI, installed when its Uninstall entry was written by Windows Installer) and the registry
provider for everything else (``product_id`` as an Uninstall key in either view), ``creates_path``
/ ``creates_version`` (the file's version resource, exact match) / ``creates_service``,
``expected_return_code``, ``log_path`` (msiexec's /L*V log), ``arguments`` (a string or a list),
``reboot_required`` for 3010, the checksum the module reports. The installer itself runs in
sandbox/windows/installers/. Not simulated: URL paths, ``state: absent``, the msix and msp
providers, ``verify_signature`` (avd.golden.win_authenticode checks signers), ``chdir``.
"""

from __future__ import annotations

import hashlib
import http
import shlex
import time
from typing import Any

from sandbox.guest_api import NotModelled
from sandbox.windows import downloads, installers
from sandbox.windows.argspec import build_spec
from sandbox.windows.installers import pe
from sandbox.windows.modules import Ctx, ModuleFail, Unhandled, register
from sandbox.windows.modules import _winpath as wp

GET_URL = build_spec(
    "ansible.windows.win_get_url",
    "basic",
    supports_check_mode=True,
    mutually_exclusive=(("checksum", "checksum_url"),),
)
PACKAGE = build_spec(
    "ansible.windows.win_package",
    "basic",
    supports_check_mode=True,
    required_by={"creates_version": ("creates_path",)},
    required_if=(("state", "present", ("path",)), ("state", "absent", ("path", "product_id"), True)),
)
UNINSTALL = r"HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall"
UNINSTALL_VIEWS = (UNINSTALL, r"HKLM\SOFTWARE\Wow6432Node\Microsoft\Windows\CurrentVersion\Uninstall")
# Web request options (ansible.windows.web_request) the sandbox does not model, with their defaults.
_WEB_DEFAULTS: dict[str, Any] = {
    "url_username": None,
    "url_password": None,
    "client_cert": None,
    "client_cert_password": None,
    "proxy_url": None,
    "proxy_username": None,
    "proxy_password": None,
    "headers": None,
    "validate_certs": True,
    "use_default_credential": False,
    "checksum_url": None,
}


def _refuse_unmodelled(params: dict[str, Any], module: str) -> None:
    for name, default in _WEB_DEFAULTS.items():
        if name in params and params[name] not in (default, None, {}):
            raise NotModelled(f"{module} option '{name}' is not simulated by the sandbox")
    method = params.get("url_method")
    if method not in (None, "GET"):
        raise NotModelled(f"{module} url_method {method!r} is not simulated by the sandbox")


def _digest(data: bytes, algorithm: str) -> str:
    return hashlib.new(algorithm, data).hexdigest()


@register(GET_URL)
def win_get_url(ctx: Ctx) -> None:
    p, fs, r = ctx.params, ctx.state.fs, ctx.result
    _refuse_unmodelled(p, "win_get_url")
    url, algorithm = p["url"], p["checksum_algorithm"].strip().lower()
    r.update(elapsed=0, url=url)
    dest = ctx.path(p["dest"])
    if fs.is_dir(dest):
        base = url.split("?", 1)[0].split("#", 1)[0].rstrip("/").rsplit("/", 1)[-1]
        dest = wp.join(dest, base if "/" in url.split("://", 1)[-1] and base else url.split("/")[2])
    elif p["dest"].endswith(("\\", "/")):
        raise ctx.fail(
            f"The destination path '{p['dest']}' does not exist, or is not visible to the current user. "
            "Ensure download destination folder exists (perhaps using win_file state=directory) before "
            "win_get_url runs."
        )
    r["dest"] = dest
    checksum = p["checksum"].strip().lower() if p.get("checksum") else None
    dest_checksum = _digest(fs.read(dest), algorithm) if fs.is_file(dest) else None
    force = p["force"] or bool(checksum and dest_checksum and dest_checksum != checksum)
    if dest_checksum and checksum and dest_checksum == checksum and not force:
        r.update(checksum_dest=dest_checksum, size=len(fs.read(dest)))
    elif force or dest_checksum is None:
        _download(ctx, url, dest, checksum, dest_checksum, algorithm)
    else:
        raise NotModelled(
            "win_get_url force=false without a matching checksum (Last-Modified) is not simulated"
        )
    if "checksum_dest" not in r and fs.is_file(dest):
        r.update(checksum_dest=_digest(fs.read(dest), algorithm), size=len(fs.read(dest)))


def _download(
    ctx: Ctx, url: str, dest: str, checksum: str | None, dest_checksum: str | None, algo: str
) -> None:
    fs, r = ctx.state.fs, ctx.result
    parent = wp.parent(dest)
    if not fs.is_dir(parent):
        raise ctx.fail(
            f"The path '{parent}' does not exist for destination '{dest}', or is not visible to the current "
            "user. Ensure download destination folder exists (perhaps using win_file state=directory) before "
            "win_get_url runs."
        )
    started = time.monotonic()
    timeout = float(ctx.params.get("url_timeout") or 30)
    try:
        answer = downloads.fetch(url, ctx.state.trusted_ca, timeout=timeout)
    except OSError as err:
        raise ctx.fail(f"Error downloading '{url}' to '{dest}': {err}") from err
    r["elapsed"] = round(time.monotonic() - started, 3)
    r.update(status_code=answer.status, msg=answer.reason)
    if answer.status >= 400:
        raise ctx.fail(
            f"Error downloading '{url}' to '{dest}': The remote server returned an error: "
            f"({answer.status}) {_phrase(answer.status)}."
        )
    ctx.state.bytes_downloaded += len(answer.body)
    got = _digest(answer.body, algo)
    r["checksum_src"] = got
    if checksum and checksum != got:
        raise ctx.fail(f"The checksum for {url} did not match '{checksum}', it was '{got}'")
    if dest_checksum == got:
        r.update(checksum_dest=dest_checksum, size=len(answer.body))
        return
    if not ctx.check_mode:
        fs.write(dest, answer.body)
    r["changed"] = True


def _phrase(status: int) -> str:
    """.NET's WebException names the status by its standard phrase, not the server's reason."""
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


def file_version(data: bytes) -> str | None:
    """FileVersionInfo's FileMajorPart.FileMinorPart.FileBuildPart.FilePrivatePart (None: no resource)."""
    return pe.fixed_file_version(data)


def _uninstall_key(ctx: Ctx, ident: str) -> str | None:
    for view in UNINSTALL_VIEWS:
        if ctx.state.registry.exists(f"{view}\\{ident}"):
            return f"{view}\\{ident}"
    return None


def msi_installed(ctx: Ctx, product_code: str) -> bool:
    """MsiQueryProductState == INSTALLSTATE_DEFAULT: Windows Installer registered the product."""
    value = ctx.state.registry.get_value(f"{UNINSTALL}\\{product_code}", "WindowsInstaller")
    return value is not None and value.data == 1


def _status(ctx: Ctx, path: str, data: bytes | None) -> tuple[str, str | None, bool]:
    """(provider, id, installed) as Get-InstalledStatus decides it."""
    p = ctx.params
    provider, ident = "registry", p.get("product_id")
    if data is not None and data.startswith(installers.model.OLE_MAGIC):
        provider = "msi"
        ident = installers.identify(path, data).properties.get("ProductCode")
        installed = bool(ident) and msi_installed(ctx, ident)
    elif data is not None and path.lower().endswith((".appx", ".appxbundle", ".msix", ".msixbundle")):
        raise NotModelled("win_package's msix provider is not simulated (use avd.golden.win_appx_provision)")
    else:
        installed = bool(ident) and _uninstall_key(ctx, ident) is not None
    if p.get("creates_path"):
        creates = ctx.path(p["creates_path"])
        installed = ctx.state.fs.exists(creates)
        if p.get("creates_version") and installed:
            if not ctx.state.fs.is_file(creates):
                raise Unhandled("creates_path must be a file not a directory when creates_version is set")
            installed = _same_version(p["creates_version"], file_version(ctx.state.fs.read(creates)))
    if p.get("creates_service"):
        installed = p["creates_service"].lower() in ctx.state.services
    return provider, ident, installed


def _same_version(wanted: str, found: str | None) -> bool:
    """[System.Version] equality: missing parts of the wanted version are -1, never equal."""
    if found is None:
        return wanted == "0.0.0.0"
    parts = [int(x) for x in wanted.split(".")]
    return parts + [-1] * (4 - len(parts)) == [int(x) for x in found.split(".")]


@register(PACKAGE)
def win_package(ctx: Ctx) -> None:
    p, fs, r = ctx.params, ctx.state.fs, ctx.result
    _refuse_unmodelled(p, "win_package")
    for name in ("chdir", "verify_signature", "wait_for_children"):
        if p.get(name):
            raise NotModelled(f"win_package option '{name}' is not simulated by the sandbox")
    if p["state"] != "present" or p["provider"] not in ("auto", "msi", "registry"):
        raise NotModelled(f"win_package state={p['state']} provider={p['provider']} is not simulated")
    path = p["path"]
    if path.lower().startswith("http"):
        raise NotModelled("win_package with a URL path is not simulated (download with win_get_url)")
    path = ctx.path(path)
    r["reboot_required"] = False
    if not fs.is_file(path) and not ctx.check_mode:
        raise ctx.fail(f"the file at the path '{path}' cannot be reached")
    data = fs.read(path) if fs.is_file(path) else None
    _provider, _ident, installed = _status(ctx, path, data)
    changed = not installed
    r["rc"] = 0
    if changed and not ctx.check_mode and data is not None:
        r["checksum"] = hashlib.new(p["checksum_algorithm"], data).hexdigest().upper()
        if p.get("checksum") and p["checksum"] != r["checksum"]:
            raise ctx.fail(
                f"The checksum for {path} did not match '{p['checksum']}', it was '{r['checksum']}'"
            )
        _run(ctx, path)
    r["changed"] = changed


def _arguments(raw: Any) -> str:
    if raw is None:
        return ""
    if isinstance(raw, list):
        return " ".join(shlex.quote(str(a)) if " " in str(a) else str(a) for a in raw)
    return str(raw)


def _run(ctx: Ctx, path: str) -> None:
    """Invoke-Msiexec / Invoke-Executable: run it, check the exit code, keep or return the log."""
    p, r = ctx.params, ctx.result
    arguments = _arguments(p.get("arguments"))
    file, outcome = installers.run(ctx.state, path, arguments)
    log_path = ctx.path(p["log_path"]) if p.get("log_path") else None
    if file.kind == "msi":
        log = log_path or "msiexec.log"
        command = f'C:\\Windows\\System32\\msiexec.exe /i "{path}" /L*V "{log}" /qn /norestart'
        if log_path:
            if not ctx.state.fs.is_dir(wp.parent(log_path)):
                ctx.state.fs.mkdir(wp.parent(log_path))
            ctx.state.fs.write(log_path, outcome.log.encode("utf-16"))
    else:
        command = f'"{path}"'
    command += f" {arguments}" if arguments else ""
    r["rc"] = outcome.rc
    if outcome.rc not in p["expected_return_code"]:
        r.update(stdout=outcome.stdout, stderr=outcome.stderr)
        if file.kind == "msi":  # msiexec always logs (to a temporary file without log_path)
            r["log"] = outcome.log
        raise ModuleFail(f"unexpected rc from '{command}': see rc, stdout, and stderr for more details")
    if outcome.rc == 3010:
        r["reboot_required"] = True
