/* lf_driver.h - state shared by the parts of labfault.sys.
 *
 * One fault is armed at a time. ARM validates the request, allocates what the fault
 * needs and fills the ground truth; FIRE runs it in the caller's thread; STATUS copies
 * the ground truth out. Everything below is guarded by lf.lock unless a comment says
 * otherwise. The leak thread and hung IRPs outlive a FIRE, so they have their own
 * bookkeeping and are torn down in DriverUnload.
 */
#ifndef LF_DRIVER_H
#define LF_DRIVER_H

/* The DDK inlines PsGetCurrentThread as a read of gs:[0x188]; call the export instead,
 * which is the same on Windows and also right under Wine (where gs holds the TEB). */
#define _PSGETCURRENTTHREAD_
#include <ntifs.h>   /* ntddk.h plus the security and object calls lf_secure_device uses */

#include "labfault_abi.h"

NTKERNELAPI PETHREAD NTAPI PsGetCurrentThread(VOID);
NTSYSAPI NTSTATUS NTAPI ZwWaitForSingleObject(HANDLE handle, BOOLEAN alertable, PLARGE_INTEGER timeout); /* ntifs.h */

#define LF_POOL_TAG 0x4662614Cu     /* 'FbaL': "LabF" in poolmon, the driver's own blocks */
#define LF_GT_TAG 0x4762614Cu       /* 'GbaL': "LabG", the ground-truth block a dump reader finds */
#define LF_MAX_HUNG_IRPS 16
/* Touched at DISPATCH_LEVEL by high-irql-fault: the first 64 KiB of user space are never
 * mapped, so the page fault is certain and the bug check is 0xD1 with this as Arg1. */
#define LF_HIGH_IRQL_ADDRESS 0x1008

typedef struct {
    KSPIN_LOCK lock;
    PDEVICE_OBJECT device;
    struct labfault_request req;    /* the armed request */
    struct labfault_ground_truth gt;
    struct labfault_gt_block *gt_block;   /* non-paged copy of gt for dump readers (lf_gt_publish) */
    KBUGCHECK_REASON_CALLBACK_RECORD bugcheck_cb;
    BOOLEAN bugcheck_cb_registered;
    PVOID block;                    /* armed pool block (memory faults) */
    PERESOURCE resource;            /* armed ERESOURCE (self-deadlock) */
    KSPIN_LOCK lock_a, lock_b;      /* ABBA pair */
    volatile LONG abba_a_held, abba_b_held;

    /* DPC watchdog: the timer and DPC live here so that unload can cancel them. */
    KTIMER timer;
    KDPC dpc;
    volatile LONG dpc_stop;
    volatile LONG dpc_runs;

    /* Hung IRPs; slots are guarded by the cancel spin lock's protocol (IoSetCancelRoutine). */
    PIRP hung[LF_MAX_HUNG_IRPS];
    KTIMER hang_timer;
    KDPC hang_dpc;

    /* Pool leak worker. */
    HANDLE leak_thread;             /* kernel handle of the worker, NULL if none */
    volatile LONG leak_stop;
    volatile LONG64 leak_count;
    volatile LONG64 leak_bytes;
    PVOID leak_head;                /* singly linked through each block's first pointer */
} lf_globals;

extern lf_globals lf;

/* Ground truth helpers; callers hold lf.lock. */
void lf_gt_reset(ULONG fault);
void lf_gt_add(const char *name, ULONG64 value);
void lf_gt_set(const char *name, ULONG64 value);   /* replace or add */
void lf_gt_state(ULONG state);                      /* gt.state, published */
/* Copies gt (and frames, when given) into the ground-truth block; every helper above
 * calls it, so the block in a dump is never older than the last change. */
void lf_gt_publish(const ULONG64 *frames, ULONG nframes);

/* Per-fault work. arm: validate lf.req, allocate, fill gt (lf.lock NOT held: may allocate
 * paged memory). fire: runs at PASSIVE_LEVEL in the caller's thread. */
ULONG lf_tag_value(const char tag[8]);
NTSTATUS lf_arm(const struct labfault_request *req);
NTSTATUS lf_fire(PIRP irp);
void lf_disarm(void);

NTSTATUS lf_hang_fire(PIRP irp, BOOLEAN cancelable, ULONG timeout_ms);
void lf_hang_unload(void);

NTSTATUS lf_leak_start(void);
BOOLEAN lf_leak_busy(void);
void lf_leak_reap_finished(void);
void lf_leak_unload(void);

NTSTATUS lf_dpc_fire(BOOLEAN cumulative, ULONG stall_ms);
void lf_dpc_unload(void);

NTSTATUS lf_lock_fire_abba(void);
NTSTATUS lf_lock_fire_resource(void);
void lf_lock_unload(void);

NTSTATUS lf_mem_fire(ULONG fault);
VOID lf_stack_overflow(ULONG depth);
VOID lf_stack_trash(void);

#endif
