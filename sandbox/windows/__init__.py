"""Simulated Windows build VMs reached over WS-Management (WinRM HTTPS, NTLM)."""
