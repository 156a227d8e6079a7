<#
.SYNOPSIS
    Removes the build's remote access from the generalized VM, then shuts it down.

.DESCRIPTION
    Run by the avd.golden.windows_sysprep role with ansible.windows.win_powershell as an async task
    that is not polled (async, poll 0), after ImageState reached IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE.
    The controller does not wait for it: the capture phase waits (bounded) for Azure to report the VM
    stopped. It undoes what Enable-WinRMHttps.ps1 (windows_connect) set up, so that no session host
    made from the image carries the build's listener, certificate, firewall opening or token policy.

    Effects, in order:
      1. Waits 5 seconds, so the answer that started this task reaches the controller first.
      2. Removes the WinRM HTTPS listener (Transport HTTPS, Address *).
      3. Deletes, with their private keys, the certificates in Cert:\LocalMachine\My whose
         FriendlyName starts with "avd-golden-winrm ".
      4. Removes the inbound firewall rule "avd-golden-winrm-https".
      5. Removes the value LocalAccountTokenFilterPolicy from
         HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System.
      6. Sets the password of the account this task runs as (the build admin, whose password
         travelled from the controller) to 32 random bytes generated here and never written out,
         then disables the account: the image keeps no usable build credential. This process
         authenticated before, so it carries on; no later WinRM request of the build is needed
         (NTLM authenticates each request, and those now fail with 401). A VM made from the image
         gets the account renamed, re-passworded and enabled by Azure's specialize unattend.
      7. Runs shutdown.exe /s /t 5 /d p:4:1 (planned shutdown; the guest powers off).
    Every step tolerates a missing item, so the script can run again safely.

.NOTES
    PowerShell 5.1 compatible. Irreversible for the build: WinRM stops answering.
#>
[CmdletBinding()]
param ()

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 2.0
$Ansible.Changed = $true

Start-Sleep -Seconds 5

$httpsSelector = @{ Transport = 'HTTPS'; Address = '*' }
if ($null -ne (Get-WSManInstance -ResourceURI 'winrm/config/listener' -SelectorSet $httpsSelector -ErrorAction SilentlyContinue)) {
    Remove-WSManInstance -ResourceURI 'winrm/config/listener' -SelectorSet $httpsSelector
}

Get-ChildItem -Path 'Cert:\LocalMachine\My' |
    Where-Object { $_.FriendlyName -like 'avd-golden-winrm *' } |
    ForEach-Object { Remove-Item -LiteralPath $_.PSPath -DeleteKey }

Get-NetFirewallRule -Name 'avd-golden-winrm-https' -ErrorAction SilentlyContinue | Remove-NetFirewallRule

Remove-ItemProperty -Path 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System' `
    -Name 'LocalAccountTokenFilterPolicy' -ErrorAction SilentlyContinue

$buildSid = [Security.Principal.WindowsIdentity]::GetCurrent().User
$bytes = New-Object -TypeName byte[] -ArgumentList 32
$rng = [Security.Cryptography.RandomNumberGenerator]::Create()
$rng.GetBytes($bytes)
$rng.Dispose()
# The suffix meets the complexity policy whatever the random part holds.
$secret = New-Object -TypeName Security.SecureString
foreach ($c in ([Convert]::ToBase64String($bytes) + 'aA1!').ToCharArray()) { $secret.AppendChar($c) }
[Array]::Clear($bytes, 0, $bytes.Length)
Set-LocalUser -SID $buildSid -Password $secret
Disable-LocalUser -SID $buildSid
$secret.Dispose()

& shutdown.exe /s /t 5 /d p:4:1
