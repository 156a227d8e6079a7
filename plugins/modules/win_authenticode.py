#!/usr/bin/python
"""Check the Authenticode signature of a file and, optionally, its signer."""

from __future__ import annotations

DOCUMENTATION = r"""
module: win_authenticode
short_description: Check a file's Authenticode signature and its signer
version_added: "0.3.0"
description:
  - Reads the signature with C(Get-AuthenticodeSignature) and fails unless its status is C(Valid)
    (a file that is not signed, was changed after signing, or is signed by a certificate whose chain
    ends in a root the machine does not trust fails with the status Windows gives).
  - With O(thumbprint) or O(subject), also fails unless the signer certificate is that one.
  - Reads only; never changes anything.
author:
  - AVD golden image builders
options:
  path:
    description: The file to check, for example an EXE or MSI installer.
    type: path
    required: true
  thumbprint:
    description: The SHA-1 thumbprint the signer certificate must have (40 hex, any case).
    type: str
  subject:
    description:
      - The subject the signer certificate must have, exactly as Windows shows it in
        C($signature.SignerCertificate.Subject), for example
        C(CN=Microsoft Corporation, O=Microsoft Corporation, L=Redmond, S=Washington, C=US).
    type: str
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: windows
notes:
  - Mutually exclusive options are O(thumbprint) and O(subject).
"""

EXAMPLES = r"""
- name: Check the installer is signed by Microsoft
  avd.golden.win_authenticode:
    path: C:\ProgramData\avd-golden\applications\FSLogix\FSLogixAppsSetup.exe
    subject: "CN=Microsoft Corporation, O=Microsoft Corporation, L=Redmond, S=Washington, C=US"
"""

RETURN = r"""
status:
  description: The signature's status (C(Valid), C(NotSigned), C(HashMismatch), C(UnknownError), ...).
  returned: always
  type: str
status_message:
  description: Windows' explanation of the status.
  returned: always
  type: str
subject:
  description: The signer certificate's subject; null when the file is not signed.
  returned: always
  type: str
thumbprint:
  description: The signer certificate's SHA-1 thumbprint (upper-case hex); null when not signed.
  returned: always
  type: str
issuer:
  description: The signer certificate's issuer; null when not signed.
  returned: always
  type: str
"""
