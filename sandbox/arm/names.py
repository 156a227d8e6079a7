"""Resource name rules, as Azure documents them ("Naming rules and restrictions for Azure
resources", learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules), with
the code and message each resource provider answers when a PUT breaks them.

Checked on PUT (create) before the type's own validation, like the resource providers do.
Gallery, image definition and image version names are checked by their handlers
(types_gallery); VM resource names (64 characters) and Windows computer names (15) by the VM
handler (types_compute).
"""

from __future__ import annotations

import re

from sandbox.arm.errors import ArmError, BadRequest, InvalidParameter

# Network: alphanumerics, underscores, periods and hyphens; start with an alphanumeric; end with
# an alphanumeric or an underscore. Microsoft.Network answers InvalidResourceName with this
# message (its wording: "word character" = letter, digit or underscore).
_NETWORK = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9_.-]*[A-Za-z0-9_])?$")
NETWORK_LIMITS = {
    "microsoft.network/virtualnetworks": (2, 64),
    "microsoft.network/virtualnetworks/subnets": (1, 80),
    "microsoft.network/networksecuritygroups": (1, 80),
    "microsoft.network/networksecuritygroups/securityrules": (1, 80),
    "microsoft.network/networkinterfaces": (1, 80),
    "microsoft.network/publicipaddresses": (1, 80),
}
# Resource groups: 1-90 letters (Unicode), digits, underscores, hyphens, periods, parentheses;
# not ending with a period.
_RG_CHAR = re.compile(r"[-\w.()]")


# Managed disks (Compute's own validation rule, quoted in its answers): 1-80 word characters,
# hyphens and periods; starting with a letter or digit; not ending with a hyphen or period.
DISK_RULE = r"^[^_\W][\w-._]{0,79}(?<![-.])$"
_DISK = re.compile(r"^[^_\W][\w\-._]{0,79}(?<![-.])$")


def check_os_disk_name(name: str) -> None:
    """A VM's osDisk.name: Compute's answer quotes its rule."""
    if not _DISK.match(name):
        raise InvalidParameter(
            f"The entity name 'osDisk.name' is invalid according to its validation rule: {DISK_RULE}.",
            target="osDisk.name",
        )


# Galleries (Compute's answers, as "Troubleshooting shared image galleries in Azure" lists them).
_GALLERY = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._]{0,78}[A-Za-z0-9])?$")
_IMAGE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]{0,78}[A-Za-z0-9])?$")
_VERSION = re.compile(r"^\d+\.\d+\.\d+$")


def _trailing(full_name: str, last: str) -> InvalidParameter:
    return InvalidParameter(
        f"The provided resource name {full_name} has these invalid trailing characters: {last}. The name "
        f"can not end with characters: {last}"
    )


def check_gallery_name(name: str) -> None:
    if _GALLERY.match(name):
        return
    if name[-1:] in (".", "_") and _GALLERY.match(name.rstrip("._") or "-"):
        raise _trailing(name, name[-1])
    raise InvalidParameter(
        "Gallery name is invalid. Allowed characters are English alphanumeric characters, with "
        "underscores and periods allowed in the middle, up to 80 characters total. All other special "
        "characters, including dashes, are disallowed.",
        target="galleryName",
    )


def check_image_definition_name(gallery: str, name: str) -> None:
    if _IMAGE.match(name):
        return
    if name[-1:] in (".", "_") and _IMAGE.match(name.rstrip("._") or "-"):
        raise _trailing(f"{gallery}/{name}", name[-1])
    raise InvalidParameter(
        f"The entity name '{name}' is invalid according to its validation rule: {DISK_RULE}.",
        target="galleryImageName",
    )


def check_image_version_name(name: str) -> None:
    """Major(int).Minor(int).Patch(int), each a 32-bit integer."""
    if _VERSION.match(name) and all(int(p) <= 2**31 - 1 for p in name.split(".")):
        return
    raise InvalidParameter(
        "The image version name is invalid. The image version name should follow "
        "Major(int).Minor(int).Patch(int) format, for e.g: 1.0.0, 2018.12.1 etc.",
        target="galleryImageVersionName",
    )


def network_name_error(name: str, key: str) -> ArmError | None:
    lo, hi = NETWORK_LIMITS[key]
    if key == "microsoft.network/virtualnetworks" and not lo <= len(name) <= hi:
        # What Microsoft.Network answers for a VNet name of the wrong length.
        return BadRequest(
            "NetcfgInvalidVirtualNetworkSite",
            f"Virtual network site is not valid as specified with the name '{name}'.",
        )
    if not lo <= len(name) <= hi or not _NETWORK.match(name):
        return BadRequest(
            "InvalidResourceName",
            f"Resource name {name} is invalid. The name can be up to 80 characters long. It must begin "
            "with a word character, and it must end with a word character or with '_'. The name may "
            "contain word characters or '.', '-', '_'.",
        )
    return None


_STORAGE_ACCOUNT = re.compile(r"^[a-z0-9]{3,24}$")


def check(key: str, name: str) -> None:
    """Azure's 400 when `name` breaks the rule of the type `key` (lower-case type name)."""
    if key in NETWORK_LIMITS:
        err = network_name_error(name, key)
        if err is not None:
            raise err
    elif key == "microsoft.compute/disks" and not _DISK.match(name):
        raise InvalidParameter("The value of parameter disk.name is invalid.", target="disk.name")
    elif key == "microsoft.storage/storageaccounts" and not _STORAGE_ACCOUNT.match(name):
        # Microsoft.Storage's answer (the storage account naming rule).
        raise BadRequest(
            "AccountNameInvalid",
            f"{name} is not a valid storage account name. Storage account name must be between 3 and 24 "
            "characters in length and use numbers and lower-case letters only.",
        )


def check_resource_group(name: str) -> None:
    """ARM's 400 InvalidResourceGroup for a resource group name it does not accept."""
    bad = "".join(dict.fromkeys(c for c in name if not _RG_CHAR.match(c)))
    if bad:
        raise BadRequest(
            "InvalidResourceGroup",
            f"The provided resource group name '{name}' has these invalid characters: '{bad}'. The name "
            "can only be a letter, digit, '-', '.', '(', ')' or '_'.",
        )
    if not 1 <= len(name) <= 90 or name.endswith("."):
        raise BadRequest(
            "InvalidResourceGroup",
            f"The provided resource group name '{name}' is invalid. Resource group names can be 1 to 90 "
            "characters long and cannot end with a period.",
        )
