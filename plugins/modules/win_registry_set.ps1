#!powershell

# Set or remove many registry values in HKLM or the default user hive in one run
# (documentation: win_registry_set.py).

#AnsibleRequires -CSharpUtil Ansible.Basic

$spec = @{
    options = @{
        values = @{
            type = 'list'
            elements = 'dict'
            required = $true
            options = @{
                hive = @{ type = 'str'; choices = 'HKLM', 'default_user'; default = 'HKLM' }
                key = @{ type = 'str'; required = $true }
                name = @{ type = 'str'; required = $true }
                type = @{ type = 'str'; choices = 'string', 'expandstring', 'multistring', 'dword', 'qword', 'binary' }
                data = @{ type = 'raw' }
                state = @{ type = 'str'; choices = 'present', 'absent'; default = 'present' }
                json_merge = @{ type = 'bool'; default = $false }
                source = @{ type = 'str' }
            }
        }
        default_user_hive = @{ type = 'path'; default = 'C:\Users\Default\NTUSER.DAT' }
    }
    supports_check_mode = $true
}
$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)
$ErrorActionPreference = 'Stop'
$Mount = 'AVD_DEFAULT_USER'

Function ConvertTo-Unsigned($Data, [string]$Type) {
    $bits = if ($Type -eq 'dword') { 32 } else { 64 }
    if ($Data -is [bool]) { throw "must be an integer for type $Type, not a boolean" }
    $text = "$Data".Trim()
    if ($text -match '^0x([0-9a-f]{1,16})$') { $n = [decimal][Convert]::ToUInt64($Matches[1], 16) }
    elseif ($text -match '^-?[0-9]{1,20}$') { $n = [decimal]$text }
    else { throw "must be an integer for type $Type (a number or a 0x hexadecimal string): $Data" }
    $span = if ($bits -eq 32) { [decimal]'4294967296' } else { [decimal]'18446744073709551616' }
    if ($n -ge $span -or $n -lt (-$span / 2)) { throw "$Data is out of range for type $Type" }
    if ($n -lt 0) { $n += $span }
    if ($bits -eq 32) { return [uint32]$n } else { return [uint64]$n }
}

Function ConvertTo-ByteList($Data) {
    if ($Data -is [string]) {
        $parts = @(($Data.Trim() -replace '^hex:', '') -split ',' | ForEach-Object { $_.Trim() } | Where-Object { $_ })
        if (@($parts | Where-Object { $_ -notmatch '^(0x)?[0-9a-f]{1,2}$' }).Count) {
            throw "must be comma-separated hexadecimal bytes for type binary: $Data"
        }
        return , [int[]]@($parts | ForEach-Object { [Convert]::ToInt32(($_ -replace '^0x', ''), 16) })
    }
    $bad = $Data -isnot [System.Collections.IList] -or @($Data | Where-Object {
            ($_ -isnot [int] -and $_ -isnot [long]) -or $_ -lt 0 -or $_ -gt 255 }).Count
    if ($bad) { throw 'must be a list of byte values (0 to 255) or a string of hexadecimal bytes for type binary' }
    return , [int[]]@($Data)
}

Function ConvertTo-ItemData($Data, [string]$Type) {
    $list = $Data -is [System.Collections.IList]
    $dict = $Data -is [System.Collections.IDictionary]
    if ($Type -in 'dword', 'qword') {
        if ($list -or $dict) { throw "must be an integer for type $Type (a number or a 0x hexadecimal string)" }
        return ConvertTo-Unsigned $Data $Type
    }
    if ($Type -eq 'binary') { return , (ConvertTo-ByteList $Data) }
    if ($Type -eq 'multistring') {
        $elements = @($Data)
        if ($dict -or @($elements | Where-Object { $_ -is [System.Collections.ICollection] }).Count) {
            throw 'must be a list of strings for type multistring'
        }
        return , [string[]]@($elements | ForEach-Object { "$_" })
    }
    if ($list -or $dict) { throw "must be a string for type $Type" }
    return "$Data"
}

Function Resolve-RegItem($Value) {
    # The item checked and normalised; a problem throws "<field>: <reason>".
    $key = "$($Value.key)"
    if ($key -match '^\\|^[^\\]*:|^(HKEY_\w+|HKLM|HKCU|HKU|HKCR|HKCC)(\\|$)') {
        throw "key: must be relative to the hive, without a drive, root name or leading backslash: $key"
    }
    $key = @($key -split '\\' | Where-Object { $_ }) -join '\'
    if (-not $key) { throw 'key: is empty' }
    # Ansible.Basic accepts choices in any case; the item carries the documented spelling.
    $item = @{
        hive = if ($Value.hive -eq 'default_user') { 'default_user' } else { 'HKLM' }
        key = $key; name = "$($Value.name)"; state = "$($Value.state)".ToLowerInvariant(); json_merge = $Value.json_merge
        type = if ($Value.type) { $Value.type.ToLowerInvariant() } else { $null }
        source = $Value.source; data = $null
    }
    $item.path = if ($item.hive -eq 'default_user') { "$Mount\$key" } else { $key }
    if ($item.state -eq 'absent') { return $item }
    if ($item.json_merge) {
        if ($null -eq $item.type) { $item.type = 'string' }
        if ($item.type -ne 'string') { throw 'type: must be string with json_merge' }
        if ($Value.data -isnot [System.Collections.IDictionary]) { throw 'data: must be a dictionary with json_merge' }
        $item.data = $Value.data
        return $item
    }
    if ($null -eq $item.type) { throw 'type: is required when state is present' }
    if ($null -eq $Value.data) { throw 'data: is required when state is present' }
    try { $item.data = ConvertTo-ItemData $Value.data $item.type }
    catch { throw "data: $($_.Exception.Message)" }
    return $item
}

Function Get-RegValue([string]$Path, [string]$Name) {
    # @{type; data} as stored, $null when the key or the value is missing.
    $key = [Microsoft.Win32.Registry]::LocalMachine.OpenSubKey($Path)
    if ($null -eq $key) { return $null }
    try {
        if ($key.GetValueNames() -notcontains $Name) { return $null }
        $kind = $key.GetValueKind($Name)
        $raw = $key.GetValue($Name, $null, 'DoNotExpandEnvironmentNames')
    }
    finally { $key.Dispose() }
    $data = switch ("$kind") {
        'DWord' { [BitConverter]::ToUInt32([BitConverter]::GetBytes([int32]$raw), 0) }
        'QWord' { [BitConverter]::ToUInt64([BitConverter]::GetBytes([int64]$raw), 0) }
        'MultiString' { , [string[]]$raw }
        { $_ -in 'String', 'ExpandString' } { [string]$raw }
        default { , [int[]]@($raw | ForEach-Object { $_ }) }
    }
    return @{ type = "$kind".ToLowerInvariant(); data = $data }
}

Function Invoke-Reg([string[]]$Arguments) {
    # Windows PowerShell turns native stderr into error records: with Stop they would throw.
    $ErrorActionPreference = 'Continue'
    $out = & reg.exe @Arguments 2>&1 | ForEach-Object { "$_".Trim() } | Where-Object { $_ }
    @{ rc = $LASTEXITCODE; out = $out -join ' ' }
}

Function ConvertTo-CompactJson($Object) {
    ConvertTo-Json -InputObject $Object -Compress -Depth 20
}

Function Merge-JsonValue($Old, $Item, [string]$Label) {
    # The JSON text with the item's keys merged in; the old text when every key is already as asked.
    $merged = [ordered]@{}
    if ($Old) {
        $obj = $null
        if ($Old.type -eq 'string' -and $Old.data.Trim()) { try { $obj = ConvertFrom-Json $Old.data } catch { $obj = $null } }
        if ($Old.type -ne 'string' -or ($Old.data.Trim() -and $obj -isnot [System.Management.Automation.PSCustomObject])) {
            throw "$Label is not a JSON object in a string value; json_merge does not overwrite it"
        }
        if ($obj) { foreach ($p in $obj.PSObject.Properties) { $merged[$p.Name] = $p.Value } }
    }
    $same = $null -ne $Old
    foreach ($pair in $Item.data.GetEnumerator()) {
        $k = $pair.Key
        if (-not $merged.Contains($k) -or (ConvertTo-CompactJson $merged[$k]) -cne (ConvertTo-CompactJson $pair.Value)) {
            $same = $false
        }
        $merged[$k] = $pair.Value
    }
    if ($same) { return $Old.data }
    return ConvertTo-CompactJson $merged
}

Function Set-RegValue($Item, $New) {
    if ($null -eq $New) {
        $key = [Microsoft.Win32.Registry]::LocalMachine.OpenSubKey($Item.path, $true)
        try { $key.DeleteValue($Item.name) } finally { $key.Dispose() }
        return
    }
    # CreateSubKey opens an existing key as it is and creates only what is missing.
    $key = [Microsoft.Win32.Registry]::LocalMachine.CreateSubKey($Item.path)
    try {
        $data = switch ($New.type) {
            'dword' { [BitConverter]::ToInt32([BitConverter]::GetBytes([uint32]$New.data), 0) }
            'qword' { [BitConverter]::ToInt64([BitConverter]::GetBytes([uint64]$New.data), 0) }
            'binary' { , [byte[]]$New.data }
            'multistring' { , [string[]]$New.data }
            default { [string]$New.data }
        }
        $kind = @{ string = 'String'; expandstring = 'ExpandString'; multistring = 'MultiString'; dword = 'DWord'; qword = 'QWord'; binary = 'Binary' }
        $key.SetValue($Item.name, $data, [Microsoft.Win32.RegistryValueKind]$kind[$New.type])
    }
    finally { $key.Dispose() }
}

Function Update-RegItem($Item, $Diff) {
    $label = "$($Item.hive)\$($Item.key)\$($Item.name)"
    $old = Get-RegValue $Item.path $Item.name
    $new = $null
    if ($Item.state -eq 'present' -and $Item.json_merge) { $new = @{ type = 'string'; data = Merge-JsonValue $old $Item $label } }
    elseif ($Item.state -eq 'present') { $new = @{ type = $Item.type; data = $Item.data } }
    $same = if ($old -and $new) { $old.type -eq $new.type -and (ConvertTo-CompactJson $old.data) -ceq (ConvertTo-CompactJson $new.data) }
    if ($same -or ($null -eq $old -and $null -eq $new)) { $module.Result.unchanged += 1; return }
    if (-not $module.CheckMode) { Set-RegValue $Item $new }
    $module.Result.changed = $true
    $module.Result.changes.Add(@{
            hive = $Item.hive; key = $Item.key; name = $Item.name; source = $Item.source
            type = if ($new) { $new.type } else { $old.type }; before = $old; after = $new
        })
    $where = "$($Item.hive)\$($Item.key)"
    foreach ($side in 'before', 'after') { if (-not $Diff[$side].Contains($where)) { $Diff[$side][$where] = @{} } }
    if ($old) { $Diff.before[$where][$Item.name] = $old }
    if ($new) { $Diff.after[$where][$Item.name] = $new }
}

$module.Result.changes = [System.Collections.Generic.List[object]]@()
$module.Result.unchanged = 0
$module.Result.default_user_hive_loaded = $false
$items = [System.Collections.Generic.List[object]]@()
$seen = @{}
$values = $module.Params['values']
for ($i = 0; $i -lt $values.Count; $i++) {
    try { $item = Resolve-RegItem $values[$i] }
    catch { $module.FailJson("values[$i].$($_.Exception.Message)") }
    $item.index = $i
    $id = "$($item.hive)\$($item.key)\$($item.name)".ToLowerInvariant()
    if ($seen.Contains($id)) {
        $module.FailJson("values[$i].name: $($item.hive)\$($item.key) value '$($item.name)' is also in values[$($seen[$id])]; give each value once")
    }
    $seen[$id] = $i
    $items.Add($item)
}

$diff = @{ before = [ordered]@{}; after = [ordered]@{} }
$failure = $null
try {
    if (@($items | Where-Object { $_.hive -eq 'default_user' }).Count) {
        if (Test-Path -LiteralPath "HKLM:\$Mount") {
            $module.Warn("HKLM\$Mount was still loaded (a previous run did not unload it); unloaded it first")
            $null = Invoke-Reg 'unload', "HKLM\$Mount"
        }
        $hive = $module.Params['default_user_hive']
        $load = Invoke-Reg 'load', "HKLM\$Mount", $hive
        if ($load.rc -ne 0) { throw "failed to load the default user hive $hive at HKLM\${Mount}: $($load.out)" }
        $module.Result.default_user_hive_loaded = $true
    }
    foreach ($item in $items) {
        try { Update-RegItem $item $diff }
        catch { throw "values[$($item.index)]: $($_.Exception.Message)" }
    }
}
catch { $failure = $_ }
finally {
    if ($module.Result.default_user_hive_loaded) {
        # reg.exe unload fails while any handle into the hive is open, including ones the .NET
        # runtime has not finalised yet.
        for ($attempt = 1; $attempt -le 3; $attempt++) {
            [GC]::Collect()
            [GC]::WaitForPendingFinalizers()
            $unload = Invoke-Reg 'unload', "HKLM\$Mount"
            if ($unload.rc -eq 0) { break }
            Start-Sleep -Seconds 1
        }
        if ($unload.rc -ne 0 -and -not $failure) {
            $failure = "failed to unload the default user hive from HKLM\${Mount}: $($unload.out)"
        }
    }
}
$module.Diff.before = $diff.before
$module.Diff.after = $diff.after
if ($failure -is [System.Management.Automation.ErrorRecord]) { $module.FailJson($failure.Exception.Message, $failure) }
if ($failure) { $module.FailJson("$failure") }
$module.ExitJson()
