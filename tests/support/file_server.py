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
