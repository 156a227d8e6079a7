"""A local HTTPS file server for the tests: serves a folder with a certificate from the sandbox CA.

``FileServer(root, ca)`` listens on 127.0.0.1 (a free port) in a thread; ``url(name)`` is the HTTPS
URL of a file under ``root``; ``requests`` lists the paths asked for (to prove a re-run downloads
nothing). A missing file answers 404, as a web server does.
"""

from __future__ import annotations

import http.server
import ssl
import tempfile
import threading
import urllib.parse
from pathlib import Path
from typing import Any

from sandbox import pki


class FileServer:
    def __init__(self, root: Path, ca: pki.CertPair) -> None:
        self.root = Path(root)
        self.requests: list[str] = []
        tls_dir = Path(tempfile.mkdtemp(prefix="file-server-tls-"))
        tls = pki.issue_server_cert(
            ca, tls_dir / "server.pem", tls_dir / "server.key", "127.0.0.1", ips=["127.0.0.1"]
        )
        server = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(*args, directory=str(server.root), **kwargs)

            def do_GET(self) -> None:
                server.requests.append(urllib.parse.urlsplit(self.path).path)
                super().do_GET()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(tls.cert, tls.key)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> FileServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def url(self, name: str) -> str:
        return f"https://127.0.0.1:{self.port}/{urllib.parse.quote(name)}"


def _serve_test_installers(state: Path, pki_dir: Path, lifetime: float) -> None:
    """For the role's Molecule scenario: build (once) a signed test MSI in ``state``, serve it over
    HTTPS with the sandbox CA of ``pki_dir`` and write ``state/applications.json``, the normalised
    applications list naming it; serve for ``lifetime`` seconds, then exit."""
    import datetime as dt
    import json
    import sys
    import time

    from tests.support import installers as ti
    from tests.support.paths import REPO

    sys.path.insert(0, str(REPO / "collections"))
    from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.applications import (
        check_applications,
    )
    from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.checker import Checker

    ca = pki.CertPair(pki_dir / pki.CA_CERT, pki_dir / pki.CA_KEY)
    www = state / "www"
    www.mkdir(parents=True, exist_ok=True)
    built = state / "msi.json"
    if not built.exists():  # the same MSI (and ProductCode) for converge and idempotence
        cert = ti.code_signing_cert(ca, state)
        msi = ti.sign(ti.build_msi(www / "molecule-tool.msi", name="Molecule Tool"), cert)
        built.write_text(json.dumps({"product_code": msi.product_code, "thumbprint": ti.thumbprint(cert)}))
    info = json.loads(built.read_text())
    msi_path = www / "molecule-tool.msi"
    with FileServer(www, ca) as server:
        section = [
            {
                "name": "Molecule Tool",
                "kind": "msi",
                "version": "1.2.3",
                "download": {
                    "url": server.url(msi_path.name),
                    "sha256": ti.Installer(msi_path).sha256,
                    "signer": {"thumbprint": info["thumbprint"]},
                },
                "detection": {"product_code": info["product_code"]},
            }
        ]
        checker = Checker(dt.date.today())
        entries = check_applications(checker, {"applications": section})
        assert checker.errors == [], checker.errors
        (state / "applications.json").write_text(json.dumps({"entries": entries, **info}))
        time.sleep(lifetime)


def _serve_avd_stack(state: Path, pki_dir: Path, lifetime: float) -> None:
    """For the avd_stack role's Molecule scenario: a test OneDriveSetup.exe (a PE carrying OneDrive's
    version resource) served over HTTPS, and ``state/avd_stack.json``, the normalised section."""
    import datetime as dt
    import json
    import sys
    import time

    from tests.support import installers as ti
    from tests.support.paths import REPO

    sys.path.insert(0, str(REPO / "collections"))
    from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.avd_stack import check_avd_stack
    from ansible_collections.avd.golden.plugins.plugin_utils._image_spec.checker import Checker

    ca = pki.CertPair(pki_dir / pki.CA_CERT, pki_dir / pki.CA_KEY)
    www = state / "www"
    www.mkdir(parents=True, exist_ok=True)
    exe = www / "OneDriveSetup.exe"
    if not exe.exists():  # the same file for converge and idempotence
        ti.build_exe(exe, "25.20.202.1", "Microsoft OneDrive", "Microsoft Corporation")
    with FileServer(www, ca) as server:
        download = {"url": server.url(exe.name), "sha256": ti.Installer(exe).sha256}
        checker = Checker(dt.date.today())
        section = check_avd_stack(
            checker, {"avd_stack": {"onedrive": {"version": "25.20.202.1", "download": download}}}, {}
        )
        assert checker.errors == [], checker.errors
        (state / "avd_stack.json").write_text(json.dumps(section))
        time.sleep(lifetime)


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=_serve_test_installers.__doc__)
    parser.add_argument("--state", type=Path, required=True)
    parser.add_argument("--pki-dir", type=Path, required=True)
    parser.add_argument("--lifetime", type=float, default=300)
    parser.add_argument(
        "--avd-stack", action="store_true", help="serve the avd_stack scenario's installer instead"
    )
    args = parser.parse_args()
    serve = _serve_avd_stack if args.avd_stack else _serve_test_installers
    serve(args.state, args.pki_dir, args.lifetime)
