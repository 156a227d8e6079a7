<#
.SYNOPSIS
    Creates the build VM's WinRM HTTPS listener (port 5986) with a short-lived self-signed certificate.

.DESCRIPTION
    Runs once at first boot through Azure Run Command (RunPowerShellScript) as SYSTEM, sent by the
    avd.golden.windows_connect role. The controller learns the certificate from this script's output,
    which travels through Azure, and pins it; it never trusts whatever answers on the network.

    Effects (each step is idempotent; a re-run reuses a still-valid build certificate):
      1. Certificate in Cert:\LocalMachine\My, FriendlyName "avd-golden-winrm <ComputerName> <PublicAddress>":
         RSA 2048, SHA-256, subject CN=<ComputerName>, SAN DNS=<ComputerName> and IP=<PublicAddress>,
         EKU server authentication, basic constraints CA:TRUE pathlen 0 with key usage
         DigitalSignature, KeyEncipherment and CertSign (so the controller can use this one certificate
         as its own trust anchor, even under strict X.509 checks), valid from one hour ago for 2 days.
         It is reused while it stays valid for more than 12 hours.
      2. The WinRM service is set to start automatically and is started.
      3. The HTTPS listener (Address *, port 5986) uses that certificate's thumbprint; a listener bound
         to another certificate is replaced; any plain HTTP listener is removed.
      4. WinRM service settings: Auth\Basic false, AllowUnencrypted false (NTLM over HTTPS only).
      5. Inbound firewall rule "avd-golden-winrm-https" allows TCP 5986 from ControllerAddress only
         (recreated on every run, so a re-run with another address rescopes it). With an existing
         subnet there is no NSG of the build: this rule is what keeps the rest of the network out.
      6. HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System LocalAccountTokenFilterPolicy
         = 1 (DWORD), so the local administrator gets a full token over the network.

    Output: exactly one line of JSON on stdout:
      {"thumbprint":"<SHA-1 hex, upper case>","certificate":"<base64 DER>"}

.PARAMETER PublicAddress
    The IP address the controller connects to: the VM's public IP, or the NIC's private IP when the
    build uses an existing subnet without a public IP. It becomes an IP SAN of the certificate.

.PARAMETER ComputerName
    The VM's computer name; the certificate subject, a DNS SAN and the listener's host name.

.PARAMETER ControllerAddress
    The controller's IPv4 address, or a prefix of /16 to /32, as the VM sees it (normalised by the
    controller); the firewall rule's RemoteAddress. "Any", "*" or a wider prefix fail validation.

.NOTES
    PowerShell 5.1 compatible. Removed again before shutdown by Stop-BuildVm.ps1 (windows_sysprep).
#>
[CmdletBinding()]
param (
    [Parameter(Mandatory = $true)]
    [string] $PublicAddress,

    [Parameter(Mandatory = $true)]
    [string] $ComputerName,

    [Parameter(Mandatory = $true)]
    [ValidatePattern('^\d{1,3}(\.\d{1,3}){3}(/(1[6-9]|2[0-9]|3[0-2]))?$')]
    [string] $ControllerAddress
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 2.0

$port = 5986
$friendlyName = "avd-golden-winrm $ComputerName $PublicAddress"
$firewallRuleName = 'avd-golden-winrm-https'

# 1. Reuse the build certificate of an earlier run when it still has more than 12 hours to live;
#    the friendly name carries the computer name and address, so a changed address gets a new one.
$certificate = Get-ChildItem -Path 'Cert:\LocalMachine\My' |
    Where-Object { $_.FriendlyName -eq $friendlyName -and $_.NotAfter -gt (Get-Date).AddHours(12) } |
    Sort-Object -Property NotAfter -Descending |
    Select-Object -First 1

if ($null -eq $certificate) {
    $certificateParams = @{
        CertStoreLocation = 'Cert:\LocalMachine\My'
        Subject           = "CN=$ComputerName"
        FriendlyName      = $friendlyName
        KeyAlgorithm      = 'RSA'
        KeyLength         = 2048
        HashAlgorithm     = 'SHA256'
        KeyExportPolicy   = 'NonExportable'
        KeyUsage          = @('DigitalSignature', 'KeyEncipherment', 'CertSign')
        NotBefore         = (Get-Date).AddHours(-1)
        NotAfter          = (Get-Date).AddDays(2)
        TextExtension     = @(
            "2.5.29.17={text}DNS=$ComputerName&IPAddress=$PublicAddress"
            '2.5.29.37={text}1.3.6.1.5.5.7.3.1'
            '2.5.29.19={critical}{text}ca=1&pathlength=0'
        )
    }
    $certificate = New-SelfSignedCertificate @certificateParams
}

# 2. WinRM is not started by default on client SKUs.
Set-Service -Name 'WinRM' -StartupType Automatic
Start-Service -Name 'WinRM'

# 3. One HTTPS listener bound to the build certificate; no plain HTTP listener.
$httpsSelector = @{ Transport = 'HTTPS'; Address = '*' }
$listener = Get-WSManInstance -ResourceURI 'winrm/config/listener' -SelectorSet $httpsSelector -ErrorAction SilentlyContinue
if ($null -ne $listener -and $listener.CertificateThumbprint -ne $certificate.Thumbprint) {
    Remove-WSManInstance -ResourceURI 'winrm/config/listener' -SelectorSet $httpsSelector
    $listener = $null
}
if ($null -eq $listener) {
    $listenerValues = @{
        Hostname              = $ComputerName
        CertificateThumbprint = $certificate.Thumbprint
        Port                  = $port
        Enabled               = $true
    }
    New-WSManInstance -ResourceURI 'winrm/config/listener' -SelectorSet $httpsSelector -ValueSet $listenerValues | Out-Null
}

$httpSelector = @{ Transport = 'HTTP'; Address = '*' }
if ($null -ne (Get-WSManInstance -ResourceURI 'winrm/config/listener' -SelectorSet $httpSelector -ErrorAction SilentlyContinue)) {
    Remove-WSManInstance -ResourceURI 'winrm/config/listener' -SelectorSet $httpSelector
}

# 4. NTLM over HTTPS only: never Basic, never unencrypted.
if ((Get-Item -Path 'WSMan:\localhost\Service\Auth\Basic').Value -ne 'false') {
    Set-Item -Path 'WSMan:\localhost\Service\Auth\Basic' -Value $false
}
if ((Get-Item -Path 'WSMan:\localhost\Service\AllowUnencrypted').Value -ne 'false') {
    Set-Item -Path 'WSMan:\localhost\Service\AllowUnencrypted' -Value $false
}

# 5. Guest firewall: 5986 from the controller only (also where no NSG of the build exists).
Get-NetFirewallRule -Name $firewallRuleName -ErrorAction SilentlyContinue | Remove-NetFirewallRule
$ruleParams = @{
    Name          = $firewallRuleName
    DisplayName   = 'WinRM over HTTPS for the avd-golden build'
    Direction     = 'Inbound'
    Protocol      = 'TCP'
    LocalPort     = $port
    RemoteAddress = $ControllerAddress
    Action        = 'Allow'
    Profile       = 'Any'
}
New-NetFirewallRule @ruleParams | Out-Null

# 6. Full administrator token for local accounts over the network (needed for WinRM as a local admin).
$policyKey = 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Policies\System'
New-ItemProperty -Path $policyKey -Name 'LocalAccountTokenFilterPolicy' -PropertyType DWord -Value 1 -Force | Out-Null

# The only line on stdout: what the controller pins.
[pscustomobject]@{
    thumbprint  = $certificate.Thumbprint
    certificate = [Convert]::ToBase64String($certificate.RawData)
} | ConvertTo-Json -Compress
