<#
.SYNOPSIS
    Deletes what a build leaves on the disk that no session host needs: temporary files, crash
    dumps, error reports and the Windows Update download cache.

.DESCRIPTION
    Run by the avd.golden.windows_optimize role with ansible.windows.win_powershell when the image
    spec says optimization.disk_cleanup: true. Deletes the contents (never the folders) of:
    $env:windir\Temp, $env:TEMP, $env:windir\SoftwareDistribution\Download,
    $env:ProgramData\Microsoft\Windows\WER\ReportArchive and ReportQueue, $env:windir\Minidump, and
    the file $env:windir\MEMORY.DMP. Files in use are skipped (reported in `skipped`), so a re-run
    deletes only what is new. In check mode (-WhatIf) nothing is deleted but the result still says
    what would be.

    Result ($Ansible.Result): {"removed": <count>, "bytes": <total size>, "skipped": [<paths>]};
    $Ansible.Changed is true when something was (or would be) removed.

.NOTES
    PowerShell 5.1 compatible. Only real Windows shows which files are in use during a build.
#>
[CmdletBinding(SupportsShouldProcess = $true)]
param ()

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 2.0

$folders = @(
    "$env:windir\Temp", $env:TEMP, "$env:windir\SoftwareDistribution\Download",
    "$env:ProgramData\Microsoft\Windows\WER\ReportArchive", "$env:ProgramData\Microsoft\Windows\WER\ReportQueue",
    "$env:windir\Minidump"
)
$files = @(foreach ($folder in $folders) {
        if (Test-Path -LiteralPath $folder) {
            Get-ChildItem -LiteralPath $folder -Recurse -Force -File -ErrorAction SilentlyContinue
        }
    })
if (Test-Path -LiteralPath "$env:windir\MEMORY.DMP") {
    $files += Get-Item -LiteralPath "$env:windir\MEMORY.DMP" -Force
}

$removed = 0
$bytes = [long]0
$skipped = @(
    foreach ($file in $files) {
        try {
            if ($PSCmdlet.ShouldProcess($file.FullName, 'Remove-Item')) {
                Remove-Item -LiteralPath $file.FullName -Force
            }
            $removed++
            $bytes += $file.Length
        }
        catch {
            $file.FullName
        }
    }
)

$Ansible.Changed = $removed -gt 0
$Ansible.Result = @{ removed = $removed; bytes = $bytes; skipped = $skipped }
