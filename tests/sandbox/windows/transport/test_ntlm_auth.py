"""The NTLMv2 acceptor against pyspnego's initiator (what requests-ntlm / pywinrm use)."""

from __future__ import annotations

import pytest
import spnego
from spnego.channel_bindings import GssChannelBindings

from sandbox.windows.ntlm_auth import NtlmAcceptor, NtlmAccount, NtlmError
from tests.support.winrm_fakes import PASSWORD, nt_hash

CBT = b"tls-server-end-point:" + bytes(range(32))


def handshake(
    username: str,
    password: str,
    *,
    client_cbt: bytes | None,
    server_cbt: bytes | None,
    enabled: bool = True,
) -> NtlmAcceptor:
    client = spnego.client(
        username,
        password,
        hostname="127.0.0.2",
        service="http",
        protocol="ntlm",
        channel_bindings=GssChannelBindings(application_data=client_cbt) if client_cbt else None,
        options=spnego.NegotiateOptions.use_ntlm,
    )
    acceptor = NtlmAcceptor(NtlmAccount("avdadmin", nt_hash(PASSWORD), enabled), "AVDBUILD01", server_cbt)
    challenge = acceptor.step(client.step())
    assert challenge is not None and not acceptor.complete
    assert acceptor.step(client.step(challenge)) is None
    return acceptor


@pytest.mark.parametrize("username", ["avdadmin", "AVDADMIN", "AVDBUILD01\\avdadmin", ".\\avdadmin"])
def test_right_password_authenticates(username):
    acceptor = handshake(username, PASSWORD, client_cbt=CBT, server_cbt=CBT)
    assert acceptor.complete and acceptor.username.lower() == "avdadmin"


def test_client_without_channel_binding_is_accepted():
    assert handshake("avdadmin", PASSWORD, client_cbt=None, server_cbt=CBT).complete


@pytest.mark.parametrize(
    ("username", "password", "client_cbt", "message"),
    [
        ("avdadmin", "wrong", CBT, "wrong password"),
        ("someoneelse", PASSWORD, CBT, "unknown user"),
        ("avdadmin", PASSWORD, b"tls-server-end-point:" + bytes(32), "channel binding"),
    ],
)
def test_refusals(username, password, client_cbt, message):
    with pytest.raises(NtlmError, match=message):
        handshake(username, password, client_cbt=client_cbt, server_cbt=CBT)


def test_a_disabled_account_is_refused_even_with_the_right_password():
    with pytest.raises(NtlmError, match="account disabled"):
        handshake("avdadmin", PASSWORD, client_cbt=CBT, server_cbt=CBT, enabled=False)
    # The password is checked first, as Windows does (a wrong one is a plain logon failure).
    with pytest.raises(NtlmError, match="wrong password"):
        handshake("avdadmin", "wrong", client_cbt=CBT, server_cbt=CBT, enabled=False)


def test_ntlmv1_is_refused(monkeypatch):
    monkeypatch.setenv("LM_COMPAT_LEVEL", "1")  # makes pyspnego's initiator answer with NTLMv1
    with pytest.raises(NtlmError, match="only NTLMv2"):
        handshake("avdadmin", PASSWORD, client_cbt=None, server_cbt=None)


def test_tampered_authenticate_message_fails_the_mic():
    client = spnego.client(
        "avdadmin",
        PASSWORD,
        hostname="h",
        service="http",
        protocol="ntlm",
        options=spnego.NegotiateOptions.use_ntlm,
    )
    acceptor = NtlmAcceptor(NtlmAccount("avdadmin", nt_hash(PASSWORD)), "AVDBUILD01", None)
    authenticate = bytearray(client.step(acceptor.step(client.step())))
    mic_offset = 72  # Authenticate: 64-byte header + 8-byte version, then the MIC
    authenticate[mic_offset] ^= 0xFF
    with pytest.raises(NtlmError, match="MIC"):
        acceptor.step(bytes(authenticate))


def test_kerberos_or_spnego_tokens_are_refused():
    acceptor = NtlmAcceptor(NtlmAccount("avdadmin", nt_hash(PASSWORD)), "AVDBUILD01", None)
    with pytest.raises(NtlmError, match="only raw NTLM"):
        acceptor.step(b"\x60\x82\x01\x00" + bytes(40))
    with pytest.raises(NtlmError, match="unexpected NTLM message type 3"):
        acceptor.step(b"NTLMSSP\x00\x03\x00\x00\x00" + bytes(60))
