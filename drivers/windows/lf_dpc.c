/* lf_dpc.c - DPC watchdog violations (bug check 0x133).
 *
 * Single: one timer DPC spins in KeStallExecutionProcessor past the per-DPC limit
 * (Arg1 = 0). Cumulative: every DPC is short, but it re-queues itself, and the DPC
 * drain loop runs the queue until it is empty, so the processor never leaves
 * DISPATCH_LEVEL and the cumulative limit trips instead (Arg1 = 1).
 */
#include "lf_driver.h"

static KDEFERRED_ROUTINE lf_dpc_single;
static KDEFERRED_ROUTINE lf_dpc_cumulative;
static BOOLEAN lf_dpc_ready;
static ULONG lf_dpc_stall_ms;

static void lf_dpc_finished(void)
{
    KIRQL irql;
    KeAcquireSpinLock(&lf.lock, &irql);
    if (lf.gt.fault == LABFAULT_DPC_WATCHDOG_SINGLE || lf.gt.fault == LABFAULT_DPC_WATCHDOG_CUMULATIVE) {
        lf_gt_state(LABFAULT_STATE_DONE);
        lf_gt_set("dpc_runs", (ULONG64)lf.dpc_runs);
    }
    KeReleaseSpinLock(&lf.lock, irql);
}

static VOID lf_dpc_single(PKDPC dpc, PVOID ctx, PVOID a1, PVOID a2)
{
    UNREFERENCED_PARAMETER(dpc);
    UNREFERENCED_PARAMETER(ctx);
    UNREFERENCED_PARAMETER(a1);
    UNREFERENCED_PARAMETER(a2);
    InterlockedIncrement(&lf.dpc_runs);
    /* stall_ms == 0 spins until the watchdog (or unload) stops it. */
    for (ULONG ms = 0; !lf.dpc_stop && (lf_dpc_stall_ms == 0 || ms < lf_dpc_stall_ms); ms++)
        KeStallExecutionProcessor(1000);
    lf_dpc_finished();
}

static VOID lf_dpc_cumulative(PKDPC dpc, PVOID ctx, PVOID a1, PVOID a2)
{
    UNREFERENCED_PARAMETER(ctx);
    UNREFERENCED_PARAMETER(a1);
    UNREFERENCED_PARAMETER(a2);
    InterlockedIncrement(&lf.dpc_runs);
    KeStallExecutionProcessor(100);     /* far below the single-DPC limit */
    if (!lf.dpc_stop)
        KeInsertQueueDpc(dpc, NULL, NULL);
    else
        lf_dpc_finished();
}

NTSTATUS lf_dpc_fire(BOOLEAN cumulative, ULONG stall_ms)
{
    LARGE_INTEGER due;

    if (lf_dpc_ready) {
        KeCancelTimer(&lf.timer);
        KeFlushQueuedDpcs();
    }
    lf.dpc_stop = 0;
    lf.dpc_runs = 0;
    lf_dpc_stall_ms = stall_ms;
    KeInitializeTimer(&lf.timer);
    KeInitializeDpc(&lf.dpc, cumulative ? lf_dpc_cumulative : lf_dpc_single, NULL);
    lf_dpc_ready = TRUE;
    due.QuadPart = -10 * 10000;    /* 10 ms from now, in a timer DPC as the real bugs are */
    KeSetTimer(&lf.timer, due, &lf.dpc);
    return STATUS_SUCCESS;
}

void lf_dpc_unload(void)
{
    if (!lf_dpc_ready)
        return;
    lf.dpc_stop = 1;
    KeCancelTimer(&lf.timer);
    KeFlushQueuedDpcs();
}
