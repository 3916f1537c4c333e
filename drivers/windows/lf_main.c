/* lf_main.c - DriverEntry, DriverUnload and the IRP dispatch of labfault.sys.
 *
 * The IOCTL layer trusts nothing from user mode: every buffer length is checked
 * against the pinned ABI size before the system buffer is touched, and the request is
 * copied to a local before it is validated, so a later write by the caller (another
 * thread, METHOD_BUFFERED aside) cannot change what was checked.
 */
#include "lf_driver.h"

lf_globals lf;

DRIVER_INITIALIZE DriverEntry;
static DRIVER_UNLOAD lf_unload;
static DRIVER_DISPATCH lf_dispatch_create_close;
static DRIVER_DISPATCH lf_dispatch_ioctl;

static void lf_copy_name(char *dst, const char *src)
{
    size_t i = 0;
    for (; src[i] && i < sizeof(((struct labfault_item *)0)->name) - 1; i++)
        dst[i] = src[i];
    for (; i < sizeof(((struct labfault_item *)0)->name); i++)
        dst[i] = 0;
}

void lf_gt_publish(const ULONG64 *frames, ULONG nframes)
{
    struct labfault_gt_block *b = lf.gt_block;
    if (!b)
        return;
    b->truth = lf.gt;
    if (frames) {
        RtlZeroMemory(b->frames, sizeof(b->frames));
        for (ULONG i = 0; i < nframes && i < LABFAULT_GT_MAX_FRAMES; i++)
            b->frames[i] = frames[i];
        b->nframes = nframes < LABFAULT_GT_MAX_FRAMES ? nframes : LABFAULT_GT_MAX_FRAMES;
    }
    b->sequence++;
    b->checksum = labfault_gt_checksum(b);
}

void lf_gt_reset(ULONG fault)
{
    RtlZeroMemory(&lf.gt, sizeof(lf.gt));
    lf.gt.abi_version = LABFAULT_ABI_VERSION;
    lf.gt.fault = fault;
    if (lf.gt_block) {
        lf.gt_block->nframes = 0;
        RtlZeroMemory(lf.gt_block->frames, sizeof(lf.gt_block->frames));
    }
    lf_gt_publish(NULL, 0);
}

void lf_gt_state(ULONG state)
{
    lf.gt.state = state;
    lf_gt_publish(NULL, 0);
}

void lf_gt_add(const char *name, ULONG64 value)
{
    if (lf.gt.count >= LABFAULT_MAX_ITEMS)
        return;
    lf_copy_name(lf.gt.item[lf.gt.count].name, name);
    lf.gt.item[lf.gt.count].value = value;
    lf.gt.count++;
    lf_gt_publish(NULL, 0);
}

void lf_gt_set(const char *name, ULONG64 value)
{
    for (ULONG i = 0; i < lf.gt.count; i++) {
        const char *a = lf.gt.item[i].name, *b = name;
        while (*a && *a == *b) {
            a++;
            b++;
        }
        if (*a == *b) {
            lf.gt.item[i].value = value;
            lf_gt_publish(NULL, 0);
            return;
        }
    }
    lf_gt_add(name, value);
}

static NTSTATUS lf_complete(PIRP irp, NTSTATUS status, ULONG_PTR info)
{
    irp->IoStatus.Status = status;
    irp->IoStatus.Information = info;
    IoCompleteRequest(irp, IO_NO_INCREMENT);
    return status;
}

static NTSTATUS lf_dispatch_create_close(PDEVICE_OBJECT dev, PIRP irp)
{
    UNREFERENCED_PARAMETER(dev);
    return lf_complete(irp, STATUS_SUCCESS, 0);
}

/* The fault an IOCTL code arms, or LABFAULT_NONE. */
static ULONG lf_arm_fault_of(ULONG code)
{
    for (ULONG f = 1; f < LABFAULT_LAST; f++)
        if (code == LABFAULT_WIN_IOCTL_ARM(f))
            return f;
    return LABFAULT_NONE;
}

static NTSTATUS lf_dispatch_ioctl(PDEVICE_OBJECT dev, PIRP irp)
{
    PIO_STACK_LOCATION sp = IoGetCurrentIrpStackLocation(irp);
    ULONG code = sp->Parameters.DeviceIoControl.IoControlCode;
    ULONG in_len = sp->Parameters.DeviceIoControl.InputBufferLength;
    ULONG out_len = sp->Parameters.DeviceIoControl.OutputBufferLength;
    PVOID sysbuf = irp->AssociatedIrp.SystemBuffer;
    ULONG fault = lf_arm_fault_of(code);
    KIRQL irql;

    UNREFERENCED_PARAMETER(dev);

    if (fault != LABFAULT_NONE) {
        struct labfault_request req;
        NTSTATUS st;

        if (in_len != sizeof(req) || out_len != sizeof(lf.gt) || !sysbuf)
            return lf_complete(irp, STATUS_INFO_LENGTH_MISMATCH, 0);
        RtlCopyMemory(&req, sysbuf, sizeof(req));
        if (req.abi_version != LABFAULT_ABI_VERSION || req.fault != fault)
            return lf_complete(irp, STATUS_INVALID_PARAMETER, 0);
        st = lf_arm(&req);
        if (!NT_SUCCESS(st))
            return lf_complete(irp, st, 0);
        KeAcquireSpinLock(&lf.lock, &irql);
        RtlCopyMemory(sysbuf, &lf.gt, sizeof(lf.gt));
        KeReleaseSpinLock(&lf.lock, irql);
        return lf_complete(irp, STATUS_SUCCESS, sizeof(lf.gt));
    }

    switch (code) {
    case LABFAULT_WIN_IOCTL_FIRE:
        if (in_len != 0 || out_len != 0)
            return lf_complete(irp, STATUS_INFO_LENGTH_MISMATCH, 0);
        {
            /* lf_fire completes or pends the IRP itself (hang faults keep it). */
            return lf_fire(irp);
        }
    case LABFAULT_WIN_IOCTL_STATUS:
        if (in_len != 0 || out_len != sizeof(lf.gt) || !sysbuf)
            return lf_complete(irp, STATUS_INFO_LENGTH_MISMATCH, 0);
        KeAcquireSpinLock(&lf.lock, &irql);
        if (lf.gt.fault == LABFAULT_POOL_LEAK) {
            lf_gt_set("allocations", (ULONG64)lf.leak_count);
            lf_gt_set("bytes", (ULONG64)lf.leak_bytes);
        }
        RtlCopyMemory(sysbuf, &lf.gt, sizeof(lf.gt));
        KeReleaseSpinLock(&lf.lock, irql);
        return lf_complete(irp, STATUS_SUCCESS, sizeof(lf.gt));
    default:
        return lf_complete(irp, STATUS_INVALID_DEVICE_REQUEST, 0);
    }
}

/* Wine 8's ntoskrnl exports KeRegisterBugCheckReasonCallback as a stub that raises on
 * the call (and would end the driver host); its registry has HKLM\Software\Wine, which
 * no Windows has. Only the test host is told apart this way. */
static BOOLEAN lf_on_wine(void)
{
    UNICODE_STRING name;
    OBJECT_ATTRIBUTES oa;
    HANDLE h;

    RtlInitUnicodeString(&name, L"\\Registry\\Machine\\Software\\Wine");
    InitializeObjectAttributes(&oa, &name, OBJ_KERNEL_HANDLE | OBJ_CASE_INSENSITIVE, NULL, NULL);
    if (!NT_SUCCESS(ZwOpenKey(&h, KEY_READ, &oa)))
        return FALSE;
    ZwClose(h);
    return TRUE;
}

/* Runs inside KeBugCheckEx at HIGH_LEVEL: no locks, no allocation; the block is already
 * current (lf_gt_publish), it is only handed to the dump writer. */
static VOID lf_bugcheck_secondary(KBUGCHECK_CALLBACK_REASON reason, PKBUGCHECK_REASON_CALLBACK_RECORD rec,
                                  PVOID data, ULONG len)
{
    static const UCHAR guid[16] = { LABFAULT_GT_GUID_BYTES };
    PKBUGCHECK_SECONDARY_DUMP_DATA sd = data;

    UNREFERENCED_PARAMETER(rec);
    if (reason != KbCallbackSecondaryDumpData || len < sizeof(*sd) || !lf.gt_block ||
        sd->MaximumAllowed < sizeof(*lf.gt_block))
        return;
    RtlCopyMemory(&sd->Guid, guid, sizeof(guid));
    sd->OutBuffer = lf.gt_block;
    sd->OutBufferLength = sizeof(*lf.gt_block);
}

/* IoCreateDeviceSecure's effect without wdmsec.lib (mingw-w64 has none): a protected DACL
 * granting all access to LocalSystem and Administrators only (LABFAULT_WIN_SDDL), set on
 * the device object through a kernel handle. */
static NTSTATUS lf_secure_device(PDEVICE_OBJECT dev)
{
    static SID_IDENTIFIER_AUTHORITY nt = { SECURITY_NT_AUTHORITY };
    ULONG sys[4], adm[4];   /* a SID with one and two sub-authorities fits in 16 bytes */
    ULONG acl_buf[32];
    PACL acl = (PACL)acl_buf;
    SECURITY_DESCRIPTOR sd;
    HANDLE h;
    NTSTATUS st;

    RtlInitializeSid((PSID)sys, &nt, 1);
    *RtlSubAuthoritySid((PSID)sys, 0) = SECURITY_LOCAL_SYSTEM_RID;
    RtlInitializeSid((PSID)adm, &nt, 2);
    *RtlSubAuthoritySid((PSID)adm, 0) = SECURITY_BUILTIN_DOMAIN_RID;
    *RtlSubAuthoritySid((PSID)adm, 1) = DOMAIN_ALIAS_RID_ADMINS;
    st = RtlCreateAcl(acl, sizeof(acl_buf), ACL_REVISION);
    if (NT_SUCCESS(st))
        st = RtlAddAccessAllowedAce(acl, ACL_REVISION, FILE_ALL_ACCESS, (PSID)sys);
    if (NT_SUCCESS(st))
        st = RtlAddAccessAllowedAce(acl, ACL_REVISION, FILE_ALL_ACCESS, (PSID)adm);
    if (NT_SUCCESS(st))
        st = RtlCreateSecurityDescriptor(&sd, SECURITY_DESCRIPTOR_REVISION);
    if (NT_SUCCESS(st))
        st = RtlSetDaclSecurityDescriptor(&sd, TRUE, acl, FALSE);
    if (!NT_SUCCESS(st))
        return st;
    sd.Control |= SE_DACL_PROTECTED;
    st = ObOpenObjectByPointer(dev, OBJ_KERNEL_HANDLE, NULL, WRITE_DAC, NULL, KernelMode, &h);
    if (!NT_SUCCESS(st))
        return st;
    st = ZwSetSecurityObject(h, DACL_SECURITY_INFORMATION, &sd);
    ZwClose(h);
    return st;
}

static VOID lf_unload(PDRIVER_OBJECT drv)
{
    UNICODE_STRING link;

    lf_leak_unload();
    lf_dpc_unload();
    lf_hang_unload();
    lf_lock_unload();
    lf_disarm();
    RtlInitUnicodeString(&link, LABFAULT_WIN_LINK_NAME);
    IoDeleteSymbolicLink(&link);
    if (drv->DeviceObject)
        IoDeleteDevice(drv->DeviceObject);
    if (lf.bugcheck_cb_registered)
        KeDeregisterBugCheckReasonCallback(&lf.bugcheck_cb);
    if (lf.gt_block)
        ExFreePoolWithTag(lf.gt_block, LF_GT_TAG);
}

NTSTATUS DriverEntry(PDRIVER_OBJECT drv, PUNICODE_STRING reg)
{
    UNICODE_STRING name, link;
    PDEVICE_OBJECT dev = NULL;
    NTSTATUS st;

    UNREFERENCED_PARAMETER(reg);

    RtlZeroMemory(&lf, sizeof(lf));
    KeInitializeSpinLock(&lf.lock);
    KeInitializeSpinLock(&lf.lock_a);
    KeInitializeSpinLock(&lf.lock_b);
    lf.gt_block = ExAllocatePoolWithTag(NonPagedPoolNx, sizeof(*lf.gt_block), LF_GT_TAG);
    if (!lf.gt_block)
        return STATUS_INSUFFICIENT_RESOURCES;
    RtlZeroMemory(lf.gt_block, sizeof(*lf.gt_block));
    RtlCopyMemory(lf.gt_block->magic, LABFAULT_GT_MAGIC, sizeof(lf.gt_block->magic));
    lf.gt_block->size = sizeof(*lf.gt_block);
    lf.gt_block->self = (ULONG64)(ULONG_PTR)lf.gt_block;
    lf_gt_reset(LABFAULT_NONE);
    KeInitializeCallbackRecord((&lf.bugcheck_cb));   /* the DDK macro does not parenthesize */
    if (!lf_on_wine())
        lf.bugcheck_cb_registered = KeRegisterBugCheckReasonCallback(&lf.bugcheck_cb, lf_bugcheck_secondary,
                                                                     KbCallbackSecondaryDumpData, (PUCHAR)"labfault");

    RtlInitUnicodeString(&name, LABFAULT_WIN_DEVICE_NAME);
    st = IoCreateDevice(drv, 0, &name, FILE_DEVICE_UNKNOWN, FILE_DEVICE_SECURE_OPEN, FALSE, &dev);
    if (NT_SUCCESS(st)) {
        st = lf_secure_device(dev);
        if (!NT_SUCCESS(st))
            IoDeleteDevice(dev);
    }
    if (!NT_SUCCESS(st)) {
        if (lf.bugcheck_cb_registered)
            KeDeregisterBugCheckReasonCallback(&lf.bugcheck_cb);
        ExFreePoolWithTag(lf.gt_block, LF_GT_TAG);
        return st;
    }
    RtlInitUnicodeString(&link, LABFAULT_WIN_LINK_NAME);
    st = IoCreateSymbolicLink(&link, &name);
    if (!NT_SUCCESS(st)) {
        IoDeleteDevice(dev);
        if (lf.bugcheck_cb_registered)
            KeDeregisterBugCheckReasonCallback(&lf.bugcheck_cb);
        ExFreePoolWithTag(lf.gt_block, LF_GT_TAG);
        return st;
    }
    lf.device = dev;
    drv->MajorFunction[IRP_MJ_CREATE] = lf_dispatch_create_close;
    drv->MajorFunction[IRP_MJ_CLOSE] = lf_dispatch_create_close;
    drv->MajorFunction[IRP_MJ_DEVICE_CONTROL] = lf_dispatch_ioctl;
    drv->DriverUnload = lf_unload;
    dev->Flags &= ~DO_DEVICE_INITIALIZING;
    return STATUS_SUCCESS;
}
