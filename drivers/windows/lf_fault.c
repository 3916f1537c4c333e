/* lf_fault.c - ARM and FIRE: validate a request, allocate what its fault needs, report
 * the ground truth, and later run the fault in the caller's thread.
 *
 * The ranges below repeat drivers/catalogue/catalogue.c on purpose: the agent checks
 * parameters with the catalogue, but the driver cannot trust its caller.
 */
#include "lf_driver.h"

static BOOLEAN lf_tag_ok(const char tag[8])
{
    int n = 0;
    while (n < 4 && tag[n])
        n++;
    if (n == 0)
        return FALSE;
    for (int i = 0; i < n; i++)
        if (tag[i] < 0x20 || tag[i] > 0x7e)
            return FALSE;
    for (int i = n; i < 8; i++)
        if (tag[i])
            return FALSE;
    return TRUE;
}

/* Windows tags read backwards in memory: "Lab1" -> 0x3162614C; short tags pad with spaces. */
ULONG lf_tag_value(const char tag[8])
{
    ULONG v = 0;
    for (int i = 3; i >= 0; i--) {
        UCHAR c = (UCHAR)tag[i];
        v = (v << 8) | (c ? c : ' ');
    }
    return v;
}

static BOOLEAN lf_message_ok(const char msg[128])
{
    for (int i = 0; i < 128; i++)
        if (!msg[i])
            return TRUE;
    return FALSE;
}

static BOOLEAN lf_args_in(const struct labfault_request *r, int nargs)
{
    for (int i = nargs; i < LABFAULT_MAX_ARGS; i++)
        if (r->arg[i])
            return FALSE;
    return TRUE;
}

/* Frees what an armed but never fired fault holds. */
void lf_disarm(void)
{
    KIRQL irql;
    PVOID block;
    PERESOURCE res;

    KeAcquireSpinLock(&lf.lock, &irql);
    block = lf.block;
    res = lf.resource;
    lf.block = NULL;
    lf.resource = NULL;
    KeReleaseSpinLock(&lf.lock, irql);
    if (block)
        ExFreePoolWithTag(block, LF_POOL_TAG);
    if (res) {
        ExDeleteResourceLite(res);
        ExFreePoolWithTag(res, LF_POOL_TAG);
    }
}

static NTSTATUS lf_check(const struct labfault_request *r)
{
    const lf_u64 *a = r->arg;

    if (!lf_message_ok(r->message))
        return STATUS_INVALID_PARAMETER;
    if (r->fault != LABFAULT_POOL_LEAK)
        for (int i = 0; i < 8; i++)
            if (r->tag[i])
                return STATUS_INVALID_PARAMETER;
    if (r->fault != LABFAULT_BUGCHECK && r->message[0])
        return STATUS_INVALID_PARAMETER;

    switch (r->fault) {
    case LABFAULT_HANG_IRP:
    case LABFAULT_HANG_IRP_CANCEL:
        return lf_args_in(r, 1) && a[0] <= 3600000 ? STATUS_SUCCESS : STATUS_INVALID_PARAMETER;
    case LABFAULT_DPC_WATCHDOG_SINGLE:
        return lf_args_in(r, 1) && a[0] <= 3600000 ? STATUS_SUCCESS : STATUS_INVALID_PARAMETER;
    case LABFAULT_SPINLOCK_DEADLOCK:
    case LABFAULT_RESOURCE_SELF_DEADLOCK:
    case LABFAULT_DPC_WATCHDOG_CUMULATIVE:
    case LABFAULT_HIGH_IRQL_FAULT:
    case LABFAULT_STACK_OVERFLOW:
    case LABFAULT_STACK_TRASH:
    case LABFAULT_NULL_DEREF:
        return lf_args_in(r, 0) ? STATUS_SUCCESS : STATUS_INVALID_PARAMETER;
    case LABFAULT_DOUBLE_FREE:
    case LABFAULT_USE_AFTER_FREE:
        return lf_args_in(r, 1) && a[0] >= 16 && a[0] <= 65536 ? STATUS_SUCCESS : STATUS_INVALID_PARAMETER;
    case LABFAULT_POOL_OVERRUN:
        return lf_args_in(r, 2) && a[0] >= 16 && a[0] <= 65536 && a[1] >= 1 && a[1] <= 4096
                   ? STATUS_SUCCESS : STATUS_INVALID_PARAMETER;
    case LABFAULT_POOL_LEAK:
        return lf_args_in(r, 4) && lf_tag_ok(r->tag) && a[0] >= 16 && a[0] <= 1048576 &&
                       a[1] >= 1 && a[1] <= 100000 && a[2] >= 1 && a[2] <= 3600000 && a[3] <= 1
                   ? STATUS_SUCCESS : STATUS_INVALID_PARAMETER;
    case LABFAULT_BUGCHECK:
        return lf_args_in(r, 5) && a[0] >= 1 && a[0] <= 0xffffffffu ? STATUS_SUCCESS
                                                                      : STATUS_INVALID_PARAMETER;
    default:
        return STATUS_INVALID_PARAMETER;
    }
}

NTSTATUS lf_arm(const struct labfault_request *req)
{
    NTSTATUS st = lf_check(req);
    KIRQL irql;
    PVOID block = NULL;
    PERESOURCE res = NULL;
    ULONG_PTR stack_low = 0, stack_high = 0;
    const lf_u64 *a = req->arg;

    if (!NT_SUCCESS(st))
        return st;

    if (lf_leak_busy())
        return STATUS_DEVICE_BUSY;
    lf_leak_reap_finished();   /* its blocks stay leaked until unload */
    lf_disarm();

    switch (req->fault) {
    case LABFAULT_POOL_OVERRUN:
    case LABFAULT_DOUBLE_FREE:
    case LABFAULT_USE_AFTER_FREE:
        block = ExAllocatePoolWithTag(NonPagedPoolNx, (SIZE_T)a[0], LF_POOL_TAG);
        if (!block)
            return STATUS_INSUFFICIENT_RESOURCES;
        RtlFillMemory(block, (SIZE_T)a[0], 0x5A);
        break;
    case LABFAULT_RESOURCE_SELF_DEADLOCK:
        res = ExAllocatePoolWithTag(NonPagedPoolNx, sizeof(ERESOURCE), LF_POOL_TAG);
        if (!res)
            return STATUS_INSUFFICIENT_RESOURCES;
        st = ExInitializeResourceLite(res);
        if (!NT_SUCCESS(st)) {
            ExFreePoolWithTag(res, LF_POOL_TAG);
            return st;
        }
        break;
    default:
        break;
    }
    IoGetStackLimits(&stack_low, &stack_high);

    KeAcquireSpinLock(&lf.lock, &irql);
    lf.req = *req;
    lf.block = block;
    lf.resource = res;
    lf_gt_reset(req->fault);
    lf_gt_state(LABFAULT_STATE_ARMED);
    lf_gt_add("thread", (ULONG64)(ULONG_PTR)PsGetCurrentThread());
    lf_gt_add("process", (ULONG64)(ULONG_PTR)PsGetCurrentProcess());
    lf_gt_add("gt_block", (ULONG64)(ULONG_PTR)lf.gt_block);
    switch (req->fault) {
    case LABFAULT_HANG_IRP:
    case LABFAULT_HANG_IRP_CANCEL:
        lf_gt_add("device", (ULONG64)(ULONG_PTR)lf.device);
        lf_gt_add("timeout_ms", a[0]);
        break;
    case LABFAULT_SPINLOCK_DEADLOCK:
        lf_gt_add("lock_a", (ULONG64)(ULONG_PTR)&lf.lock_a);
        lf_gt_add("lock_b", (ULONG64)(ULONG_PTR)&lf.lock_b);
        break;
    case LABFAULT_RESOURCE_SELF_DEADLOCK:
        lf_gt_add("eresource", (ULONG64)(ULONG_PTR)res);
        break;
    case LABFAULT_DPC_WATCHDOG_SINGLE:
    case LABFAULT_DPC_WATCHDOG_CUMULATIVE:
        lf_gt_add("dpc", (ULONG64)(ULONG_PTR)&lf.dpc);
        lf_gt_add("timer", (ULONG64)(ULONG_PTR)&lf.timer);
        lf_gt_add("stall_ms", a[0]);
        lf_gt_add("bugcheck", 0x133);
        lf_gt_add("arg1", req->fault == LABFAULT_DPC_WATCHDOG_CUMULATIVE ? 1 : 0);
        break;
    case LABFAULT_HIGH_IRQL_FAULT:
        lf_gt_add("address", LF_HIGH_IRQL_ADDRESS);
        lf_gt_add("irql", DISPATCH_LEVEL);
        lf_gt_add("lock", (ULONG64)(ULONG_PTR)&lf.lock_a);
        break;
    case LABFAULT_POOL_OVERRUN:
    case LABFAULT_DOUBLE_FREE:
    case LABFAULT_USE_AFTER_FREE:
        lf_gt_add("pool_block", (ULONG64)(ULONG_PTR)block);
        lf_gt_add("size", a[0]);
        lf_gt_add("tag", LF_POOL_TAG);
        if (req->fault == LABFAULT_POOL_OVERRUN)
            lf_gt_add("overrun", a[1]);
        break;
    case LABFAULT_STACK_OVERFLOW:
    case LABFAULT_STACK_TRASH:
        lf_gt_add("stack_base", stack_high);
        lf_gt_add("stack_limit", stack_low);
        break;
    case LABFAULT_POOL_LEAK:
        lf_gt_add("tag", lf_tag_value(req->tag));
        lf_gt_add("size", a[0]);
        lf_gt_add("rate", a[1]);
        lf_gt_add("duration_ms", a[2]);
        lf_gt_add("paged", a[3]);
        lf_gt_add("allocations", 0);
        lf_gt_add("bytes", 0);
        break;
    case LABFAULT_BUGCHECK:
        lf_gt_add("code", a[0]);
        lf_gt_add("p1", a[1]);
        lf_gt_add("p2", a[2]);
        lf_gt_add("p3", a[3]);
        lf_gt_add("p4", a[4]);
        break;
    case LABFAULT_NULL_DEREF:
        lf_gt_add("address", 0);
        break;
    }
    KeReleaseSpinLock(&lf.lock, irql);
    return STATUS_SUCCESS;
}

static NTSTATUS lf_finish(PIRP irp, NTSTATUS st)
{
    irp->IoStatus.Status = st;
    irp->IoStatus.Information = 0;
    IoCompleteRequest(irp, IO_NO_INCREMENT);
    return st;
}

/* The fire path's return addresses by its frame pointers (the driver keeps them), within
 * the thread's stack: used when RtlCaptureStackBackTrace finds none (Wine's cannot unwind
 * through the driver host's kernel-mode frames). */
static ULONG lf_walk_frames(ULONG64 *frames, ULONG max)
{
    ULONG_PTR lo = 0, hi = 0;
    ULONG_PTR *fp = __builtin_frame_address(0);
    ULONG n = 0;

    IoGetStackLimits(&lo, &hi);
    /* Wine's limits need not describe the stack the dispatch runs on; then 64 KiB above
     * this frame, the most a kernel stack holds. (On Windows the unwinder above works.) */
    if ((ULONG_PTR)fp < lo || (ULONG_PTR)fp >= hi) {
        lo = (ULONG_PTR)fp;
        hi = lo + 0x10000;
    }
    while (n < max && (ULONG_PTR)fp >= lo && (ULONG_PTR)fp + 2 * sizeof(ULONG_PTR) <= hi &&
           !((ULONG_PTR)fp & (sizeof(ULONG_PTR) - 1))) {
        ULONG_PTR *next = (ULONG_PTR *)fp[0];
        frames[n++] = fp[1];
        if (next <= fp)
            break;
        fp = next;
    }
    return n;
}

NTSTATUS lf_fire(PIRP irp)
{
    struct labfault_request req;
    KIRQL irql;
    PVOID raw[LABFAULT_GT_MAX_FRAMES];
    ULONG64 frames[LABFAULT_GT_MAX_FRAMES];
    ULONG nframes = RtlCaptureStackBackTrace(0, LABFAULT_GT_MAX_FRAMES, raw, NULL);

    for (ULONG i = 0; i < nframes; i++)
        frames[i] = (ULONG64)(ULONG_PTR)raw[i];
    if (nframes == 0)
        nframes = lf_walk_frames(frames, LABFAULT_GT_MAX_FRAMES);

    KeAcquireSpinLock(&lf.lock, &irql);
    if (lf.gt.state != LABFAULT_STATE_ARMED) {
        KeReleaseSpinLock(&lf.lock, irql);
        return lf_finish(irp, STATUS_INVALID_DEVICE_STATE);
    }
    req = lf.req;
    /* The arming process may be gone by now (arm and fire are two agent processes): the
     * thread that fires, and where it stands, are recorded here, before anything can hang
     * or crash, for STATUS and for the dump. */
    lf_gt_set("fire_thread", (ULONG64)(ULONG_PTR)PsGetCurrentThread());
    lf_gt_set("fire_sp", (ULONG64)(ULONG_PTR)&req);
    lf.gt.state = LABFAULT_STATE_FIRED;
    lf_gt_publish(frames, nframes);
    KeReleaseSpinLock(&lf.lock, irql);

    switch (req.fault) {
    case LABFAULT_HANG_IRP:
    case LABFAULT_HANG_IRP_CANCEL:
        return lf_hang_fire(irp, req.fault == LABFAULT_HANG_IRP_CANCEL, (ULONG)req.arg[0]);
    case LABFAULT_POOL_LEAK:
        return lf_finish(irp, lf_leak_start());
    case LABFAULT_DPC_WATCHDOG_SINGLE:
    case LABFAULT_DPC_WATCHDOG_CUMULATIVE:
        return lf_finish(irp, lf_dpc_fire(req.fault == LABFAULT_DPC_WATCHDOG_CUMULATIVE,
                                          (ULONG)req.arg[0]));
    case LABFAULT_SPINLOCK_DEADLOCK:
        return lf_finish(irp, lf_lock_fire_abba());
    case LABFAULT_RESOURCE_SELF_DEADLOCK:
        return lf_finish(irp, lf_lock_fire_resource());
    case LABFAULT_BUGCHECK:
        KeBugCheckEx((ULONG)req.arg[0], (ULONG_PTR)req.arg[1], (ULONG_PTR)req.arg[2],
                     (ULONG_PTR)req.arg[3], (ULONG_PTR)req.arg[4]);
    default:
        return lf_finish(irp, lf_mem_fire(req.fault));
    }
}
