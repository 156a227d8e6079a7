#!powershell

# Copyright: (c) 2026, AVD golden image builders
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

#AnsibleRequires -CSharpUtil Ansible.Basic

$spec = @{
    options = @{
        applications = @{
            type = 'list'
            elements = 'dict'
            required = $true
            options = @{
                name = @{ type = 'str'; required = $true }
                kind = @{ type = 'str'; required = $true; choices = 'msi', 'exe', 'msix' }
                version = @{ type = 'str'; required = $true }
                detection = @{
                    type = 'dict'
                    required = $true
                    options = @{
                        product_code = @{ type = 'str' }
                        registry = @{ type = 'dict'; options = @{
                                key = @{ type = 'str'; required = $true }
                                name = @{ type = 'str'; required = $true }
                                value = @{ type = 'str' }
                            }
                        }
                        file = @{ type = 'dict'; options = @{
                                path = @{ type = 'str'; required = $true }
                                version = @{ type = 'str' }
                            }
                        }
                        package_name = @{ type = 'str' }
                    }
                }
            }
        }
    }
    supports_check_mode = $true
}
$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)
$uninstall = @('HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall',
    'HKLM:\SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall')
$provisioned = $null

function Test-Application($App) {
    $rule = $App.detection
    if ($rule.product_code) {
        foreach ($root in $uninstall) {
            $key = Get-Item -LiteralPath "$root\$($rule.product_code)" -ErrorAction SilentlyContinue
            if ($key) { return @{ installed = $true; version = $key.GetValue('DisplayVersion'); detected_by = $key.Name } }
        }
        return @{ installed = $false; version = $null; detected_by = "product code $($rule.product_code)" }
    }
    if ($rule.registry) {
        $path = 'HKLM:\' + $rule.registry.key.Substring(5)
        $key = Get-Item -LiteralPath $path -ErrorAction SilentlyContinue
        $data = if ($key) { $key.GetValue($rule.registry.name) } else { $null }
        $found = $null -ne $data -and ($null -eq $rule.registry.value -or [string]$data -eq $rule.registry.value)
        return @{ installed = $found; version = if ($null -ne $data) { [string]$data } else { $null }; detected_by = "$($rule.registry.key)\$($rule.registry.name)" }
    }
    if ($rule.file) {
        if (-not (Test-Path -LiteralPath $rule.file.path -PathType Leaf)) {
            return @{ installed = $false; version = $null; detected_by = $rule.file.path }
        }
        $info = [System.Diagnostics.FileVersionInfo]::GetVersionInfo($rule.file.path)
        $version = '{0}.{1}.{2}.{3}' -f $info.FileMajorPart, $info.FileMinorPart, $info.FileBuildPart, $info.FilePrivatePart
        # The same comparison as win_package's creates_version: [System.Version] equality.
        $found = $null -eq $rule.file.version -or ([System.Version]$rule.file.version -eq [System.Version]$version)
        return @{ installed = $found; version = $version; detected_by = $rule.file.path }
    }
    if ($null -eq $script:provisioned) { $script:provisioned = @(Get-AppxProvisionedPackage -Online) }
    $package = $script:provisioned | Where-Object { $_.DisplayName -eq $rule.package_name } |
        Sort-Object -Property { [System.Version]$_.Version } -Descending | Select-Object -First 1
    $found = $null -ne $package -and [System.Version]$package.Version -ge [System.Version]$App.version
    return @{ installed = $found; version = if ($package) { $package.Version } else { $null }; detected_by = "provisioned $($rule.package_name)" }
}

$module.Result.applications = @(foreach ($app in $module.Params.applications) {
        $status = Test-Application $app
        @{ name = $app.name; installed = $status.installed; version = $status.version; detected_by = $status.detected_by }
    })
$module.Result.changed = $false
$module.ExitJson()
