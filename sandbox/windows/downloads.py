"""What the simulated guest does for real with a download: fetch it over HTTPS, hash it, check
its Authenticode signature.

- ``fetch``: a real HTTPS GET (redirects followed, as Invoke-WebRequest does), trusting the
  sandbox CA as the guest's root store (``WindowsState.trusted_ca``), never plain HTTP to a host
  that is not loopback; an HTTP error comes back as its status code and reason.
- ``authenticode``: what ``Get-AuthenticodeSignature`` reports, from the file's real signature,
  verified with ``osslsigncode verify`` against the same root (PE and MSI files): ``Status``
  ``Valid``, ``NotSigned``, ``HashMismatch`` (the file changed after signing) or ``UnknownError``
  (a chain to a root the guest does not trust), and the signer certificate's ``Subject`` (as
  Windows writes it: ``CN=..., O=...``) and ``Thumbprint`` (SHA-1, upper-case hex).

Module implementations call these with World.lock held: the servers are local and answer in
milliseconds; a timeout bounds the rest.
"""

from __future__ import annotations

import hashlib
import shutil
import ssl
import subprocess
import tempfile
import urllib.error
import urllib.request
import warnings
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, pkcs7
from cryptography.x509.oid import NameOID

from sandbox.guest_api import NotModelled

MAX_BYTES = 512 * 1024 * 1024
_SHORT = {
    NameOID.COMMON_NAME: "CN",
    NameOID.ORGANIZATION_NAME: "O",
    NameOID.ORGANIZATIONAL_UNIT_NAME: "OU",
    NameOID.LOCALITY_NAME: "L",
    NameOID.STATE_OR_PROVINCE_NAME: "S",
    NameOID.COUNTRY_NAME: "C",
    NameOID.EMAIL_ADDRESS: "E",
}


@dataclass(frozen=True)
class Response:
    status: int
    reason: str
    body: bytes
    url: str  # after redirects
    headers: dict[str, str]


def fetch(url: str, trusted_ca: str | None, timeout: float = 60.0, method: str = "GET") -> Response:
    """One HTTPS request as the guest makes it. URLError (no connection, TLS failure) is raised
    as OSError with the .NET-like message the caller reports."""
    if not url.lower().startswith("https://"):
        raise NotModelled(f"download {url.split('?')[0]}: only HTTPS downloads are modelled by the sandbox")
    # The guest's root store: the sandbox CA only (never this machine's roots), hostname checked.
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if trusted_ca:
        context.load_verify_locations(cafile=trusted_ca)
    request = urllib.request.Request(url, method=method, headers={"User-Agent": "ansible-httpget"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as answer:  # noqa: S310
            body = answer.read(MAX_BYTES + 1)
            if len(body) > MAX_BYTES:
                raise NotModelled(f"download larger than {MAX_BYTES} bytes is not modelled")
            return Response(answer.status, answer.reason, body, answer.geturl(), dict(answer.headers.items()))
    except urllib.error.HTTPError as err:
        return Response(err.code, str(err.reason), err.read(), url, dict(err.headers.items()))
    except urllib.error.URLError as err:
        raise OSError(f"Unable to connect to the remote server: {err.reason}") from err


def sha256(data: bytes) -> str:
    """Get-FileHash -Algorithm SHA256: upper-case hex."""
    return hashlib.sha256(data).hexdigest().upper()


@dataclass(frozen=True)
class Signature:
    status: str  # Valid | NotSigned | HashMismatch | UnknownError
    status_message: str
    subject: str | None
    thumbprint: str | None
    issuer: str | None


def windows_name(name: x509.Name) -> str:
    """A distinguished name as .NET's X500DistinguishedName.Name writes it (last RDN first)."""
    parts = []
    for rdn in reversed(name.rdns):
        for attr in rdn:
            key = _SHORT.get(attr.oid, attr.oid.dotted_string)
            value = str(attr.value)
            parts.append(f'{key}="{value}"' if any(c in value for c in ',+="\n<>#;') else f"{key}={value}")
    return ", ".join(parts)


def _osslsigncode() -> str:
    path = shutil.which("osslsigncode")
    if path is None:
        raise NotModelled("osslsigncode is not installed (make setup installs it): cannot check a signature")
    return path


def _signer(tool: str, path: Path, tmp: Path) -> x509.Certificate | None:
    """The signer's certificate: the end-entity certificate of the PKCS#7 signature."""
    sig = tmp / "signature.der"
    out = subprocess.run(
        [tool, "extract-signature", "-in", str(path), "-out", str(sig)],
        capture_output=True,
        check=False,
        timeout=60,
    )
    if out.returncode != 0 or not sig.is_file():
        return None
    with warnings.catch_warnings():  # osslsigncode writes the SignedData in BER, which is valid
        warnings.simplefilter("ignore", UserWarning)
        certs = pkcs7.load_der_pkcs7_certificates(sig.read_bytes())
    issuers = {c.issuer for c in certs}
    leaves = [c for c in certs if c.subject not in issuers or (c.subject == c.issuer and len(certs) == 1)]
    return (leaves or certs or [None])[0]


def authenticode(data: bytes, file_name: str, trusted_ca: str | None) -> Signature:
    """Get-AuthenticodeSignature of a file with this content (see the module docstring)."""
    tool = _osslsigncode()
    with tempfile.TemporaryDirectory(prefix="sandbox-sig-") as tmp_dir:
        tmp = Path(tmp_dir)
        path = tmp / (Path(file_name).name or "file")
        path.write_bytes(data)
        cert = _signer(tool, path, tmp)
        if cert is None:
            return Signature("NotSigned", "The file is not digitally signed.", None, None, None)
        command = [tool, "verify", "-in", str(path)]
        if trusted_ca:
            command += ["-CAfile", trusted_ca]
        out = subprocess.run(command, capture_output=True, text=True, check=False, timeout=60)
    text = (out.stdout + out.stderr).lower()
    subject, issuer = windows_name(cert.subject), windows_name(cert.issuer)
    thumbprint = hashlib.sha1(cert.public_bytes(Encoding.DER)).hexdigest().upper()  # noqa: S324 - Windows' thumbprint
    if out.returncode == 0 and trusted_ca:
        return Signature("Valid", "Signature verified.", subject, thumbprint, issuer)
    if "mismatch" in text:
        status, message = "HashMismatch", "The contents of the file may have been tampered with."
    else:
        status = "UnknownError"
        message = (
            "A certificate chain processed, but terminated in a root certificate which is not trusted by "
            "the trust provider."
        )
    return Signature(status, message, subject, thumbprint, issuer)
