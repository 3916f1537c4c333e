/* catalogue.h - the fault catalogue as the host sees it: what each fault is, which
 * parameters it takes (with types, ranges and where they go in struct labfault_request),
 * and what it is expected to produce on each OS. Ids and numbers come from faults.def. */
#ifndef LABFAULT_CATALOGUE_H
#define LABFAULT_CATALOGUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "labfault_abi.h"

typedef enum {
    CL_FPARAM_UINT,    /* unsigned integer in [min, max] -> arg[slot] */
    CL_FPARAM_BOOL,    /* true/false -> arg[slot] = 0/1 */
    CL_FPARAM_TAG,     /* 1-4 printable ASCII characters -> tag */
    CL_FPARAM_STRING,  /* printable text up to 127 bytes -> message */
} cl_fparam_type;

typedef struct {
    const char *name;
    cl_fparam_type type;
    int slot;              /* index in arg[] for UINT/BOOL */
    uint64_t min, max;     /* UINT */
    uint64_t def;          /* default for UINT/BOOL */
    const char *def_str;   /* default for TAG/STRING, NULL for none */
    const char *help;
} cl_fparam;

/* What a fault produces when it works as designed. */
typedef enum {
    CL_OUTCOME_CRASH,      /* bug check / panic */
    CL_OUTCOME_HANG,       /* no crash; the guest or a process stops making progress */
    CL_OUTCOME_PASS,       /* no crash; the run completes */
} cl_outcome;

/* What a Windows image must have for a fault to give its expected outcome (bits). The
 * registry values behind each are in drivers/windows/README.md ("What each scenario needs
 * from the image"); `labagent check` reports them from inside the guest. */
enum {
    CL_WINNEED_SPECIAL_POOL = 1u << 0,   /* Driver Verifier special pool for labfault.sys (or PoolTag LabF) */
    CL_WINNEED_NMI_DUMP = 1u << 1,       /* CrashControl NMICrashDump=1: the lab's NMI on a hang bug-checks 0x80 */
    CL_WINNEED_WATCHDOG = 1u << 2,       /* the DPC watchdog: the domain must not advertise relaxed timing */
};

typedef struct {
    cl_outcome outcome;
    uint32_t bugcheck[3];      /* accepted codes when the image meets `needs`, 0-terminated; empty for hangs */
    uint32_t without[3];       /* what it gives instead when a need is not met (for the reader; not accepted) */
    unsigned needs;            /* CL_WINNEED_* */
    const char *detail;        /* what the parameters will hold, or what hangs */
} cl_fault_windows;

/* The single-DPC time limit of the DPC watchdog (DPC_WATCHDOG_VIOLATION Arg1 = 0): a DPC
 * that ends sooner is never caught. */
#define CL_WIN_DPC_TIME_LIMIT_MS 20000u
/* How long the I/O manager waits for a cancelled IRP it cannot complete before it
 * detaches it (and logs an error): the hang-irp zombie lasts about this long. */
#define CL_WIN_IRP_ZOMBIE_SECONDS 300
/* The largest block special pool serves (a page less its 16-byte header) and the pool's
 * alignment: a block of a multiple of 16 ends exactly at the guard page. */
#define CL_WIN_SPECIAL_POOL_MAX 4080u
#define CL_WIN_POOL_ALIGN 16u

typedef struct {
    cl_outcome outcome;
    const char *kind;          /* panic, oops, hung-task, soft-lockup, slab-corruption, ... */
    const char *pattern;       /* POSIX extended regex matched against the crash title/panic text */
    const char *cmdline;       /* kernel command line the fault needs (space separated) */
    unsigned min_vcpus;        /* 0/1: any */
    const char *detail;
} cl_fault_linux;

typedef struct {
    enum labfault_id number;
    const char *id;
    const char *description;
    const cl_fparam *params;   /* terminated by name == NULL */
    cl_fault_windows windows;
    cl_fault_linux linux_;
} cl_fault;

/* All faults, in number order; count in *n. */
const cl_fault *cl_fault_all(size_t *n);
const cl_fault *cl_fault_lookup(const char *id);
const cl_fault *cl_fault_by_number(uint32_t number);
const cl_fparam *cl_fault_param(const cl_fault *f, const char *name);

/* Fills req with the fault number and every parameter's default. */
void cl_fault_request_init(const cl_fault *f, struct labfault_request *req);

/* Parses one parameter value given as text (from YAML or the command line) into req.
 * On error returns false and writes a one-line reason into why. */
bool cl_fault_param_set(const cl_fault *f, const char *name, const char *value,
                        struct labfault_request *req, char *why, size_t whylen);

const char *cl_outcome_to_string(cl_outcome o);

/* The Windows-only limits of a request the parameter ranges cannot say (the DPC time
 * limit, special pool's page). On a violation returns false, sets *param to the parameter
 * at fault and writes a one-line reason into why. */
bool cl_fault_windows_check(const cl_fault *f, const struct labfault_request *req, const char **param, char *why,
                            size_t whylen);

/* "special-pool", "nmi-dump", "watchdog" for one CL_WINNEED_* bit; NULL otherwise. */
const char *cl_winneed_to_string(unsigned bit);

#endif
