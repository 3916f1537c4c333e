/* labagent - crashlab's helper inside a Linux guest.
 *
 * The host lab runs it through qemu-ga guest-exec and parses stdout: every command prints
 * exactly one JSON object, {"ok":true,"command":...} or {"ok":false,"error":...}, and
 * exits 0, 1 on error, 2 on bad usage. Commands that fire a fault print and flush before
 * firing, because the guest may not live long enough to print anything after.
 * The command set is the Windows agent's (guest-agent/windows), minus what Linux lacks.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <dirent.h>
#include <unistd.h>

#include "catalogue.h"
#include "jsonout.h"
#include "labfault_abi.h"
#include "sha256.h"

#define MODULE_NAME "labfault"

enum { EXIT_OK = 0, EXIT_ERR = 1, EXIT_USAGE = 2 };

static const char usage_text[] =
    "usage: labagent install-driver PATH | remove-driver | arm FAULT [k=v...] | fire |"
    " trigger FAULT [k=v...] | status | collect | check-abi | expect FAULT";

static int fail(const char *command, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(const char *command, int code, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    lj_writer w;
    lj_begin(&w, stdout);
    lj_bool(&w, "ok", false);
    if (command)
        lj_str(&w, "command", command);
    lj_str(&w, "error", msg);
    lj_end(&w);
    return code;
}

static const char *state_name(uint32_t state)
{
    switch (state) {
    case LABFAULT_STATE_IDLE: return "idle";
    case LABFAULT_STATE_ARMED: return "armed";
    case LABFAULT_STATE_FIRED: return "fired";
    case LABFAULT_STATE_DONE: return "done";
    }
    return "unknown";
}

/* The kernel's reply is bounded by its struct, but its count and names are still checked. */
static void put_ground_truth(lj_writer *w, const struct labfault_ground_truth *gt)
{
    const cl_fault *f = cl_fault_by_number(gt->fault);
    lj_str(w, "fault", f ? f->id : "none");
    lj_str(w, "state", state_name(gt->state));
    lj_object_begin(w, "ground_truth");
    uint32_t n = gt->count <= LABFAULT_MAX_ITEMS ? gt->count : LABFAULT_MAX_ITEMS;
    for (uint32_t i = 0; i < n; i++) {
        char name[sizeof(gt->item[i].name) + 1];
        memcpy(name, gt->item[i].name, sizeof(gt->item[i].name));
        name[sizeof(gt->item[i].name)] = '\0';
        lj_hex(w, name, gt->item[i].value);
    }
    lj_close_object(w);
}

static int open_device(const char *command, int *fd)
{
    *fd = open(LABFAULT_LINUX_DEVICE, O_RDWR | O_CLOEXEC);
    if (*fd < 0)
        return fail(command, EXIT_ERR, "cannot open %s: %s (is the module installed?)",
                    LABFAULT_LINUX_DEVICE, strerror(errno));
    return EXIT_OK;
}

/* FAULT k=v... -> a validated request; the module checks it again. */
static int build_request(const char *command, int argc, char **argv, const cl_fault **fault,
                         struct labfault_request *req)
{
    const cl_fault *f = cl_fault_lookup(argv[0]);
    if (!f)
        return fail(command, EXIT_ERR, "unknown fault '%s'", argv[0]);
    cl_fault_request_init(f, req);
    for (int i = 1; i < argc; i++) {
        char *eq = strchr(argv[i], '=');
        if (!eq || eq == argv[i])
            return fail(command, EXIT_USAGE, "parameter '%s' is not of the form name=value", argv[i]);
        char name[64];
        size_t nlen = (size_t)(eq - argv[i]);
        if (nlen >= sizeof(name))
            return fail(command, EXIT_ERR, "parameter name too long");
        memcpy(name, argv[i], nlen);
        name[nlen] = '\0';
        char why[256];
        if (!cl_fault_param_set(f, name, eq + 1, req, why, sizeof(why)))
            return fail(command, EXIT_ERR, "%s", why);
    }
    *fault = f;
    return EXIT_OK;
}

static int do_arm(const char *command, int argc, char **argv, bool then_fire)
{
    if (argc < 1)
        return fail(command, EXIT_USAGE, "%s", usage_text);
    const cl_fault *f = NULL;
    struct labfault_request req;
    int rc = build_request(command, argc, argv, &f, &req);
    if (rc != EXIT_OK)
        return rc;
    int fd;
    if ((rc = open_device(command, &fd)) != EXIT_OK)
        return rc;
    /* ARM reads the request and writes the ground truth into the same buffer. */
    union {
        struct labfault_request req;
        struct labfault_ground_truth gt;
    } io;
    memset(&io, 0, sizeof(io));
    io.req = req;
    if (ioctl(fd, LABFAULT_IOC_ARM, &io) < 0) {
        int e = errno;
        close(fd);
        return fail(command, EXIT_ERR, "arm %s: %s", f->id, strerror(e));
    }
    lj_writer w;
    lj_begin(&w, stdout);
    lj_bool(&w, "ok", true);
    lj_str(&w, "command", command);
    lj_int(&w, "pid", (long long)getpid());
    if (then_fire)
        lj_bool(&w, "firing", true);
    put_ground_truth(&w, &io.gt);
    lj_end(&w);
    if (!then_fire) {
        close(fd);
        return EXIT_OK;
    }
    if (ioctl(fd, LABFAULT_IOC_FIRE) < 0) {
        /* The object is already out; the reason goes to stderr, the exit code says it. */
        fprintf(stderr, "labagent: fire %s: %s\n", f->id, strerror(errno));
        close(fd);
        return EXIT_ERR;
    }
    close(fd);
    return EXIT_OK;
}

static int get_status(const char *command, int fd, struct labfault_ground_truth *gt)
{
    memset(gt, 0, sizeof(*gt));
    if (ioctl(fd, LABFAULT_IOC_STATUS, gt) < 0)
        return fail(command, EXIT_ERR, "status: %s", strerror(errno));
    return EXIT_OK;
}

static int cmd_fire(void)
{
    int fd, rc;
    if ((rc = open_device("fire", &fd)) != EXIT_OK)
        return rc;
    struct labfault_ground_truth gt;
    if ((rc = get_status("fire", fd, &gt)) != EXIT_OK) {
        close(fd);
        return rc;
    }
    if (gt.state != LABFAULT_STATE_ARMED) {
        close(fd);
        return fail("fire", EXIT_ERR, "no fault is armed (state %s)", state_name(gt.state));
    }
    lj_writer w;
    lj_begin(&w, stdout);
    lj_bool(&w, "ok", true);
    lj_str(&w, "command", "fire");
    lj_int(&w, "pid", (long long)getpid());
    lj_bool(&w, "firing", true);
    put_ground_truth(&w, &gt);
    lj_end(&w);
    if (ioctl(fd, LABFAULT_IOC_FIRE) < 0) {
        fprintf(stderr, "labagent: fire: %s\n", strerror(errno));
        close(fd);
        return EXIT_ERR;
    }
    close(fd);
    return EXIT_OK;
}

static int cmd_status(void)
{
    int fd, rc;
    if ((rc = open_device("status", &fd)) != EXIT_OK)
        return rc;
    struct labfault_ground_truth gt;
    rc = get_status("status", fd, &gt);
    close(fd);
    if (rc != EXIT_OK)
        return rc;
    lj_writer w;
    lj_begin(&w, stdout);
    lj_bool(&w, "ok", true);
    lj_str(&w, "command", "status");
    put_ground_truth(&w, &gt);
    lj_end(&w);
    return EXIT_OK;
}

static int cmd_install(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fail("install-driver", EXIT_ERR, "cannot open '%s': %s", path, strerror(errno));
    bool already = false;
    if (syscall(SYS_finit_module, fd, "", 0) != 0) {
        int e = errno;
        close(fd);
        if (e != EEXIST)
            return fail("install-driver", EXIT_ERR, "finit_module '%s': %s", path, strerror(e));
        already = true;
    } else {
        close(fd);
    }
    struct stat st;
    if (stat(LABFAULT_LINUX_DEVICE, &st) != 0 || !S_ISCHR(st.st_mode))
        return fail("install-driver", EXIT_ERR, "module loaded but %s is missing", LABFAULT_LINUX_DEVICE);
    struct utsname u;
    lj_writer w;
    lj_begin(&w, stdout);
    lj_bool(&w, "ok", true);
    lj_str(&w, "command", "install-driver");
    lj_str(&w, "path", path);
    lj_str(&w, "module", MODULE_NAME);
    lj_str(&w, "device", LABFAULT_LINUX_DEVICE);
    lj_bool(&w, "already_loaded", already);
    if (uname(&u) == 0)
        lj_str(&w, "kernel_release", u.release);
    lj_end(&w);
    return EXIT_OK;
}

static int cmd_remove(void)
{
    bool was_loaded = true;
    if (syscall(SYS_delete_module, MODULE_NAME, O_NONBLOCK) != 0) {
        if (errno != ENOENT)
            return fail("remove-driver", EXIT_ERR, "delete_module %s: %s", MODULE_NAME, strerror(errno));
        was_loaded = false;
    }
    lj_writer w;
    lj_begin(&w, stdout);
    lj_bool(&w, "ok", true);
    lj_str(&w, "command", "remove-driver");
    lj_str(&w, "module", MODULE_NAME);
    lj_bool(&w, "was_loaded", was_loaded);
    lj_end(&w);
    return EXIT_OK;
}

/* Files the guest kept after a crash, for the host to fetch in bounded chunks: the
 * Linux analog of MEMORY.DMP and minidumps is whatever lands in /var/crash. */
#define CRASH_DIR "/var/crash"

static bool hash_file(const char *path, uint64_t *size, char hex[65])
{
    static unsigned char buf[1 << 16];
    sha256_ctx c;
    uint8_t md[32];
    ssize_t n;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

    if (fd < 0)
        return false;
    sha256_init(&c);
    *size = 0;
    while ((n = read(fd, buf, sizeof(buf))) > 0) {
        sha256_update(&c, buf, (size_t)n);
        *size += (uint64_t)n;
    }
    close(fd);
    if (n < 0)
        return false;
    sha256_final(&c, md);
    sha256_hex(md, hex);
    return true;
}

static int cmd_collect(void)
{
    lj_writer w;
    DIR *d = opendir(CRASH_DIR);
    struct dirent *de;

    lj_begin(&w, stdout);
    lj_bool(&w, "ok", true);
    lj_str(&w, "command", "collect");
    lj_str(&w, "dump_dir", CRASH_DIR);
    lj_array_begin(&w, "dumps");
    while (d && (de = readdir(d))) {
        char path[512], hex[65];
        uint64_t size;
        struct stat st;

        snprintf(path, sizeof(path), "%s/%s", CRASH_DIR, de->d_name);
        if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
            continue;
        if (!hash_file(path, &size, hex))
            continue;
        lj_object_begin(&w, NULL);
        lj_str(&w, "kind", "file");
        lj_str(&w, "path", path);
        lj_int(&w, "size", (long long)size);
        lj_str(&w, "sha256", hex);
        lj_close_object(&w);
    }
    if (d)
        closedir(d);
    lj_close_array(&w);
    lj_end(&w);
    return EXIT_OK;
}

/* One request the module must refuse with EINVAL; returns the errno it gave (0: accepted). */
static int try_bad(int fd, unsigned long cmd, void *buf)
{
    return ioctl(fd, cmd, buf) < 0 ? errno : 0;
}

/* The module's input checks, run for real against /dev/labfault. Disarms what is armed. */
static int cmd_check_abi(void)
{
    int fd, rc;
    if ((rc = open_device("check-abi", &fd)) != EXIT_OK)
        return rc;
    union {
        struct labfault_request req;
        struct labfault_ground_truth gt;
        char big[512];
    } io;
    struct {
        const char *name;
        int err;
    } res[6];
    size_t n = 0;
    const cl_fault *f = cl_fault_lookup("double-free");

    cl_fault_request_init(f, &io.req);
    io.req.abi_version = LABFAULT_ABI_VERSION + 1;
    res[n].name = "bad_abi_version";
    res[n++].err = try_bad(fd, LABFAULT_IOC_ARM, &io);

    cl_fault_request_init(f, &io.req);
    io.req.fault = LABFAULT_LAST;
    res[n].name = "unknown_fault";
    res[n++].err = try_bad(fd, LABFAULT_IOC_ARM, &io);

    cl_fault_request_init(f, &io.req);
    io.req.arg[0] = 8;  /* below the catalogue's minimum of 16 */
    res[n].name = "param_out_of_range";
    res[n++].err = try_bad(fd, LABFAULT_IOC_ARM, &io);

    cl_fault_request_init(f, &io.req);
    io.req.arg[5] = 1;  /* a slot the fault does not use */
    res[n].name = "unused_arg_set";
    res[n++].err = try_bad(fd, LABFAULT_IOC_ARM, &io);

    cl_fault_request_init(f, &io.req);
    res[n].name = "short_buffer";
    res[n++].err = try_bad(fd, _IOWR(LABFAULT_IOC_MAGIC, 1, char[16]), &io);

    res[n].name = "oversized_buffer";
    res[n++].err = try_bad(fd, _IOWR(LABFAULT_IOC_MAGIC, 1, char[sizeof(io.big)]), &io);
    close(fd);

    bool all = true;
    lj_writer w;
    lj_begin(&w, stdout);
    for (size_t i = 0; i < n; i++)
        all = all && res[i].err == EINVAL;
    lj_bool(&w, "ok", all);
    lj_str(&w, "command", "check-abi");
    lj_object_begin(&w, "rejected");
    for (size_t i = 0; i < n; i++)
        lj_str(&w, res[i].name, res[i].err ? strerror(res[i].err) : "accepted");
    lj_close_object(&w);
    if (!all)
        lj_str(&w, "error", "the module accepted a bad request or refused it with the wrong errno");
    lj_end(&w);
    return all ? EXIT_OK : EXIT_ERR;
}

/* What the catalogue expects on Linux; the host-side tests boot guests from this. */
static int cmd_expect(const char *id)
{
    const cl_fault *f = cl_fault_lookup(id);
    if (!f)
        return fail("expect", EXIT_ERR, "unknown fault '%s'", id);
    lj_writer w;
    lj_begin(&w, stdout);
    lj_bool(&w, "ok", true);
    lj_str(&w, "command", "expect");
    lj_str(&w, "fault", f->id);
    lj_str(&w, "outcome", cl_outcome_to_string(f->linux_.outcome));
    lj_str(&w, "kind", f->linux_.kind ? f->linux_.kind : "");
    lj_str(&w, "pattern", f->linux_.pattern ? f->linux_.pattern : "");
    lj_str(&w, "cmdline", f->linux_.cmdline ? f->linux_.cmdline : "");
    lj_int(&w, "min_vcpus", f->linux_.min_vcpus);
    lj_end(&w);
    return EXIT_OK;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return fail(NULL, EXIT_USAGE, "%s", usage_text);
    const char *cmd = argv[1];
    int nargs = argc - 2;
    char **args = argv + 2;

    if (!strcmp(cmd, "install-driver") && nargs == 1)
        return cmd_install(args[0]);
    if (!strcmp(cmd, "remove-driver") && nargs == 0)
        return cmd_remove();
    if (!strcmp(cmd, "arm") && nargs >= 1)
        return do_arm("arm", nargs, args, false);
    if (!strcmp(cmd, "trigger") && nargs >= 1)
        return do_arm("trigger", nargs, args, true);
    if (!strcmp(cmd, "fire") && nargs == 0)
        return cmd_fire();
    if (!strcmp(cmd, "status") && nargs == 0)
        return cmd_status();
    if (!strcmp(cmd, "collect") && nargs == 0)
        return cmd_collect();
    if (!strcmp(cmd, "check-abi") && nargs == 0)
        return cmd_check_abi();
    if (!strcmp(cmd, "expect") && nargs == 1)
        return cmd_expect(args[0]);
    return fail(cmd, EXIT_USAGE, "%s", usage_text);
}
