"""The WS-Management HTTPS listener of one simulated Windows VM (<public ip>:5986, path /wsman).

What a client sees, as with a Windows listener configured by the product's bootstrap script:
- TLS with the certificate made for that VM (nothing listens on plain HTTP).
- HTTP authentication: only Negotiate carrying raw NTLM (``Authorization: Negotiate|NTLM <b64>``),
  one handshake per TCP connection (keep-alive); Basic and anonymous requests get 401.
- WS-Man shell operations: Create, Command, Send, Receive, Signal, Delete on the ``cmd`` resource;
  anything else is a WS-Man fault.
- Before a connection is served, the VM's NSGs are asked whether the client address may reach
  5986; if not, the connection is closed before the TLS handshake (a real NSG drops the packets; we
  close at once so tests do not wait for a timeout).

Shell state lives in the VM's ``Vm`` object (host.py) so a client that reconnects keeps its shell,
as with Windows; a reboot clears it.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import os
import socket
import ssl
import struct
import tempfile
import threading
import time
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape, quoteattr

from sandbox.windows.ntlm_auth import NtlmAcceptor, NtlmError, channel_binding_app_data
from sandbox.windows.transport import CommandLine, Outcome, run_command

if TYPE_CHECKING:
    from sandbox.windows.host import Vm

log = logging.getLogger(__name__)

NS = {
    "s": "http://www.w3.org/2003/05/soap-envelope",
    "a": "http://schemas.xmlsoap.org/ws/2004/08/addressing",
    "w": "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd",
    "p": "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd",
    "rsp": "http://schemas.microsoft.com/wbem/wsman/1/windows/shell",
    "x": "http://schemas.xmlsoap.org/ws/2004/09/transfer",
}
SHELL_URI = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd"
ACTION_CREATE = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create"
ACTION_DELETE = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete"
ACTION_SHELL = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/"
SIGNAL_TERMINATE = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/signal/terminate"
SIGNAL_CTRL_C = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/signal/ctrl_c"
STATE_DONE = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Done"
STATE_RUNNING = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/CommandState/Running"
# WS-Man fault codes Windows uses (winerror.h ERROR_WSMAN_*).
CODE_OPERATION_TIMEOUT = 2150858793
CODE_SHELL_NOT_FOUND = 2150858843
CODE_ACTION_NOT_SUPPORTED = 2150858775
CODE_INVALID_COMMAND = 2150858792
RUNNING_RECEIVE_WAIT = 0.5  # OperationTimeout (PT20S from Ansible) scaled down for a running command
IDLE_TIMEOUT_S = 120  # Windows' HTTP keep-alive idle timeout
MAX_ENVELOPE = 512 * 1024  # MaxEnvelopeSizekb 500 (Windows default), rounded up
DEFAULT_MAX_ENVELOPE = 153600  # what a client asks for when it does not say (pywinrm's value)


@dataclass
class Command:
    """One process started in a shell: its stdin so far and, once it ran, its outcome."""

    command_id: str
    cmdline: CommandLine
    stdin: bytearray = field(default_factory=bytearray)
    outcome: Outcome | None = None
    sent: dict[str, int] = field(default_factory=lambda: {"stdout": 0, "stderr": 0})


@dataclass
class Shell:
    shell_id: str
    commands: dict[str, Command] = field(default_factory=dict)


class WsmanFault(Exception):
    """Answered as a SOAP fault with HTTP 500, as Windows does."""

    def __init__(
        self, code: int, subcode: str, reason: str, value: str = "s:Sender", wait: float = 0.0
    ) -> None:
        super().__init__(reason)
        self.code, self.subcode, self.reason, self.value = code, subcode, reason, value
        # Seconds to wait (without the lock) before answering: Windows answers OperationTimeout
        # only after that long for a command that is still running (scaled down here).
        self.wait = wait


class DropConnection(Exception):
    """Close the TCP connection without answering (fault injection)."""


def _envelope(action: str, relates_to: str, body: str) -> bytes:
    ns = " ".join(f"xmlns:{k}={quoteattr(v)}" for k, v in NS.items())
    return (
        f'<s:Envelope xml:lang="en-US" {ns}><s:Header>'
        f"<a:Action>{escape(action)}</a:Action><a:MessageID>uuid:{str(uuid.uuid4()).upper()}</a:MessageID>"
        "<a:To>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:To>"
        f"<a:RelatesTo>{escape(relates_to)}</a:RelatesTo></s:Header><s:Body>{body}</s:Body></s:Envelope>"
    ).encode()


def fault_envelope(fault: WsmanFault, relates_to: str, machine: str) -> bytes:
    body = (
        f"<s:Fault><s:Code><s:Value>{fault.value}</s:Value><s:Subcode><s:Value>{fault.subcode}</s:Value>"
        f'</s:Subcode></s:Code><s:Reason><s:Text xml:lang="en-US">{escape(fault.reason)}</s:Text></s:Reason>'
        f'<s:Detail><f:WSManFault xmlns:f="http://schemas.microsoft.com/wbem/wsman/1/wsmanfault" '
        f"Code={quoteattr(str(fault.code))} Machine={quoteattr(machine)}><f:Message>{escape(fault.reason)}"
        "</f:Message></f:WSManFault></s:Detail></s:Fault>"
    )
    return _envelope("http://schemas.dmtf.org/wbem/wsman/1/wsman/fault", relates_to, body)


class WsmanService:
    """The SOAP operations of one VM (called with World.lock held)."""

    def __init__(self, vm: Vm) -> None:
        self.vm = vm
        self.shells: dict[str, Shell] = {}

    def handle(self, envelope: bytes, endpoint: str) -> bytes:
        """Answer one request envelope; raises WsmanFault or DropConnection."""
        try:
            root = ET.fromstring(envelope)  # noqa: S314 - the client is our own test Ansible
        except ET.ParseError as exc:
            raise WsmanFault(2150858817, "w:InvalidMessage", f"The request is not valid XML: {exc}") from exc
        header = root.find("s:Header", NS)
        body = root.find("s:Body", NS)
        if header is None or body is None:
            raise WsmanFault(2150858817, "w:InvalidMessage", "The SOAP envelope has no Header or Body.")
        action = (header.findtext("a:Action", "", NS) or "").strip()
        message_id = (header.findtext("a:MessageID", "", NS) or "").strip()
        resource = (header.findtext("w:ResourceURI", "", NS) or "").strip()
        self.relates_to = message_id
        try:
            self.max_envelope = int(header.findtext("w:MaxEnvelopeSize", "", NS) or DEFAULT_MAX_ENVELOPE)
        except ValueError:
            self.max_envelope = DEFAULT_MAX_ENVELOPE
        if resource != SHELL_URI:
            self.vm.record_unmodelled(f"WS-Man resource {resource or '<none>'} ({action})")
            raise WsmanFault(
                2150858778, "w:DestinationUnreachable", f"not simulated: WS-Man resource URI {resource!r}"
            )
        selector = header.find("w:SelectorSet/w:Selector[@Name='ShellId']", NS)
        shell_id = (selector.text or "").strip() if selector is not None else ""
        options = {
            o.get("Name", ""): (o.text or "").strip() for o in header.findall("w:OptionSet/w:Option", NS)
        }
        if action == ACTION_CREATE:
            return self._create(message_id, body, endpoint)
        shell = self.shells.get(shell_id)
        if shell is None:
            raise WsmanFault(
                CODE_SHELL_NOT_FOUND,
                "w:InvalidSelectors",
                f"The request for the Windows Remote Shell with ShellId {shell_id} failed because the shell "
                "was not found on the server. Possible causes are: the specified ShellId is incorrect or the "
                "shell no longer exists on the server. Provide the correct ShellId or create a new shell and "
                "retry the operation.",
            )
        if action == ACTION_DELETE:
            del self.shells[shell_id]
            return _envelope("http://schemas.xmlsoap.org/ws/2004/09/transfer/DeleteResponse", message_id, "")
        if action == ACTION_SHELL + "Command":
            return self._command(message_id, shell, body, options)
        if action == ACTION_SHELL + "Send":
            return self._send(message_id, shell, body)
        if action == ACTION_SHELL + "Receive":
            return self._receive(message_id, shell, body)
        if action == ACTION_SHELL + "Signal":
            return self._signal(message_id, shell, body)
        self.vm.record_unmodelled(f"WS-Man action {action}")
        raise WsmanFault(
            CODE_ACTION_NOT_SUPPORTED,
            "a:ActionNotSupported",
            f"not simulated: the action {action!r} is not supported by the service.",
        )

    def _create(self, message_id: str, body: ET.Element, endpoint: str) -> bytes:
        if body.find("rsp:Shell", NS) is None:
            raise WsmanFault(2150858817, "w:InvalidMessage", "Create without an rsp:Shell body.")
        shell_id = str(uuid.uuid4()).upper()
        self.shells[shell_id] = Shell(shell_id)
        created = (
            f"<x:ResourceCreated><a:Address>{escape(endpoint)}</a:Address><a:ReferenceParameters>"
            f"<w:ResourceURI>{SHELL_URI}</w:ResourceURI><w:SelectorSet>"
            f'<w:Selector Name="ShellId">{shell_id}</w:Selector></w:SelectorSet></a:ReferenceParameters>'
            f"</x:ResourceCreated><rsp:Shell><rsp:ShellId>{shell_id}</rsp:ShellId>"
            f"<rsp:ResourceUri>{SHELL_URI}</rsp:ResourceUri><rsp:Owner>{escape(self.vm.guest.admin_username)}"
            "</rsp:Owner><rsp:InputStreams>stdin</rsp:InputStreams>"
            "<rsp:OutputStreams>stdout stderr</rsp:OutputStreams></rsp:Shell>"
        )
        return _envelope("http://schemas.xmlsoap.org/ws/2004/09/transfer/CreateResponse", message_id, created)

    def _command(self, message_id: str, shell: Shell, body: ET.Element, options: dict[str, str]) -> bytes:
        line = body.find("rsp:CommandLine", NS)
        if line is None:
            raise WsmanFault(CODE_INVALID_COMMAND, "w:InvalidMessage", "Command without rsp:CommandLine.")
        cmdline = CommandLine(
            command=(line.findtext("rsp:Command", "", NS) or "").strip(),
            arguments=[(a.text or "") for a in line.findall("rsp:Arguments", NS)],
            console_mode_stdin=options.get("WINRS_CONSOLEMODE_STDIN", "TRUE").upper() == "TRUE",
        )
        command = Command(str(uuid.uuid4()).upper(), cmdline)
        shell.commands[command.command_id] = command
        if cmdline.console_mode_stdin:
            # No stdin will come (Ansible sets console mode exactly when it sends none): run now.
            command.outcome = run_command(self.vm, cmdline, b"")
            self.vm.host.save()
        answer = (
            f"<rsp:CommandResponse><rsp:CommandId>{command.command_id}</rsp:CommandId></rsp:CommandResponse>"
        )
        return _envelope(ACTION_SHELL + "CommandResponse", message_id, answer)

    def _find_command(self, shell: Shell, command_id: str) -> Command:
        command = shell.commands.get(command_id)
        if command is None:
            raise WsmanFault(
                CODE_INVALID_COMMAND,
                "w:InvalidSelectors",
                f"The command {command_id} was not found in the shell.",
            )
        return command

    def _send(self, message_id: str, shell: Shell, body: ET.Element) -> bytes:
        stream = body.find("rsp:Send/rsp:Stream", NS)
        if stream is None or stream.get("Name") != "stdin":
            raise WsmanFault(2150858817, "w:InvalidMessage", "Send without an stdin rsp:Stream.")
        command = self._find_command(shell, stream.get("CommandId", ""))
        if command.outcome is not None:
            raise WsmanFault(
                CODE_INVALID_COMMAND, "w:InvalidParameter", "The command no longer accepts input."
            )
        command.stdin += base64.b64decode(stream.text or "")
        if (stream.get("End") or "").lower() == "true":
            command.outcome = run_command(self.vm, command.cmdline, bytes(command.stdin))
            self.vm.host.save()
        return _envelope(ACTION_SHELL + "SendResponse", message_id, "<rsp:SendResponse/>")

    def _receive(self, message_id: str, shell: Shell, body: ET.Element) -> bytes:
        desired = body.find("rsp:Receive/rsp:DesiredStream", NS)
        if desired is None:
            raise WsmanFault(2150858817, "w:InvalidMessage", "Receive without rsp:DesiredStream.")
        command = self._find_command(shell, desired.get("CommandId", ""))
        # guest_reboot waits for a command that has run, so the restart follows its effect.
        if command.outcome is not None and self.vm.faults.take("guest_reboot"):
            self.vm.reboot_on_its_own()
            raise DropConnection()
        fault = self.vm.faults.take("drop_connection", "operation_timeout")
        if fault == "drop_connection":
            raise DropConnection()
        running = command.outcome is not None and command.outcome.pending is not None
        if running and fault is None:
            resumed = command.outcome.pending()  # type: ignore[union-attr]
            if resumed is not None:
                command.outcome = resumed
                running = False
        if fault == "operation_timeout" or command.outcome is None or running:
            # Windows answers this when the process has produced nothing within OperationTimeout (a
            # command still waiting for stdin, or a long one); pywinrm/Ansible simply ask again.
            raise WsmanFault(
                CODE_OPERATION_TIMEOUT,
                "w:TimedOut",
                "The WS-Management service cannot complete the operation within the time specified in "
                "OperationTimeout.",
                value="s:Receiver",
                wait=RUNNING_RECEIVE_WAIT if running else 0.0,
            )
        outcome = command.outcome
        cid = command.command_id
        # Like Windows, output larger than the client's MaxEnvelopeSize comes in several Receive
        # answers (CommandState Running) before the last one (Done, with the exit code).
        budget = max((self.max_envelope - 4096) * 3 // 4, 4096)
        streams = ""
        done = True
        for name, text in (("stdout", outcome.stdout), ("stderr", outcome.stderr)):
            data = text.encode()
            start = command.sent[name]
            chunk = data[start : start + budget] if done else b""
            budget -= len(chunk)
            command.sent[name] = start + len(chunk)
            finished = command.sent[name] >= len(data)
            if chunk:
                encoded = base64.b64encode(chunk).decode()
                streams += f'<rsp:Stream Name="{name}" CommandId="{cid}">{encoded}</rsp:Stream>'
            if finished and done:
                streams += f'<rsp:Stream Name="{name}" CommandId="{cid}" End="true"></rsp:Stream>'
            done = done and finished
        if not done:
            answer = (
                f'<rsp:ReceiveResponse>{streams}<rsp:CommandState CommandId="{cid}" State="{STATE_RUNNING}"/>'
                "</rsp:ReceiveResponse>"
            )
            return _envelope(ACTION_SHELL + "ReceiveResponse", message_id, answer)
        answer = (
            f'<rsp:ReceiveResponse>{streams}<rsp:CommandState CommandId="{cid}" State="{STATE_DONE}">'
            f"<rsp:ExitCode>{outcome.rc}</rsp:ExitCode></rsp:CommandState></rsp:ReceiveResponse>"
        )
        if outcome.reboot:
            outcome.reboot = False
            self.vm.request_reboot()
        self.vm.after_answer()
        return _envelope(ACTION_SHELL + "ReceiveResponse", message_id, answer)

    def _signal(self, message_id: str, shell: Shell, body: ET.Element) -> bytes:
        signal = body.find("rsp:Signal", NS)
        if signal is None:
            raise WsmanFault(2150858817, "w:InvalidMessage", "Signal without rsp:Signal.")
        code = (signal.findtext("rsp:Code", "", NS) or "").strip()
        if code not in (SIGNAL_TERMINATE, SIGNAL_CTRL_C):
            self.vm.record_unmodelled(f"WS-Man signal {code}")
            raise WsmanFault(2150858817, "w:InvalidParameter", f"not simulated: signal {code!r}")
        self._find_command(shell, signal.get("CommandId", ""))
        del shell.commands[signal.get("CommandId", "")]
        return _envelope(ACTION_SHELL + "SignalResponse", message_id, "<rsp:SignalResponse/>")


class _Handler(BaseHTTPRequestHandler):
    """One TLS connection; keeps its NTLM context for its whole life (connection-based auth)."""

    protocol_version = "HTTP/1.1"
    server_version = "Microsoft-HTTPAPI/2.0"
    sys_version = ""
    server: Listener  # type: ignore[assignment]

    def setup(self) -> None:
        super().setup()
        self.acceptor: NtlmAcceptor | None = None
        self.authenticated_user: str | None = None

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.client_address[0], format % args)

    def _reply(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        if body:
            self.send_header("Content-Type", "application/soap+xml;charset=UTF-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)
        if self.server.closing:
            self.close_connection = True

    def _unauthorized(self, token: bytes | None = None, scheme: str = "Negotiate") -> None:
        header = f"{scheme} {base64.b64encode(token).decode()}" if token else "Negotiate"
        self._reply(401, headers={"WWW-Authenticate": header})

    def do_GET(self) -> None:
        self._read_body()
        self._reply(405)

    def _read_body(self) -> bytes | None:
        length = int(self.headers.get("Content-Length") or 0)
        if self.headers.get("Transfer-Encoding") or length > MAX_ENVELOPE:
            self.close_connection = True
            return None
        return self.rfile.read(length) if length else b""

    def do_POST(self) -> None:
        body = self._read_body()
        if body is None:
            self._reply(413)
            return
        if self.path.split("?")[0].lower() != "/wsman":
            self._reply(404)
            return
        authorization = self.headers.get("Authorization", "")
        if authorization:
            scheme, _, value = authorization.partition(" ")
            if scheme.lower() not in ("negotiate", "ntlm"):
                # Basic (and anything else) is disabled on the listener.
                self._unauthorized()
                return
            if self.acceptor is None or self.acceptor.complete:
                self.authenticated_user = None
                self.acceptor = self.server.new_acceptor()
            try:
                out = self.acceptor.step(base64.b64decode(value.strip()))
            except (NtlmError, ValueError) as exc:
                log.info(
                    "WinRM %s: NTLM refused from %s: %s", self.server.vm.name, self.client_address[0], exc
                )
                self.acceptor = None
                self._unauthorized()
                return
            if out is not None:
                self._unauthorized(out, scheme)
                return
            self.authenticated_user = self.acceptor.username
        if not self.authenticated_user:
            self._unauthorized()
            return
        content_type = self.headers.get("Content-Type", "")
        if (
            "multipart/encrypted" in content_type.lower()
            or "multipart/x-multi-encrypted" in content_type.lower()
        ):
            self.server.vm.record_unmodelled("WinRM message encryption over HTTPS")
            self._reply(400, b"not simulated: WinRM message encryption (use HTTPS without it)")
            return
        endpoint = f"https://{self.server.address}:{self.server.port}/wsman"
        wait = 0.0
        with self.server.vm.lock:
            service = self.server.vm.service
            try:
                answer = service.handle(body, endpoint)
                status = 200
            except WsmanFault as fault:
                answer = fault_envelope(
                    fault, getattr(service, "relates_to", ""), self.server.vm.computer_name
                )
                status = 500
                wait = fault.wait
            except DropConnection:
                answer = b""
                status = 0
        if status == 0:
            self.close_connection = True
            _shutdown(self.connection, socket.SHUT_RDWR)
            return
        if wait:
            time.sleep(wait)
        self._reply(status, answer)


class Listener:
    """A TLS socket on <address>:<port> serving one VM; started and stopped by host.Vm."""

    def __init__(self, vm: Vm, address: str, port: int, cert_pem: str, key_pem: str) -> None:
        self.vm = vm
        self.address = address
        self.port = port
        self.cert_pem = cert_pem
        self.closing = False
        self._context = _tls_context(cert_pem, key_pem)
        der = ssl.PEM_cert_to_DER_cert(cert_pem)
        self._cbt = channel_binding_app_data(der)
        self._connections: set[socket.socket] = set()
        self._conn_lock = threading.Lock()
        self._sock = socket.create_server((address, port), reuse_port=False)
        self.port = self._sock.getsockname()[1]
        self._sock.settimeout(0.25)
        self._thread = threading.Thread(target=self._accept_loop, name=f"winrm-{vm.name}", daemon=True)
        self._thread.start()

    def new_acceptor(self) -> NtlmAcceptor:
        return NtlmAcceptor(self.vm.account(), self.vm.computer_name, self._cbt)

    def _accept_loop(self) -> None:
        while not self.closing:
            try:
                conn, peer = self._sock.accept()
            except TimeoutError:
                continue
            except OSError:
                break
            threading.Thread(target=self._serve, args=(conn, peer), daemon=True).start()

    def _serve(self, conn: socket.socket, peer: tuple[str, int]) -> None:
        served = conn
        try:
            if self.closing or not self.vm.connection_allowed(peer[0], self.port):
                # Reset at once (an NSG drops the SYN; the client then times out - we spare tests the
                # wait but still let nothing through, not even the TLS handshake).
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                conn.close()
                return
            conn.settimeout(IDLE_TIMEOUT_S)
            try:
                tls = self._context.wrap_socket(conn, server_side=True)
            except (ssl.SSLError, OSError) as exc:
                log.info("WinRM %s: TLS handshake with %s failed: %s", self.vm.name, peer[0], exc)
                conn.close()
                return
            served = tls
            with self._conn_lock:
                self._connections.add(tls)
            if self.closing:  # stop() ran during the handshake
                return
            _Handler(tls, peer, self)  # type: ignore[arg-type] - serves until the client goes away
        except OSError:
            pass
        finally:
            with self._conn_lock:
                self._connections.discard(served)
            with contextlib.suppress(OSError):
                served.close()

    def stop(self) -> None:
        """Stop listening now; idle connections are cut, a busy one after its answer (never blocks)."""
        self.closing = True
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            self._sock.close()
        with self._conn_lock:
            connections = list(self._connections)
        for sock in connections:
            # Reads end (an idle connection closes); a busy one still writes its answer over TLS.
            _shutdown(sock, socket.SHUT_RD)


def _shutdown(sock: socket.socket, how: int) -> None:
    """Shut down the TCP socket under a TLS socket. (SSLSocket.shutdown() would also drop the TLS
    state, so a response still being written would go out in clear text.)"""
    with contextlib.suppress(OSError):
        socket.socket.shutdown(sock, how)


def _tls_context(cert_pem: str, key_pem: str) -> ssl.SSLContext:
    """A server context for the VM's certificate (written to a private temp dir only while loading)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    with tempfile.TemporaryDirectory(prefix="winrm-tls-") as tmp:
        cert_path = os.path.join(tmp, "cert.pem")
        key_path = os.path.join(tmp, "key.pem")
        for path, text in ((cert_path, cert_pem), (key_path, key_pem)):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(text)
        context.load_cert_chain(cert_path, key_path)
    return context
