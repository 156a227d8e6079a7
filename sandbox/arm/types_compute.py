"""Microsoft.Compute: virtual machines (2024-07-01) and managed disks (2023-04-02, 2017-03-30).

A VM's OS disk is created implicitly with the VM, as Azure does. Power state and the generalized
flag are kept in the emulator's internal metadata and shown through the instance view. Guest
behaviour (seeding Windows, run command, ImageState) belongs to the GuestHost (sandbox.windows);
without it, guest-dependent requests answer 501 instead of being faked.
"""

from __future__ import annotations

import base64
import dataclasses
import re
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sandbox.arm import catalog, gallery_images, names, validate
from sandbox.arm.errors import (
    BadRequest,
    Conflict,
    InvalidParameter,
    NotFound,
    OperationNotAllowed,
    PropertyChangeNotAllowed,
    Unmodelled,
    json_object_required,
    missing_parameter,
)
from sandbox.arm.handlers import Registry, ResourceHandler, TypeSpec
from sandbox.arm.lro_effects import delete_resource
from sandbox.arm.topology import power_of, sync_dynamic_pips, vm_using_nic
from sandbox.arm.values import Request, Response, new_mac, utcnow
from sandbox.guest_api import NotModelled, SourceImage, VmSpec

if TYPE_CHECKING:
    from sandbox.arm.core import Arm

API = "2024-07-01"
VM = "Microsoft.Compute/virtualMachines"
DISK = "Microsoft.Compute/disks"
EXTENSION = "Microsoft.Compute/virtualMachines/extensions"
# The one VM extension modelled: Windows' VMAccessAgent, which resets the local administrator's
# password from its protectedSettings (what `az vm user update` does).
VMACCESS = ("Microsoft.Compute", "VMAccessAgent")
NIC = "Microsoft.Network/networkInterfaces"
PIP = "Microsoft.Network/publicIPAddresses"

OS_DISK_TYPES = ["Standard_LRS", "Premium_LRS", "StandardSSD_LRS", "Premium_ZRS", "StandardSSD_ZRS"]
LICENSE_TYPES = [
    "Windows_Client",
    "Windows_Server",
    "RHEL_BYOS",
    "SLES_BYOS",
    "RHEL_BASE",
    "SLES_SAP",
    "SLES_HPC",
    "None",
]
DISALLOWED_PASSWORDS = {
    "abc@123",
    "iloveyou!",
    "p@$$w0rd",
    "p@ssw0rd",
    "p@ssword123",
    "pa$$word",
    "pass@word1",
    "password!",
    "password1",
    "password22",
}
DISALLOWED_USERS = {
    "administrator",
    "admin",
    "user",
    "user1",
    "test",
    "user2",
    "test1",
    "user3",
    "admin1",
    "1",
    "123",
    "a",
    "actuser",
    "adm",
    "admin2",
    "aspnet",
    "backup",
    "console",
    "david",
    "guest",
    "john",
    "owner",
    "root",
    "server",
    "sql",
    "support",
    "support_388945a0",
    "sys",
    "test2",
    "test3",
    "user4",
    "user5",
}
IMAGE_STATE_READY = "IMAGE_STATE_GENERALIZE_RESEAL_TO_OOBE"

POWER_DISPLAY = {
    "running": "VM running",
    "stopped": "VM stopped",
    "deallocated": "VM deallocated",
    "starting": "VM starting",
    "stopping": "VM stopping",
    "deallocating": "VM deallocating",
}


def register(registry: Registry) -> None:
    vm_methods: dict[str, str | None] = {
        "GET": None,
        "PUT": f"compute/{API}/VirtualMachine",
        "PATCH": f"compute/{API}/VirtualMachineUpdate",
        "DELETE": None,
        "LIST": None,
        "POST:poweroff": None,
        "POST:deallocate": None,
        "POST:start": None,
        "POST:restart": None,
        "POST:generalize": None,
        "POST:runcommand": f"compute/{API}/RunCommandInput",
        "GET:instanceview": None,
    }
    disk_methods: dict[str, str | None] = {"GET": None, "DELETE": None, "LIST": None}
    extension_methods: dict[str, str | None] = {
        "GET": None,
        "PUT": f"compute/{API}/VirtualMachineExtension",
        "DELETE": None,
        "LIST": None,
    }
    registry.add(
        # 2026-04-01: az vm list (azure-cli 2.91); only the listing is modelled at that version.
        TypeSpec(VM, {API: vm_methods, "2026-04-01": {"LIST": None}}, VmHandler()),
        TypeSpec(
            DISK,
            {"2023-04-02": disk_methods, "2017-03-30": disk_methods, API: disk_methods},
            DiskHandler(),
            put_lro=True,
        ),
        TypeSpec(EXTENSION, {API: extension_methods}, ExtensionHandler(), tracked=False),
    )


# --------------------------------------------------------------------------------------------------
# validation helpers
def check_password(pw: Any, windows: bool) -> None:
    """Azure's admin password rule (Windows: 12-123 characters, 3 of 4 classes, not a banned one)."""
    lo, hi = (12, 123) if windows else (6, 72)
    msg = (
        f"The supplied password must be between {lo}-{hi} characters long and must satisfy at least 3 of "
        "password "
        "complexity requirements from the following:\r\n1) Contains an uppercase character\r\n2) Contains a "
        "lowercase character\r\n3) Contains a numeric digit\r\n4) Contains a special character\r\n5) Control "
        "characters are not allowed"
    )
    if not isinstance(pw, str) or not lo <= len(pw) <= hi or any(ord(c) < 32 for c in pw):
        raise InvalidParameter(msg, target="adminPassword")
    classes = sum(
        [
            any(c.isupper() for c in pw),
            any(c.islower() for c in pw),
            any(c.isdigit() for c in pw),
            any(not c.isalnum() for c in pw),
        ]
    )
    if classes < 3:
        raise InvalidParameter(msg, target="adminPassword")
    if pw.lower() in DISALLOWED_PASSWORDS:
        raise InvalidParameter("The supplied password is not allowed.", target="adminPassword")


def check_computer_name(name: Any) -> None:
    if (
        not isinstance(name, str)
        or not 1 <= len(name) <= 15
        or name.isdigit()
        or not re.match(r"^[A-Za-z0-9][A-Za-z0-9-]*$", name)
    ):
        raise InvalidParameter(
            "Windows computer name cannot be more than 15 characters long, be entirely numeric, or contain "
            "the "
            "following characters: ` ~ ! @ # $ % ^ & * ( ) = + _ [ ] { } \\ | ; : . ' \" , < > / ?.",
            target="computerName",
        )


def resolve_image(ref: dict[str, Any]) -> tuple[catalog.MarketplaceSku, str]:
    if ref.get("id") or ref.get("sharedGalleryImageId") or ref.get("communityGalleryImageId"):
        raise Unmodelled("custom/gallery image references are not modelled (marketplace images only)")
    for k in ("publisher", "offer", "sku", "version"):
        if not ref.get(k):
            raise missing_parameter(
                f"imageReference.{k}",
                target=f"imageReference.{k}",
            )
    entry = catalog.find_sku(ref["publisher"], ref["offer"], ref["sku"])
    exact = catalog.resolve_version(entry, ref["version"]) if entry else None
    if entry is None or exact is None:
        raise NotFound(
            "PlatformImageNotFound",
            f"The platform image '{ref['publisher']}:{ref['offer']}:{ref['sku']}:{ref['version']}' is "
            "not "
            "available. Verify that all fields in the storage profile are correct. For more details "
            "about "
            "storage profile information, please refer to https://aka.ms/storageprofile",
            target="imageReference",
        )
    return entry, exact


# --------------------------------------------------------------------------------------------------
# VM PUT, step by step (VmHandler.build): each step validates one part of the body, in the order
# Azure reports them, and records what it decided on the VmPut.
VM_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,62}[A-Za-z0-9_]$|^[A-Za-z0-9]$")
UNMODELLED_VM_PROPERTIES = (
    "availabilitySet",
    "virtualMachineScaleSet",
    "proximityPlacementGroup",
    "host",
    "hostGroup",
    "capacityReservation",
    "applicationProfile",
    "scheduledEventsPolicy",
    "scheduledEventsProfile",
)
RUN_COMMANDS_NOT_MODELLED = (
    "RunShellScript",
    "IPConfig",
    "EnableRemotePS",
    "EnableAdminAccount",
    "ResetRDPCert",
    "SetRDPPort",
    "DisableNLA",
    "RDPSettings",
    "DisableWindowsUpdate",
    "EnableWindowsUpdate",
)


@dataclass
class VmPut:
    """One VM PUT: the request, and what the steps decided so far."""

    arm: Arm
    rid: str
    body: dict[str, Any]
    existing: dict[str, Any] | None
    name: str = ""
    location: str = ""
    size: catalog.VmSize | None = None
    image_ref: dict[str, Any] | None = None
    image: catalog.MarketplaceSku | None = None
    exact: str = ""
    gallery: gallery_images.GalleryImage | None = None  # a VM from a gallery image version
    os_disk: dict[str, Any] = field(default_factory=dict)  # the stored osDisk
    sec_type: str | None = None
    uefi: dict[str, Any] = field(default_factory=dict)
    license_type: str | None = None
    os_profile: dict[str, Any] = field(default_factory=dict)
    password: str | None = None
    nic_refs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def props(self) -> dict[str, Any]:
        return self.body.get("properties") or {}

    @property
    def old(self) -> dict[str, Any]:
        """The stored properties of the VM being updated ({} on create)."""
        return self.existing["properties"] if self.existing else {}


def _check_name_and_location(put: VmPut) -> None:
    arm, existing = put.arm, put.existing
    if existing is not None and arm.internal.get(existing["id"].lower(), {}).get("generalized"):
        raise OperationNotAllowed(
            f"Operation 'Update VM' is not allowed on VM '{existing['name']}' since the VM is generalized."
        )
    put.name = put.rid.rsplit("/", 1)[-1]
    if not VM_NAME.match(put.name):
        raise InvalidParameter(f"Virtual machine name '{put.name}' is invalid.", target="name")
    put.location = arm.check_location(put.body.get("location"))
    if existing is not None and existing["location"] != put.location:
        raise PropertyChangeNotAllowed("location", target="location")


def _refuse_unmodelled_features(put: VmPut) -> None:
    body, props = put.body, put.props
    for key in UNMODELLED_VM_PROPERTIES:
        if props.get(key):
            raise Unmodelled(f"virtual machine property properties.{key} is not modelled")
    if body.get("plan"):
        raise Unmodelled("marketplace plan on a virtual machine is not modelled")
    if body.get("identity") and (body["identity"].get("type") or "None") != "None":
        raise Unmodelled("managed identity on a virtual machine is not modelled")
    if body.get("extendedLocation"):
        raise Unmodelled("extendedLocation is not modelled")


def _choose_size(put: VmPut) -> None:
    size = validate.require(put.props, "hardwareProfile.vmSize")
    put.size = catalog.VM_SIZE_BY_LOWER.get(str(size).lower())
    if put.size is None:
        raise InvalidParameter(
            f"The value {size} provided for the VM size is not valid. The valid sizes in the current region "
            f"are: {', '.join(s.name for s in catalog.VM_SIZES)}.",
            target="vmSize",
        )
    if validate.get(put.props, "hardwareProfile.vmSizeProperties"):
        raise Unmodelled("hardwareProfile.vmSizeProperties is not modelled")


def _refuse_unmodelled_disks(put: VmPut, storage: dict[str, Any], os_disk: dict[str, Any]) -> None:
    if storage.get("dataDisks"):
        raise Unmodelled("data disks are not modelled")
    if os_disk.get("diffDiskSettings"):
        raise Unmodelled("ephemeral OS disks are not modelled")
    if (
        validate.get(os_disk, "managedDisk.diskEncryptionSet")
        or validate.get(os_disk, "managedDisk.securityProfile")
        or os_disk.get("encryptionSettings")
    ):
        raise Unmodelled("OS disk encryption settings are not modelled")
    if os_disk.get("vhd") or os_disk.get("image"):
        raise Unmodelled("unmanaged (VHD) OS disks are not modelled")
    if put.existing is None:
        create_option = validate.require(os_disk, "createOption")
    else:
        create_option = os_disk.get("createOption") or put.old["storageProfile"]["osDisk"]["createOption"]
    create_option = validate.enum({"c": create_option}, "c", ["FromImage", "Attach", "Empty"])
    if create_option != "FromImage":
        raise Unmodelled(f"osDisk.createOption '{create_option}' is not modelled (only FromImage)")


def _choose_gallery_image(put: VmPut, ref: dict[str, Any]) -> None:
    """A gallery image version: the marketplace image it came from, with the definition's
    generation and security type and the version's disk size (what the checks below read)."""
    put.gallery = gallery_images.resolve(put.arm, ref, put.location)
    src = put.gallery.source
    base = catalog.find_sku(src["publisher"], src["offer"], src["sku"])
    assert base is not None
    put.image = dataclasses.replace(
        base,
        hyper_v_generation=put.gallery.generation,
        security_feature=put.gallery.security_type,
        os_disk_gb=put.gallery.disk_gb,
    )
    put.exact = put.gallery.version["name"]


def _choose_image(put: VmPut, storage: dict[str, Any]) -> None:
    """The marketplace or gallery image (resolved on create; the same image on update)."""
    put.image_ref = storage.get("imageReference")
    if put.existing is None:
        if not put.image_ref:
            raise missing_parameter("imageReference", target="imageReference")
        if put.image_ref.get("id"):
            _choose_gallery_image(put, put.image_ref)
            return
        put.image, put.exact = resolve_image(put.image_ref)
        return
    old_ref = put.old["storageProfile"]["imageReference"]
    if old_ref.get("id"):
        if put.image_ref and str(put.image_ref.get("id", "")).lower() != old_ref["id"].lower():
            raise PropertyChangeNotAllowed("imageReference.id", target="imageReference.id")
        meta = put.arm.meta(put.existing["id"])
        src = meta["source_image"]
        base = catalog.find_sku(src["publisher"], src["offer"], src["sku"])
        assert base is not None
        put.image = dataclasses.replace(base, **meta["gallery_features"])
        put.exact = old_ref["exactVersion"]
        return
    if put.image_ref:
        for k in ("publisher", "offer", "sku"):
            if str(put.image_ref.get(k, old_ref[k])).lower() != old_ref[k].lower():
                raise PropertyChangeNotAllowed(f"imageReference.{k}", target=f"imageReference.{k}")
    put.image = catalog.find_sku(old_ref["publisher"], old_ref["offer"], old_ref["sku"])
    put.exact = old_ref["exactVersion"]
    assert put.image is not None


def _os_type_and_storage(put: VmPut, os_disk: dict[str, Any]) -> tuple[str, str]:
    """(osType, storage account type) of the OS disk."""
    image, size = put.image, put.size
    assert image is not None and size is not None
    os_type = validate.enum(os_disk, "osType", ["Windows", "Linux"]) or image.os_type
    if os_type != image.os_type:
        raise InvalidParameter(
            f"The osType '{os_type}' does not match the image's operating system '{image.os_type}'.",
            target="osDisk.osType",
        )
    storage_type = validate.enum(os_disk, "managedDisk.storageAccountType", OS_DISK_TYPES)
    if storage_type is None:
        storage_type = (
            put.old["storageProfile"]["osDisk"]["managedDisk"]["storageAccountType"]
            if put.existing
            else ("Premium_LRS" if size.premium_io else "Standard_LRS")
        )
    if storage_type.startswith("Premium") and not size.premium_io:
        raise InvalidParameter(
            f"Requested operation cannot be performed because storage account type '{storage_type}' is not "
            f"supported for VM size '{size.name}'.",
            target="storageAccountType",
        )
    return os_type, storage_type


def _disk_size(put: VmPut, os_disk: dict[str, Any]) -> int:
    assert put.image is not None
    image_gb = put.image.os_disk_gb
    disk_gb = os_disk.get("diskSizeGB")
    if disk_gb is None:
        disk_gb = put.old["storageProfile"]["osDisk"].get("diskSizeGB") if put.existing else image_gb
    _check_disk_size(put, disk_gb, image_gb)
    return disk_gb


MAX_OS_DISK_GB = 4095


def _check_disk_size(put: VmPut, disk_gb: Any, image_gb: int) -> None:
    """Azure's rules for osDisk.diskSizeGB: an integer, at least the image's OS disk, at most
    4095 GB; on an existing VM never smaller than now, and larger only while it is deallocated."""
    if not isinstance(disk_gb, int) or isinstance(disk_gb, bool) or disk_gb < 1:
        raise InvalidParameter(
            f"The value '{disk_gb}' of parameter 'diskSizeGB' is invalid.", target="osDisk.diskSizeGB"
        )
    if disk_gb > MAX_OS_DISK_GB:
        raise InvalidParameter(
            f"The specified disk size {disk_gb} GB is larger than the maximum size of an OS disk: "
            f"{MAX_OS_DISK_GB} GB.",
            target="osDisk.diskSizeGB",
        )
    old_disk = put.old["storageProfile"]["osDisk"] if put.existing is not None else {}
    old_gb = old_disk.get("diskSizeGB")
    if old_gb and disk_gb < old_gb:
        raise BadRequest(
            "BadRequest",
            f"The disk/snapshot resource with id {old_disk['managedDisk']['id']} cannot be resized down. "
            "Reducing disk/snapshot size is not supported in Azure to prevent data loss. If you do need "
            "to reduce the size of the disk, please create new snapshot/disks with the appropriate size. "
            "More information is available at https://aka.ms/AzureDisksFAQ",
            target="osDisk.diskSizeGB",
        )
    if disk_gb < image_gb:
        raise OperationNotAllowed(
            f"The specified disk size {disk_gb} GB is smaller than the size of the corresponding disk in "
            f"the VM image: {image_gb} GB. This is not allowed. Please choose equal or greater size or do "
            "not specify an explicit size.",
            target="osDisk.diskSizeGB",
        )
    if (
        put.existing is not None
        and old_gb
        and disk_gb > old_gb
        and power_of(put.arm, put.existing) != "deallocated"
    ):
        raise OperationNotAllowed(
            f"Cannot resize disk {old_disk['name']} while it is attached to running VM {put.existing['id']}. "
            "Resizing a disk of an Azure Virtual Machine requires the virtual machine to be deallocated. "
            "Please stop your VM and retry the operation."
        )


def _choose_os_disk(put: VmPut) -> None:
    """storageProfile: the image and the OS disk (created with the VM, as Azure does)."""
    arm, rid, existing = put.arm, put.rid, put.existing
    storage = put.props.get("storageProfile") or {}
    os_disk = storage.get("osDisk") or {}
    old_disk = put.old.get("storageProfile", {}).get("osDisk", {})
    _refuse_unmodelled_disks(put, storage, os_disk)
    _choose_image(put, storage)
    os_type, storage_type = _os_type_and_storage(put, os_disk)
    caching = validate.enum(os_disk, "caching", ["None", "ReadOnly", "ReadWrite"]) or "ReadWrite"
    disk_gb = _disk_size(put, os_disk)
    delete_option = validate.enum(os_disk, "deleteOption", ["Delete", "Detach"]) or (
        old_disk.get("deleteOption", "Detach") if existing else "Detach"
    )
    disk_name = os_disk.get("name") or (
        old_disk["name"] if existing else f"{put.name}_OsDisk_1_{uuid.uuid4().hex}"
    )
    if existing is None and os_disk.get("name"):
        names.check_os_disk_name(disk_name)
    if existing is not None and disk_name != old_disk["name"]:
        raise Unmodelled("OS disk swap (a different osDisk.name on update) is not modelled")
    disk_id = (
        old_disk["managedDisk"]["id"]
        if existing
        else f"{arm.rg_id(arm.rg_of(rid))}/providers/Microsoft.Compute/disks/{disk_name}"
    )
    if existing is None and arm.get(disk_id) is not None:
        raise Conflict(
            "ConflictingUserInput",
            f"Disk {disk_name} already exists in resource group {arm.rg_of(rid).upper()}. Only "
            "CreateOption.Attach is supported.",
            target="/disks/" + disk_name,
        )
    put.os_disk = {
        "osType": os_type,
        "name": disk_name,
        "createOption": "FromImage",
        "caching": caching,
        "writeAcceleratorEnabled": False,
        "managedDisk": {"storageAccountType": storage_type, "id": disk_id},
        "deleteOption": delete_option,
        "diskSizeGB": disk_gb,
    }


def _check_trusted_launch(put: VmPut, sec_type: str | None, uefi: dict[str, Any]) -> None:
    image, size = put.image, put.size
    assert image is not None and size is not None
    if sec_type == "TrustedLaunch":
        if not uefi:
            raise InvalidParameter(
                "securityProfile.uefiSettings must be specified when securityType is TrustedLaunch.",
                target="securityProfile.uefiSettings",
            )
        if image.hyper_v_generation != "V2" or not size.gen2:
            raise BadRequest(
                "BadRequest",
                f"The VM size '{size.name}' or the image '{image.publisher}:{image.offer}:{image.sku}' "
                "does not support Trusted Launch: Trusted Launch requires a Generation 2 image and size.",
                target="securityProfile.securityType",
            )
        if image.security_feature == "Standard":
            raise InvalidParameter(
                f"The image '{image.publisher}:{image.offer}:{image.sku}' does not support security type "
                "TrustedLaunch.",
                target="securityProfile.securityType",
            )
    elif uefi.get("secureBootEnabled") or uefi.get("vTpmEnabled"):
        raise InvalidParameter(
            "Use of secureBootEnabled and vTpmEnabled requires securityType to be set to TrustedLaunch or "
            "ConfidentialVM.",
            target="securityProfile.uefiSettings",
        )
    if image.hyper_v_generation == "V2" and not size.gen2:
        raise BadRequest(
            "BadRequest",
            f"The selected VM size '{size.name}' cannot boot Hypervisor Generation '2'.",
            target="vmSize",
        )


def _choose_security(put: VmPut) -> None:
    """securityProfile / Trusted Launch (unchangeable after creation)."""
    sec = put.props.get("securityProfile") or {}
    sec_type = validate.enum(
        sec, "securityType", ["TrustedLaunch", "ConfidentialVM"], target="securityProfile.securityType"
    )
    if sec_type == "ConfidentialVM":
        raise Unmodelled("Confidential VMs are not modelled")
    uefi = sec.get("uefiSettings") or {}
    if sec.get("encryptionAtHost"):
        raise Unmodelled("encryptionAtHost is not modelled")
    if put.gallery is not None:
        assert put.size is not None
        gallery_images.check_vm_fits(put.gallery, put.os_disk["osType"], sec_type, put.size.gen2)
    _check_trusted_launch(put, sec_type, uefi)
    if put.existing is not None:
        old_sec = put.old.get("securityProfile", {}).get("securityType")
        if (old_sec or None) != (sec_type or None) and (sec or old_sec):
            if not (sec == {} and old_sec):
                raise PropertyChangeNotAllowed(
                    "securityProfile.securityType", target="securityProfile.securityType"
                )
            sec_type = old_sec
            uefi = put.old["securityProfile"].get("uefiSettings", {})
    put.sec_type, put.uefi = sec_type, uefi


def _choose_license(put: VmPut) -> None:
    assert put.image is not None
    license_type = validate.enum(put.props, "licenseType", LICENSE_TYPES)
    if license_type in ("Windows_Client", "Windows_Server") and put.os_disk["osType"] != "Windows":
        raise InvalidParameter(
            f"License type {license_type} is only valid for Windows images.", target="licenseType"
        )
    if license_type == "Windows_Client" and put.image.offer.lower() not in (
        "windows-11",
        "windows-10",
        "office-365",
    ):
        raise InvalidParameter(
            "License type Windows_Client requires a Windows client image.", target="licenseType"
        )
    put.license_type = license_type


def _check_windows_admin(osp: dict[str, Any]) -> tuple[Any, Any, str]:
    """(computer name, admin user, admin password) of a new Windows VM."""
    computer = validate.require(osp, "computerName")
    user = validate.require(osp, "adminUsername")
    check_computer_name(computer)
    if str(user).lower() in DISALLOWED_USERS or len(str(user)) > 20 or str(user).endswith("."):
        raise InvalidParameter("The Admin Username specified is not allowed.", target="adminUsername")
    password = osp.get("adminPassword")
    if password is None:
        raise missing_parameter("adminPassword", target="adminPassword")
    check_password(password, True)
    return computer, user, password


def _refuse_unmodelled_os_profile(osp: dict[str, Any], wc: dict[str, Any]) -> None:
    if osp.get("linuxConfiguration"):
        raise InvalidParameter("linuxConfiguration is not valid for a Windows image.")
    if osp.get("secrets"):
        raise Unmodelled("osProfile.secrets (Key Vault certificates) is not modelled")
    if wc.get("winRM") and wc["winRM"].get("listeners"):
        raise Unmodelled("osProfile.windowsConfiguration.winRM listeners are not modelled (use run command)")
    if wc.get("additionalUnattendContent"):
        raise Unmodelled("additionalUnattendContent is not modelled")
    if osp.get("customData"):
        raise Unmodelled("osProfile.customData is not modelled")


def _new_os_profile(put: VmPut, osp: dict[str, Any]) -> None:
    if put.os_disk["osType"] != "Windows":
        validate.require(osp, "computerName")
        validate.require(osp, "adminUsername")
        raise Unmodelled("Linux virtual machines are not modelled")
    computer, user, put.password = _check_windows_admin(osp)
    wc = osp.get("windowsConfiguration") or {}
    _refuse_unmodelled_os_profile(osp, wc)
    patch = wc.get("patchSettings") or {}
    put.os_profile = {
        "computerName": computer,
        "adminUsername": user,
        "windowsConfiguration": {
            "provisionVMAgent": wc.get("provisionVMAgent", True),
            "enableAutomaticUpdates": wc.get("enableAutomaticUpdates", True),
            "patchSettings": {
                "patchMode": validate.enum(
                    patch, "patchMode", ["Manual", "AutomaticByOS", "AutomaticByPlatform"]
                )
                or "AutomaticByOS",
                "assessmentMode": validate.enum(
                    patch, "assessmentMode", ["ImageDefault", "AutomaticByPlatform"]
                )
                or "ImageDefault",
                "enableHotpatching": bool(patch.get("enableHotpatching", False)),
            },
            "enableVMAgentPlatformUpdates": bool(wc.get("enableVMAgentPlatformUpdates", False)),
        },
        "secrets": [],
        "allowExtensionOperations": osp.get("allowExtensionOperations", True),
        "requireGuestProvisionSignal": True,
    }
    if wc.get("timeZone"):
        put.os_profile["windowsConfiguration"]["timeZone"] = wc["timeZone"]


def _choose_os_profile(put: VmPut) -> None:
    """osProfile: validated on create; on update it cannot change (a repeated password is ignored:
    ARM never changes the guest's password)."""
    osp = put.props.get("osProfile") or {}
    if put.existing is None:
        _new_os_profile(put, osp)
        return
    put.os_profile = put.old["osProfile"]
    for key in ("computerName", "adminUsername"):
        if osp.get(key) is not None and str(osp[key]) != str(put.os_profile[key]):
            raise PropertyChangeNotAllowed(key, target=key)
    if osp.get("adminPassword") is not None:
        check_password(osp["adminPassword"], put.os_disk["osType"] == "Windows")


def _nic_ref(put: VmPut, i: int, ref: Any, count: int) -> dict[str, Any]:
    """One entry of networkProfile.networkInterfaces, checked against the NIC it names."""
    arm = put.arm
    nic = arm.ref(ref, NIC, put.rid, f"properties.networkProfile.networkInterfaces[{i}]")
    if nic["location"] != put.location:
        raise BadRequest(
            "NicInDifferentLocation",
            f"The network interface {nic['id']} is in location '{nic['location']}', not in the VM's "
            f"location '{put.location}'.",
        )
    user_vm = vm_using_nic(arm, nic["id"])
    if user_vm is not None and user_vm["id"].lower() != put.rid.lower():
        raise BadRequest(
            "NicInUse",
            f"Network Interface {nic['id']} is used by existing resource {user_vm['id']}. In order to use "
            "this network interface, first delete or modify the existing resource.",
        )
    arm.meta(nic["id"]).setdefault("mac", new_mac())
    rp = ref.get("properties") or {}
    entry: dict[str, Any] = {"id": nic["id"], "properties": {"primary": bool(rp.get("primary", count == 1))}}
    dopt = validate.enum(rp, "deleteOption", ["Delete", "Detach"])
    if dopt:
        entry["properties"]["deleteOption"] = dopt
    return entry


def _choose_nics(put: VmPut) -> None:
    net = put.props.get("networkProfile") or {}
    if net.get("networkInterfaceConfigurations"):
        raise Unmodelled("networkProfile.networkInterfaceConfigurations (VM-managed NICs) is not modelled")
    refs = net.get("networkInterfaces") or []
    if not refs:
        raise InvalidParameter(
            "At least one network interface is required for a virtual machine.",
            target="networkProfile.networkInterfaces",
        )
    put.nic_refs = [_nic_ref(put, i, ref, len(refs)) for i, ref in enumerate(refs)]
    if len(refs) > 1 and sum(r["properties"]["primary"] for r in put.nic_refs) != 1:
        raise InvalidParameter(
            "Exactly one network interface must be primary when a VM has more than one.",
            target="networkProfile.networkInterfaces",
        )
    if len(refs) > 1:
        raise Unmodelled("virtual machines with more than one NIC are not modelled")


def _check_the_rest(put: VmPut) -> None:
    """Boot diagnostics, priority, zones, additional capabilities, user data."""
    props = put.props
    boot = (props.get("diagnosticsProfile") or {}).get("bootDiagnostics") or {}
    if boot.get("storageUri"):
        raise Unmodelled(
            "boot diagnostics to a storage account are not modelled (use managed boot diagnostics)"
        )
    priority = validate.enum(props, "priority", ["Regular", "Low", "Spot"])
    if priority in ("Low", "Spot"):
        raise Unmodelled("Spot/Low priority virtual machines are not modelled")
    if put.body.get("zones"):
        zones = [str(z) for z in put.body["zones"]]
        if len(zones) != 1 or zones[0] not in ("1", "2", "3"):
            raise InvalidParameter(
                "A virtual machine can be placed in exactly one zone (1-3).", target="zones"
            )
    add_caps = props.get("additionalCapabilities") or {}
    if add_caps.get("ultraSSDEnabled") or add_caps.get("hibernationEnabled"):
        raise Unmodelled("additionalCapabilities ultraSSD/hibernation are not modelled")
    user_data = props.get("userData")
    if user_data is not None:
        try:
            base64.b64decode(user_data, validate=True)
        except ValueError as exc:
            raise InvalidParameter("userData must be base64 encoded.", target="userData") from exc


def _vm_resource(put: VmPut) -> dict[str, Any]:
    """The VM as stored, from what the steps decided."""
    existing, body, props, image = put.existing, put.body, put.props, put.image
    assert image is not None and put.size is not None
    res: dict[str, Any] = {
        "id": existing["id"] if existing else put.rid,
        "name": existing["name"] if existing else put.name,
        "type": VM,
        "location": put.location,
    }
    if body.get("tags") is not None:
        res["tags"] = validate.tags(body["tags"])
    if body.get("zones"):
        res["zones"] = [str(z) for z in body["zones"]]
    ref = put.image_ref or put.old["storageProfile"]["imageReference"]
    if put.gallery is not None or ref.get("id"):
        image_ref = {"id": put.gallery.ref_id if put.gallery else ref["id"], "exactVersion": put.exact}
    else:
        image_ref = {
            "publisher": ref.get("publisher", image.publisher),
            "offer": ref.get("offer", image.offer),
            "sku": ref.get("sku", image.sku),
            "version": ref.get("version", "latest"),
            "exactVersion": put.exact,
        }
    p: dict[str, Any] = {
        "vmId": existing["properties"]["vmId"] if existing else str(uuid.uuid4()),
        "hardwareProfile": {"vmSize": put.size.name},
        "storageProfile": {
            "imageReference": image_ref,
            "osDisk": put.os_disk,
            "dataDisks": [],
            "diskControllerType": "SCSI",
        },
        "osProfile": put.os_profile,
        "networkProfile": {"networkInterfaces": put.nic_refs},
        "provisioningState": "Creating",
        "timeCreated": existing["properties"]["timeCreated"] if existing else utcnow(),
    }
    add_caps = props.get("additionalCapabilities") or {}
    if add_caps:
        p["additionalCapabilities"] = {k: v for k, v in add_caps.items() if v is not None}
    if put.sec_type:
        p["securityProfile"] = {
            "uefiSettings": {
                "secureBootEnabled": bool(put.uefi.get("secureBootEnabled", False)),
                "vTpmEnabled": bool(put.uefi.get("vTpmEnabled", False)),
            },
            "securityType": put.sec_type,
        }
    if put.license_type and put.license_type != "None":
        p["licenseType"] = put.license_type
    boot = (props.get("diagnosticsProfile") or {}).get("bootDiagnostics") or {}
    if boot:
        p["diagnosticsProfile"] = {"bootDiagnostics": {"enabled": bool(boot.get("enabled", False))}}
    priority = validate.enum(props, "priority", ["Regular", "Low", "Spot"])
    if priority:
        p["priority"] = priority
    res["properties"] = p
    return res


def _os_disk_resource(put: VmPut, vm_id: str) -> dict[str, Any]:
    """The managed disk Azure creates with the VM (shown while the VM provisions)."""
    image, osd, arm = put.image, put.os_disk, put.arm
    assert image is not None
    storage_type, disk_gb = osd["managedDisk"]["storageAccountType"], osd["diskSizeGB"]
    disk: dict[str, Any] = {
        "id": osd["managedDisk"]["id"],
        "name": osd["name"],
        "type": DISK,
        "location": put.location,
        "managedBy": vm_id,
        "sku": {"name": storage_type, "tier": storage_type.split("_")[0].replace("StandardSSD", "Standard")},
        "properties": {
            "osType": osd["osType"],
            "hyperVGeneration": image.hyper_v_generation,
            "supportsHibernation": True,
            "supportedCapabilities": {
                "diskControllerTypes": "SCSI, NVMe",
                "acceleratedNetwork": True,
                "architecture": "x64",
            },
            "creationData": {"createOption": "FromImage"},
            "diskSizeGB": disk_gb,
            "diskIOPSReadWrite": 500,
            "diskMBpsReadWrite": 100,
            "encryption": {"type": "EncryptionAtRestWithPlatformKey"},
            "networkAccessPolicy": "AllowAll",
            "publicNetworkAccess": "Enabled",
            "timeCreated": utcnow(),
            "provisioningState": "Succeeded",
            "diskState": "Attached",
            "diskSizeBytes": disk_gb * 1024**3,
            "uniqueId": str(uuid.uuid4()),
        },
    }
    if put.gallery is not None:
        disk["properties"]["creationData"]["galleryImageReference"] = {"id": put.gallery.version["id"]}
    else:
        disk["properties"]["creationData"]["imageReference"] = {
            "id": f"/Subscriptions/{arm.sub}/Providers/Microsoft.Compute/Locations/{put.location}"
            f"/Publishers/{image.publisher}/ArtifactTypes/VMImage/Offers/{image.offer}"
            f"/Skus/{image.sku}/Versions/{put.exact}"
        }
    if storage_type.startswith("Premium"):
        disk["properties"]["tier"] = "P10"
    if put.sec_type:
        disk["properties"]["securityProfile"] = {"securityType": put.sec_type}
    return disk


def _store_side_effects(put: VmPut, res: dict[str, Any]) -> None:
    """Metadata, the OS disk resource and the admin password (kept in memory until provisioned)."""
    arm, existing, image = put.arm, put.existing, put.image
    assert image is not None
    user_data = put.props.get("userData")
    if user_data is not None:
        arm.meta(res["id"])["userData"] = user_data
    meta = arm.meta(res["id"])
    meta.setdefault("power", "creating" if existing is None else power_of(arm, existing))
    meta["hyperVGeneration"] = image.hyper_v_generation
    if put.gallery is not None:
        meta["source_image"] = dict(put.gallery.source)
        meta["image_version_id"] = put.gallery.version["id"].lower()
        meta["gallery_features"] = {
            "hyper_v_generation": image.hyper_v_generation,
            "security_feature": image.security_feature,
            "os_disk_gb": image.os_disk_gb,
        }
    if existing is None:
        arm.store(_os_disk_resource(put, res["id"]))
        if put.password is not None:
            arm._volatile[res["id"].lower()] = {"password": put.password}
        return
    disk = arm.get(put.os_disk["managedDisk"]["id"])
    if disk is not None:
        disk["properties"]["diskSizeGB"] = put.os_disk["diskSizeGB"]
        disk["properties"]["diskSizeBytes"] = put.os_disk["diskSizeGB"] * 1024**3
        disk["sku"]["name"] = put.os_disk["managedDisk"]["storageAccountType"]


VM_PUT_STEPS = (
    _check_name_and_location,
    _refuse_unmodelled_features,
    _choose_size,
    _choose_os_disk,
    _choose_security,
    _choose_license,
    _choose_os_profile,
    _choose_nics,
    _check_the_rest,
)


def _run_command_input(body: dict[str, Any], command: str) -> tuple[list[str], list[dict[str, Any]]]:
    """(script lines, parameters) of a RunPowerShellScript run command."""
    if command != "RunPowerShellScript":
        if command in RUN_COMMANDS_NOT_MODELLED:
            raise Unmodelled(f"run command '{command}' is not modelled (RunPowerShellScript only)")
        raise InvalidParameter(f"Command '{command}' is not a valid command id.", target="commandId")
    script = body.get("script")
    if not isinstance(script, list) or not script or not all(isinstance(s, str) for s in script):
        raise InvalidParameter("The script must be a non-empty list of lines.", target="script")
    params = body.get("parameters") or []
    for p in params:
        if not isinstance(p, dict) or not p.get("name") or "value" not in p:
            raise InvalidParameter("Each parameter needs a name and a value.", target="parameters")
    return script, params


def _instance_status(code: str, message: str) -> dict[str, str]:
    return {"code": code, "level": "Info", "displayStatus": "Provisioning succeeded", "message": message}


def source_image_ref(arm: Arm, res: dict[str, Any]) -> dict[str, Any]:
    """The marketplace image (publisher, offer, sku, exactVersion) a VM's Windows comes from: its
    own imageReference, or for a VM from a gallery image version the image that version was
    captured from."""
    ref = res["properties"]["storageProfile"]["imageReference"]
    if ref.get("id"):
        return arm.internal[res["id"].lower()]["source_image"]
    return ref


# --------------------------------------------------------------------------------------------------
class VmHandler(ResourceHandler):
    def build(self, arm: Arm, req: Request, rid: str, existing: dict[str, Any] | None) -> dict[str, Any]:
        put = VmPut(arm, rid, req.body, existing)
        for step in VM_PUT_STEPS:
            step(put)
        res = _vm_resource(put)
        _store_side_effects(put, res)
        return res

    def after_store(
        self, arm: Arm, req: Request, res: dict[str, Any], existing: dict[str, Any] | None
    ) -> None:
        sync_dynamic_pips(arm, res)

    def patch(self, arm: Arm, req: Request, existing: dict[str, Any]) -> dict[str, Any]:
        body = req.body or {}
        if set(body) - {"tags"}:
            raise Unmodelled("PATCH of a virtual machine beyond tags is not modelled")
        existing["tags"] = validate.tags(body.get("tags") or {})
        return existing

    # ---- lifecycle hooks ------------------------------------------------------------------------
    def on_provisioned(self, arm: Arm, res: dict[str, Any], created: bool) -> None:
        lid = res["id"].lower()
        meta = arm.meta(lid)
        if not created:
            return
        secret = arm._volatile.pop(lid, None)
        if secret is None:
            res["properties"]["provisioningState"] = "Failed"
            meta["power"] = "stopped"
            meta["provisioning_error"] = "OSProvisioningInternalError"
            return
        meta["power"] = "running"
        sync_dynamic_pips(arm, res)
        if arm.guests is not None:
            ref = source_image_ref(arm, res)
            sec = res["properties"].get("securityProfile") or {}
            spec = VmSpec(
                vm_id=lid,
                computer_name=res["properties"]["osProfile"]["computerName"],
                admin_username=res["properties"]["osProfile"]["adminUsername"],
                admin_password=secret["password"],
                image=SourceImage(ref["publisher"], ref["offer"], ref["sku"], ref["exactVersion"]),
                security_type=sec.get("securityType"),
                secure_boot=bool(sec.get("uefiSettings", {}).get("secureBootEnabled")),
                vtpm=bool(sec.get("uefiSettings", {}).get("vTpmEnabled")),
                image_version_id=meta.get("image_version_id"),
            )
            arm.guests.vm_created(spec)
            meta["guest_created"] = True
            arm.guests.vm_address(lid, arm.vm_public_address(lid))
            arm.guests.vm_power(lid, "running")

    def on_failed(self, arm: Arm, res: dict[str, Any]) -> None:
        arm._volatile.pop(res["id"].lower(), None)
        arm.meta(res["id"])["power"] = "stopped"

    def on_deleted(self, arm: Arm, res: dict[str, Any]) -> None:
        lid = res["id"].lower()
        meta = arm.internal.get(lid, {})
        if arm.guests is not None and meta.get("guest_created"):
            arm.guests.vm_deleted(lid)
        arm._volatile.pop(lid, None)
        arm.image_state_override.pop(lid, None)
        os_disk = res["properties"]["storageProfile"]["osDisk"]
        disk = arm.get(os_disk["managedDisk"]["id"])
        if disk is not None:
            if os_disk.get("deleteOption") == "Delete":
                arm.remove(disk["id"])
            else:
                disk.pop("managedBy", None)
                disk["properties"]["diskState"] = "Unattached"
        nic_refs = res["properties"]["networkProfile"]["networkInterfaces"]
        # Release dynamic public IPs of its NICs, then detach (or delete) the NICs.
        meta["power"] = "deallocated"
        res_copy = dict(res)
        sync_dynamic_pips(arm, res_copy)
        arm.remove(lid)
        for ref in nic_refs:
            nic = arm.get(ref["id"])
            if nic is None:
                continue
            arm.internal.get(nic["id"].lower(), {}).pop("mac", None)
            nic["properties"].pop("macAddress", None)
            if ref.get("properties", {}).get("deleteOption") == "Delete":
                delete_resource(arm, nic["id"])

    def on_restart(self, arm: Arm, res: dict[str, Any]) -> None:
        lid = res["id"].lower()
        meta = arm.internal.get(lid, {})
        if arm.guests is not None and meta.get("guest_created"):
            arm.guests.vm_address(lid, arm.vm_public_address(lid))
            arm.guests.vm_power(lid, meta.get("power", "running"))

    # ---- rendering -----------------------------------------------------------------------------
    def instance_view(self, arm: Arm, res: dict[str, Any]) -> dict[str, Any]:
        meta = arm.internal.get(res["id"].lower(), {})
        power = meta.get("power", "running")
        ps = res["properties"]["provisioningState"]
        statuses = [
            {
                "code": f"ProvisioningState/{ps.lower()}",
                "level": "Info" if ps != "Failed" else "Error",
                "displayStatus": f"Provisioning {ps.lower()}",
                "time": res["properties"]["timeCreated"],
            }
        ]
        if meta.get("generalized"):
            statuses.append(
                {"code": "OSState/generalized", "level": "Info", "displayStatus": "VM generalized"}
            )
        shown = {"creating": "starting"}.get(power, power)
        statuses.append(
            {
                "code": f"PowerState/{shown}",
                "level": "Info",
                "displayStatus": POWER_DISPLAY.get(shown, f"VM {shown}"),
            }
        )
        osd = res["properties"]["storageProfile"]["osDisk"]
        source = source_image_ref(arm, res)
        view: dict[str, Any] = {
            "computerName": res["properties"]["osProfile"]["computerName"],
            "osName": "Windows 11 Enterprise multi-session" if "avd" in source["sku"].lower() else "Windows",
            "osVersion": source["exactVersion"].rsplit(".", 1)[0],
            "hyperVGeneration": meta.get("hyperVGeneration", "V2"),
            "disks": [
                {
                    "name": osd["name"],
                    "statuses": [
                        {
                            "code": "ProvisioningState/succeeded",
                            "level": "Info",
                            "displayStatus": "Provisioning succeeded",
                            "time": res["properties"]["timeCreated"],
                        }
                    ],
                }
            ],
            "statuses": statuses,
        }
        if power == "running":
            view["vmAgent"] = {
                "vmAgentVersion": "2.7.41491.1102",
                "statuses": [
                    {
                        "code": "ProvisioningState/succeeded",
                        "level": "Info",
                        "displayStatus": "Ready",
                        "message": "GuestAgent is running and processing the extensions.",
                        "time": utcnow(),
                    }
                ],
            }
        return view

    def get(self, arm: Arm, req: Request, res: dict[str, Any]) -> dict[str, Any]:
        out = arm.render(res)
        assert out is not None
        expand = (req.query.get("$expand") or "").lower()
        if expand == "instanceview":
            out["properties"]["instanceView"] = self.instance_view(arm, res)
        elif expand == "userdata":
            ud = arm.internal.get(res["id"].lower(), {}).get("userData")
            if ud is not None:
                out["properties"]["userData"] = ud
        elif expand:
            raise Unmodelled(f"$expand={req.query.get('$expand')} on virtual machines is not modelled")
        return out

    # ---- actions -------------------------------------------------------------------------------
    @property
    def actions(self) -> dict[str, Any]:
        return {
            "poweroff": self._power_action("powerOff", "stopping"),
            "deallocate": self._power_action("deallocate", "deallocating"),
            "start": self._power_action("start", "starting"),
            "restart": self._power_action("restart", "running"),
            "generalize": self._generalize,
            "runcommand": self._run_command,
            "instanceview": self._instance_view_route,
        }

    def _instance_view_route(self, arm: Arm, req: Request, res: dict[str, Any]) -> Response:
        if req.method != "GET":
            raise Unmodelled(f"{req.method} instanceView is not modelled")
        return Response(200, self.instance_view(arm, res))

    def _busy(self, arm: Arm, res: dict[str, Any], op: str) -> None:
        if arm.pending_op_for(res["id"]):
            raise OperationNotAllowed(
                f"Operation '{op}' is not allowed on VM '{res['name']}' since the VM is marked for "
                "deletion or "
                "another operation is in progress.",
            )
        if res["properties"]["provisioningState"] == "Failed" and op != "delete":
            raise OperationNotAllowed(
                f"Operation '{op}' is not allowed on VM '{res['name']}' since its provisioning failed."
            )

    def _power_action(self, op_name: str, transitional: str) -> Any:
        def run(arm: Arm, req: Request, res: dict[str, Any]) -> Response:
            if req.method != "POST":
                raise Unmodelled(f"{req.method} {op_name} is not modelled")
            self._busy(arm, res, op_name)
            meta = arm.meta(res["id"])
            if meta.get("generalized") and op_name in ("start", "restart"):
                raise OperationNotAllowed(
                    f"Operation '{op_name}' is not allowed on VM '{res['name']}' since the VM is generalized."
                )
            if op_name == "restart" and meta.get("power") != "running":
                raise OperationNotAllowed(
                    f"Operation 'restart' is not allowed on VM '{res['name']}' since the VM is not running."
                )
            if req.query.get("skipShutdown") not in (None, "true", "false", "True", "False"):
                raise InvalidParameter("skipShutdown must be true or false.")
            meta["previous_power"] = meta.get("power")
            meta["power"] = transitional
            _opid, headers = arm.start_op(
                req, "Microsoft.Compute", res["location"], "action", res["id"], action=op_name
            )
            return Response(202, None, headers)

        return run

    def complete_action(self, arm: Arm, res: dict[str, Any], action: str, args: dict[str, Any]) -> Any:
        lid = res["id"].lower()
        meta = arm.meta(lid)
        if action == "runCommand":
            meta["power"] = meta.get("previous_power") or "running"
            return args.get("output")
        new = {"powerOff": "stopped", "deallocate": "deallocated", "start": "running", "restart": "running"}[
            action
        ]
        meta["power"] = new
        sync_dynamic_pips(arm, res)
        if arm.guests is not None and meta.get("guest_created"):
            if action == "restart":
                arm.guests.vm_power(lid, "stopped")
            arm.guests.vm_address(lid, arm.vm_public_address(lid))
            arm.guests.vm_power(lid, new)
        return None

    def fail_action(self, arm: Arm, res: dict[str, Any], action: str, args: dict[str, Any]) -> None:
        meta = arm.meta(res["id"])
        meta["power"] = meta.get("previous_power") or meta.get("power")

    def _image_state(self, arm: Arm, lid: str) -> str:
        override = arm.image_state_override.get(lid)
        if override:
            return override
        if arm.guests is not None and arm.internal.get(lid, {}).get("guest_created"):
            return arm.guests.image_state(lid)
        # No guest side: the VM is exactly as deployed, and a deployed image is IMAGE_STATE_COMPLETE.
        return "IMAGE_STATE_COMPLETE"

    def _generalize(self, arm: Arm, req: Request, res: dict[str, Any]) -> Response:
        if req.method != "POST":
            raise Unmodelled(f"{req.method} generalize is not modelled")
        self._busy(arm, res, "generalize")
        lid = res["id"].lower()
        meta = arm.meta(lid)
        if meta.get("power") not in ("stopped", "deallocated"):
            raise OperationNotAllowed(
                f"Operation 'generalize' is not allowed on VM '{res['name']}' since the VM is running. "
                "Please "
                "stop or deallocate the VM and try again."
            )
        state = self._image_state(arm, lid)
        if state != IMAGE_STATE_READY:
            raise OperationNotAllowed(
                f"Operation 'generalize' is not allowed on VM '{res['name']}': the guest OS has not been "
                f"generalized with Sysprep (ImageState is {state}, expected {IMAGE_STATE_READY}). Run "
                "'sysprep /generalize /oobe /mode:vm /shutdown' in the VM first."
            )
        meta["generalized"] = True
        return Response(200)

    def _run_command(self, arm: Arm, req: Request, res: dict[str, Any]) -> Response:
        if req.method != "POST":
            raise Unmodelled(f"{req.method} runCommand is not modelled")
        body = req.body
        if not isinstance(body, dict):
            raise json_object_required()
        validate.check_members(body, f"compute/{API}/RunCommandInput", "RunCommandInput")
        command = validate.require(body, "commandId")
        self._busy(arm, res, "runCommand")
        lid = res["id"].lower()
        meta = arm.meta(lid)
        if meta.get("power") != "running" or meta.get("generalized"):
            raise OperationNotAllowed("The operation requires the VM to be running (or set to run).")
        script, params = _run_command_input(body, command)
        if arm.guests is None or not meta.get("guest_created"):
            raise NotModelled(
                "run command needs the sandbox's Windows side (sandbox.windows.host), which is not "
                "installed; "
                "the sandbox never fakes a script's effect"
            )
        result = arm.guests.run_command(lid, "\n".join(script), params)
        output = {
            "value": [
                _instance_status(f"ComponentStatus/{name}/succeeded", text)
                for name, text in (("StdOut", result.stdout), ("StdErr", result.stderr))
            ]
        }
        meta["previous_power"] = meta.get("power")
        _opid, headers = arm.start_op(
            req,
            "Microsoft.Compute",
            res["location"],
            "action",
            res["id"],
            action="runCommand",
            args={"output": output},
        )
        return Response(202, None, headers)


class DiskHandler(ResourceHandler):
    def check_delete(self, arm: Arm, req: Request, res: dict[str, Any]) -> None:
        if res.get("managedBy"):
            raise OperationNotAllowed(
                f"Disk {res['name']} is attached to VM {res['managedBy']}.",
            )

    def build(self, arm: Arm, req: Request, rid: str, existing: dict[str, Any] | None) -> dict[str, Any]:
        raise Unmodelled("creating or updating managed disks directly is not modelled")


class ExtensionHandler(ResourceHandler):
    """VM extensions: VMAccessAgent only. Its protectedSettings (the password) are never stored or
    returned, as in Azure; the guest gets the password when the PUT's operation succeeds."""

    def build(self, arm: Arm, req: Request, rid: str, existing: dict[str, Any] | None) -> dict[str, Any]:
        body = req.body
        if not isinstance(body, dict):
            raise json_object_required()
        vm_id = rid.rsplit("/", 2)[0]
        vm = arm.get(vm_id)
        if vm is None:
            raise NotFound(
                "ParentResourceNotFound",
                f"The parent resource '{VM}/{vm_id.rsplit('/', 1)[-1]}' was not found.",
            )
        loc = arm.check_location(body.get("location"))
        if loc != vm["location"]:
            raise InvalidParameter(
                f"The extension must be in the VM's location '{vm['location']}'.", target="location"
            )
        props = validate.require(body, "properties")
        publisher, kind = validate.require(props, "publisher"), validate.require(props, "type")
        if (publisher, kind) != VMACCESS:
            raise Unmodelled(f"VM extension {publisher}/{kind} is not modelled (VMAccessAgent only)")
        validate.require(props, "typeHandlerVersion")
        meta = arm.meta(vm_id)
        if meta.get("power") != "running" or meta.get("generalized"):
            raise OperationNotAllowed(
                f"Cannot modify extensions in the VM when the VM is not running ({vm['name']})."
            )
        settings = props.get("settings") or {}
        protected = props.get("protectedSettings") or {}
        user, password = settings.get("UserName"), protected.get("Password")
        if not isinstance(user, str) or not user:
            raise InvalidParameter("VMAccessAgent needs settings.UserName.", target="settings")
        if not isinstance(password, str):
            raise InvalidParameter(
                "VMAccessAgent needs protectedSettings.Password.", target="protectedSettings"
            )
        check_password(password, True)
        arm._volatile[rid.lower()] = {"user": user, "password": password}
        return {
            "id": existing["id"] if existing else rid,
            "name": existing["name"] if existing else rid.rsplit("/", 1)[-1],
            "type": EXTENSION,
            "location": loc,
            "tags": validate.body_tags(body) or {},
            "properties": {
                "publisher": publisher,
                "type": kind,
                "typeHandlerVersion": props["typeHandlerVersion"],
                "autoUpgradeMinorVersion": bool(props.get("autoUpgradeMinorVersion", False)),
                "settings": settings,
            },
        }

    def on_provisioned(self, arm: Arm, res: dict[str, Any], created: bool) -> None:
        secret = arm._volatile.pop(res["id"].lower(), None)
        vm_id = res["id"].rsplit("/", 2)[0].lower()
        if secret is not None and arm.guests is not None and arm.internal.get(vm_id, {}).get("guest_created"):
            arm.guests.set_admin_password(vm_id, secret["user"], secret["password"])

    def on_failed(self, arm: Arm, res: dict[str, Any]) -> None:
        arm._volatile.pop(res["id"].lower(), None)
