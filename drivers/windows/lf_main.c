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

void lf_gt_reset(ULONG fault)
{
    RtlZeroMemory(&lf.gt, sizeof(lf.gt));
    lf.gt.abi_version = LABFAULT_ABI_VERSION;
    lf.gt.fault = fault;
}

void lf_gt_add(const char *name, ULONG64 value)
{
    if (lf.gt.count >= LABFAULT_MAX_ITEMS)
        return;
    lf_copy_name(lf.gt.item[lf.gt.count].name, name);
    lf.gt.item[lf.gt.count].value = value;
    lf.gt.count++;
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
    lf_gt_reset(LABFAULT_NONE);

    RtlInitUnicodeString(&name, LABFAULT_WIN_DEVICE_NAME);
    st = IoCreateDevice(drv, 0, &name, FILE_DEVICE_UNKNOWN, FILE_DEVICE_SECURE_OPEN, FALSE, &dev);
    if (!NT_SUCCESS(st))
        return st;
    RtlInitUnicodeString(&link, LABFAULT_WIN_LINK_NAME);
    st = IoCreateSymbolicLink(&link, &name);
    if (!NT_SUCCESS(st)) {
        IoDeleteDevice(dev);
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
