#!powershell

# Copyright: (c) 2026, AVD golden image builders
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

#AnsibleRequires -CSharpUtil Ansible.Basic

$spec = @{
    options = @{
        path = @{ type = 'path'; required = $true }
        name = @{ type = 'str'; required = $true }
        version = @{ type = 'str'; required = $true }
    }
    supports_check_mode = $true
}
$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)
$name = $module.Params.name
$wanted = [System.Version]$module.Params.version

function Get-Provisioned {
    Get-AppxProvisionedPackage -Online | Where-Object { $_.DisplayName -eq $name } |
        Sort-Object -Property { [System.Version]$_.Version } -Descending | Select-Object -First 1
}

$current = Get-Provisioned
$module.Result.name = $name
$module.Result.version = if ($current) { $current.Version } else { $null }
$module.Result.changed = $false
if ($current -and [System.Version]$current.Version -ge $wanted) {
    $module.ExitJson()
}
$module.Result.changed = $true
if (-not $module.CheckMode) {
    try {
        # Provisioned for every user (new profiles get it at first sign-in), which sysprep accepts.
        $null = Add-AppxProvisionedPackage -Online -PackagePath $module.Params.path -SkipLicense -ErrorAction Stop
    }
    catch {
        $module.Result.rc = $_.Exception.HResult
        $module.FailJson("Add-AppxProvisionedPackage failed for '$($module.Params.path)': $($_.Exception.Message)", $_)
    }
    $current = Get-Provisioned
    if (-not $current -or [System.Version]$current.Version -lt $wanted) {
        $module.FailJson("'$($module.Params.path)' did not provision $name $wanted (the package may name another identity)")
    }
    $module.Result.version = $current.Version
    $module.Result.package_name = $current.PackageName
}
$module.ExitJson()
