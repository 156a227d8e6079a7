<#
.SYNOPSIS
    Collects what decides whether sysprep /generalize can succeed on the build VM. Read-only.

.DESCRIPTION
    Run by the avd.golden.windows_sysprep role with ansible.windows.win_powershell. It changes
    nothing; the decision is made on the controller by the avd.golden.sysprep_preflight filter.

    Output: one JSON string (the only object on the output stream) with these keys:
      user_only_appx   list of {name, package_full_name, users}: AppX packages installed for at least
                       one user whose exact name and version is not provisioned for all users
                       (sysprep's AppxSysprep.dll check, error 0x80073cf2), e.g. a Store update of a
                       provisioned app; frameworks, non-removable and system-signed packages are left
                       out because sysprep does not check them.
      bitlocker        {mount_point, volume_status, protection_status, encryption_percentage} for C:
                       (volume_status "NotAvailable" when the BitLocker cmdlets are absent).
      pending_reboot   {component_based_servicing, windows_update, pending_file_rename,
                       pending_computer_rename} booleans (the ComputerManagementDsc PendingReboot checks).
      services         list of {name, exists, status, start_mode} for WindowsAzureGuestAgent and RdAgent.
      unattend_files   the leftover unattend files that exist, from C:\Windows\Panther\unattend.xml and
                       C:\Windows\System32\Sysprep\unattend.xml.
      image_state      HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Setup\State ImageState.

.NOTES
    PowerShell 5.1 compatible.
#>
[CmdletBinding()]
param ()

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 2.0
$Ansible.Changed = $false

# AppX packages installed for a user in a name and version that is not provisioned (a package the
# user installed, or a Store update of a provisioned one): what sysprep's AppX validation rejects.
$provisioned = @(Get-AppxProvisionedPackage -Online | ForEach-Object { '{0}_{1}' -f $_.DisplayName, $_.Version })
$userOnlyAppx = @(
    Get-AppxPackage -AllUsers |
        Where-Object {
            -not $_.IsFramework -and -not $_.NonRemovable -and $_.SignatureKind -ne 'System' -and
            $provisioned -notcontains ('{0}_{1}' -f $_.Name, $_.Version)
        } |
        ForEach-Object {
            $installedFor = @(
                $_.PackageUserInformation |
                    Where-Object { $_.InstallState -eq 'Installed' } |
                    ForEach-Object { $_.UserSecurityId.Username }
            )
            [pscustomobject]@{
                name              = $_.Name
                package_full_name = $_.PackageFullName
                users             = $installedFor
            }
        }
)

# BitLocker state of the OS volume; sysprep needs it fully decrypted.
$bitlocker = [pscustomobject]@{
    mount_point           = 'C:'
    volume_status         = 'NotAvailable'
    protection_status     = 'Off'
    encryption_percentage = 0
}
if ($null -ne (Get-Command -Name 'Get-BitLockerVolume' -ErrorAction SilentlyContinue)) {
    $volume = Get-BitLockerVolume -MountPoint 'C:'
    $bitlocker.volume_status = [string]$volume.VolumeStatus
    $bitlocker.protection_status = [string]$volume.ProtectionStatus
    $bitlocker.encryption_percentage = [int]$volume.EncryptionPercentage
}

# Pending-reboot indicators.
$sessionManager = Get-ItemProperty -Path 'HKLM:\SYSTEM\CurrentControlSet\Control\Session Manager'
$renames = @()
if ($sessionManager.PSObject.Properties.Name -contains 'PendingFileRenameOperations') {
    $renames = @($sessionManager.PendingFileRenameOperations | Where-Object { $_ })
}
$computerNameKey = 'HKLM:\SYSTEM\CurrentControlSet\Control\ComputerName'
$activeName = (Get-ItemProperty -Path "$computerNameKey\ActiveComputerName").ComputerName
$pendingName = (Get-ItemProperty -Path "$computerNameKey\ComputerName").ComputerName
$pendingReboot = [pscustomobject]@{
    component_based_servicing = Test-Path -Path 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending'
    windows_update            = Test-Path -Path 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired'
    pending_file_rename       = $renames.Count -gt 0
    pending_computer_rename   = $activeName -ne $pendingName
}

# Azure VM agent services: without them the generalized image is undeployable.
$services = @(
    foreach ($serviceName in @('WindowsAzureGuestAgent', 'RdAgent')) {
        $service = Get-Service -Name $serviceName -ErrorAction SilentlyContinue
        if ($null -eq $service) {
            [pscustomobject]@{ name = $serviceName; exists = $false; status = $null; start_mode = $null }
        }
        else {
            [pscustomobject]@{
                name       = $serviceName
                exists     = $true
                status     = [string]$service.Status
                start_mode = [string]$service.StartType
            }
        }
    }
)

# Leftover unattend files: Azure does not support custom unattend files for sysprep.
$unattendFiles = @(
    @('C:\Windows\Panther\unattend.xml', 'C:\Windows\System32\Sysprep\unattend.xml') |
        Where-Object { Test-Path -LiteralPath $_ -PathType Leaf }
)

$setupState = Get-ItemProperty -Path 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Setup\State'

[pscustomobject]@{
    user_only_appx = $userOnlyAppx
    bitlocker      = $bitlocker
    pending_reboot = $pendingReboot
    services       = $services
    unattend_files = $unattendFiles
    image_state    = [string]$setupState.ImageState
} | ConvertTo-Json -Compress -Depth 5
