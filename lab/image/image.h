/* image.h - Windows disk images offline: what `crashlab image check`, `image prepare`
 * and `rescue` (and the run's pre-check and offline-dump rung) offer the rest of the lab.
 *
 * Everything here reads a Windows disk without booting it: libguestfs opens the image
 * (read-only unless preparing a copy), hivex reads the SYSTEM and SOFTWARE hives and the
 * BCD store. A disk, its hives and its dump files are guest data: sizes are capped and
 * checked before anything is read (disk.h, hive.h).
 *
 * Split: facts (what the disk holds, read by facts.c) -> findings (pure rules, check.c,
 * unit-tested) -> a report (check/prepare commands, the run's pre-check).
 */
#ifndef CL_IMAGE_H
#define CL_IMAGE_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "scenario/scenario.h"
#include "util/error.h"

#define CL_IMAGE_ABSENT (-1)   /* an int64_t registry fact the hive does not hold */

/* Drivers and services the lab looks for under CurrentControlSet\Services. */
typedef enum {
    CL_SVC_QEMU_GA,     /* QEMU-GA: qemu-guest-agent, from virtio-win's MSI */
    CL_SVC_VIOSERIAL,   /* vioser: the virtio-serial port qemu-ga talks over */
    CL_SVC_PVPANIC,     /* pvpanic: tells the hypervisor "crashed" / "crash loaded" */
    CL_SVC_FWCFG,       /* fwcfg: fills vmcoreinfo, which QEMU's win-dmp needs */
    CL_SVC_FIRSTBOOT,   /* crashlab-firstboot: the first-boot step image prepare schedules */
    CL_SVC_LAST
} cl_image_svc;

const char *cl_image_svc_to_string(cl_image_svc s);   /* the service key's name */

/* First-boot steps image prepare can schedule (bits in cl_image_facts.firstboot). */
typedef enum {
    CL_FB_QEMU_GA,
    CL_FB_VIOSERIAL,
    CL_FB_PVPANIC,
    CL_FB_FWCFG,
    CL_FB_CERT,
    CL_FB_LAST
} cl_image_fb;

const char *cl_image_fb_to_string(cl_image_fb s);   /* "qemu-ga", "vioserial", ..., "cert" */

/* What the disk holds. Filled by cl_image_read_facts(); unit tests fill it by hand. */
typedef struct {
    bool windows;                  /* a file system with Windows\System32\config\SYSTEM */
    char windows_fs[64];           /* its device in the appliance, e.g. /dev/sda2 */
    char product[128];             /* SOFTWARE ...\Windows NT\CurrentVersion ProductName */
    char display_version[32];      /* DisplayVersion (22H2) or ReleaseId */
    uint32_t build;                /* CurrentBuildNumber, 0 if unknown */
    char control_set[16];          /* ControlSet001 ... from SYSTEM\Select\Current */
    /* CrashControl */
    int64_t crash_dump_enabled;    /* 0 none, 1 complete, 2 kernel, 3 small, 7 automatic */
    int64_t filter_pages;          /* with 1: active memory dump */
    int64_t auto_reboot, always_keep, nmi_crash_dump, overwrite;
    char dump_file[260];           /* as stored (%SystemRoot%\MEMORY.DMP) */
    char dedicated_dump_file[260];
    int64_t dump_file_size_mb;     /* DumpFileSize, for a dedicated dump file */
    /* Memory Management */
    bool paging_files_set;
    char paging_files[512];        /* PagingFiles, one "path [min max]" a line */
    char verify_drivers[256];      /* Driver Verifier */
    int64_t verify_level;
    int64_t pool_tag;
    /* services */
    int64_t svc_start[CL_SVC_LAST];/* Start: 0 boot, 1 system, 2 auto, 3 manual, 4 disabled */
    /* BCD */
    bool bcd_found;
    char bcd_path[64];             /* where: "/EFI/Microsoft/Boot/BCD on /dev/sda1" */
    int64_t testsigning;           /* default loader's element 16000049 */
    /* files and the certificate */
    bool labagent;                 /* C:\crashlab\labagent.exe */
    uint64_t labagent_bytes;
    bool cert_checked;             /* the lab's certificate thumbprint was known */
    bool cert_root, cert_trusted;  /* in SOFTWARE\Microsoft\SystemCertificates ROOT / TrustedPublisher */
    unsigned firstboot;            /* CL_FB_* bits scheduled in C:\crashlab\firstboot.cmd */
    /* space */
    bool free_known;
    uint64_t free_bytes;           /* free on the Windows volume */
    uint64_t pagefile_bytes;       /* pagefile.sys on it now, 0 if none */
    double launch_seconds;         /* the libguestfs appliance's start, for the record */
} cl_image_facts;

void cl_image_facts_init(cl_image_facts *f);

/* What a scenario needs of its image (bits); a failed finding names the ones it breaks. */
#define CL_NEED_AGENT      (1u << 0)   /* every run: qemu-ga over virtio-serial, labagent */
#define CL_NEED_DRIVER     (1u << 1)   /* installing labfault.sys: test signing, certificate */
#define CL_NEED_GUEST_DUMP (1u << 2)   /* the guest-dump rung and the offline rescue rung */
#define CL_NEED_NMI        (1u << 3)   /* NMI -> bug check 0x80 (hang scenarios) */
#define CL_NEED_WINDMP     (1u << 4)   /* QEMU's win-dmp hypervisor-side dump */
#define CL_NEED_SPECIAL_POOL (1u << 5) /* pool-overrun, double-free, use-after-free */
#define CL_NEED_PANIC_EVENT (1u << 6)  /* pvpanic's crashed event (Hyper-V MSRs still work) */

typedef enum {
    CL_FIND_OK,       /* settled offline: fine */
    CL_FIND_INFO,     /* a fact (the build), nothing to fix */
    CL_FIND_BOOT,     /* scheduled for the first boot: only a real Windows boot settles it */
    CL_FIND_WARN,     /* may bite; cannot be settled offline */
    CL_FIND_FAIL,     /* the image cannot give what the named rungs and scenarios need */
    CL_FIND_LAST
} cl_find_status;

const char *cl_find_status_to_string(cl_find_status s);   /* "ok", "info", "first-boot", "warn", "FAIL" */

typedef struct {
    const char *id;        /* stable name: "crashcontrol.enabled", "bcd.testsigning", ... */
    cl_find_status status;
    unsigned needs;        /* CL_NEED_* this finding is about */
    char what[256];        /* what the image holds */
    const char *breaks;    /* which rung / scenarios fail without it */
    char fix[256];         /* how to fix it (image prepare, or the command in the guest) */
} cl_finding;

#define CL_IMAGE_MAX_FINDINGS 32

typedef struct {
    cl_finding f[CL_IMAGE_MAX_FINDINGS];
    size_t n;
    uint32_t memory_mb;    /* the guest memory the dump sizes were judged for */
} cl_image_report;

/* The rules: facts -> findings. Pure. */
void cl_image_evaluate(const cl_image_facts *facts, uint32_t memory_mb, cl_image_report *out);

/* True when no finding fails (first-boot and warn findings do not). */
bool cl_image_report_ready(const cl_image_report *r);

/* The first failing finding whose needs meet the mask, or NULL. */
const cl_finding *cl_image_report_blocker(const cl_image_report *r, unsigned needs);

/* What a scenario needs of its image (CL_NEED_* bits). Pure. */
unsigned cl_image_scenario_needs(const cl_scenario *s);

json_object *cl_image_report_json(const cl_image_report *r, const cl_image_facts *f);
void cl_image_report_print(const cl_image_report *r, const cl_image_facts *f, FILE *out);

/* Opens the image read-only and fills facts. cert_sha1: the lab certificate's thumbprint
 * (40 hex digits) or NULL to skip that finding. */
bool cl_image_read_facts(const char *image, const char *cert_sha1, cl_image_facts *f, cl_error **errp);

/* The lab certificate's SHA-1 thumbprint (upper-case hex) from a DER or PEM file. */
bool cl_image_cert_thumbprint(const char *path, char hex[41], cl_error **errp);

/* image prepare: copies base to out (never writing base) and makes the copy lab-ready. */
typedef struct {
    const char *base, *out;
    const char *virtio_iso;     /* NULL: qemu-ga and the drivers stay missing */
    const char *labagent;       /* default build/windows/labagent.exe */
    const char *cert;           /* default build/windows/labfault-test.cer */
    const char *dump_type;      /* kernel (default), full, small, automatic, active */
    uint32_t memory_mb;         /* guest memory the page file must hold a dump of (default 2048) */
    bool overlay;               /* out is a qcow2 overlay backed by base instead of a copy */
    cl_image_facts *after;      /* optional: the result's facts, read back before closing it */
    bool quiet;
} cl_image_prepare_opts;

bool cl_image_prepare(const cl_image_prepare_opts *o, json_object **changes, cl_error **errp);

/* Offline dump rescue: finds the dump(s) Windows left on the disk (CrashControl DumpFile,
 * else Windows\MEMORY.DMP; Windows\Minidump\*.dmp; a dedicated dump file; a dump still
 * in pagefile.sys), copies each (bounded by max_bytes) into out_dir as rescued-N.dmp and
 * reads it with the dump readers. rescued-0.dmp is the chosen dump: the first whole one
 * in that order (when there is none, rescued-0.dmp is flagged truncated in the result). *result: {"dumps": [{guest_path, path, bytes, sha256,
 * truncated, inspect}], "chosen": index or null}. Returns the number of dumps copied, -1 on
 * error (the disk could not be opened). */
int cl_image_rescue(const char *image, const char *out_dir, uint64_t max_bytes, json_object **result, cl_error **errp);

#endif
