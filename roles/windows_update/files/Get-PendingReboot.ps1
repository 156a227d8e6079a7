<#
.SYNOPSIS
    Reports whether Windows has a reboot pending. Read-only.

.DESCRIPTION
    Run by the avd.golden.windows_update role with ansible.windows.win_powershell before the first
    Windows Update round: installing while a reboot is pending fails with 0x80240016
    (WU_E_INSTALL_NOT_ALLOWED), so the role reboots first when any indicator is set.

    Output: one JSON string with the booleans component_based_servicing (the RebootPending key),
    windows_update (the RebootRequired key) and pending_file_rename (a non-empty
    PendingFileRenameOperations), the ComputerManagementDsc PendingReboot checks.

.NOTES
    PowerShell 5.1 compatible.
#>
[CmdletBinding()]
param ()

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 2.0
$Ansible.Changed = $false

$sessionManager = Get-ItemProperty -LiteralPath 'HKLM:\SYSTEM\CurrentControlSet\Control\Session Manager'
$renames = @()
if ($sessionManager.PSObject.Properties['PendingFileRenameOperations']) {
    $renames = @($sessionManager.PendingFileRenameOperations | Where-Object { $_ })
}
[pscustomobject]@{
    component_based_servicing = Test-Path -LiteralPath 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Component Based Servicing\RebootPending'
    windows_update            = Test-Path -LiteralPath 'HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\WindowsUpdate\Auto Update\RebootRequired'
    pending_file_rename       = $renames.Count -gt 0
} | ConvertTo-Json -Compress
