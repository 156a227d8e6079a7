"""NTLMv2 acceptor for the WinRM listener, verifying against a stored NT hash.

pyspnego's own acceptor only looks credentials up in the process-wide ``NTLM_USER_FILE``; one
sandbox process serves many VMs whose admin users may share a name but not a password, so this
module drives the NTLM messages itself (with pyspnego's message and crypto primitives) and checks
the response against the NT hash of the one VM the connection reached. Only NTLMv2 is accepted (as
Windows with LmCompatibilityLevel 5); the MIC and channel binding token are verified when sent.
"""

from __future__ import annotations

import hmac
import os
from dataclasses import dataclass

from spnego._ntlm_raw.crypto import hmac_md5, md5, ntowfv2, rc4k
from spnego._ntlm_raw.messages import (
    Authenticate,
    AvFlags,
    AvId,
    Challenge,
    FileTime,
    Negotiate,
    NegotiateFlags,
    NTClientChallengeV2,
    TargetInfo,
)
from spnego.channel_bindings import GssChannelBindings


class NtlmError(Exception):
    """The client's NTLM token is malformed or its credentials are wrong (HTTP 401)."""


@dataclass(frozen=True)
class NtlmAccount:
    """The one local account a guest accepts: user name (case-insensitive) and NT hash."""

    username: str
    nt_hash: bytes
    enabled: bool = True  # a disabled account fails after the password check (STATUS_ACCOUNT_DISABLED)


def channel_binding_app_data(cert_der: bytes) -> bytes:
    """RFC 5929 tls-server-end-point application data for the listener certificate.

    The hash is the certificate's signature hash, with MD5/SHA-1 upgraded to SHA-256 (as clients do).
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    cert = x509.load_der_x509_certificate(cert_der)
    algorithm = cert.signature_hash_algorithm
    if algorithm is None or algorithm.name in ("md5", "sha1"):
        algorithm = hashes.SHA256()
    digest = hashes.Hash(algorithm)
    digest.update(cert_der)
    return b"tls-server-end-point:" + digest.finalize()


class NtlmAcceptor:
    """One NTLM handshake (one per TCP connection): NEGOTIATE -> CHALLENGE, AUTHENTICATE -> done."""

    def __init__(self, account: NtlmAccount, computer_name: str, cbt_app_data: bytes | None) -> None:
        self._account = account
        self._computer_name = computer_name.upper()[:15]
        self._cbt = cbt_app_data
        self._negotiate: bytes | None = None
        self._challenge: bytes | None = None
        self._server_challenge = b""
        self.complete = False
        self.username: str | None = None

    def step(self, token: bytes) -> bytes | None:
        """Process one client token; return the CHALLENGE token, or None once authenticated."""
        if len(token) < 12 or token[:8] != b"NTLMSSP\x00":
            # A SPNEGO/Kerberos token: the sandbox has no domain, like a workgroup build VM.
            raise NtlmError("only raw NTLM tokens are accepted (no Kerberos/SPNEGO wrapping)")
        message_type = int.from_bytes(token[8:12], "little")
        if message_type == 1:
            return self._on_negotiate(token)
        if message_type == 3 and self._challenge is not None:
            self._on_authenticate(token)
            return None
        raise NtlmError(f"unexpected NTLM message type {message_type}")

    def _on_negotiate(self, token: bytes) -> bytes:
        negotiate = Negotiate.unpack(token)
        flags = (
            negotiate.flags
            | NegotiateFlags.request_target
            | NegotiateFlags.ntlm
            | NegotiateFlags.always_sign
            | NegotiateFlags.target_info
            | NegotiateFlags.target_type_server
        )
        if flags & NegotiateFlags.unicode:
            flags &= ~NegotiateFlags.oem
        elif not flags & NegotiateFlags.oem:
            raise NtlmError("NTLM negotiate sets neither UNICODE nor OEM")
        if flags & NegotiateFlags.extended_session_security:
            flags &= ~NegotiateFlags.lm_key
        # A workgroup machine: the NetBIOS domain is the computer name.
        target_info = TargetInfo()
        target_info[AvId.nb_computer_name] = self._computer_name
        target_info[AvId.nb_domain_name] = self._computer_name
        target_info[AvId.dns_computer_name] = self._computer_name.lower()
        target_info[AvId.dns_domain_name] = self._computer_name.lower()
        target_info[AvId.timestamp] = FileTime.now()
        self._server_challenge = os.urandom(8)
        challenge = Challenge(
            flags, self._server_challenge, target_name=self._computer_name, target_info=target_info
        )
        self._negotiate = token
        self._challenge = challenge.pack()
        return self._challenge

    def _on_authenticate(self, token: bytes) -> None:
        auth = Authenticate.unpack(token)
        nt_response = auth.nt_challenge_response or b""
        if not auth.user_name or len(nt_response) <= 24:
            # Anonymous, LM or NTLMv1: refused like LmCompatibilityLevel 5.
            raise NtlmError("only NTLMv2 authentication is accepted")
        user = auth.user_name.split("@", 1)[0]
        if user.lower() != self._account.username.lower():
            raise NtlmError("unknown user")
        # The domain the client names is used in the NTLMv2 key as the client sent it (a local
        # account accepts "", ".", or the computer name).
        response_key = ntowfv2(auth.user_name, self._account.nt_hash, auth.domain_name)
        nt_proof = hmac_md5(response_key, self._server_challenge + nt_response[16:])
        if not hmac.compare_digest(nt_proof, nt_response[:16]):
            raise NtlmError("wrong password")
        if not self._account.enabled:
            raise NtlmError("account disabled")
        client = NTClientChallengeV2.unpack(nt_response[16:])
        av_pairs = client.av_pairs
        if self._cbt is not None and AvId.channel_bindings in av_pairs:
            sent = av_pairs[AvId.channel_bindings]
            expected = md5(GssChannelBindings(application_data=self._cbt).pack())
            if sent not in (expected, b"\x00" * 16):
                raise NtlmError("channel binding token does not match the listener certificate")
        session_base_key = hmac_md5(response_key, nt_proof)
        session_key = session_base_key
        if auth.flags & NegotiateFlags.key_exch and auth.flags & (NegotiateFlags.sign | NegotiateFlags.seal):
            session_key = rc4k(session_base_key, auth.encrypted_random_session_key or b"")
        if av_pairs.get(AvId.flags, 0) & AvFlags.mic:
            sent_mic = auth.mic or b""
            auth.mic = b"\x00" * 16
            expected_mic = hmac_md5(
                session_key, (self._negotiate or b"") + (self._challenge or b"") + auth.pack()
            )
            if not hmac.compare_digest(sent_mic, expected_mic):
                raise NtlmError("invalid NTLM MIC")
        self.complete = True
        self.username = user
