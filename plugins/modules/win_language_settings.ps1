#!powershell

# Copyright: (c) 2026, AVD golden image builders
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

#AnsibleRequires -CSharpUtil Ansible.Basic

$spec = @{
    options = @{
        ui_language = @{ type = 'str' }
        user_languages = @{
            type = 'list'
            elements = 'dict'
            default = @()
            options = @{
                language = @{ type = 'str'; required = $true }
                input_methods = @{ type = 'list'; elements = 'str'; default = @() }
            }
        }
        copy_to_welcome_screen = @{ type = 'bool'; default = $false }
        copy_to_new_users = @{ type = 'bool'; default = $false }
    }
    supports_check_mode = $true
}
$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)
$module.Result.changes = @()
$module.Result.copy_method = $null

function Add-Change($name, $before, $after) {
    $module.Result.changes += @{ name = "setting/$name"; before = $before; after = $after; source = $null }
    $module.Result.changed = $true
}

$ui = $module.Params.ui_language
if ($ui) {
    $current = "$(Get-SystemPreferredUILanguage)"
    if ($current -ne $ui) {
        if (-not $module.CheckMode) { Set-SystemPreferredUILanguage -Language $ui -ErrorAction Stop }
        Add-Change 'ui_language' $current $ui
    }
}

$items = @($module.Params.user_languages)
if ($items) {
    $wanted = New-WinUserLanguageList -Language $items[0].language
    foreach ($item in $items | Select-Object -Skip 1) { $wanted.Add($item.language) }
    for ($i = 0; $i -lt $items.Count; $i++) {
        # No input methods given: the language's default ones, as New-WinUserLanguageList chose them.
        if ($items[$i].input_methods) {
            $wanted[$i].InputMethodTips.Clear()
            foreach ($tip in $items[$i].input_methods) { $wanted[$i].InputMethodTips.Add($tip) }
        }
    }
    $render = { param($list) @($list | ForEach-Object { "$($_.LanguageTag)=$($_.InputMethodTips -join ',')" }) }
    $before = & $render (Get-WinUserLanguageList)
    $after = & $render $wanted
    if (($before -join ';') -ne ($after -join ';')) {
        if (-not $module.CheckMode) { Set-WinUserLanguageList -LanguageList $wanted -Force -ErrorAction Stop }
        Add-Change 'user_languages' $before $after
    }
}

# What the copy carries, as a profile's registry holds it: format, home location, language list.
function Get-International($root) {
    $intl = "Registry::HKEY_USERS\$root\Control Panel\International"
    $values = @(
        (Get-ItemProperty -LiteralPath $intl -ErrorAction SilentlyContinue).LocaleName
        (Get-ItemProperty -LiteralPath "$intl\Geo" -ErrorAction SilentlyContinue).Nation
        (Get-ItemProperty -LiteralPath "$intl\User Profile" -ErrorAction SilentlyContinue).Languages -join ','
    )
    $values -join '|'
}

$welcome = $module.Params.copy_to_welcome_screen
$newUser = $module.Params.copy_to_new_users
if ($welcome -or $newUser) {
    $cmdlet = Get-Command -Name Copy-UserInternationalSettingsToSystem -ErrorAction SilentlyContinue
    $module.Result.copy_method = if ($cmdlet) { 'Copy-UserInternationalSettingsToSystem' } else { 'intl.cpl' }
    $mine = Get-International ([Security.Principal.WindowsIdentity]::GetCurrent().User.Value)
    $stale = @()
    if ($welcome -and (Get-International '.DEFAULT') -ne $mine) { $stale += 'welcome_screen' }
    if ($newUser) {
        $null = reg.exe load 'HKU\AVD_LANGUAGES' "$env:SystemDrive\Users\Default\NTUSER.DAT"
        if ($LASTEXITCODE -ne 0) { $module.FailJson("reg.exe load of the default user hive failed with $LASTEXITCODE") }
        try { $default = Get-International 'AVD_LANGUAGES' }
        finally {
            [GC]::Collect()
            $null = reg.exe unload 'HKU\AVD_LANGUAGES'
        }
        if ($default -ne $mine) { $stale += 'new_users' }
    }
    # A change made now (the UI language, say) is copied even where the registry values match.
    if ($stale -or $module.Result.changed) {
        $targets = @(if ($welcome) { 'welcome_screen' }; if ($newUser) { 'new_users' })
        if ($cmdlet) {
            if (-not $module.CheckMode) {
                Copy-UserInternationalSettingsToSystem -WelcomeScreen $welcome -NewUser $newUser -ErrorAction Stop
            }
        }
        else {
            # Windows 10 has no such cmdlet (Windows 11 only): intl.cpl's answer file does the same copy.
            if (-not $module.CheckMode) {
                $xml = '<gs:GlobalizationServices xmlns:gs="urn:longhornGlobalizationUnattend"><gs:UserList>' +
                "<gs:User UserID=`"Current`" CopySettingsToDefaultUserAcct=`"$("$newUser".ToLower())`" " +
                "CopySettingsToSystemAcct=`"$("$welcome".ToLower())`"/></gs:UserList></gs:GlobalizationServices>"
                $file = Join-Path -Path $env:TEMP -ChildPath "avd-languages-$([guid]::NewGuid()).xml"
                Set-Content -LiteralPath $file -Value $xml -Encoding UTF8
                try {
                    $proc = Start-Process -FilePath "$env:SystemRoot\System32\control.exe" -ArgumentList "intl.cpl,,/f:`"$file`"" -Wait -PassThru
                    if ($proc.ExitCode -ne 0) { $module.FailJson("control.exe intl.cpl exited with $($proc.ExitCode)") }
                }
                finally { Remove-Item -LiteralPath $file -Force -ErrorAction SilentlyContinue }
            }
        }
        Add-Change 'copy' $stale $targets
    }
}
$module.ExitJson()
