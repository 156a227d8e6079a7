#!powershell

# Copyright: (c) 2026, AVD golden image builders
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

#AnsibleRequires -CSharpUtil Ansible.Basic

$spec = @{
    options = @{
        path = @{ type = 'path'; required = $true }
        thumbprint = @{ type = 'str' }
        subject = @{ type = 'str' }
    }
    mutually_exclusive = @(, @('thumbprint', 'subject'))
    supports_check_mode = $true
}
$module = [Ansible.Basic.AnsibleModule]::Create($args, $spec)
$path = $module.Params.path
if (-not (Test-Path -LiteralPath $path -PathType Leaf)) {
    $module.FailJson("the file '$path' does not exist")
}
$signature = Get-AuthenticodeSignature -LiteralPath $path
$cert = $signature.SignerCertificate
$module.Result.status = $signature.Status.ToString()
$module.Result.status_message = $signature.StatusMessage
$module.Result.subject = if ($cert) { $cert.Subject } else { $null }
$module.Result.thumbprint = if ($cert) { $cert.Thumbprint } else { $null }
$module.Result.issuer = if ($cert) { $cert.Issuer } else { $null }
$module.Result.changed = $false
if ($module.Result.status -ne 'Valid') {
    $module.FailJson("the Authenticode signature of '$path' is not valid: $($module.Result.status) ($($signature.StatusMessage))")
}
$pinned = $module.Params.thumbprint
if ($pinned -and $cert.Thumbprint -ne $pinned.ToUpperInvariant()) {
    $module.FailJson("'$path' is signed by '$($cert.Subject)' (thumbprint $($cert.Thumbprint)), not by the pinned thumbprint $pinned")
}
$pinned = $module.Params.subject
if ($pinned -and $cert.Subject -ne $pinned) {
    $module.FailJson("'$path' is signed by '$($cert.Subject)' (thumbprint $($cert.Thumbprint)), not by the pinned subject '$pinned'")
}
$module.ExitJson()
