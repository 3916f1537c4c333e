/* plan.c - what a run will do, decided before anything is started: the options and the
 * scenario checked, the run id, every path the run writes, the guest files. --print-xml
 * needs no more than this; a run that cannot go on is refused here with exit 2 and has
 * created nothing but (for a real run) its state directory. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "precheck.h"
#include "run_priv.h"
#include "util/fileio.h"
#include "util/names.h"
#include "util/text.h"

char *cl_run_state_dir(const char *given)
{
    if (given && *given)
        return strdup(given);
    const char *env = getenv("CRASHLAB_STATE");
    if (env && *env)
        return strdup(env);
    char *p = NULL;
    /* As root, QEMU runs as libvirt-qemu and must reach the embedded root: not under /root. */
    if (geteuid() == 0)
        return strdup("/var/lib/crashlab");
    const char *home = getenv("HOME");
    if (home && *home && asprintf(&p, "%s/.cache/crashlab", home) >= 0)
        return p;
    if (asprintf(&p, "/tmp/crashlab-%ld", (long)getuid()) >= 0)
        return p;
    return NULL;
}

bool cl_run_opts_check(const cl_run_opts *opts, cl_error **errp)
{
    if (opts->accel && strcmp(opts->accel, "auto") && strcmp(opts->accel, "kvm") && strcmp(opts->accel, "tcg"))
        return cl_error_set(errp, CL_ERR_INVAL, "--accel '%s' is not one of auto, kvm, tcg", opts->accel);
    if (opts->dump_format) {
        bool known = false;
        for (int i = 0; i < CL_DUMPFMT_LAST; i++)
            known |= !strcmp(opts->dump_format, cl_dump_format_to_string((cl_dump_format)i));
        char names[128];
        if (!known)
            return cl_error_set(errp, CL_ERR_INVAL, "--dump-format '%s' is not one of %s", opts->dump_format,
                                cl_dump_format_list(names, sizeof(names)));
    }
    /* The run id becomes a directory name, the domain's metadata and a kernel parameter. */
    if (opts->run_id && !cl_name_check("--run-id", opts->run_id, errp))
        return false;
    if (opts->results_dir && !*opts->results_dir)
        return cl_error_set(errp, CL_ERR_INVAL, "--results is empty");
    if (opts->state_dir && !*opts->state_dir)
        return cl_error_set(errp, CL_ERR_INVAL, "--state is empty");
    return true;
}

static void make_run_id(cl_run_ctx *c)
{
    if (c->opts->run_id) {
        snprintf(c->run_id, sizeof(c->run_id), "%s", c->opts->run_id);
    } else {
        unsigned char r[3] = { 0 };
        int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            if (read(fd, r, sizeof(r)) != (ssize_t)sizeof(r))
                r[0] = (unsigned char)getpid();
            close(fd);
        }
        time_t t = time(NULL);
        struct tm tm;
        gmtime_r(&t, &tm);
        /* The scenario name cut to 48 bytes on purpose: the id stays a short file name. */
        char name[48];
        snprintf(name, sizeof(name), "%.47s", c->s->name);
        for (char *p = name; *p; p++)
            if (!(*p >= 'a' && *p <= 'z') && !(*p >= 'A' && *p <= 'Z') && !(*p >= '0' && *p <= '9') && *p != '-')
                *p = '_';
        snprintf(c->run_id, sizeof(c->run_id), "%04d%02d%02d-%02d%02d%02d-%s-%02x%02x%02x", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, name, r[0], r[1], r[2]);
    }
    /* Domain names stay short and unique: the socket path has a hard limit. */
    char hex[65];
    cl_sha256_buf(c->run_id, strlen(c->run_id), hex);
    snprintf(c->domname, sizeof(c->domname), "cl-%.12s", hex);
}

static bool plan_state_dir(cl_run_ctx *c, cl_error **errp)
{
    CL_AUTOFREE char *state = cl_run_state_dir(c->opts->state_dir);
    const char *sd = state ? state : "/tmp/crashlab";
    /* libvirt's embedded root must be an absolute path. */
    char cwd[PATH_MAX];
    if (sd[0] != '/' && getcwd(cwd, sizeof(cwd)))
        return cl_path_fmt(c->state_dir, sizeof(c->state_dir), errp, "%s/%s", cwd, sd);
    return cl_path_fmt(c->state_dir, sizeof(c->state_dir), errp, "%s", sd);
}

static bool plan_guest_files(cl_run_ctx *c, cl_error **errp)
{
    const char *gd = c->opts->guest_dir ? c->opts->guest_dir : getenv("CRASHLAB_GUEST");
    /* A remote host's guest directory is a path there: never resolved here. */
    if (c->remote && gd) {
        if (!cl_path_fmt(c->guest_dir, sizeof(c->guest_dir), errp, "%s", gd))
            return false;
    } else if (!realpath(gd ? gd : "build/guest", c->guest_dir) &&
               !cl_path_fmt(c->guest_dir, sizeof(c->guest_dir), errp, "%s", gd ? gd : "build/guest")) {
        return false;
    }
    if (c->s->profile != CL_PROFILE_LINUX)
        return true;
    if (!cl_path_fmt(c->kernel, sizeof(c->kernel), errp, "%s/vmlinuz", c->guest_dir) ||
        !cl_path_fmt(c->initrd, sizeof(c->initrd), errp, "%s/initrd.img", c->guest_dir))
        return false;
    /* On a remote host these are that host's paths: libvirt checks them (remote.h). */
    if (!c->remote && (access(c->kernel, R_OK) < 0 || access(c->initrd, R_OK) < 0))
        return cl_error_set(errp, CL_ERR_INVAL, "the Linux guest is not built: no '%s' or '%s' (run `make guest`)",
                            c->kernel, c->initrd);
    return true;
}

/* The results of a real run go to RESULTS/.ID.partial and become RESULTS/ID at the end;
 * a printed XML names RESULTS/ID (absolute, as domain XML paths must be) and creates nothing. */
static bool plan_results(cl_run_ctx *c, cl_error **errp)
{
    const char *rdir = c->opts->results_dir ? c->opts->results_dir : "results";
    char cwd[PATH_MAX];
    if (!c->opts->print_xml) {
        /* results_dir is made absolute once the directory exists (cl_run_open_dirs). */
        return cl_path_fmt(c->results_dir, sizeof(c->results_dir), errp, "%s", rdir);
    }
    if (rdir[0] == '/' || !getcwd(cwd, sizeof(cwd)))
        return cl_path_fmt(c->partial_dir, sizeof(c->partial_dir), errp, "%s/%s", rdir, c->run_id) &&
               cl_path_fmt(c->console, sizeof(c->console), errp, "%s/console.log", c->partial_dir);
    return cl_path_fmt(c->partial_dir, sizeof(c->partial_dir), errp, "%s/%s/%s", cwd, rdir, c->run_id) &&
           cl_path_fmt(c->console, sizeof(c->console), errp, "%s/console.log", c->partial_dir);
}

int cl_run_plan(cl_run_ctx *c, cl_error **errp)
{
    const cl_run_opts *opts = c->opts;
    /* The options before the scenario: a bad flag is named even when the file is bad too. */
    if (!cl_run_opts_check(opts, errp))
        return cl_error_prefix(errp, "crashlab run"), 2;
    if (!(c->s = cl_scenario_load(opts->scenario_path, errp)))
        return 2;
    if (opts->dump_format) {
        for (int i = 0; i < CL_DUMPFMT_LAST; i++)
            if (!strcmp(opts->dump_format, cl_dump_format_to_string((cl_dump_format)i)))
                c->s->dump_format = (cl_dump_format)i;
    }
    if (opts->image) {
        free(c->s->image);
        if (!(c->s->image = strdup(opts->image)))
            return cl_error_set(errp, CL_ERR_NOMEM, "out of memory"), 2;
    }
    if (!cl_scenario_check_files(c->s, CL_AGENT_MAX_UPLOAD, errp) || !plan_state_dir(c, errp))
        return cl_error_prefix(errp, "crashlab run"), 2;
    c->remote = !cl_virt_uri_is_local(opts->uri);
    if (c->remote && c->s->dump_format != CL_DUMPFMT_NONE && !opts->print_xml && (!opts->dump_pool || !*opts->dump_pool))
        return cl_error_set(errp, CL_ERR_INVAL,
                            "crashlab run: '%s' is a remote host: its dump is written into a storage pool there and brought home; name it with --dump-pool (or use --dump-format none)",
                            opts->uri), 2;
    make_run_id(c);
    if (!plan_guest_files(c, errp))
        return cl_error_prefix(errp, "crashlab run"), 2;
    if (c->s->profile == CL_PROFILE_WINDOWS && !opts->print_xml && (!c->s->image || access(c->s->image, R_OK) != 0))
        return cl_error_set(errp, CL_ERR_INVAL,
                            "crashlab run: %s: the windows profile needs a readable base image (guest.image or --image), not '%s'",
                            opts->scenario_path, c->s->image ? c->s->image : "(none)"), 2;
    /* An image that cannot give what the scenario expects is refused before anything starts. */
    if (c->s->profile == CL_PROFILE_WINDOWS && !opts->print_xml && !opts->no_check &&
        !cl_run_image_precheck(c->s, opts->quiet, errp)) {
        return cl_error_prefix(errp, "crashlab run: %s", opts->scenario_path), 2;
    }
    if (!plan_results(c, errp) ||
        !cl_path_fmt(c->sock, sizeof(c->sock), errp, "%s/s/%s.qga", c->state_dir, c->domname))
        return cl_error_prefix(errp, "crashlab run"), 2;
    return 0;
}

/* The embedded driver keeps QEMU's per-domain files under the state directory. */
static bool open_state_dir(cl_run_ctx *c, cl_error **errp)
{
    if (!cl_mkdir_p(c->state_dir, CL_DIR_MODE_PASS, errp))
        return false;
    char blocker[PATH_MAX];
    bool embedded = !c->opts->uri || strstr(c->opts->uri, "/embed");
    if (geteuid() == 0 && embedded && !cl_path_world_reachable(c->state_dir, false, blocker, sizeof(blocker)))
        return cl_error_set(errp, CL_ERR_INVAL,
                            "state directory '%s': QEMU runs as libvirt-qemu and cannot enter '%s' (chmod o+x it, or choose --state elsewhere)",
                            c->state_dir, blocker);
    return true;
}

int cl_run_open_dirs(cl_run_ctx *c, cl_error **errp)
{
    if (!open_state_dir(c, errp))
        return cl_error_prefix(errp, "crashlab run"), 2;
    char rdir[PATH_MAX];
    snprintf(rdir, sizeof(rdir), "%s", c->results_dir);
    if (!cl_mkdir_p(rdir, CL_DIR_MODE_PASS, errp))
        return cl_error_prefix(errp, "crashlab run: results directory '%s'", rdir), 2;
    if (!realpath(rdir, c->results_dir))
        return cl_error_set_errno(errp, CL_ERR_INVAL, errno, "crashlab run: results directory '%s'", rdir), 2;
    if (!cl_path_fmt(c->partial_dir, sizeof(c->partial_dir), errp, "%s/.%s.partial", c->results_dir, c->run_id) ||
        !cl_path_fmt(c->final_dir, sizeof(c->final_dir), errp, "%s/%s", c->results_dir, c->run_id) ||
        !cl_path_fmt(c->console, sizeof(c->console), errp, "%s/console.log", c->partial_dir))
        return cl_error_prefix(errp, "crashlab run"), 2;
    /* Every file the run writes into its directory has a name of at most 32 bytes: checked
     * once here, so that those paths cannot be cut later. */
    char probe[PATH_MAX];
    if (!cl_path_fmt(probe, sizeof(probe), errp, "%s/%032d", c->partial_dir, 0))
        return cl_error_prefix(errp, "crashlab run"), 2;
    if (mkdir(c->partial_dir, CL_DIR_MODE_PASS) < 0) {
        int e = errno;
        cl_error_set_errno(errp, CL_ERR_IO, e, "crashlab run: cannot create '%s'", c->partial_dir);
        /* A full or failing disk is the host's problem (exit 3: the daemon retries it),
         * not bad input (exit 2: closed for good). */
        return e == ENOSPC || e == EDQUOT || e == EIO || e == ENOMEM ? 3 : 2;
    }
    return 0;
}
