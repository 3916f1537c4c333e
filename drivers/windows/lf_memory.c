/* lf_memory.c - the memory faults: pool overrun, double free, use after free, a page
 * fault at DISPATCH_LEVEL, NULL dereference, stack overflow and stack trash.
 *
 * Each one does exactly the one wrong thing it is named after and reports where, so a
 * debugger looking at the dump can be checked against the ground truth. Accesses go
 * through volatile pointers so that the compiler cannot prove them undefined and drop
 * them.
 */
#include "lf_driver.h"

/* Not static and not constant-folded: the recursion must really happen. */
volatile ULONG lf_recursion_limit = 0xffffffffu;

__attribute__((noinline)) static ULONG lf_recurse(volatile UCHAR *prev, ULONG depth)
{
    volatile UCHAR frame[1024];

    frame[0] = (UCHAR)depth;
    frame[sizeof(frame) - 1] = prev ? prev[0] : 0;
    if (depth >= lf_recursion_limit)
        return frame[0];
    return lf_recurse(frame, depth + 1) + frame[sizeof(frame) - 1];
}

VOID lf_stack_overflow(ULONG depth)
{
    lf_recurse(NULL, depth);
}

/* Finds this frame's return address slot by value (robust against the compiler's frame
 * layout) and overwrites it with a non-canonical address: the RET raises #GP. Every match
 * in the scanned window is overwritten, so a spilled copy of the value found first cannot
 * save the real slot. */
__attribute__((noinline)) VOID lf_stack_trash(void)
{
    volatile ULONG_PTR anchor = 0;
    ULONG_PTR base = (ULONG_PTR)&anchor;
    volatile ULONG_PTR *p;
    /* Launder the address: indexing past a one-variable object is undefined, and clang
     * (which builds the driver for its PDB) then reads only `anchor` on every iteration and
     * never finds the slot. Through an opaque value it must really read the stack. */
    __asm__ volatile("" : "+r"(base));
    p = (volatile ULONG_PTR *)base;
    ULONG_PTR ret = (ULONG_PTR)__builtin_return_address(0);
    volatile ULONG_PTR *slot = NULL;
    KIRQL gl;

    for (int i = 0; i < 64; i++)
        if (p[i] == ret)
            slot = &p[i];
    if (!slot)
        return;
    KeAcquireSpinLock(&lf.lock, &gl);
    lf_gt_set("slot", (ULONG64)(ULONG_PTR)slot);
    lf_gt_set("return_address", ret);
    lf_gt_set("written", 0xDEADBEEFDEADBEEFull);
    KeReleaseSpinLock(&lf.lock, gl);
    for (int i = 0; i < 64; i++)
        if (p[i] == ret)
            p[i] = (ULONG_PTR)0xDEADBEEFDEADBEEFull;
}

NTSTATUS lf_mem_fire(ULONG fault)
{
    KIRQL irql;
    PUCHAR block;
    SIZE_T size, overrun;
    volatile UCHAR *vb;

    KeAcquireSpinLock(&lf.lock, &irql);
    block = lf.block;
    lf.block = NULL;        /* the fault consumes it */
    size = (SIZE_T)lf.req.arg[0];
    overrun = (SIZE_T)lf.req.arg[1];
    KeReleaseSpinLock(&lf.lock, irql);
    vb = block;

    switch (fault) {
    case LABFAULT_POOL_OVERRUN:
        for (SIZE_T i = 0; i < size + overrun; i++)
            vb[i] = 0x41;
        ExFreePoolWithTag(block, LF_POOL_TAG);
        return STATUS_SUCCESS;
    case LABFAULT_DOUBLE_FREE:
        ExFreePoolWithTag(block, LF_POOL_TAG);
        ExFreePoolWithTag(block, LF_POOL_TAG);
        return STATUS_SUCCESS;
    case LABFAULT_USE_AFTER_FREE:
        ExFreePoolWithTag(block, LF_POOL_TAG);
        for (SIZE_T i = 0; i < size; i++)
            vb[i] = 0x41;
        /* Churn the same size class so the allocator walks the corrupted free block. */
        for (int i = 0; i < 64; i++) {
            PVOID b = ExAllocatePoolWithTag(NonPagedPoolNx, size, LF_POOL_TAG);
            if (b)
                ExFreePoolWithTag(b, LF_POOL_TAG);
        }
        return STATUS_SUCCESS;
    case LABFAULT_HIGH_IRQL_FAULT: {
        ULONG v;
        KeAcquireSpinLock(&lf.lock_a, &irql);
        v = *(volatile ULONG *)(ULONG_PTR)LF_HIGH_IRQL_ADDRESS;
        KeReleaseSpinLock(&lf.lock_a, irql);
        return v ? STATUS_SUCCESS : STATUS_UNSUCCESSFUL;
    }
    case LABFAULT_NULL_DEREF: {
        volatile ULONG *volatile null = NULL;
        return *null ? STATUS_SUCCESS : STATUS_UNSUCCESSFUL;
    }
    case LABFAULT_STACK_OVERFLOW:
        lf_stack_overflow(0);
        return STATUS_UNSUCCESSFUL;
    case LABFAULT_STACK_TRASH:
        lf_stack_trash();
        return STATUS_UNSUCCESSFUL;
    default:
        return STATUS_INVALID_PARAMETER;
    }
}
