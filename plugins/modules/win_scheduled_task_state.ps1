#!powershell

# Copyright: (c) 2026, AVD golden image builders
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

#AnsibleRequires -CSharpUtil Ansible.Basic

$spec = @{
    options = @{
        tasks = @{
            type = 'list'
            elements = 'dict'
            required = $true
            options = @{
                path = @{ type = 'str'; default = '\' }
                name = @{ type = 'str'; required = $true }
                enabled = @{ type = 'bool'; required = $true }
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

# Resolve every item first (a later item wins), so that missing=fail changes nothing.
$plan = [ordered]@{}
foreach ($item in $module.Params.tasks) {
    # A missing leading or trailing \ is added (not after a final *, which matches any folder).
    $path = if ($item.path) { $item.path } else { '\' }  # an explicit null is the root too
    if (-not $path.StartsWith('\')) { $path = "\$path" }
    if (-not ($path.EndsWith('\') -or $path.EndsWith('*'))) { $path = "$path\" }
    $tasks = Get-ScheduledTask -TaskPath $path -TaskName $item.name -ErrorAction SilentlyContinue
    $found = @($tasks | Sort-Object -Property 'TaskPath', 'TaskName')
    if (-not $found) {
        $module.Result.missing += "$path$($item.name)"
    }
    foreach ($task in $found) {
        $plan["$($task.TaskPath)$($task.TaskName)".ToLowerInvariant()] = @{
            task = $task; enabled = $item.enabled; source = $item.source
        }
    }
}
if ($module.Result.missing -and $module.Params.missing -eq 'fail') {
    $module.FailJson("scheduled tasks not found: $($module.Result.missing -join ', ')")
}

$before = @{}
$after = @{}
foreach ($entry in $plan.Values) {
    $task = $entry.task
    $full = "$($task.TaskPath)$($task.TaskName)"
    $state = [string]$task.State
    if (($state -ne 'Disabled') -eq $entry.enabled) { continue }
    $target = if ($entry.enabled) { 'Ready' } else { 'Disabled' }
    if (-not $module.CheckMode) {
        try {
            if ($entry.enabled) { $null = $task | Enable-ScheduledTask -ErrorAction Stop }
            else { $null = $task | Disable-ScheduledTask -ErrorAction Stop }
        }
        catch { $module.FailJson("failed to set scheduled task $full to ${target}: $($_.Exception.Message)", $_) }
    }
    $module.Result.changes += @{
        path = $task.TaskPath; name = $task.TaskName; before = $state; after = $target; source = $entry.source
    }
    $module.Result.changed = $true
    $before[$full] = $state
    $after[$full] = $target
}
$module.Diff.before = @{ tasks = $before }
$module.Diff.after = @{ tasks = $after }
$module.ExitJson()
