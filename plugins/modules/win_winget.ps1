#!powershell

# Copyright: (c) 2026, AVD golden image builders
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

#AnsibleRequires -CSharpUtil Ansible.Basic

$spec = @{
    options = @{
        id = @{ type = 'str'; required = $true }
        version = @{ type = 'str'; required = $true }
        source = @{ type = 'str'; default = 'winget' }
    }
    supports_check_mode = $true
}
$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)
$p = $module.Params

# winget is an App Installer (MSIX) command: a WinRM session has no App Execution Alias, so run the
# provisioned package's winget.exe directly.
$winget = Get-ChildItem -Path "$env:ProgramFiles\WindowsApps\Microsoft.DesktopAppInstaller_*_x64__8wekyb3d8bbwe\winget.exe" -ErrorAction SilentlyContinue |
    Sort-Object -Property FullName -Descending | Select-Object -First 1
if (-not $winget) {
    $module.FailJson('winget.exe was not found: App Installer (Microsoft.DesktopAppInstaller) is not provisioned')
}
$common = @('--exact', '--id', $p.id, '--source', $p.source, '--accept-source-agreements', '--disable-interactivity')
$listed = & $winget.FullName list @common 2>&1 | Out-String
$module.Result.changed = $false
$module.Result.rc = 0
# winget list prints a table; the installed version is the column after the id on the id's line.
$line = ($listed -split '\r?\n') | Where-Object { $_ -match "\s$([regex]::Escape($p.id))\s+(\S+)" } | Select-Object -First 1
$installed = if ($line) { $Matches[1] } else { $null }
$module.Result.installed_version = $installed
if ($installed -eq $p.version) {
    $module.ExitJson()
}
$module.Result.changed = $true
if (-not $module.CheckMode) {
    $out = & $winget.FullName install @common --version $p.version --scope machine --silent --accept-package-agreements 2>&1 | Out-String
    $module.Result.rc = $LASTEXITCODE
    $module.Result.stdout = $out
    if ($LASTEXITCODE -ne 0) {
        $module.FailJson("winget install $($p.id) $($p.version) failed with exit code $LASTEXITCODE")
    }
}
$module.ExitJson()
