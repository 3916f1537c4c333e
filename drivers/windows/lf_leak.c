/* lf_leak.c - pool-leak: a system thread allocates tagged pool at a rate for a duration
 * and never frees it, so poolmon (and the dump's pool tracker) shows the tag grow.
 *
 * The blocks are chained through their first pointer only so that DriverUnload can give
 * the memory back; until then nothing frees them, which is the point of the fault.
 * Time comes from KeQueryPerformanceCounter: the amd64 KeQueryInterruptTime macro reads
 * KUSER_SHARED_DATA, which Wine does not map at the kernel address.
 */
#include "lf_driver.h"

static KSTART_ROUTINE lf_leak_main;
static volatile LONG lf_leak_running;

static ULONG64 lf_now_ms(void)
{
    LARGE_INTEGER freq, now = KeQueryPerformanceCounter(&freq);
    if (freq.QuadPart <= 0)
        return 0;
    return (ULONG64)now.QuadPart / ((ULONG64)freq.QuadPart / 1000 ? (ULONG64)freq.QuadPart / 1000 : 1);
}

static VOID lf_leak_main(PVOID ctx)
{
    struct labfault_request req;
    KIRQL irql;
    ULONG64 start, total, done = 0;
    ULONG tag;
    LARGE_INTEGER tick;
    NTSTATUS result = STATUS_SUCCESS;

    UNREFERENCED_PARAMETER(ctx);
    KeAcquireSpinLock(&lf.lock, &irql);
    req = lf.req;
    KeReleaseSpinLock(&lf.lock, irql);

    tag = lf_tag_value(req.tag);
    total = req.arg[1] * req.arg[2] / 1000;
    if (total == 0)
        total = 1;
    start = lf_now_ms();
    tick.QuadPart = -10 * 10000;    /* 10 ms */

    while (!lf.leak_stop && done < total) {
        ULONG64 elapsed = lf_now_ms() - start;
        ULONG64 due = elapsed >= req.arg[2] ? total : req.arg[1] * elapsed / 1000;
        while (done < due && !lf.leak_stop) {
            PVOID old_head;
            PVOID *block = ExAllocatePoolWithTag(req.arg[3] ? PagedPool : NonPagedPoolNx,
                                                 (SIZE_T)req.arg[0], tag);
            if (!block) {
                result = STATUS_INSUFFICIENT_RESOURCES;
                goto out;
            }
            /* The link is written outside the spin lock: a paged block must not be
             * touched at DISPATCH_LEVEL. Only unload walks the list, after this thread. */
            KeAcquireSpinLock(&lf.lock, &irql);
            old_head = lf.leak_head;
            lf.leak_head = block;
            lf.leak_count++;
            lf.leak_bytes += (LONG64)req.arg[0];
            if (lf.gt.fault == LABFAULT_POOL_LEAK)
                lf_gt_set("last_block", (ULONG64)(ULONG_PTR)block);
            KeReleaseSpinLock(&lf.lock, irql);
            *block = old_head;
            done++;
        }
        if (done < total)
            KeDelayExecutionThread(KernelMode, FALSE, &tick);
    }
out:
    KeAcquireSpinLock(&lf.lock, &irql);
    if (lf.gt.fault == LABFAULT_POOL_LEAK) {
        lf_gt_set("allocations", (ULONG64)lf.leak_count);
        lf_gt_set("bytes", (ULONG64)lf.leak_bytes);
        if (result != STATUS_SUCCESS)
            lf_gt_set("failed_status", (ULONG64)(ULONG)result);
        lf_gt_state(LABFAULT_STATE_DONE);
    }
    KeReleaseSpinLock(&lf.lock, irql);
    InterlockedExchange(&lf_leak_running, 0);
    PsTerminateSystemThread(result);
}

NTSTATUS lf_leak_start(void)
{
    HANDLE h;
    OBJECT_ATTRIBUTES oa;
    NTSTATUS st;
    KIRQL irql;

    lf.leak_stop = 0;
    lf.leak_count = 0;
    lf.leak_bytes = 0;
    InterlockedExchange(&lf_leak_running, 1);
    /* A kernel handle: FIRE runs in the agent's process, whose handle table must not get it. */
    InitializeObjectAttributes(&oa, NULL, OBJ_KERNEL_HANDLE, NULL, NULL);
    st = PsCreateSystemThread(&h, SYNCHRONIZE, &oa, NULL, NULL, lf_leak_main, NULL);
    if (!NT_SUCCESS(st)) {
        InterlockedExchange(&lf_leak_running, 0);
        return st;
    }
    KeAcquireSpinLock(&lf.lock, &irql);
    lf.leak_thread = h;
    KeReleaseSpinLock(&lf.lock, irql);
    return STATUS_SUCCESS;
}

/* Stops the worker if it still runs and waits for it; frees the leaked blocks only at
 * unload (final = TRUE). Waiting on the handle (not a referenced object) keeps this to
 * the exports Wine implements as well as Windows does. */
static void lf_leak_reap(BOOLEAN final)
{
    HANDLE thread;
    KIRQL irql;

    KeAcquireSpinLock(&lf.lock, &irql);
    thread = lf.leak_thread;
    lf.leak_thread = NULL;
    KeReleaseSpinLock(&lf.lock, irql);
    if (thread) {
        if (final)
            lf.leak_stop = 1;
        ZwWaitForSingleObject(thread, FALSE, NULL);
        ZwClose(thread);
    }
    if (final) {
        PVOID *b = lf.leak_head;
        lf.leak_head = NULL;
        while (b) {
            PVOID *next = *b;
            ExFreePool(b);
            b = next;
        }
    }
}

BOOLEAN lf_leak_busy(void)
{
    return lf_leak_running != 0;
}

void lf_leak_reap_finished(void)
{
    lf_leak_reap(FALSE);
}

void lf_leak_unload(void)
{
    lf_leak_reap(TRUE);
}
