<#
.SYNOPSIS
    Removes AppX packages that are installed for a user but not provisioned, so sysprep can generalize.

.DESCRIPTION
    Run by the avd.golden.windows_sysprep role with ansible.windows.win_powershell when the preflight
    found such packages and windows_sysprep_remove_user_appx is true.

    For each full name in -PackageFullName that is still installed for any user, runs
    Remove-AppxPackage -Package <full name> -AllUsers. Names that are no longer installed are skipped,
    so a re-run changes nothing. In check mode (-WhatIf) nothing is removed but the result still says
    what would be.

    Result ($Ansible.Result): {"removed": [<full names removed, or that would be>]};
    $Ansible.Changed is true when that list is not empty.

.PARAMETER PackageFullName
    Package full names as reported by the preflight (user_only_appx[].package_full_name).

.NOTES
    PowerShell 5.1 compatible.
#>
[CmdletBinding(SupportsShouldProcess = $true)]
param (
    [Parameter(Mandatory = $true)]
    [string[]] $PackageFullName
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 2.0

$installed = @(Get-AppxPackage -AllUsers | ForEach-Object { $_.PackageFullName })
$removed = @(
    foreach ($fullName in $PackageFullName) {
        if ($installed -notcontains $fullName) {
            continue
        }
        if ($PSCmdlet.ShouldProcess($fullName, 'Remove-AppxPackage -AllUsers')) {
            Remove-AppxPackage -Package $fullName -AllUsers
        }
        $fullName
    }
)

$Ansible.Changed = $removed.Count -gt 0
$Ansible.Result = @{ removed = $removed }
