#!powershell

# Copyright: (c) 2026, AVD golden image builders
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

#AnsibleRequires -CSharpUtil Ansible.Basic

$spec = @{
    options = @{
        packages = @{
            type = 'list'
            elements = 'dict'
            required = $true
            options = @{
                name = @{ type = 'str'; required = $true }
                on_failure = @{ type = 'str'; choices = 'fail', 'warn'; default = 'fail' }
                source = @{ type = 'str' }
            }
        }
    }
    supports_check_mode = $true
}
$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)
$module.Result.removed = @()
$module.Result.not_present = @()
$module.Result.not_removed = @()

# One enumeration of each (they are slow); a package two items match is handled once.
$installed = @(Get-AppxPackage -AllUsers | Where-Object { -not $_.IsFramework })
$provisioned = @(Get-AppxProvisionedPackage -Online)
$done = @{}

function Remove-AppxEverywhere([object[]] $Users, [object[]] $Provisioned) {
    # Every user's copy first, then the provisioned package: a failure leaves it provisioned.
    foreach ($fullName in @($Users.PackageFullName | Sort-Object -Unique)) {
        $script:current = $fullName
        if (-not $module.CheckMode) {
            Remove-AppxPackage -Package $fullName -AllUsers -ErrorAction Stop
            $module.Result.changed = $true
        }
        elseif (@($Users | Where-Object { $_.PackageFullName -eq $fullName -and $_.NonRemovable })) {
            throw "NonRemovable: Windows refuses to remove this system app (0x80070032, part of Windows and cannot be uninstalled on a per-user basis); not attempted in check mode"
        }
    }
    foreach ($package in $Provisioned) {
        $script:current = $package.PackageName
        if (-not $module.CheckMode) {
            $null = Remove-AppxProvisionedPackage -Online -PackageName $package.PackageName -AllUsers -ErrorAction Stop
        }
    }
}

$matched = @()
foreach ($item in $module.Params.packages) {
    $users = @($installed | Where-Object { $_.Name -like $item.name })
    $prov = @($provisioned | Where-Object { $_.DisplayName -like $item.name })
    $names = @(@($users.Name) + @($prov.DisplayName) | Sort-Object -Unique)
    if (-not $names) {
        $module.Result.not_present += $item.name
    }
    foreach ($name in $names) {
        if ($done.ContainsKey($name)) { continue }
        $done[$name] = $true
        $matched += $name
        $u = @($users | Where-Object { $_.Name -eq $name })
        $p = @($prov | Where-Object { $_.DisplayName -eq $name })
        try {
            Remove-AppxEverywhere $u $p
            $module.Result.removed += @{
                name = $name; provisioned = @($p.PackageName); users = @($u.PackageFullName | Sort-Object -Unique)
                source = $item.source
            }
            $module.Result.changed = $true
        }
        catch {
            $module.Result.not_removed += @{
                name = $name; package = $current; error = $_.Exception.Message; on_failure = $item.on_failure
                source = $item.source
            }
            if ($item.on_failure -eq 'warn') { $module.Warn("AppX package $name ($current) was not removed: $($_.Exception.Message)") }
        }
    }
}

$gone = @($module.Result.removed | ForEach-Object { $_.name })
$module.Diff.before = @{ packages = @($matched | Sort-Object) }
$module.Diff.after = @{ packages = @($matched | Where-Object { $gone -notcontains $_ } | Sort-Object) }
$fatal = @($module.Result.not_removed | Where-Object { $_.on_failure -eq 'fail' })
if ($fatal) {
    $module.FailJson("AppX packages not removed: $(($fatal | ForEach-Object { "$($_.name) ($($_.package)): $($_.error)" }) -join '; ')")
}
$module.ExitJson()
