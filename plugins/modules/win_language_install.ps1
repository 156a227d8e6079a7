#!powershell

# Copyright: (c) 2026, AVD golden image builders
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

#AnsibleRequires -CSharpUtil Ansible.Basic

$spec = @{
    options = @{
        components = @{
            type = 'list'
            elements = 'dict'
            required = $true
            options = @{
                language = @{ type = 'str'; required = $true }
                kind = @{ type = 'str'; required = $true; choices = 'language_pack', 'feature', 'experience_pack', 'online' }
                name = @{ type = 'str'; required = $true }
                path = @{ type = 'path' }
                license_path = @{ type = 'path' }
            }
        }
        attempts = @{ type = 'int'; default = 1 }
        retry_delay_seconds = @{ type = 'int'; default = 0 }
    }
    supports_check_mode = $true
}
$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)
$module.Result.changes = @()
$module.Result.pending = @()
$module.Result.attempts = @()
$module.Result.reboot_required = $false
$attempts = [Math]::Max(1, $module.Params.attempts)

function Test-Installed($c) {
    switch ($c.kind) {
        'language_pack' {
            $like = "Microsoft-Windows-Client-LanguagePack-Package~31bf3856ad364e35~amd64~$($c.language)~*"
            $found = Get-WindowsPackage -Online | Where-Object { $_.PackageName -like $like }
            return [bool]($found | Where-Object { "$($_.PackageState)" -in 'Installed', 'InstallPending' })
        }
        'feature' {
            $cap = Get-WindowsCapability -Online -Name $c.name
            return "$($cap.State)" -in 'Installed', 'InstallPending'
        }
        'experience_pack' { return [bool](Get-AppxProvisionedPackage -Online | Where-Object DisplayName -EQ $c.name) }
        'online' {
            $lang = Get-InstalledLanguage -Language $c.language -ErrorAction SilentlyContinue
            return [bool]($lang | Where-Object { "$($_.LanguagePacks)" -ne 'None' })
        }
    }
}

# Install-Language from Windows Update: bounded attempts, the wait doubling after each failure,
# every attempt in the result (and a warning) so the log shows where the time went.
function Install-Online($c) {
    for ($n = 1; $n -le $attempts; $n++) {
        try {
            $null = Install-Language -Language $c.language -ErrorAction Stop
            $module.Result.attempts += @{ language = $c.language; attempt = $n; error = $null; wait_seconds = 0 }
            return
        }
        catch {
            $last = $n -eq $attempts
            $wait = if ($last) { 0 } else { $module.Params.retry_delay_seconds * [Math]::Pow(2, $n - 1) }
            $message = $_.Exception.Message
            $module.Result.attempts += @{ language = $c.language; attempt = $n; error = $message; wait_seconds = $wait }
            $module.Warn("Install-Language $($c.language): attempt $n of $attempts failed: $message")
            if ($last) { throw }
            Start-Sleep -Seconds $wait
        }
    }
}

function Install-Component($c) {
    switch ($c.kind) {
        'experience_pack' {
            $null = Add-AppxProvisionedPackage -Online -PackagePath $c.path -LicensePath $c.license_path -ErrorAction Stop
            return $false
        }
        'online' { Install-Online $c; return $true }
        default {
            # Language pack and feature-on-demand CABs both go through DISM's package servicing.
            $r = Add-WindowsPackage -Online -PackagePath $c.path -NoRestart -ErrorAction Stop
            return [bool]$r.RestartNeeded
        }
    }
}

foreach ($c in $module.Params.components) {
    $id = "$($c.kind)/$($c.name)"
    if (Test-Installed $c) { continue }
    $module.Result.pending += $id
    if (-not $module.CheckMode) {
        foreach ($key in 'path', 'license_path') {
            $needed = if ($key -eq 'path') { $c.kind -ne 'online' } else { $c.kind -eq 'experience_pack' }
            if ($needed -and -not ($c.$key -and (Test-Path -LiteralPath $c.$key))) {
                $module.FailJson("$id for $($c.language) is not installed and its $key '$($c.$key)' does not exist")
            }
        }
        try { $reboot = Install-Component $c }
        catch { $module.FailJson("failed to install $id for $($c.language): $($_.Exception.Message)", $_) }
        if ($reboot) { $module.Result.reboot_required = $true }
        # DISM installs whatever package the file holds: make sure it was the one asked for.
        if (-not (Test-Installed $c)) {
            $module.FailJson("$id for $($c.language): installed '$($c.path)', but the component is still not installed: the file holds another package")
        }
    }
    $module.Result.changes += @{ name = $id; before = 'NotPresent'; after = 'Installed'; source = $null }
    $module.Result.changed = $true
}
$module.ExitJson()
