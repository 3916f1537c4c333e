/* lf_lock.c - lock faults: an ABBA spin lock deadlock between the caller and a system
 * thread, and the ExSetResourceOwnerPointer self-deadlock.
 *
 * ABBA: each side takes its first lock, raises a flag, waits for the other's flag and
 * then asks for the other lock, so the deadlock does not depend on timing. With one
 * processor the caller spins at DISPATCH_LEVEL waiting for a thread that can never be
 * scheduled, which hangs the same way.
 *
 * Resource: after ExSetResourceOwnerPointer the exclusive owner is no longer the current
 * thread, so the thread's own recursive shared acquire waits for itself (ntdebugging,
 * "How To Deadlock Yourself").
 */
#include "lf_driver.h"

static KSTART_ROUTINE lf_abba_other;

static VOID lf_abba_other(PVOID ctx)
{
    KIRQL irql, irql2;
    KIRQL gl;

    UNREFERENCED_PARAMETER(ctx);
    KeAcquireSpinLock(&lf.lock, &gl);
    lf_gt_set("thread_b", (ULONG64)(ULONG_PTR)PsGetCurrentThread());
    KeReleaseSpinLock(&lf.lock, gl);

    KeAcquireSpinLock(&lf.lock_b, &irql);
    InterlockedExchange(&lf.abba_b_held, 1);
    while (!lf.abba_a_held)
        YieldProcessor();
    KeAcquireSpinLock(&lf.lock_a, &irql2);     /* never returns */
    KeReleaseSpinLock(&lf.lock_a, irql2);
    KeReleaseSpinLock(&lf.lock_b, irql);
    PsTerminateSystemThread(STATUS_SUCCESS);
}

NTSTATUS lf_lock_fire_abba(void)
{
    HANDLE h;
    OBJECT_ATTRIBUTES oa;
    KIRQL irql, irql2, gl;
    NTSTATUS st;

    lf.abba_a_held = 0;
    lf.abba_b_held = 0;
    InitializeObjectAttributes(&oa, NULL, OBJ_KERNEL_HANDLE, NULL, NULL);
    st = PsCreateSystemThread(&h, SYNCHRONIZE, &oa, NULL, NULL, lf_abba_other, NULL);
    if (!NT_SUCCESS(st))
        return st;
    ZwClose(h);

    KeAcquireSpinLock(&lf.lock, &gl);
    lf_gt_set("thread_a", (ULONG64)(ULONG_PTR)PsGetCurrentThread());
    KeReleaseSpinLock(&lf.lock, gl);

    KeAcquireSpinLock(&lf.lock_a, &irql);
    InterlockedExchange(&lf.abba_a_held, 1);
    while (!lf.abba_b_held)
        YieldProcessor();
    KeAcquireSpinLock(&lf.lock_b, &irql2);     /* never returns */
    KeReleaseSpinLock(&lf.lock_b, irql2);
    KeReleaseSpinLock(&lf.lock_a, irql);
    return STATUS_SUCCESS;
}

NTSTATUS lf_lock_fire_resource(void)
{
    KIRQL gl;
    PERESOURCE res;
    ULONG_PTR owner;

    KeAcquireSpinLock(&lf.lock, &gl);
    res = lf.resource;
    lf.resource = NULL;     /* from here on it belongs to the deadlock, never freed */
    KeReleaseSpinLock(&lf.lock, gl);
    if (!res)
        return STATUS_INVALID_DEVICE_STATE;

    KeEnterCriticalRegion();
    ExAcquireResourceExclusiveLite(res, TRUE);
    /* Owner pointers must have the low two bits set; a stack address is what the
     * real-world offenders pass, and what !locks then reports as an unknown owner. */
    owner = (ULONG_PTR)&owner | 3;
    KeAcquireSpinLock(&lf.lock, &gl);
    lf_gt_set("owner_pointer", owner);
    lf_gt_set("waiting_thread", (ULONG64)(ULONG_PTR)PsGetCurrentThread());
    KeReleaseSpinLock(&lf.lock, gl);
    ExSetResourceOwnerPointer(res, (PVOID)owner);
    ExAcquireResourceSharedLite(res, TRUE);    /* waits for itself, forever */

    ExReleaseResourceLite(res);
    ExReleaseResourceForThreadLite(res, (ERESOURCE_THREAD)owner);
    KeLeaveCriticalRegion();
    return STATUS_SUCCESS;
}

void lf_lock_unload(void)
{
    lf.abba_a_held = 0;
    lf.abba_b_held = 0;
}
