/* labfault_abi.h - the binary interface between a guest agent and a fault driver.
 *
 * Compiled by: the Linux module (kernel), the Windows WDM driver (mingw-w64 DDK),
 * both guest agents (user mode) and the host. Only fixed-width fields; every struct has
 * a pinned size so that a 32-bit caller or another compiler cannot disagree on layout.
 *
 * Protocol, both OSes:
 *   ARM   request = struct labfault_request, reply = struct labfault_ground_truth.
 *         The driver validates the parameters, allocates what the fault needs and reports
 *         where it lives (ground truth), without firing. Bad parameters: EINVAL /
 *         STATUS_INVALID_PARAMETER; a short or oversized buffer: EINVAL /
 *         STATUS_INFO_LENGTH_MISMATCH.
 *   FIRE  no buffers. Fires the armed fault in the caller's context (it may never return).
 *   STATUS reply = struct labfault_ground_truth of the armed/last fault, including what was
 *         only known at fire time (e.g. the hung IRP, the blocked task), and counters.
 * The agent prints the ground truth as JSON before it fires, so the host has it even
 * when the guest dies a moment later.
 */
#ifndef LABFAULT_ABI_H
#define LABFAULT_ABI_H

#if defined(__KERNEL__)
#include <linux/types.h>
typedef __u32 lf_u32;
typedef __u64 lf_u64;
#else
#include <stdint.h>
typedef uint32_t lf_u32;
typedef uint64_t lf_u64;
#endif

#define LABFAULT_ABI_VERSION 1

enum labfault_id {
    LABFAULT_NONE = 0,
#define LABFAULT(e, n, id) LABFAULT_##e = n,
#include "faults.def"
#undef LABFAULT
    LABFAULT_LAST
};

#define LABFAULT_MAX_ARGS 6
#define LABFAULT_MAX_ITEMS 12

struct labfault_request {
    lf_u32 abi_version;                /* LABFAULT_ABI_VERSION */
    lf_u32 fault;                      /* enum labfault_id */
    lf_u64 arg[LABFAULT_MAX_ARGS];     /* meaning per fault: drivers/catalogue/catalogue.c */
    char tag[8];                       /* pool tag, 4 characters used, NUL padded */
    char message[128];                 /* NUL-terminated; Linux panic message */
};

struct labfault_item {
    char name[24];                     /* NUL-terminated, e.g. "irp", "thread", "pool_block" */
    lf_u64 value;                      /* an address, a count, a code */
};

struct labfault_ground_truth {
    lf_u32 abi_version;
    lf_u32 fault;
    lf_u32 count;                      /* valid entries in item[] (<= LABFAULT_MAX_ITEMS) */
    lf_u32 state;                      /* enum labfault_state */
    struct labfault_item item[LABFAULT_MAX_ITEMS];
};

enum labfault_state {
    LABFAULT_STATE_IDLE = 0,
    LABFAULT_STATE_ARMED = 1,
    LABFAULT_STATE_FIRED = 2,
    LABFAULT_STATE_DONE = 3,           /* a non-crashing fault (leak, cancelable hang) finished */
};

/* Windows: the driver keeps a copy of its ground truth in one tagged non-paged block
 * ("LabG"), rewritten on every change and in the fire path, so that a memory dump holds
 * the labels even when the agent's answer died with the guest; a bug-check callback also
 * hands it to the kernel's dump writer as secondary data (LABFAULT_GT_GUID). A dump reader
 * finds it by scanning physical pages for the magic at an 8-byte boundary and checks size,
 * self address and checksum (FNV-1a 32 over truth and frames). */
#define LABFAULT_GT_MAGIC "CLABGT01"
#define LABFAULT_GT_MAX_FRAMES 16
struct labfault_gt_block {
    char magic[8];                     /* LABFAULT_GT_MAGIC, not NUL-terminated */
    lf_u32 size;                       /* sizeof(struct labfault_gt_block) */
    lf_u32 checksum;                   /* FNV-1a 32 of truth, nframes, pad and frames */
    lf_u64 self;                       /* the block's kernel virtual address */
    lf_u64 sequence;                   /* bumped on every update */
    struct labfault_ground_truth truth;
    lf_u32 nframes;                    /* return addresses captured in the fire path */
    lf_u32 pad;
    lf_u64 frames[LABFAULT_GT_MAX_FRAMES];
};
/* {5c6a1f3e-8b1d-4c62-9e57-6c61624c4754}: secondary dump data of labfault.sys */
#define LABFAULT_GT_GUID_BYTES 0x3e, 0x1f, 0x6a, 0x5c, 0x1d, 0x8b, 0x62, 0x4c, 0x9e, 0x57, 0x6c, 0x61, 0x62, 0x4c, 0x47, 0x54

static inline lf_u32 labfault_gt_checksum(const struct labfault_gt_block *b)
{
    const unsigned char *p = (const unsigned char *)&b->truth;
    lf_u32 h = 2166136261u;
    for (unsigned long i = 0; i < sizeof(*b) - __builtin_offsetof(struct labfault_gt_block, truth); i++)
        h = (h ^ p[i]) * 16777619u;
    return h;
}

/* Pinned sizes: any change here is an ABI change. */
_Static_assert(sizeof(struct labfault_request) == 4 + 4 + 48 + 8 + 128, "labfault_request size");
_Static_assert(sizeof(struct labfault_item) == 32, "labfault_item size");
_Static_assert(sizeof(struct labfault_ground_truth) == 16 + 12 * 32, "labfault_ground_truth size");
_Static_assert(sizeof(struct labfault_gt_block) == 32 + 400 + 8 + 16 * 8, "labfault_gt_block size");

/* Linux: misc device /dev/labfault */
#define LABFAULT_LINUX_DEVICE "/dev/labfault"
#define LABFAULT_IOC_MAGIC 'L'
#define LABFAULT_IOC_ARM    _IOWR(LABFAULT_IOC_MAGIC, 1, struct labfault_request)
#define LABFAULT_IOC_FIRE   _IO(LABFAULT_IOC_MAGIC, 2)
#define LABFAULT_IOC_STATUS _IOR(LABFAULT_IOC_MAGIC, 3, struct labfault_ground_truth)

/* Windows: device \Device\LabFault, symbolic link \DosDevices\LabFault (\\.\LabFault).
 * One ARM IOCTL per fault (function 0x800 + fault number), METHOD_BUFFERED: input is the
 * request, output the ground truth. FIRE and STATUS are shared. CTL_CODE is spelled out
 * so that this header needs no Windows header. Every code requires FILE_WRITE_ACCESS
 * (access bits 2): the I/O manager refuses it on a handle not opened for writing, and the
 * device's DACL gives write access only to SYSTEM and Administrators (LABFAULT_WIN_SDDL),
 * so no unprivileged process can bug-check the guest. */
#define LABFAULT_WIN_DEVICE_NAME L"\\Device\\LabFault"
#define LABFAULT_WIN_LINK_NAME   L"\\DosDevices\\LabFault"
#define LABFAULT_WIN_USER_PATH   "\\\\.\\LabFault"
#define LABFAULT_WIN_FILE_WRITE_ACCESS 2u
#define LABFAULT_WIN_CTL(fn) ((0x22u << 16) | (LABFAULT_WIN_FILE_WRITE_ACCESS << 14) | ((lf_u32)(fn) << 2) | 0u)
/* The device's security, as IoCreateDeviceSecure would take it: protected DACL, all access
 * for LocalSystem and the Administrators alias, nobody else. */
#define LABFAULT_WIN_SDDL "D:P(A;;GA;;;SY)(A;;GA;;;BA)"
#define LABFAULT_WIN_IOCTL_ARM(fault) LABFAULT_WIN_CTL(0x800 + (fault))
#define LABFAULT_WIN_IOCTL_FIRE       LABFAULT_WIN_CTL(0x900)
#define LABFAULT_WIN_IOCTL_STATUS     LABFAULT_WIN_CTL(0x901)

#endif
