"""The sandbox's test PKI: one CA per checkout (or per state dir) and the server certificates it
signs (the ARM emulator's, and one per simulated VM for its WinRM listener).

Clients trust the CA through REQUESTS_CA_BUNDLE / SSL_CERT_FILE; nothing here is ever trusted
outside the sandbox. Private keys are written with mode 600.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_CERT = "ca.pem"
CA_KEY = "ca.key"


@dataclass(frozen=True)
class CertPair:
    """Paths of a PEM certificate and its PEM private key."""

    cert: Path
    key: Path


def _write(path: Path, data: bytes, mode: int) -> None:
    """Write atomically with the given mode (the key never exists world-readable)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def private_key_pem(key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bytes:
    """PKCS#8 PEM, unencrypted (the files are mode 600)."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def key_usage(*, critical: bool, **usages: bool) -> tuple[x509.ExtensionType, bool]:
    """A KeyUsage extension naming only the usages that are on."""
    names = (
        "digital_signature",
        "content_commitment",
        "key_encipherment",
        "data_encipherment",
        "key_agreement",
        "key_cert_sign",
        "crl_sign",
        "encipher_only",
        "decipher_only",
    )
    return x509.KeyUsage(**{n: usages.get(n, False) for n in names}), critical


def certificate(
    subject: x509.Name,
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey,
    not_before: dt.datetime,
    not_after: dt.datetime,
    extensions: list[tuple[x509.ExtensionType, bool]],
    issuer: tuple[x509.Name, ec.EllipticCurvePrivateKey] | None = None,
) -> x509.Certificate:
    """An X.509 certificate for `key`, signed by `issuer` (name, key) or self-signed; extensions
    are (extension, critical) pairs."""
    issuer_name, issuer_key = issuer if issuer else (subject, key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
    )
    for ext, critical in extensions:
        builder = builder.add_extension(ext, critical=critical)
    return builder.sign(issuer_key, hashes.SHA256())


def _write_pair(pair: CertPair, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey) -> None:
    _write(pair.key, private_key_pem(key), 0o600)
    _write(pair.cert, cert.public_bytes(serialization.Encoding.PEM), 0o644)


def ensure_ca(directory: str | os.PathLike[str]) -> CertPair:
    """Create the test CA in `directory` unless it already exists (idempotent)."""
    d = Path(directory)
    pair = CertPair(d / CA_CERT, d / CA_KEY)
    if pair.cert.exists() and pair.key.exists():
        return pair
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "avd.golden sandbox"),
            x509.NameAttribute(NameOID.COMMON_NAME, "avd.golden sandbox test CA"),
        ]
    )
    cert = certificate(
        name,
        key,
        _now() - dt.timedelta(minutes=5),
        _now() + dt.timedelta(days=3650),
        [
            (x509.BasicConstraints(ca=True, path_length=0), True),
            key_usage(critical=True, digital_signature=True, key_cert_sign=True, crl_sign=True),
            (x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False),
        ],
    )
    _write_pair(pair, cert, key)
    return pair


def issue_server_cert(
    ca: CertPair,
    cert_path: str | os.PathLike[str],
    key_path: str | os.PathLike[str],
    common_name: str,
    ips: list[str] | tuple[str, ...] = (),
    dns: list[str] | tuple[str, ...] = (),
    days: int = 825,
) -> CertPair:
    """Sign a TLS server certificate for `common_name` with SANs `ips` and `dns`."""
    ca_key = serialization.load_pem_private_key(ca.key.read_bytes(), password=None)
    ca_cert = x509.load_pem_x509_certificate(ca.cert.read_bytes())
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    key = ec.generate_private_key(ec.SECP256R1())
    sans: list[x509.GeneralName] = [x509.DNSName(n) for n in dns]
    sans += [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    cert = certificate(
        x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)]),
        key,
        _now() - dt.timedelta(minutes=5),
        _now() + dt.timedelta(days=days),
        [
            (x509.BasicConstraints(ca=False, path_length=None), True),
            (x509.SubjectAlternativeName(sans), False),
            (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False),
            (x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False),
        ],
        issuer=(ca_cert.subject, ca_key),
    )
    pair = CertPair(Path(cert_path), Path(key_path))
    _write_pair(pair, cert, key)
    return pair


def issue_code_signing_cert(
    ca: CertPair,
    cert_path: str | os.PathLike[str],
    key_path: str | os.PathLike[str],
    common_name: str,
    organization: str | None = None,
    days: int = 825,
) -> CertPair:
    """Sign an Authenticode code-signing certificate (EKU codeSigning, RSA 2048: what
    osslsigncode and Windows both take) for test installers."""
    ca_key = serialization.load_pem_private_key(ca.key.read_bytes(), password=None)
    ca_cert = x509.load_pem_x509_certificate(ca.cert.read_bytes())
    assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    # Encoded O then CN, as public CAs do: Windows shows it as "CN=<name>, O=<organization>".
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization)] if organization else []
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    cert = certificate(
        x509.Name(attrs),
        key,
        _now() - dt.timedelta(minutes=5),
        _now() + dt.timedelta(days=days),
        [
            (x509.BasicConstraints(ca=False, path_length=None), True),
            key_usage(critical=True, digital_signature=True),
            (x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING]), False),
            (x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False),
        ],
        issuer=(ca_cert.subject, ca_key),
    )
    pair = CertPair(Path(cert_path), Path(key_path))
    _write(pair.key, private_key_pem(key), 0o600)
    _write(pair.cert, cert.public_bytes(serialization.Encoding.PEM), 0o644)
    return pair
