#!powershell

# Copyright: (c) 2026, AVD golden image builders
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

#AnsibleRequires -CSharpUtil Ansible.Basic

$spec = @{
    options = @{
        services = @{
            type = 'list'
            elements = 'dict'
            required = $true
            options = @{
                name = @{ type = 'str'; required = $true }
                start_mode = @{ type = 'str'; required = $true; choices = 'auto', 'delayed', 'manual', 'disabled' }
                source = @{ type = 'str' }
            }
        }
        missing = @{ type = 'str'; choices = 'report', 'fail'; default = 'report' }
    }
    supports_check_mode = $true
}
$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)
$module.Result.changes = @()
$module.Result.missing = @()
$root = 'HKLM:\SYSTEM\CurrentControlSet\Services'
$modes = @{ 0 = 'boot'; 1 = 'system'; 2 = 'auto'; 3 = 'manual'; 4 = 'disabled' }

function Get-StartMode($Key) {
    $mode = $modes[[int]$Key.GetValue('Start', -1)]
    if ($mode -eq 'auto' -and [int]$Key.GetValue('DelayedAutostart', 0) -eq 1) { 'delayed' } else { $mode }
}

function Set-StartMode($Key, [string] $Mode) {
    $name = $Key.PSChildName
    if ([int]$Key.GetValue('Type', 0) -band 0x40) {
        # Per-user service template: the SCM refuses ChangeServiceConfig; instances copy these values.
        $start = @{ auto = 2; delayed = 2; manual = 3; disabled = 4 }[$Mode]
        Set-ItemProperty -LiteralPath "$root\$name" -Name Start -Value $start -Type DWord
        Set-ItemProperty -LiteralPath "$root\$name" -Name DelayedAutostart -Value ([int]($Mode -eq 'delayed')) -Type DWord
    }
    elseif ($Mode -in 'auto', 'delayed') {
        # sc.exe prints its errors on stdout ([SC] ChangeServiceConfig FAILED 5: ...).
        $out = & sc.exe config $name start= $(if ($Mode -eq 'auto') { 'auto' } else { 'delayed-auto' })
        if ($LASTEXITCODE -ne 0) { throw "sc.exe config $name start= ${Mode}: $($out -join ' ')" }
    }
    else {
        Set-Service -Name $name -StartupType $(if ($Mode -eq 'manual') { 'Manual' } else { 'Disabled' })
    }
}

# Win32 services and per-user templates (Type bits 0x10/0x20); drivers and per-user instances (0x80) are left out.
$services = @(Get-ChildItem -LiteralPath $root -ErrorAction SilentlyContinue | Where-Object {
        $type = [int]$_.GetValue('Type', 0)
        ($type -band 0x30) -and -not ($type -band 0x80)
    })

# Resolve every item first (a later item wins), so that missing=fail changes nothing.
$plan = [ordered]@{}
foreach ($item in $module.Params.services) {
    $found = @($services | Where-Object { $_.PSChildName -like $item.name })
    if (-not $found) {
        $module.Result.missing += $item.name
    }
    foreach ($key in $found) {
        $plan[$key.PSChildName.ToLowerInvariant()] = @{ key = $key; mode = $item.start_mode; source = $item.source }
    }
}
if ($module.Result.missing -and $module.Params.missing -eq 'fail') {
    $module.FailJson("services not found: $($module.Result.missing -join ', ')")
}

$before = @{}
$after = @{}
foreach ($entry in $plan.Values) {
    $name = $entry.key.PSChildName
    $current = Get-StartMode $entry.key
    if ($current -eq $entry.mode) { continue }
    if (-not $module.CheckMode) {
        try { Set-StartMode $entry.key $entry.mode }
        catch { $module.FailJson("failed to set the start mode of service ${name}: $($_.Exception.Message)", $_) }
    }
    $module.Result.changes += @{ name = $name; before = $current; after = $entry.mode; source = $entry.source }
    $module.Result.changed = $true
    $before[$name] = $current
    $after[$name] = $entry.mode
}
$module.Diff.before = @{ services = $before }
$module.Diff.after = @{ services = $after }
$module.ExitJson()
