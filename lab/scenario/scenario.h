/* scenario.h - a scenario file, loaded and validated (libyaml).
 *
 * The schema is written down in scenarios/README.md. The loader rejects unknown keys,
 * wrong types, missing fields, unknown faults and bad fault parameters with an error
 * "FILE:LINE:COLUMN: message" (1-based line and column of the offending node).
 * A loaded scenario is complete: every default is filled in, so the run never
 * has to guess.
 */
#ifndef CL_SCENARIO_H
#define CL_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "catalogue.h"
#include "util/error.h"

#define CL_SCENARIO_MAX_BYTES (1u << 20)   /* a scenario file larger than this is refused */
#define CL_SCENARIO_MAX_STEPS 64
#define CL_SCENARIO_MAX_ARGS 32
#define CL_SCENARIO_MAX_DEPTH 8            /* nested mappings/sequences; the schema needs 5 */
#define CL_SCENARIO_MAX_NODES 10000        /* YAML nodes in one file; a full scenario has ~1500 */
#define CL_SCENARIO_MAX_SECONDS 86400.0    /* upper bound of every timeout and wait */

typedef enum { CL_PROFILE_LINUX, CL_PROFILE_WINDOWS, CL_PROFILE_LAST } cl_profile;

typedef enum {
    CL_VERDICT_PASS,
    CL_VERDICT_EXPECTED_CRASH,
    CL_VERDICT_UNEXPECTED_CRASH,
    CL_VERDICT_HANG,
    CL_VERDICT_FAIL,
    CL_VERDICT_INFRA_ERROR,
    CL_VERDICT_LAST
} cl_verdict;

typedef enum {
    CL_DUMPFMT_KDUMP_ZLIB,   /* QEMU's kdump, zlib pages; what kdump-zstd falls back to */
    CL_DUMPFMT_ELF,
    CL_DUMPFMT_WIN_DMP,      /* QEMU's win-dmp, Windows only */
    CL_DUMPFMT_KDUMP_ZSTD,   /* the lab's own writer (lab/virt/memdump.h), zstd pages */
    CL_DUMPFMT_NONE,
    CL_DUMPFMT_KDUMP_LZO,    /* the lab's own writer, lzo pages: default for Linux (makedumpfile reads it) */
    CL_DUMPFMT_LAST
} cl_dump_format;

typedef enum { CL_FIRMWARE_BIOS, CL_FIRMWARE_UEFI, CL_FIRMWARE_LAST } cl_firmware;

/* Hyper-V enlightenments of the windows profile, a bit each (1u << f). All are on by
 * default; a scenario turns some off or on in guest.hyperv, and a trigger of a fault that
 * needs the DPC watchdog turns relaxed off (QEMU's hyperv.rst: relaxed tells the guest to
 * disable watchdog timeouts). QEMU under TCG refuses some (lab/run/windows.c). */
typedef enum {
    CL_HV_RELAXED, CL_HV_VAPIC, CL_HV_SPINLOCKS, CL_HV_VPINDEX, CL_HV_RUNTIME, CL_HV_SYNIC,
    CL_HV_STIMER, CL_HV_RESET, CL_HV_FREQUENCIES, CL_HV_TLBFLUSH, CL_HV_IPI, CL_HV_VENDOR_ID,
    CL_HV_LAST
} cl_hv_feature;

const char *cl_hv_feature_to_string(cl_hv_feature f);   /* "relaxed", "vapic", ... */

typedef enum {
    CL_STEP_INSTALL,   /* upload a driver/module from the host and load it */
    CL_STEP_REMOVE,    /* unload the driver/module */
    CL_STEP_TRIGGER,   /* arm and fire a catalogue fault */
    CL_STEP_WAIT,      /* sleep, watching for a crash */
    CL_STEP_EXEC,      /* run a guest command */
    CL_STEP_NMI,       /* inject an NMI */
    CL_STEP_LAST
} cl_step_kind;

typedef struct {
    int line, column;              /* where the step was written, for messages */
    cl_step_kind kind;
    double timeout;                /* seconds; defaults to timeouts.step */
    /* INSTALL */
    char *path;                    /* host path, relative paths resolved against the repo root */
    /* TRIGGER */
    const cl_fault *fault;
    struct labfault_request request;   /* parameters applied over the catalogue defaults */
    char *params_text;             /* "k=v k=v" as given, for the agent and the result */
    /* WAIT */
    double seconds;
    /* EXEC */
    char *argv[CL_SCENARIO_MAX_ARGS + 1]; /* NULL-terminated; a string command becomes sh -c */
    int expect_exit;               /* -1: any */
} cl_step;

typedef struct {
    char *manufacturer, *product, *version, *serial, *family, *sku;
    char *bios_vendor, *bios_version;
} cl_smbios;

typedef struct {
    char *path;                    /* as given on the command line */
    char sha256[65];               /* of the file's bytes */
    char *name;                    /* "name:" or the file name without .yaml */
    char *description;

    /* guest */
    cl_profile profile;
    unsigned memory_mb;            /* default 256 (linux), 2048 (windows) */
    unsigned vcpus;                /* default 1, raised to the trigger faults' min_vcpus */
    char *kernel_args;             /* extra kernel arguments (linux) */
    char *image;                   /* windows: base qcow2 (never written) */
    char *virtio_iso;              /* windows: optional */
    cl_firmware firmware;          /* windows: default uefi */
    bool tpm;
    cl_smbios smbios;              /* unset strings: the lab's defaults */
    unsigned hv_set;               /* windows: enlightenments decided by the scenario (guest.hyperv, or
                                      relaxed off for a watchdog fault), bits (1u << cl_hv_feature) */
    unsigned hv_on;                /* of hv_set, the ones to turn on */

    cl_step steps[CL_SCENARIO_MAX_STEPS];
    size_t nsteps;

    /* expect */
    cl_verdict expect_verdict;
    char *expect_kind;             /* linux panic kind (catalogue kinds) or NULL */
    char *expect_pattern;          /* POSIX ERE over the crash title + panic message, or NULL */
    uint32_t expect_bugcheck;      /* windows, 0: any */
    bool expect_param_set[4];
    uint64_t expect_params[4];

    /* timeouts, seconds */
    double t_boot;                 /* default 120 */
    double t_step;                 /* default 60 */
    double t_observe;              /* after the last step, how long to watch for a crash; default 60 */
    double t_run;                  /* whole run; default 600 */

    /* capture */
    cl_dump_format dump_format;
    bool screenshot;               /* default true for windows */
    bool nmi_on_hang;              /* escalate a hang with an NMI before the dump; default true */
    bool guest_dump;               /* let the guest go on after its crash (QEMU panic action none) to
                                      write its own dump and reboot, then collect that dump through
                                      the agent; default true for windows, false for linux */
    bool guest_dump_auto;          /* guest_dump: auto (the windows default): the image decides; the rung
                                      is used only when the agent's `check` says AutoReboot=1 (with
                                      AutoReboot=0 Windows stays at the blue screen and never writes
                                      MEMORY.DMP out of the page file) */
    double t_guest_dump;           /* how long the guest may take to come back with it; default 600 */
    bool record;                   /* record the run under QEMU record/replay (-icount rr=record) so
                                      that `crashlab replay` can run it again; TCG only, default false */
} cl_scenario;

/* Loads and validates a scenario. On error returns NULL and sets an error whose message
 * is "FILE:LINE:COLUMN: what is wrong" (code CL_ERR_INVAL). */
cl_scenario *cl_scenario_load(const char *path, cl_error **errp);

/* The host files a loaded scenario names (install steps, guest.image, guest.virtio_iso),
 * where they exist, are regular files (an image may be a block device) and an install
 * file is at most max_upload bytes: a FIFO or /dev/zero is refused before anything opens
 * it. "FILE:LINE: install: ..." (CL_ERR_INVAL). Missing files are not checked here. */
bool cl_scenario_check_files(const cl_scenario *s, uint64_t max_upload, cl_error **errp);

/* Same, from a buffer; name is used in messages. */
cl_scenario *cl_scenario_parse(const char *name, const char *data, size_t len, cl_error **errp);

void cl_scenario_free(cl_scenario *s);
CL_DEFINE_AUTOPTR_FUNC(cl_scenario, cl_scenario_free)

const char *cl_verdict_to_string(cl_verdict v);
bool cl_verdict_from_string(const char *s, cl_verdict *v);
const char *cl_profile_to_string(cl_profile p);
const char *cl_dump_format_to_string(cl_dump_format f);  /* "kdump-zlib", "elf", "win-dmp", "kdump-zstd", "none", "kdump-lzo" */
/* "kdump-zlib, elf, ..." from the names table into buf (cut short, still terminated, when len is
 * too small), for the messages that list the choices; returns buf. */
const char *cl_dump_format_list(char *buf, size_t len);
/* True for the formats the lab's own writer produces (kdump-lzo, kdump-zstd): Linux only. */
bool cl_dump_format_is_lab(cl_dump_format f);
const char *cl_step_kind_to_string(cl_step_kind k);
const char *cl_firmware_to_string(cl_firmware f);      /* "bios", "uefi" */

/* The enlightenments to ask for: mask (what the host allows) with the scenario's choices
 * applied. */
unsigned cl_scenario_hv_mask(const cl_scenario *s, unsigned mask);

/* The kernel command line the scenario's faults need (catalogue linux.cmdline of every
 * trigger step, de-duplicated, then kernel_args). Caller frees. */
char *cl_scenario_fault_cmdline(const cl_scenario *s);

#endif
