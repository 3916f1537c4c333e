/* cmd_fault.c - arm, fire, trigger, status: talking to \\.\LabFault.
 *
 * Parameters are parsed with the shared catalogue (the same code the host uses to
 * validate scenarios), so a value the host accepted is a value the agent accepts.
 * The ground truth is printed and flushed before FIRE: the guest may be dead a moment
 * later, and the host must already have it.
 */
#include <windows.h>
#include <winternl.h>

#include <stdio.h>
#include <string.h>

#include "agent.h"
#include "catalogue.h"
#include "jout.h"

static HANDLE open_device(void)
{
    return CreateFileA(LABFAULT_WIN_USER_PATH, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING,
                       FILE_ATTRIBUTE_NORMAL, NULL);
}

/* Parses FAULT k=v... into req; on failure prints the error and returns the exit code. */
static int parse_request(const char *command, int argc, char **argv, const cl_fault **fp,
                         struct labfault_request *req)
{
    if (argc < 1)
        return jout_fail(command, LABAGENT_EXIT_USAGE, "usage: labagent %s FAULT [key=value ...]", command);
    const cl_fault *f = cl_fault_lookup(argv[0]);
    if (!f)
        return jout_fail(command, LABAGENT_EXIT_USAGE, "unknown fault '%s' (see crashlab faults)", argv[0]);
    cl_fault_request_init(f, req);
    for (int i = 1; i < argc; i++) {
        char arg[512], *k, *v, why[256];
        if (strlen(argv[i]) >= sizeof(arg))
            return jout_fail(command, LABAGENT_EXIT_USAGE, "argument %d is too long", i);
        strcpy(arg, argv[i]);
        if (agent_split_kv(arg, &k, &v) < 0)
            return jout_fail(command, LABAGENT_EXIT_USAGE, "expected key=value, got '%s'", argv[i]);
        if (!cl_fault_param_set(f, k, v, req, why, sizeof(why)))
            return jout_fail(command, LABAGENT_EXIT_USAGE, "%s", why);
    }
    *fp = f;
    return -1;
}

static int arm(const char *command, HANDLE dev, const cl_fault *f, struct labfault_request *req,
               struct labfault_ground_truth *gt)
{
    DWORD got = 0;
    memset(gt, 0, sizeof(*gt));
    if (!DeviceIoControl(dev, LABFAULT_WIN_IOCTL_ARM(f->number), req, sizeof(*req), gt, sizeof(*gt), &got,
                         NULL))
        return jout_fail(command, LABAGENT_EXIT_FAIL, "ARM %s failed: %s", f->id, jout_winerr(GetLastError()));
    if (got != sizeof(*gt) || gt->abi_version != LABFAULT_ABI_VERSION || gt->fault != (uint32_t)f->number)
        return jout_fail(command, LABAGENT_EXIT_FAIL, "ARM %s: bad reply (%lu bytes, abi %u, fault %u)", f->id,
                         (unsigned long)got, gt->abi_version, gt->fault);
    return -1;
}

static void print_truth(const char *command, const cl_fault *f, const struct labfault_ground_truth *gt)
{
    jout_begin(command);
    jout_u64("pid", GetCurrentProcessId());    /* for hang-irp: the process that becomes a zombie */
    jout_str("fault", f ? f->id : "none");
    jout_u64("fault_number", gt->fault);
    jout_ground_truth(gt);
}

/* Sends FIRE; returns the exit code once (if ever) it comes back. Output is already out. */
static int fire(HANDLE dev)
{
    DWORD got = 0;
    if (!DeviceIoControl(dev, LABFAULT_WIN_IOCTL_FIRE, NULL, 0, NULL, 0, &got, NULL)) {
        fprintf(stderr, "labagent: FIRE failed: %s\n", jout_winerr(GetLastError()));
        return LABAGENT_EXIT_FAIL;
    }
    return LABAGENT_EXIT_OK;
}

int cmd_arm(int argc, char **argv)
{
    const cl_fault *f = NULL;
    struct labfault_request req;
    struct labfault_ground_truth gt;
    int rc = parse_request("arm", argc, argv, &f, &req);
    if (rc >= 0)
        return rc;
    HANDLE dev = open_device();
    if (dev == INVALID_HANDLE_VALUE)
        return jout_fail("arm", LABAGENT_EXIT_FAIL, "cannot open %s: %s", LABFAULT_WIN_USER_PATH,
                         jout_winerr(GetLastError()));
    rc = arm("arm", dev, f, &req, &gt);
    CloseHandle(dev);
    if (rc >= 0)
        return rc;
    print_truth("arm", f, &gt);
    jout_print();
    return LABAGENT_EXIT_OK;
}

static bool read_status(HANDLE dev, struct labfault_ground_truth *gt)
{
    DWORD got = 0;
    memset(gt, 0, sizeof(*gt));
    return DeviceIoControl(dev, LABFAULT_WIN_IOCTL_STATUS, NULL, 0, gt, sizeof(*gt), &got, NULL) &&
           got == sizeof(*gt) && gt->abi_version == LABFAULT_ABI_VERSION;
}

int cmd_status(int argc, char **argv)
{
    struct labfault_ground_truth gt;
    (void)argv;
    if (argc != 0)
        return jout_fail("status", LABAGENT_EXIT_USAGE, "usage: labagent status");
    HANDLE dev = open_device();
    if (dev == INVALID_HANDLE_VALUE)
        return jout_fail("status", LABAGENT_EXIT_FAIL, "cannot open %s: %s", LABFAULT_WIN_USER_PATH,
                         jout_winerr(GetLastError()));
    bool ok = read_status(dev, &gt);
    DWORD err = GetLastError();
    CloseHandle(dev);
    if (!ok)
        return jout_fail("status", LABAGENT_EXIT_FAIL, "STATUS failed: %s", jout_winerr(err));
    print_truth("status", cl_fault_by_number(gt.fault), &gt);
    jout_print();
    return LABAGENT_EXIT_OK;
}

int cmd_fire(int argc, char **argv)
{
    struct labfault_ground_truth gt;
    (void)argv;
    if (argc != 0)
        return jout_fail("fire", LABAGENT_EXIT_USAGE, "usage: labagent fire");
    HANDLE dev = open_device();
    if (dev == INVALID_HANDLE_VALUE)
        return jout_fail("fire", LABAGENT_EXIT_FAIL, "cannot open %s: %s", LABFAULT_WIN_USER_PATH,
                         jout_winerr(GetLastError()));
    if (!read_status(dev, &gt)) {
        DWORD err = GetLastError();
        CloseHandle(dev);
        return jout_fail("fire", LABAGENT_EXIT_FAIL, "STATUS failed: %s", jout_winerr(err));
    }
    if (gt.state != LABFAULT_STATE_ARMED) {
        CloseHandle(dev);
        return jout_fail("fire", LABAGENT_EXIT_FAIL, "no fault is armed");
    }
    print_truth("fire", cl_fault_by_number(gt.fault), &gt);
    jout_bool("firing", true);
    jout_print();
    int rc = fire(dev);
    CloseHandle(dev);
    return rc;
}

int cmd_trigger(int argc, char **argv)
{
    const cl_fault *f = NULL;
    struct labfault_request req;
    struct labfault_ground_truth gt;
    int rc = parse_request("trigger", argc, argv, &f, &req);
    if (rc >= 0)
        return rc;
    HANDLE dev = open_device();
    if (dev == INVALID_HANDLE_VALUE)
        return jout_fail("trigger", LABAGENT_EXIT_FAIL, "cannot open %s: %s", LABFAULT_WIN_USER_PATH,
                         jout_winerr(GetLastError()));
    rc = arm("trigger", dev, f, &req, &gt);
    if (rc >= 0) {
        CloseHandle(dev);
        return rc;
    }
    print_truth("trigger", f, &gt);
    jout_bool("firing", true);
    jout_print();
    rc = fire(dev);
    CloseHandle(dev);
    return rc;
}

/* Well-sized ARM requests the catalogue would never produce: the driver must refuse
 * them itself (STATUS_INVALID_PARAMETER), whatever the caller. */
static void probe_params(HANDLE dev)
{
    struct labfault_ground_truth gt;
    struct bad { const char *what; uint32_t ioctl_fault; struct labfault_request r; } bad[8];
    size_t n = 0;

    memset(bad, 0, sizeof(bad));
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        bad[i].r.abi_version = LABFAULT_ABI_VERSION;
    }
    bad[n].what = "abi-version"; bad[n].ioctl_fault = LABFAULT_NULL_DEREF;
    bad[n].r.fault = LABFAULT_NULL_DEREF; bad[n++].r.abi_version = 99;
    bad[n].what = "fault-mismatch"; bad[n].ioctl_fault = LABFAULT_NULL_DEREF;
    bad[n++].r.fault = LABFAULT_BUGCHECK;
    bad[n].what = "size-too-small"; bad[n].ioctl_fault = LABFAULT_DOUBLE_FREE;
    bad[n].r.fault = LABFAULT_DOUBLE_FREE; bad[n++].r.arg[0] = 8;
    bad[n].what = "unused-arg-set"; bad[n].ioctl_fault = LABFAULT_NULL_DEREF;
    bad[n].r.fault = LABFAULT_NULL_DEREF; bad[n++].r.arg[5] = 1;
    bad[n].what = "tag-on-non-leak"; bad[n].ioctl_fault = LABFAULT_NULL_DEREF;
    bad[n].r.fault = LABFAULT_NULL_DEREF; memcpy(bad[n++].r.tag, "Evil", 4);
    bad[n].what = "leak-without-tag"; bad[n].ioctl_fault = LABFAULT_POOL_LEAK;
    bad[n].r.fault = LABFAULT_POOL_LEAK; bad[n].r.arg[0] = 64; bad[n].r.arg[1] = 1; bad[n++].r.arg[2] = 1;
    bad[n].what = "message-unterminated"; bad[n].ioctl_fault = LABFAULT_BUGCHECK;
    bad[n].r.fault = LABFAULT_BUGCHECK; bad[n].r.arg[0] = 0xE2;
    memset(bad[n++].r.message, 'A', sizeof(bad[0].r.message));
    bad[n].what = "bugcheck-code-zero"; bad[n].ioctl_fault = LABFAULT_BUGCHECK;
    bad[n++].r.fault = LABFAULT_BUGCHECK;

    jout_arr("bad_params");
    for (size_t i = 0; i < n; i++) {
        IO_STATUS_BLOCK iosb;
        memset(&iosb, 0, sizeof(iosb));
        NTSTATUS st = NtDeviceIoControlFile(dev, NULL, NULL, NULL, &iosb, LABFAULT_WIN_IOCTL_ARM(bad[i].ioctl_fault),
                                            &bad[i].r, sizeof(bad[i].r), &gt, sizeof(gt));
        jout_obj(NULL);
        jout_str("probe", bad[i].what);
        jout_hex("status", (uint32_t)st);
        jout_obj_end();
    }
    jout_arr_end();
}

/* Test aid: sends every IOCTL with wrong buffer lengths through NtDeviceIoControlFile
 * and reports the raw NTSTATUS of each, so a test can assert that all are refused. */
int cmd_probe_ioctl(int argc, char **argv)
{
    static unsigned char in[8192], outb[8192];
    const DWORD req_sz = sizeof(struct labfault_request), gt_sz = sizeof(struct labfault_ground_truth);
    struct probe { DWORD code; DWORD in_len, out_len; const char *what; } probes[3 * LABFAULT_LAST + 16];
    size_t n = 0;
    (void)argv;
    if (argc != 0)
        return jout_fail("probe-ioctl", LABAGENT_EXIT_USAGE, "usage: labagent probe-ioctl");

    for (DWORD f = 1; f < LABFAULT_LAST; f++) {
        probes[n++] = (struct probe){ LABFAULT_WIN_IOCTL_ARM(f), req_sz - 1, gt_sz, "arm-short-in" };
        probes[n++] = (struct probe){ LABFAULT_WIN_IOCTL_ARM(f), req_sz + 1, gt_sz, "arm-long-in" };
        probes[n++] = (struct probe){ LABFAULT_WIN_IOCTL_ARM(f), req_sz, gt_sz - 1, "arm-short-out" };
    }
    probes[n++] = (struct probe){ LABFAULT_WIN_IOCTL_ARM(1), 0, gt_sz, "arm-empty-in" };
    probes[n++] = (struct probe){ LABFAULT_WIN_IOCTL_ARM(1), 4096, gt_sz, "arm-page-in" };
    probes[n++] = (struct probe){ LABFAULT_WIN_IOCTL_ARM(1), req_sz, 4096, "arm-long-out" };
    probes[n++] = (struct probe){ LABFAULT_WIN_IOCTL_FIRE, 1, 0, "fire-in" };
    probes[n++] = (struct probe){ LABFAULT_WIN_IOCTL_FIRE, 4096, 0, "fire-page-in" };
    probes[n++] = (struct probe){ LABFAULT_WIN_IOCTL_FIRE, 0, 8, "fire-out" };
    probes[n++] = (struct probe){ LABFAULT_WIN_IOCTL_STATUS, 1, gt_sz, "status-in" };
    probes[n++] = (struct probe){ LABFAULT_WIN_IOCTL_STATUS, 0, gt_sz - 1, "status-short-out" };
    probes[n++] = (struct probe){ LABFAULT_WIN_IOCTL_STATUS, 0, gt_sz + 1, "status-long-out" };

    HANDLE dev = open_device();
    if (dev == INVALID_HANDLE_VALUE)
        return jout_fail("probe-ioctl", LABAGENT_EXIT_FAIL, "cannot open %s: %s", LABFAULT_WIN_USER_PATH,
                         jout_winerr(GetLastError()));
    jout_begin("probe-ioctl");
    probe_params(dev);
    jout_arr("probes");
    size_t refused = 0;
    for (size_t i = 0; i < n; i++) {
        IO_STATUS_BLOCK iosb;
        memset(in, 0, sizeof(in));
        memset(&iosb, 0, sizeof(iosb));
        /* A well-formed request in front, so only the length is wrong. */
        struct labfault_request *r = (struct labfault_request *)in;
        r->abi_version = LABFAULT_ABI_VERSION;
        r->fault = (probes[i].code >> 2 & 0xfff) - 0x800;
        NTSTATUS st = NtDeviceIoControlFile(dev, NULL, NULL, NULL, &iosb, probes[i].code, in, probes[i].in_len,
                                            outb, probes[i].out_len);
        refused += st == (NTSTATUS)0xC0000004L;
        jout_obj(NULL);
        jout_str("probe", probes[i].what);
        jout_hex("ioctl", probes[i].code);
        jout_u64("in", probes[i].in_len);
        jout_u64("out", probes[i].out_len);
        jout_hex("status", (uint32_t)st);
        jout_obj_end();
    }
    jout_arr_end();
    jout_u64("probes_sent", n);
    jout_u64("refused_length", refused);
    CloseHandle(dev);
    /* Every IOCTL requires FILE_WRITE_ACCESS: a read-only handle must not reach the driver
     * (Windows' I/O manager refuses it with STATUS_ACCESS_DENIED before dispatch). */
    HANDLE ro = CreateFileA(LABFAULT_WIN_USER_PATH, GENERIC_READ, 0, NULL, OPEN_EXISTING, 0, NULL);
    if (ro != INVALID_HANDLE_VALUE) {
        IO_STATUS_BLOCK iosb;
        memset(&iosb, 0, sizeof(iosb));
        NTSTATUS st = NtDeviceIoControlFile(ro, NULL, NULL, NULL, &iosb, LABFAULT_WIN_IOCTL_STATUS, NULL, 0, outb,
                                            sizeof(struct labfault_ground_truth));
        jout_hex("readonly_status", (uint32_t)st);
        CloseHandle(ro);
    }
    jout_print();
    return LABAGENT_EXIT_OK;
}
