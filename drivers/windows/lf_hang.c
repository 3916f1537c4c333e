/* lf_hang.c - the Hang IRP (Myfault.sys style) and its cancelable control case.
 *
 * hang-irp pends the FIRE IRP with no cancel routine: when the caller's process exits,
 * the I/O manager cannot cancel the IRP and the process stays a zombie. hang-irp-cancel
 * sets a cancel routine, so killing the caller completes the IRP with STATUS_CANCELLED.
 * Ownership rule (the usual one): whoever clears the cancel routine with
 * IoSetCancelRoutine(irp, NULL) and gets the old routine back owns the IRP and
 * completes it; a cancel routine that has been called owns it too.
 */
#include "lf_driver.h"

static KDEFERRED_ROUTINE lf_hang_timeout;
static DRIVER_CANCEL lf_hang_cancel;

static BOOLEAN lf_hang_timer_ready;
static BOOLEAN lf_hang_timed[LF_MAX_HUNG_IRPS];
static BOOLEAN lf_hang_cancelable[LF_MAX_HUNG_IRPS];

/* Removes irp from its slot; returns FALSE if it is no longer there. lf.lock held. */
static BOOLEAN lf_hang_take_locked(PIRP irp)
{
    for (int i = 0; i < LF_MAX_HUNG_IRPS; i++)
        if (lf.hung[i] == irp) {
            lf.hung[i] = NULL;
            lf_hang_timed[i] = FALSE;
            return TRUE;
        }
    return FALSE;
}

static void lf_hang_done(PIRP irp, NTSTATUS st)
{
    KIRQL irql;

    KeAcquireSpinLock(&lf.lock, &irql);
    if (lf.gt.fault == LABFAULT_HANG_IRP || lf.gt.fault == LABFAULT_HANG_IRP_CANCEL) {
        lf_gt_state(LABFAULT_STATE_DONE);
        lf_gt_set("completed_status", (ULONG64)(ULONG)st);
    }
    KeReleaseSpinLock(&lf.lock, irql);
    irp->IoStatus.Status = st;
    irp->IoStatus.Information = 0;
    IoCompleteRequest(irp, IO_NO_INCREMENT);
}

static VOID lf_hang_cancel(PDEVICE_OBJECT dev, PIRP irp)
{
    KIRQL irql;
    BOOLEAN mine;

    UNREFERENCED_PARAMETER(dev);
    IoReleaseCancelSpinLock(irp->CancelIrql);
    KeAcquireSpinLock(&lf.lock, &irql);
    mine = lf_hang_take_locked(irp);
    KeReleaseSpinLock(&lf.lock, irql);
    if (mine)
        lf_hang_done(irp, STATUS_CANCELLED);
}

/* Completes every hung IRP that asked for a timeout (and, at unload, all of them). */
static void lf_hang_release(BOOLEAN all, NTSTATUS st)
{
    PIRP mine[LF_MAX_HUNG_IRPS];
    int n = 0;
    KIRQL irql;

    KeAcquireSpinLock(&lf.lock, &irql);
    for (int i = 0; i < LF_MAX_HUNG_IRPS; i++) {
        PIRP irp = lf.hung[i];
        if (!irp || (!all && !lf_hang_timed[i]))
            continue;
        /* A cancelable IRP whose routine is already gone is being cancelled right now:
         * the cancel routine will take it. */
        if (lf_hang_cancelable[i] && !IoSetCancelRoutine(irp, NULL))
            continue;
        lf.hung[i] = NULL;
        lf_hang_timed[i] = FALSE;
        mine[n++] = irp;
    }
    KeReleaseSpinLock(&lf.lock, irql);
    for (int i = 0; i < n; i++)
        lf_hang_done(mine[i], st);
}

static VOID lf_hang_timeout(PKDPC dpc, PVOID ctx, PVOID a1, PVOID a2)
{
    UNREFERENCED_PARAMETER(dpc);
    UNREFERENCED_PARAMETER(ctx);
    UNREFERENCED_PARAMETER(a1);
    UNREFERENCED_PARAMETER(a2);
    lf_hang_release(FALSE, STATUS_SUCCESS);
}

NTSTATUS lf_hang_fire(PIRP irp, BOOLEAN cancelable, ULONG timeout_ms)
{
    KIRQL irql;
    int slot = -1;

    KeAcquireSpinLock(&lf.lock, &irql);
    for (int i = 0; i < LF_MAX_HUNG_IRPS && slot < 0; i++)
        if (!lf.hung[i])
            slot = i;
    if (slot < 0) {
        KeReleaseSpinLock(&lf.lock, irql);
        irp->IoStatus.Status = STATUS_INSUFFICIENT_RESOURCES;
        irp->IoStatus.Information = 0;
        IoCompleteRequest(irp, IO_NO_INCREMENT);
        return STATUS_INSUFFICIENT_RESOURCES;
    }
    IoMarkIrpPending(irp);
    lf.hung[slot] = irp;
    lf_hang_timed[slot] = timeout_ms != 0;
    lf_hang_cancelable[slot] = cancelable;
    lf_gt_set("irp", (ULONG64)(ULONG_PTR)irp);
    lf_gt_set("irp_thread", (ULONG64)(ULONG_PTR)irp->Tail.Overlay.Thread);
    {
        ULONG64 n = 0;
        for (int i = 0; i < LF_MAX_HUNG_IRPS; i++)
            n += lf.hung[i] != NULL;
        lf_gt_set("hung_irps", n);
    }
    if (cancelable) {
        lf_gt_set("cancel_routine", (ULONG64)(ULONG_PTR)lf_hang_cancel);
        IoSetCancelRoutine(irp, lf_hang_cancel);
        if (irp->Cancel && IoSetCancelRoutine(irp, NULL)) {
            lf.hung[slot] = NULL;
            lf_hang_timed[slot] = FALSE;
            KeReleaseSpinLock(&lf.lock, irql);
            lf_hang_done(irp, STATUS_CANCELLED);
            return STATUS_PENDING;
        }
    }
    if (timeout_ms) {
        LARGE_INTEGER due;
        if (!lf_hang_timer_ready) {
            KeInitializeTimer(&lf.hang_timer);
            KeInitializeDpc(&lf.hang_dpc, lf_hang_timeout, NULL);
            lf_hang_timer_ready = TRUE;
        }
        due.QuadPart = -(LONGLONG)timeout_ms * 10000;
        KeSetTimer(&lf.hang_timer, due, &lf.hang_dpc);
    }
    KeReleaseSpinLock(&lf.lock, irql);
    return STATUS_PENDING;
}

void lf_hang_unload(void)
{
    if (lf_hang_timer_ready) {
        KeCancelTimer(&lf.hang_timer);
        KeFlushQueuedDpcs();
    }
    lf_hang_release(TRUE, STATUS_CANCELLED);
}
