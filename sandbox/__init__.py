"""The local sandbox: an Azure Resource Manager emulator and simulated Windows build VMs.

It stands in for Azure and Windows at their protocol boundaries (HTTPS ARM REST + Entra ID token
endpoint; WS-Management over HTTPS with NTLM) so the real azure.azcollection and ansible.windows
modules run unchanged against it. See sandbox/README.md for what it models and what it cannot prove.
"""
