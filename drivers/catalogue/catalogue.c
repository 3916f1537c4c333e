/* catalogue.c - descriptions, parameters and expected outcomes of every fault.
 * Windows codes: the WDK bug check reference. Linux patterns: what the Debian 6.1
 * guest prints, checked by the integration tests on a real guest. */
#include "catalogue.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOPARAMS ((const cl_fparam[]){ { 0 } })

static const cl_fparam p_size[] = {
    { "size", CL_FPARAM_UINT, 0, 16, 65536, 64, NULL, "bytes in the pool/slab block" },
    { 0 },
};

static const cl_fparam p_overrun[] = {
    { "size", CL_FPARAM_UINT, 0, 16, 65536, 64, NULL, "bytes in the pool/slab block" },
    { "overrun", CL_FPARAM_UINT, 1, 1, 4096, 32, NULL, "bytes written past its end" },
    { 0 },
};

static const cl_fparam p_leak[] = {
    { "tag", CL_FPARAM_TAG, 0, 0, 0, 0, "Lab1", "pool tag (Windows) / cache name suffix (Linux)" },
    { "size", CL_FPARAM_UINT, 0, 16, 1048576, 4096, NULL, "bytes per allocation" },
    { "rate", CL_FPARAM_UINT, 1, 1, 100000, 100, NULL, "allocations per second" },
    { "duration_ms", CL_FPARAM_UINT, 2, 1, 3600000, 2000, NULL, "how long to leak" },
    { "paged", CL_FPARAM_BOOL, 3, 0, 1, 0, NULL, "paged pool instead of nonpaged (Windows)" },
    { 0 },
};

static const cl_fparam p_bugcheck[] = {
    { "code", CL_FPARAM_UINT, 0, 1, 0xffffffffu, 0xE2, NULL, "bug check code (Windows)" },
    { "p1", CL_FPARAM_UINT, 1, 0, UINT64_MAX, 0, NULL, "parameter 1" },
    { "p2", CL_FPARAM_UINT, 2, 0, UINT64_MAX, 0, NULL, "parameter 2" },
    { "p3", CL_FPARAM_UINT, 3, 0, UINT64_MAX, 0, NULL, "parameter 3" },
    { "p4", CL_FPARAM_UINT, 4, 0, UINT64_MAX, 0, NULL, "parameter 4" },
    { "message", CL_FPARAM_STRING, 0, 0, 0, 0, "crashlab: fault injected", "panic message (Linux)" },
    { 0 },
};

static const cl_fparam p_stall[] = {
    { "stall_ms", CL_FPARAM_UINT, 0, 0, 3600000, 0, NULL, "how long to spin; 0 until the watchdog fires" },
    { 0 },
};

static const cl_fparam p_hang[] = {
    { "timeout_ms", CL_FPARAM_UINT, 0, 0, 3600000, 0, NULL, "0: never complete; otherwise complete after this" },
    { 0 },
};

static const cl_fault faults[] = {
    { LABFAULT_HANG_IRP, "hang-irp",
      "Pend an IRP with no cancel routine and never complete it: the caller can never exit (zombie process)",
      p_hang,
      { CL_OUTCOME_HANG, { 0 }, { 0 }, CL_WINNEED_NMI_DUMP, "no bug check; the calling thread waits in the driver and its process cannot exit: killed, it stays a zombie for about 5 minutes, until the I/O manager gives up on the IRP, detaches it and logs an error (then the process exits); look for the zombie within that window" },
      { CL_OUTCOME_CRASH, "hung-task", "INFO: task .*:[0-9]+ blocked for more than [0-9]+ seconds|hung_task: blocked tasks",
        "hung_task_panic=1 sysctl.kernel.hung_task_timeout_secs=5", 0,
        "the caller sleeps in TASK_UNINTERRUPTIBLE inside the module; hung_task_panic turns it into a panic" } },
    { LABFAULT_HANG_IRP_CANCEL, "hang-irp-cancel",
      "Pend an IRP with a cancel routine (control case): killing the caller cancels it cleanly",
      p_hang,
      { CL_OUTCOME_PASS, { 0 }, { 0 }, 0, "no bug check; the process exits when killed, the IRP completes STATUS_CANCELLED" },
      { CL_OUTCOME_PASS, "none", "", "hung_task_panic=1 sysctl.kernel.hung_task_timeout_secs=5", 0,
        "the caller sleeps killably (TASK_KILLABLE); killing it ends the wait, no hung-task report" } },
    { LABFAULT_SPINLOCK_DEADLOCK, "spinlock-deadlock",
      "Two threads take two spin locks in opposite order (ABBA) and spin forever",
      NOPARAMS,
      { CL_OUTCOME_HANG, { 0x80, 0x133, 0 }, { 0 }, CL_WINNEED_NMI_DUMP, "hang; an NMI gives 0x80, the DPC watchdog 0x133 when at DISPATCH_LEVEL" },
      { CL_OUTCOME_CRASH, "soft-lockup", "BUG: soft lockup - CPU#[0-9]+ stuck|hard LOCKUP",
        "softlockup_panic=1 watchdog_thresh=2 softlockup_all_cpu_backtrace=0", 2,
        "two kernel threads spin on each other's lock with preemption off; softlockup_panic" } },
    { LABFAULT_RESOURCE_SELF_DEADLOCK, "resource-self-deadlock",
      "Acquire an ERESOURCE, hand it to another owner with ExSetResourceOwnerPointer, acquire it again",
      NOPARAMS,
      { CL_OUTCOME_HANG, { 0 }, { 0 }, CL_WINNEED_NMI_DUMP, "hang, no bug check; !locks shows the resource owned by the pointer, the thread waiting" },
      { CL_OUTCOME_CRASH, "hung-task", "INFO: task .*:[0-9]+ blocked for more than [0-9]+ seconds|hung_task: blocked tasks",
        "hung_task_panic=1 sysctl.kernel.hung_task_timeout_secs=5", 0,
        "the caller takes a mutex it already holds and sleeps forever; hung_task_panic" } },
    { LABFAULT_DPC_WATCHDOG_SINGLE, "dpc-watchdog-single",
      "One timer DPC stalls with KeStallExecutionProcessor past the single-DPC time limit",
      p_stall,
      { CL_OUTCOME_CRASH, { 0x133, 0 }, { 0 }, CL_WINNEED_WATCHDOG, "Arg1 = 0: a single DPC ran past the ~20 s DPC time limit (stall_ms 0, or more than 20000); Arg2 the count, Arg3 the limit" },
      { CL_OUTCOME_CRASH, "soft-lockup", "BUG: soft lockup - CPU#[0-9]+ stuck",
        "softlockup_panic=1 watchdog_thresh=2", 0,
        "a timer callback (softirq) spins with interrupts on; the report names whatever task it interrupted; softlockup_panic" } },
    { LABFAULT_DPC_WATCHDOG_CUMULATIVE, "dpc-watchdog-cumulative",
      "DPCs re-queue themselves so the processor stays at DISPATCH_LEVEL past the cumulative limit",
      NOPARAMS,
      { CL_OUTCOME_CRASH, { 0x133, 0 }, { 0 }, CL_WINNEED_WATCHDOG, "Arg1 = 1: cumulative time at DISPATCH_LEVEL exceeded (~120 s)" },
      { CL_OUTCOME_CRASH, "soft-lockup", "BUG: soft lockup - CPU#[0-9]+ stuck|rcu.*self-detected stall",
        "softlockup_panic=1 watchdog_thresh=2", 0,
        "with preemption off (Linux's DISPATCH_LEVEL) a tasklet of ~0.2 ms re-queues itself and runs back to back from local_bh_enable(); the CPU never schedules; softlockup_panic" } },
    { LABFAULT_HIGH_IRQL_FAULT, "high-irql-fault",
      "Touch pageable/invalid memory while holding a spin lock (DISPATCH_LEVEL)",
      NOPARAMS,
      { CL_OUTCOME_CRASH, { 0xD1, 0xA, 0 }, { 0 }, 0, "Arg1 = 0x1008 (the never-mapped first 64 KiB), Arg2 = 2 (IRQL), Arg3 = 0 (read), Arg4 the instruction" },
      { CL_OUTCOME_CRASH, "bug", "BUG: scheduling while atomic",
        "oops=panic panic_on_warn=1", 0,
        "with a spin lock held it sleeps (waiting for the page: BUG: scheduling while atomic), then writes the unmapped guard page after a vmalloc block (an oops in atomic context); oops=panic" } },
    { LABFAULT_POOL_OVERRUN, "pool-overrun",
      "Write past the end of a pool/slab block and free it",
      p_overrun,
      { CL_OUTCOME_CRASH, { 0xD6, 0 }, { 0x13A, 0x19, 0xC5 }, CL_WINNEED_SPECIAL_POOL, "0xD6 DRIVER_PAGE_FAULT_BEYOND_END_OF_ALLOCATION: special pool puts the block at the end of a page, so the first byte past it hits the guard page (size a multiple of 16, at most 4080). Without special pool the segment heap (Windows 10 1903+) puts a 64-byte block in a bucket with neighbours: the overrun is found late, blamed on someone else (0x13A, 0x19, 0xC5) or never" },
      { CL_OUTCOME_CRASH, "slab-corruption", "BUG kmalloc-[0-9a-z]+ .*: (Right )?Redzone overwritten|Object padding overwritten",
        "slub_debug=FZP panic_on_taint=0x20 oops=panic", 0,
        "slub_debug's red zone catches the overrun on free; the report taints the kernel 'B' and panic_on_taint=0x20 panics. An overrun that stays inside the kmalloc bucket's slack is not caught" } },
    { LABFAULT_DOUBLE_FREE, "double-free",
      "Free the same pool/slab block twice",
      p_size,
      { CL_OUTCOME_CRASH, { 0xC2, 0 }, { 0x13A, 0 }, CL_WINNEED_SPECIAL_POOL, "0xC2 BAD_POOL_CALLER under special pool (Verifier checks the free); without it the segment heap reports 0x13A KERNEL_MODE_HEAP_CORRUPTION" },
      { CL_OUTCOME_CRASH, "slab-corruption", "BUG kmalloc-[0-9a-z]+ .*: Object already free|kernel BUG at mm/slub.c",
        "slub_debug=FZP panic_on_taint=0x20 oops=panic", 0,
        "slub_debug's free checks catch the second free (taint 'B', panic_on_taint=0x20); without slub_debug the hardened freelist's BUG_ON does" } },
    { LABFAULT_USE_AFTER_FREE, "use-after-free",
      "Write to a pool/slab block after freeing it",
      p_size,
      { CL_OUTCOME_CRASH, { 0xD5, 0 }, { 0x13A, 0xC5, 0 }, CL_WINNEED_SPECIAL_POOL, "0xD5 DRIVER_PAGE_FAULT_IN_FREED_SPECIAL_POOL: special pool makes the freed page inaccessible, the write faults at once. Without it the write lands in a reused LFH slot and is noticed late (0x13A) or not within observe" },
      { CL_OUTCOME_CRASH, "slab-corruption", "BUG kmalloc-[0-9a-z]+ .*: Poison overwritten",
        "slub_debug=FZP panic_on_taint=0x20 oops=panic", 0,
        "slub poisoning finds the write into the freed object when the module allocates that size again (taint 'B', panic_on_taint=0x20)" } },
    { LABFAULT_STACK_OVERFLOW, "stack-overflow",
      "Recurse until the kernel stack is exhausted",
      NOPARAMS,
      { CL_OUTCOME_CRASH, { 0x7F, 0 }, { 0 }, 0, "Arg1 = 8 double fault (stack overflow)" },
      { CL_OUTCOME_CRASH, "stack-overflow", "BUG: TASK stack guard page was hit|kernel stack overflow",
        "oops=panic", 0,
        "the vmap stack guard page is hit (a double fault on the IST stack) and the kernel panics; the panic line itself may not reach the console before pvpanic stops the guest" } },
    { LABFAULT_STACK_TRASH, "stack-trash",
      "Overwrite the current stack frame's return address",
      NOPARAMS,
      { CL_OUTCOME_CRASH, { 0x3B, 0x1E, 0x139 }, { 0 }, 0, "the return address becomes non-canonical and RET raises #GP: 0x3B in the caller's system call, 0x1E elsewhere; with kernel-mode hardware-enforced stack protection (CET shadow stacks, Windows 11) the RET mismatch is 0x139 KERNEL_SECURITY_CHECK_FAILURE first. Never 0xBE: nothing writes read-only memory" },
      { CL_OUTCOME_CRASH, "oops", "general protection fault|BUG: unable to handle|stack-protector: Kernel stack is corrupted",
        "oops=panic", 0,
        "the saved return address becomes 0x4141414141414141 (the canary is left alone): the return takes a general protection fault; oops=panic" } },
    { LABFAULT_POOL_LEAK, "pool-leak",
      "Allocate pool/slab memory with a tag at a rate for a duration and never free it",
      p_leak,
      { CL_OUTCOME_PASS, { 0 }, { 0 }, 0, "no bug check; poolmon shows the tag's allocations grow" },
      { CL_OUTCOME_PASS, "none", "", "", 0,
        "kmalloc'd blocks are kept on a list; the module's status shows them grow" } },
    { LABFAULT_BUGCHECK, "bugcheck",
      "Bug check explicitly: KeBugCheckEx(code, p1..p4) on Windows, panic(message) on Linux",
      p_bugcheck,
      { CL_OUTCOME_CRASH, { 0 }, { 0 }, 0, "exactly the code and four parameters given" },
      { CL_OUTCOME_CRASH, "panic", "Kernel panic - not syncing", "", 0,
        "panic() with the given message" } },
    { LABFAULT_NULL_DEREF, "null-deref",
      "Dereference a NULL pointer in the driver",
      NOPARAMS,
      { CL_OUTCOME_CRASH, { 0x3B, 0x1E, 0x7E }, { 0 }, 0, "0x3B SYSTEM_SERVICE_EXCEPTION, Arg1 = 0xC0000005: address 0 is user space, so the read raises an access violation nothing in the caller's DeviceIoControl handles (0x1E/0x7E outside a system call)" },
      { CL_OUTCOME_CRASH, "oops", "BUG: kernel NULL pointer dereference",
        "oops=panic", 0,
        "oops on address 0; oops=panic" } },
};

_Static_assert(sizeof(faults) / sizeof(faults[0]) == LABFAULT_LAST - 1, "every fault in faults.def has an entry");

const cl_fault *cl_fault_all(size_t *n)
{
    *n = sizeof(faults) / sizeof(faults[0]);
    return faults;
}

const cl_fault *cl_fault_lookup(const char *id)
{
    for (size_t i = 0; i < sizeof(faults) / sizeof(faults[0]); i++)
        if (!strcmp(faults[i].id, id))
            return &faults[i];
    return NULL;
}

const cl_fault *cl_fault_by_number(uint32_t number)
{
    for (size_t i = 0; i < sizeof(faults) / sizeof(faults[0]); i++)
        if ((uint32_t)faults[i].number == number)
            return &faults[i];
    return NULL;
}

const cl_fparam *cl_fault_param(const cl_fault *f, const char *name)
{
    for (const cl_fparam *p = f->params; p->name; p++)
        if (!strcmp(p->name, name))
            return p;
    return NULL;
}

static void copy_text(char *dst, size_t dstlen, const char *src)
{
    memset(dst, 0, dstlen);
    size_t n = strlen(src);
    memcpy(dst, src, n < dstlen - 1 ? n : dstlen - 1);
}

void cl_fault_request_init(const cl_fault *f, struct labfault_request *req)
{
    memset(req, 0, sizeof(*req));
    req->abi_version = LABFAULT_ABI_VERSION;
    req->fault = (lf_u32)f->number;
    for (const cl_fparam *p = f->params; p->name; p++) {
        switch (p->type) {
        case CL_FPARAM_UINT:
        case CL_FPARAM_BOOL:
            req->arg[p->slot] = p->def;
            break;
        case CL_FPARAM_TAG:
            if (p->def_str)
                copy_text(req->tag, sizeof(req->tag), p->def_str);
            break;
        case CL_FPARAM_STRING:
            if (p->def_str)
                copy_text(req->message, sizeof(req->message), p->def_str);
            break;
        }
    }
}

static bool printable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
            return false;
    return true;
}

bool cl_fault_param_set(const cl_fault *f, const char *name, const char *value,
                        struct labfault_request *req, char *why, size_t whylen)
{
    const cl_fparam *p = cl_fault_param(f, name);
    if (!p) {
        int n = snprintf(why, whylen, "fault '%s' has no parameter '%s' (it takes:", f->id, name);
        for (const cl_fparam *q = f->params; q->name && n > 0 && (size_t)n < whylen; q++)
            n += snprintf(why + n, whylen - (size_t)n, " %s", q->name);
        if (n > 0 && (size_t)n < whylen)
            snprintf(why + n, whylen - (size_t)n, "%s)", f->params[0].name ? "" : " none");
        return false;
    }
    switch (p->type) {
    case CL_FPARAM_UINT: {
        if (!*value || *value == '-' || *value == '+' || *value == ' ') {
            snprintf(why, whylen, "parameter '%s' must be an unsigned integer, got '%s'", name, value);
            return false;
        }
        errno = 0;
        char *end = NULL;
        unsigned long long v = strtoull(value, &end, 0);
        if (errno || !end || *end) {
            snprintf(why, whylen, "parameter '%s' must be an unsigned integer, got '%s'", name, value);
            return false;
        }
        if (v < p->min || v > p->max) {
            snprintf(why, whylen, "parameter '%s' = %s is out of range [%" PRIu64 ", %" PRIu64 "]",
                     name, value, p->min, p->max);
            return false;
        }
        req->arg[p->slot] = v;
        return true;
    }
    case CL_FPARAM_BOOL:
        if (!strcmp(value, "true") || !strcmp(value, "1"))
            req->arg[p->slot] = 1;
        else if (!strcmp(value, "false") || !strcmp(value, "0"))
            req->arg[p->slot] = 0;
        else {
            snprintf(why, whylen, "parameter '%s' must be true or false, got '%s'", name, value);
            return false;
        }
        return true;
    case CL_FPARAM_TAG:
        if (strlen(value) < 1 || strlen(value) > 4 || !printable(value)) {
            snprintf(why, whylen, "parameter '%s' must be 1 to 4 printable ASCII characters", name);
            return false;
        }
        copy_text(req->tag, sizeof(req->tag), value);
        return true;
    case CL_FPARAM_STRING:
        if (strlen(value) >= sizeof(req->message) || !printable(value)) {
            snprintf(why, whylen, "parameter '%s' must be printable ASCII of at most %zu characters",
                     name, sizeof(req->message) - 1);
            return false;
        }
        copy_text(req->message, sizeof(req->message), value);
        return true;
    }
    snprintf(why, whylen, "parameter '%s' has an unknown type", name);
    return false;
}

bool cl_fault_windows_check(const cl_fault *f, const struct labfault_request *req, const char **param, char *why,
                            size_t whylen)
{
    uint64_t a0 = req->arg[0];
    switch (f->number) {
    case LABFAULT_DPC_WATCHDOG_SINGLE:
        if (a0 != 0 && a0 <= CL_WIN_DPC_TIME_LIMIT_MS) {
            *param = "stall_ms";
            snprintf(why, whylen,
                     "stall_ms = %" PRIu64 " is within the DPC time limit (~%u ms): the DPC would end before the watchdog "
                     "fires; use 0 (stall until it fires) or more than %u",
                     a0, CL_WIN_DPC_TIME_LIMIT_MS, CL_WIN_DPC_TIME_LIMIT_MS);
            return false;
        }
        return true;
    case LABFAULT_POOL_OVERRUN:
        if (a0 % CL_WIN_POOL_ALIGN) {
            *param = "size";
            snprintf(why, whylen,
                     "size = %" PRIu64 " is not a multiple of %u: special pool would round the block up and the overrun "
                     "would land in the slack before the guard page (0xC1 at free, not 0xD6)",
                     a0, CL_WIN_POOL_ALIGN);
            return false;
        }
        /* the size limit applies too */
        __attribute__((fallthrough));
    case LABFAULT_DOUBLE_FREE:
    case LABFAULT_USE_AFTER_FREE:
        if (a0 > CL_WIN_SPECIAL_POOL_MAX) {
            *param = "size";
            snprintf(why, whylen,
                     "size = %" PRIu64 " is larger than special pool serves (%u bytes): the block would come from the "
                     "ordinary pool and the bug check would not be the expected one",
                     a0, CL_WIN_SPECIAL_POOL_MAX);
            return false;
        }
        return true;
    default:
        return true;
    }
}

const char *cl_winneed_to_string(unsigned bit)
{
    switch (bit) {
    case CL_WINNEED_SPECIAL_POOL: return "special-pool";
    case CL_WINNEED_NMI_DUMP: return "nmi-dump";
    case CL_WINNEED_WATCHDOG: return "watchdog";
    }
    return NULL;
}

const char *cl_outcome_to_string(cl_outcome o)
{
    switch (o) {
    case CL_OUTCOME_CRASH: return "crash";
    case CL_OUTCOME_HANG: return "hang";
    case CL_OUTCOME_PASS: return "pass";
    }
    return "unknown";
}
