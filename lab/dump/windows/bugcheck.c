#include "dump/windows/bugcheck.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const struct {
    uint32_t code;
    const char *name;
} names[] = {
#define X(c, n) { c, #n },
#include "dump/windows/bugcheck_names.def"
#undef X
};

static const char *lookup(uint32_t code)
{
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (names[i].code == code)
            return names[i].name;
    return NULL;
}

const char *cl_bugcheck_name(uint32_t code, char *buf, size_t len)
{
    const char *n = lookup(code);
    if (n) {
        snprintf(buf, len, "%s", n);
        return buf;
    }
    /* 0x1000xxxx: the same check raised through KeBugCheck2's "_M" path; same parameters. */
    if ((code & 0xf0000000u) == 0x10000000u && (n = lookup(code & 0x0fffffffu))) {
        snprintf(buf, len, "%s_M", n);
        return buf;
    }
    return NULL;
}

const char *cl_ntstatus_name(uint32_t status)
{
    switch (status) {
    case 0x80000002: return "STATUS_DATATYPE_MISALIGNMENT";
    case 0x80000003: return "STATUS_BREAKPOINT";
    case 0x80000004: return "STATUS_SINGLE_STEP";
    case 0xC0000005: return "STATUS_ACCESS_VIOLATION";
    case 0xC0000006: return "STATUS_IN_PAGE_ERROR";
    case 0xC0000008: return "STATUS_INVALID_HANDLE";
    case 0xC000001D: return "STATUS_ILLEGAL_INSTRUCTION";
    case 0xC0000025: return "STATUS_NONCONTINUABLE_EXCEPTION";
    case 0xC0000026: return "STATUS_INVALID_DISPOSITION";
    case 0xC000008C: return "STATUS_ARRAY_BOUNDS_EXCEEDED";
    case 0xC000008E: return "STATUS_FLOAT_DIVIDE_BY_ZERO";
    case 0xC0000094: return "STATUS_INTEGER_DIVIDE_BY_ZERO";
    case 0xC0000095: return "STATUS_INTEGER_OVERFLOW";
    case 0xC0000096: return "STATUS_PRIVILEGED_INSTRUCTION";
    case 0xC00000FD: return "STATUS_STACK_OVERFLOW";
    case 0xC0000409: return "STATUS_STACK_BUFFER_OVERRUN";
    case 0xC0000420: return "STATUS_ASSERTION_FAILURE";
    default: return NULL;
    }
}

static const char *access_kind(uint64_t v)
{
    switch (v) {
    case 0: return "read";
    case 1: return "write";
    case 2: case 8: case 10: return "execute";
    default: return NULL;
    }
}

#define P(i, ...) snprintf(o->param[i], sizeof(o->param[i]), __VA_ARGS__)
#define FAULT(i) (o->have_fault_address = true, o->fault_address = p[i], o->fault_param = (i))

static void exception_params(cl_bugcheck_info *o, const uint64_t p[4], const char *p3, const char *p4)
{
    const char *st = cl_ntstatus_name((uint32_t)p[0]);
    P(0, "exception code 0x%08" PRIx32 "%s%s", (uint32_t)p[0], st ? " " : "", st ? st : "");
    P(1, "address where the exception occurred");
    P(2, "%s", p3);
    P(3, "%s", p4);
    o->subkind = st;
    FAULT(1);
}

static void describe_c2(cl_bugcheck_info *o, const uint64_t p[4])
{
    static const struct { uint64_t v; const char *what; } kinds[] = {
        { 0x00, "the current thread requested a zero-byte pool allocation" },
        { 0x01, "pool header is corrupt" },
        { 0x02, "pool header is corrupt" },
        { 0x04, "pool header is corrupt" },
        { 0x06, "the current thread tried to free pool that was already freed" },
        { 0x07, "the current thread tried to free pool that was already freed (double free)" },
        { 0x08, "pool allocation at an IRQL that is too high" },
        { 0x09, "pool free at an IRQL that is too high" },
        { 0x0A, "the current thread tried to free pool with a wrong tag" },
        { 0x0B, "the current thread tried to free a quota block already freed" },
        { 0x0C, "the current thread tried to free a quota block already freed" },
        { 0x0D, "the current thread tried to free a pool block with an incorrect size" },
        { 0x40, "the current thread tried to free a user-mode address" },
        { 0x41, "the current thread tried to free a non-allocated nonpaged pool address" },
        { 0x42, "the current thread tried to free a virtual address that was never in any pool" },
        { 0x43, "the current thread tried to free a virtual address that was never in any pool" },
        { 0x44, "the current thread tried to free pool that was already freed" },
        { 0x46, "the current thread tried to free an invalid pool address" },
        { 0x47, "the current thread tried to free a non-allocated nonpaged pool address" },
        { 0x48, "the current thread tried to free paged pool that was already freed" },
        { 0x50, "the current thread tried to free a non-allocated paged pool address" },
        { 0x99, "the current thread tried to free pool with an invalid address" },
        { 0x9A, "the current thread requested a must-succeed allocation" },
        { 0x9B, "the current thread allocated pool with a tag of 0" },
        { 0x9C, "the current thread allocated pool with the tag 'BIG'" },
        { 0x9D, "the current thread allocated pool with a tag that holds no printable characters" },
    };
    const char *what = NULL;
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (kinds[i].v == p[0])
            what = kinds[i].what;
    P(0, "violation type 0x%" PRIx64 ": %s", p[0], what ? what : "see the bug check reference");
    if (p[0] == 0x07 || p[0] == 0x06) {
        P(1, "reserved");
        P(2, "pool header contents");
        P(3, "address of the block being freed");
        o->subkind = "double free";
    } else if (p[0] == 0x08 || p[0] == 0x09) {
        P(1, "current IRQL");
        P(2, "pool type");
        P(3, p[0] == 0x08 ? "size of the allocation" : "address of the pool");
        o->subkind = p[0] == 0x08 ? "allocation at bad IRQL" : "free at bad IRQL";
    } else if (p[0] == 0x0A) {
        P(1, "address of the pool");
        P(2, "tag of the allocation");
        P(3, "tag being freed");
        o->subkind = "wrong tag";
    } else if (p[0] >= 0x40 && p[0] <= 0x50) {
        P(1, "starting address");
        o->subkind = "bad free";
    } else if (p[0] >= 0x01 && p[0] <= 0x04) {
        P(1, "pointer to the pool header");
        P(2, "first part of the pool header contents");
        o->subkind = "corrupt header";
    }
}

static void describe_19(cl_bugcheck_info *o, const uint64_t p[4])
{
    switch (p[0]) {
    case 0x2:
        P(0, "0x2: the pool entry being checked is bad");
        P(1, "the pool entry being checked");
        P(2, "size of the pool block");
        P(3, "0");
        o->subkind = "bad entry";
        break;
    case 0x3:
        P(0, "0x3: the pool freelist is corrupt");
        P(1, "the pool entry being checked");
        P(2, "read-back flink freelist value");
        P(3, "read-back blink freelist value");
        o->subkind = "freelist corrupt";
        break;
    case 0x5:
        P(0, "0x5: a pair of adjacent pool entries have headers that contradict each other");
        P(1, "one of the pool entries");
        P(2, "reserved");
        P(3, "the other pool entry");
        o->subkind = "adjacent headers inconsistent";
        break;
    case 0x6:
        P(0, "0x6: one incorrectly-calculated entry of a pool header");
        P(1, "the pool entry");
        o->subkind = "header miscalculated";
        break;
    case 0x7:
        P(0, "0x7: the pool block header has already been freed or is corrupt");
        P(1, "0");
        P(2, "the pool entry");
        P(3, "bad pool entry");
        o->subkind = "already freed";
        break;
    case 0x20:
        P(0, "0x20: a pool block header size is corrupt");
        P(1, "the pool entry being checked");
        P(2, "the next pool entry");
        P(3, "reserved");
        o->subkind = "block size corrupt";
        break;
    case 0x21: case 0x22:
        P(0, "0x%" PRIx64 ": the pool pointer being freed is bad", p[0]);
        P(1, "the pool pointer being freed");
        P(2, "size of the allocated pool");
        P(3, "corrupted value found");
        o->subkind = "bad free";
        break;
    default:
        P(0, "corruption type 0x%" PRIx64, p[0]);
        break;
    }
}

static void describe_9f(cl_bugcheck_info *o, const uint64_t p[4])
{
    switch (p[0]) {
    case 1:
        P(0, "1: the device object being freed still has an outstanding power request");
        P(1, "the device object");
        o->subkind = "outstanding power request";
        break;
    case 2:
        P(0, "2: the device object completed the system power IRP without calling PoStartNextPowerIrp");
        P(1, "target device object, if available");
        P(2, "device object");
        P(3, "driver object, if available");
        o->subkind = "no PoStartNextPowerIrp";
        break;
    case 3:
        P(0, "3: a device object has been blocking an IRP for too long a time");
        P(1, "physical device object of the stack");
        P(2, "nt!TRIAGE_9F_POWER");
        P(3, "the blocked IRP");
        o->subkind = "blocked IRP";
        break;
    case 4:
        P(0, "4: the power transition timed out waiting to synchronize with the PnP subsystem");
        P(1, "time-out value, in seconds");
        P(2, "the thread holding the PnP lock");
        P(3, "nt!TRIAGE_9F_PNP");
        o->subkind = "PnP lock timeout";
        break;
    case 5:
        P(0, "5: the device failed to complete a directed power transition within the required time");
        P(1, "physical device object of the stack");
        P(2, "POP_FX_DEVICE object");
        P(3, "reserved");
        o->subkind = "directed power transition";
        break;
    case 6:
        P(0, "6: the device did not complete its directed power transition callback");
        P(1, "POP_FX_DEVICE object");
        P(2, "1 for a power-up, 0 for a power-down transition");
        P(3, "reserved");
        o->subkind = "directed power callback";
        break;
    default:
        P(0, "failure type 0x%" PRIx64, p[0]);
        break;
    }
}

void cl_bugcheck_describe(uint32_t code, const uint64_t p[4], cl_bugcheck_info *o)
{
    memset(o, 0, sizeof(*o));
    uint32_t base = (code & 0xf0000000u) == 0x10000000u ? code & 0x0fffffffu : code;
    switch (base) {
    case 0x133:
        if (p[0] == 0) {
            P(0, "0: a single DPC or ISR exceeded its time allotment");
            P(1, "DPC time count, in ticks");
            P(2, "DPC time allotment, in ticks");
            P(3, "nt!DPC_WATCHDOG_GLOBAL_TRIAGE_BLOCK");
            o->subkind = "single DPC";
        } else if (p[0] == 1) {
            P(0, "1: the system spent a cumulative extended time at IRQL DISPATCH_LEVEL or above");
            P(1, "watchdog time-out period, in ticks");
            P(2, "nt!DPC_WATCHDOG_GLOBAL_TRIAGE_BLOCK");
            P(3, "reserved");
            o->subkind = "cumulative";
        } else {
            P(0, "watchdog type 0x%" PRIx64, p[0]);
        }
        break;
    case 0xA: case 0xD1: case 0xC5: {
        const char *k = access_kind(base == 0xA ? (p[2] & 8 ? 8 : p[2] & 1) : p[2]);
        P(0, "memory referenced");
        P(1, "IRQL at the time of the reference");
        P(2, "%" PRIu64 ": %s", p[2], k ? k : "unknown access");
        P(3, "address of the instruction that referenced memory");
        o->subkind = k;
        FAULT(3);
        break;
    }
    case 0x50: case 0xD5: case 0xD6: case 0xCC: case 0xCD: {
        const char *k = access_kind(p[1]);
        P(0, "memory referenced");
        P(1, "%" PRIu64 ": %s", p[1], k ? k : "unknown access");
        P(2, "address of the instruction that referenced memory, if known");
        P(3, base == 0x50 ? "type of page fault" : "reserved");
        o->subkind = k;
        if (p[2])
            FAULT(2);
        break;
    }
    case 0xC2:
        describe_c2(o, p);
        break;
    case 0x19:
        describe_19(o, p);
        break;
    case 0x7E:
        exception_params(o, p, "exception record address", "context record address");
        break;
    case 0x8E:
        exception_params(o, p, "trap frame address", "reserved");
        break;
    case 0x3B:
        exception_params(o, p, "context record address", "0");
        break;
    case 0x1E: {
        exception_params(o, p, "exception parameter 0", "exception parameter 1");
        if ((uint32_t)p[0] == 0xC0000005u) {
            const char *k = access_kind(p[2]);
            P(2, "%" PRIu64 ": %s", p[2], k ? k : "unknown access");
            P(3, "address accessed");
        }
        break;
    }
    case 0x7F: {
        static const char *traps[] = { [0x0] = "divide error", [0x1] = "debug", [0x2] = "NMI",
                                       [0x3] = "breakpoint", [0x4] = "overflow", [0x5] = "bound check",
                                       [0x6] = "invalid opcode", [0x7] = "no math coprocessor",
                                       [0x8] = "double fault", [0xD] = "general protection",
                                       [0xE] = "page fault" };
        const char *t = p[0] < sizeof(traps) / sizeof(traps[0]) ? traps[p[0]] : NULL;
        P(0, "trap 0x%" PRIx64 ": %s", p[0], t ? t : "other trap");
        P(1, "reserved");
        P(2, "reserved");
        P(3, "reserved");
        o->subkind = t;
        break;
    }
    case 0x80:
        P(0, "vendor-specific");
        P(1, "vendor-specific");
        P(2, "vendor-specific");
        P(3, "vendor-specific");
        break;
    case 0x9F:
        describe_9f(o, p);
        break;
    case 0xEF:
        P(0, "the process object");
        P(1, "%" PRIu64 ": %s", p[1], p[1] == 0 ? "a process terminated" : p[1] == 1 ? "a thread terminated" : "other");
        P(2, "reserved");
        P(3, "reserved");
        o->subkind = p[1] == 0 ? "process terminated" : p[1] == 1 ? "thread terminated" : NULL;
        break;
    case 0x139: {
        static const char *kinds[] = { "stack cookie buffer overrun", "vtguard check failure",
                                       "stack cookie check failure", "LIST_ENTRY corruption" };
        const char *k = p[0] < 4 ? kinds[p[0]] : NULL;
        P(0, "%" PRIu64 ": %s", p[0], k ? k : "type of corruption");
        P(1, "trap frame address");
        P(2, "exception record address");
        P(3, "reserved");
        o->subkind = k;
        break;
    }
    case 0xE2:
        P(0, "0 (or the caller's value)");
        o->subkind = "manual";
        break;
    default:
        break;
    }
}
