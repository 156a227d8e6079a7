"""Unit tests for plugins/module_utils/_arm_rest.py: which requests are retried, how long it waits,
and the failure once it gives up, against a real local HTTP server (scripted answers, including a
connection closed without an answer)."""

from __future__ import annotations

import http.client
import json
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[4] / "collections"))

from ansible_collections.avd.golden.plugins.module_utils import _arm_rest as r

PATH = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Compute/galleries/g"
THROTTLED = (429, {"Retry-After": "7"}, {"error": {"code": "TooManyRequests", "message": "slow down"}})
BUSY = (503, {}, {"error": {"code": "ServiceUnavailable", "message": "busy"}})
OK = (200, {}, {"name": "g"})
RESET = "reset"


class _Server(ThreadingHTTPServer):
    script: list[Any]
    seen: list[tuple[str, str]]


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def _answer(self) -> None:
        self.server.seen.append((self.command, self.path))
        step = self.server.script.pop(0) if self.server.script else OK
        if step == RESET:
            self.close_connection = True
            self.connection.close()  # no answer at all: the client sees the connection drop
            return
        status, headers, body = step
        raw = json.dumps(body).encode()
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = _answer

    def log_message(self, *_args: Any) -> None:
        pass


class _Response:
    def __init__(self, status: int, headers: dict[str, str], raw: bytes):
        self.status_code, self.headers, self._raw = status, headers, raw

    def text(self) -> str:
        return self._raw.decode()


class _Rest:
    """GenericRestClient's ``query`` signature over http.client (a real socket each call)."""

    def __init__(self, port: int):
        self.port = port

    def query(self, url: str, method: str, params: dict[str, str], *_rest: Any) -> _Response:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        try:
            conn.request(
                method, f"{url}?{urlencode(params)}", body=b"{}" if method in {"PUT", "POST"} else None
            )
            got = conn.getresponse()
            return _Response(got.status, dict(got.getheaders()), got.read())
        finally:
            conn.close()


@pytest.fixture
def server() -> Iterator[_Server]:
    srv = _Server(("127.0.0.1", 0), _Handler)
    srv.script, srv.seen = [], []
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


class _Clock:
    """Fake time: ``sleep`` advances it, so the waits are asserted, not spent."""

    def __init__(self) -> None:
        self.now, self.waits = 0.0, []

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds

    def __call__(self) -> float:
        return self.now


def _call(server: _Server, method: str, clock: _Clock, **kw: Any) -> tuple[int, dict[str, str], Any]:
    rest = _Rest(server.server_address[1])
    return r.query(rest, method, PATH, {"api-version": "2023-07-03"}, sleep=clock.sleep, clock=clock, **kw)


@pytest.mark.parametrize("method", ["GET", "PUT"])
def test_idempotent_methods_retry_429_5xx_and_resets_obeying_retry_after(
    server: _Server, method: str
) -> None:
    server.script = [THROTTLED, RESET, BUSY, OK]
    clock = _Clock()
    status, _headers, body = _call(server, method, clock)
    assert (status, body) == (200, {"name": "g"})
    assert [m for m, _ in server.seen] == [method] * 4
    # Retry-After 7 obeyed; after the reset and the 503 (no Retry-After), the backoff doubles.
    assert clock.waits == [7.0, 2.0 * 2, 2.0 * 4]


def test_retry_after_is_capped(server: _Server) -> None:
    server.script = [(429, {"Retry-After": "3600"}, {"error": {"code": "TooManyRequests"}}), OK]
    clock = _Clock()
    assert _call(server, "GET", clock)[0] == 200
    assert clock.waits == [r.RETRY_AFTER_CAP]


@pytest.mark.parametrize("method", ["POST", "PATCH", "DELETE"])
def test_other_methods_are_sent_once_and_the_status_handed_back(server: _Server, method: str) -> None:
    server.script = [THROTTLED, OK]
    clock = _Clock()
    status, headers, body = _call(server, method, clock)
    assert status == 429 and headers["Retry-After"] == "7" and body["error"]["code"] == "TooManyRequests"
    assert len(server.seen) == 1 and clock.waits == []


def test_a_post_whose_connection_drops_fails_naming_the_request_without_repeating(server: _Server) -> None:
    server.script = [RESET, OK]
    with pytest.raises(r.ArmRequestError, match=rf"^POST {PATH}: connection failed"):
        _call(server, "POST", _Clock())
    assert len(server.seen) == 1


def test_gives_up_after_the_attempts_naming_the_request_and_no_query_string(server: _Server) -> None:
    server.script = [BUSY] * 10
    clock = _Clock()
    with pytest.raises(r.ArmRequestError) as err:
        _call(server, "GET", clock, attempts=3)
    assert len(server.seen) == 3 and len(clock.waits) == 2
    message = str(err.value)
    assert message.startswith(f"GET {PATH} gave up after 3 attempts")
    assert "HTTP 503 ServiceUnavailable" in message
    assert "api-version" not in message and "?" not in message
    assert urlsplit(server.seen[0][1]).query == "api-version=2023-07-03"


def test_the_total_deadline_bounds_the_waits(server: _Server) -> None:
    server.script = [THROTTLED] * 10
    clock = _Clock()
    with pytest.raises(
        r.ArmRequestError, match="gave up after 3 attempts in 14s: last answer HTTP 429 TooManyRequests"
    ):
        _call(server, "GET", clock, deadline=20)
    # Two waits of 7 s fit in 20 s, a third would not: it stops instead of sleeping past the deadline.
    assert clock.waits == [7.0, 7.0] and len(server.seen) == 3


def test_a_non_transient_status_is_handed_back_at_once(server: _Server) -> None:
    server.script = [(404, {}, {"error": {"code": "ResourceNotFound"}})]
    clock = _Clock()
    assert _call(server, "GET", clock)[0] == 404
    assert len(server.seen) == 1 and clock.waits == []
