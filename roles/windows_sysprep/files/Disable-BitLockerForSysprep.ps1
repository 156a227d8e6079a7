<#
.SYNOPSIS
    Starts decrypting the OS volume (C:) for sysprep and reports the progress.

.DESCRIPTION
    Run by the avd.golden.windows_sysprep role with ansible.windows.win_powershell, repeatedly, until
    the volume is FullyDecrypted (the role bounds the wait). Sysprep refuses to generalize an encrypted
    volume (BdeSysprep.dll ValidateBitLockerState, 0x80310039), including Windows 11's automatic
    device encryption ("FullyEncrypted, Protection Off").

    Effect: when C: is neither FullyDecrypted nor DecryptionInProgress, runs Disable-BitLocker
    -MountPoint C: (which removes the key protectors and starts decryption) and sets
    $Ansible.Changed. Otherwise it only reports, so calling it while decryption runs changes nothing.
    In check mode (-WhatIf) it reports what it would start.

    Result ($Ansible.Result): {"mount_point": "C:", "volume_status": "<VolumeStatus>",
    "protection_status": "<ProtectionStatus>", "encryption_percentage": <int>, "started": <bool>},
    read after the call.

.NOTES
    PowerShell 5.1 compatible.
#>
[CmdletBinding(SupportsShouldProcess = $true)]
param ()

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version 2.0

$mountPoint = 'C:'
$volume = Get-BitLockerVolume -MountPoint $mountPoint
$started = $false
if (@('FullyDecrypted', 'DecryptionInProgress') -notcontains [string]$volume.VolumeStatus) {
    if ($PSCmdlet.ShouldProcess($mountPoint, 'Disable-BitLocker')) {
        Disable-BitLocker -MountPoint $mountPoint | Out-Null
        $volume = Get-BitLockerVolume -MountPoint $mountPoint
    }
    $started = $true
}

$Ansible.Changed = $started
$Ansible.Result = @{
    mount_point           = $mountPoint
    volume_status         = [string]$volume.VolumeStatus
    protection_status     = [string]$volume.ProtectionStatus
    encryption_percentage = [int]$volume.EncryptionPercentage
    started               = $started
}
