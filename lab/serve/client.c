/* client.c - `crashlab submit|status|wait|cancel|logs`: the daemon's clients. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "job_files.h"
#include "matrix.h"
#include "proto.h"
#include "run/run.h"
#include "util/fileio.h"
#include "util/names.h"

#define STATE_OPT { "state", required_argument, NULL, 's' }

/* One request by the deadline (0: CL_SERVE_CALL_TIMEOUT from now). On failure prints why
 * and sets *rc to the exit code from the one table (proto.h). */
static json_object *call_by(const char *state_opt, json_object *req, const char *who, double deadline, int *rc)
{
    CL_AUTOFREE char *state = cl_run_state_dir(state_opt);
    CL_AUTOPTR(cl_error) err = NULL;
    *rc = CL_CLIENT_NO_DAEMON;
    json_object *r = state ? cl_serve_call(state, req, deadline > 0 ? deadline : cl_now() + CL_SERVE_CALL_TIMEOUT, rc, &err)
                           : NULL;
    if (!r)
        fprintf(stderr, "crashlab %s: %s\n", who, err ? err->msg : "out of memory");
    json_object_put(req);
    return r;
}

static json_object *call(const char *state_opt, json_object *req, const char *who, int *rc)
{
    return call_by(state_opt, req, who, 0, rc);
}

/* A number option: all of it a decimal integer within [lo, hi], or exit 2 naming it. */
static bool int_opt(const char *who, const char *name, const char *text, long long lo, long long hi, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (!*text || *end || errno == ERANGE || v < lo || v > hi) {
        fprintf(stderr, "crashlab %s: %s must be an integer in %lld..%lld, not '%s'\n", who, name, lo, hi, text);
        return false;
    }
    *out = v;
    return true;
}

/* A scenario the daemon will read: a regular file, checked on the open descriptor (a FIFO
 * or a device is refused here, before the daemon sees it). */
static bool regular_file(const char *who, const char *what, const char *path, char abs[PATH_MAX])
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        fprintf(stderr, "crashlab %s: %s '%s': %s\n", who, what, path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return false;
    }
    close(fd);
    if (!S_ISREG(st.st_mode)) {
        fprintf(stderr, "crashlab %s: %s '%s' is not a regular file\n", who, what, path);
        return false;
    }
    if (!realpath(path, abs)) {
        fprintf(stderr, "crashlab %s: %s '%s': %s\n", who, what, path, strerror(errno));
        return false;
    }
    return true;
}

static void submit_usage(FILE *f)
{
    fprintf(f,
            "usage: crashlab submit [SCENARIO.yaml...] [--matrix FILE] [options]\n"
            "  --state DIR          the daemon's state directory\n"
            "                       (default $CRASHLAB_STATE, else /var/lib/crashlab as root, else ~/.cache/crashlab)\n"
            "  --matrix FILE        add the jobs a matrix file expands to\n"
            "  --priority P         higher runs first, -1000000..1000000 (default 0)\n"
            "  --accel A            auto | kvm | tcg\n"
            "  --dump-format F      kdump-zlib | elf | win-dmp | none\n"
            "  --driver PATH        load this driver build instead of the scenario's install path\n"
            "  --guest DIR          guest files for these jobs\n"
            "  --warm | --cold      start from a saved booted guest (default on embedded hosts), or boot\n"
            "  --batch NAME         a label grouping these jobs (" CL_NAME_GRAMMAR ")\n"
            "  --max-attempts N     attempts before an infrastructure error is final (1..20)\n"
            "Prints the new job ids, one a line.\n" CL_CLIENT_EXIT_TABLE);
}

int cl_cmd_submit(int argc, char **argv)
{
    const char *state = NULL, *matrix = NULL, *accel = NULL, *dump = NULL, *driver = NULL, *guest = NULL, *batch = NULL;
    long long priority = 0, max_attempts = 0;
    bool has_priority = false;
    int warm = -1;
    static const struct option longopts[] = {
        STATE_OPT, { "matrix", required_argument, NULL, 'm' }, { "priority", required_argument, NULL, 'p' },
        { "accel", required_argument, NULL, 'a' }, { "dump-format", required_argument, NULL, 'd' },
        { "driver", required_argument, NULL, 'D' }, { "guest", required_argument, NULL, 'g' },
        { "warm", no_argument, NULL, 'w' }, { "cold", no_argument, NULL, 'C' }, { "batch", required_argument, NULL, 'b' },
        { "max-attempts", required_argument, NULL, 'M' }, { "help", no_argument, NULL, 'h' }, { 0 },
    };
    optind = 1;
    int ch;
    while ((ch = getopt_long(argc, argv, "s:m:p:a:d:D:g:wCb:M:h", longopts, NULL)) != -1) {
        switch (ch) {
        case 's': state = optarg; break;
        case 'm': matrix = optarg; break;
        case 'a':
            accel = optarg;
            if (strcmp(accel, "auto") && strcmp(accel, "kvm") && strcmp(accel, "tcg")) {
                fprintf(stderr, "crashlab submit: --accel must be auto, kvm or tcg, not '%s'\n", accel);
                return 2;
            }
            break;
        case 'd':
            dump = optarg;
            if (strcmp(dump, "kdump-zlib") && strcmp(dump, "elf") && strcmp(dump, "win-dmp") && strcmp(dump, "none")) {
                fprintf(stderr, "crashlab submit: --dump-format must be kdump-zlib, elf, win-dmp or none, not '%s'\n", dump);
                return 2;
            }
            break;
        case 'D': driver = optarg; break;
        case 'g': guest = optarg; break;
        case 'w': warm = 1; break;
        case 'C': warm = 0; break;
        case 'b': {
            CL_AUTOPTR(cl_error) err = NULL;
            batch = optarg;
            if (!cl_name_check("batch name", batch, &err)) {
                fprintf(stderr, "crashlab submit: --batch: %s\n", err->msg);
                return 2;
            }
            break;
        }
        case 'p':
            if (!int_opt("submit", "--priority", optarg, -CL_SERVE_MAX_PRIORITY, CL_SERVE_MAX_PRIORITY, &priority))
                return 2;
            has_priority = true;
            break;
        case 'M':
            if (!int_opt("submit", "--max-attempts", optarg, 1, 20, &max_attempts))
                return 2;
            break;
        case 'h': submit_usage(stdout); return 0;
        default: submit_usage(stderr); return 2;
        }
    }
    if (optind == argc && !matrix) {
        submit_usage(stderr);
        return 2;
    }
    /* Paths are checked and made absolute here, before anything is sent. */
    char driver_abs[PATH_MAX], guest_abs[PATH_MAX];
    if (driver && !regular_file("submit", "--driver", driver, driver_abs))
        return 2;
    if (guest && !realpath(guest, guest_abs)) {
        fprintf(stderr, "crashlab submit: --guest '%s': %s\n", guest, strerror(errno));
        return 2;
    }
    json_object *jobs = json_object_new_array();
    for (int i = optind; i < argc; i++) {
        char abs[PATH_MAX];
        if (!regular_file("submit", "scenario", argv[i], abs)) {
            json_object_put(jobs);
            return 2;
        }
        json_object *spec = json_object_new_object();
        json_object_object_add(spec, "scenario", json_object_new_string(abs));
        json_object_object_add(spec, "options", json_object_new_object());
        json_object_array_add(jobs, spec);
    }
    if (matrix) {
        CL_AUTOPTR(cl_error) err = NULL;
        if (!cl_matrix_expand(matrix, jobs, &err)) {
            fprintf(stderr, "crashlab submit: %s\n", err->msg);
            json_object_put(jobs);
            return 2;
        }
    }
    /* Command-line options apply to every job, over the matrix's values. */
    for (size_t i = 0; i < json_object_array_length(jobs); i++) {
        json_object *spec = json_object_array_get_idx(jobs, i);
        json_object *o = cl_json_get(spec, "options");
        if (accel)
            json_object_object_add(o, "accel", json_object_new_string(accel));
        if (dump)
            json_object_object_add(o, "dump_format", json_object_new_string(dump));
        if (driver)
            json_object_object_add(o, "driver", json_object_new_string(driver_abs));
        if (guest)
            json_object_object_add(o, "guest", json_object_new_string(guest_abs));
        if (warm >= 0)
            json_object_object_add(o, "warm", json_object_new_boolean(warm));
        if (has_priority || !cl_json_get(spec, "priority"))
            json_object_object_add(spec, "priority", json_object_new_int64(priority));
        if (batch)
            json_object_object_add(spec, "batch", json_object_new_string(batch));
    }
    json_object *req = json_object_new_object();
    json_object_object_add(req, "op", json_object_new_string("submit"));
    json_object_object_add(req, "jobs", jobs);
    if (max_attempts)
        json_object_object_add(req, "max_attempts", json_object_new_int64(max_attempts));
    int rc;
    json_object *r = call(state, req, "submit", &rc);
    if (!r)
        return rc;
    json_object *ids = cl_json_get(r, "ids");
    for (size_t i = 0; ids && i < json_object_array_length(ids); i++)
        printf("%lld\n", (long long)json_object_get_int64(json_object_array_get_idx(ids, i)));
    json_object_put(r);
    return 0;
}

static int64_t parse_id(const char *s)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    return *s && !*end && errno != ERANGE && v > 0 ? v : -1;
}

static json_object *get_jobs(const char *state, int64_t id, int *rc)
{
    json_object *req = json_object_new_object();
    json_object_object_add(req, "op", json_object_new_string("status"));
    if (id > 0)
        json_object_object_add(req, "id", json_object_new_int64(id));
    return call(state, req, "status", rc);
}

int cl_cmd_status(int argc, char **argv)
{
    const char *state = NULL;
    bool as_json = false;
    static const struct option longopts[] = { STATE_OPT, { "json", no_argument, NULL, 'j' }, { "help", no_argument, NULL, 'h' }, { 0 } };
    optind = 1;
    int ch;
    while ((ch = getopt_long(argc, argv, "s:jh", longopts, NULL)) != -1) {
        switch (ch) {
        case 's': state = optarg; break;
        case 'j': as_json = true; break;
        case 'h': printf("usage: crashlab status [ID] [--json] [--state DIR]\n" CL_CLIENT_EXIT_TABLE); return 0;
        default: fprintf(stderr, "usage: crashlab status [ID] [--json] [--state DIR]\n"); return 2;
        }
    }
    int64_t id = 0;
    if (optind < argc && (optind != argc - 1 || (id = parse_id(argv[optind])) < 0)) {
        fprintf(stderr, "crashlab status: '%s' is not a job id\n", argv[optind]);
        return 2;
    }
    int rc;
    json_object *r = get_jobs(state, id, &rc);
    if (!r)
        return rc;
    json_object *jobs = cl_json_get(r, "jobs");
    if (as_json) {
        printf("%s\n", json_object_to_json_string_ext(id ? json_object_array_get_idx(jobs, 0) : jobs,
                                                      JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
    } else {
        printf("%-6s %-10s %-8s %-17s %-10s %-24s %s\n", "ID", "STATE", "ATTEMPTS", "VERDICT", "HOST", "SCENARIO", "RUN");
        for (size_t i = 0; i < json_object_array_length(jobs); i++) {
            json_object *j = json_object_array_get_idx(jobs, i);
            char att[32];
            snprintf(att, sizeof(att), "%lld/%lld", (long long)cl_json_int(j, "attempts", 0), (long long)cl_json_int(j, "max_attempts", 0));
            printf("%-6lld %-10s %-8s %-17s %-10s %-24s %s\n", (long long)cl_json_int(j, "id", 0), cl_json_str(j, "state", "?"),
                   att, cl_json_str(j, "verdict", "-"), cl_json_str(j, "host", "-"), cl_json_str(j, "name", "?"),
                   cl_json_str(j, "run_id", "-"));
        }
    }
    json_object_put(r);
    return 0;
}

static bool is_final(json_object *j)
{
    const char *s = cl_json_str(j, "state", "");
    return !strcmp(s, "done") || !strcmp(s, "cancelled");
}

int cl_cmd_wait(int argc, char **argv)
{
    const char *state = NULL;
    bool all = false;
    double timeout = 0;
    static const struct option longopts[] = { STATE_OPT, { "all", no_argument, NULL, 'a' },
                                              { "timeout", required_argument, NULL, 't' }, { "help", no_argument, NULL, 'h' }, { 0 } };
    optind = 1;
    int ch;
    const char *use = "usage: crashlab wait ID...|--all [--timeout SECONDS] [--state DIR]\n"
                      "--all: every job not finished when wait starts. --timeout: 0.1..31536000 seconds.\n"
                      CL_CLIENT_EXIT_TABLE;
    while ((ch = getopt_long(argc, argv, "s:at:h", longopts, NULL)) != -1) {
        switch (ch) {
        case 's': state = optarg; break;
        case 'a': all = true; break;
        case 't': {
            char *end;
            timeout = strtod(optarg, &end);
            if (!*optarg || *end || !isfinite(timeout) || timeout < 0.1 || timeout > 31536000) {
                fprintf(stderr, "crashlab wait: --timeout must be a number of seconds in 0.1..31536000, not '%s'\n", optarg);
                return 2;
            }
            break;
        }
        case 'h': fputs(use, stdout); return 0;
        default: fputs(use, stderr); return 2;
        }
    }
    if (all == (optind < argc)) {
        fputs(use, stderr);
        return 2;
    }
    for (int i = optind; i < argc; i++)
        if (parse_id(argv[i]) < 0) {
            fprintf(stderr, "crashlab wait: '%s' is not a job id\n", argv[i]);
            return 2;
        }
    /* Every call, and the whole wait, ends by the deadline: a daemon that stops answering
     * cannot hold wait past --timeout. */
    double deadline = timeout > 0 ? cl_now() + timeout : 0;
    int rc;
    /* The jobs to wait for: those named, or every job not finished yet when we start. */
    json_object *ids = json_object_new_array();
    for (int i = optind; i < argc; i++)
        json_object_array_add(ids, json_object_new_int64(parse_id(argv[i])));
    if (all) {
        json_object *req = json_object_new_object();
        json_object_object_add(req, "op", json_object_new_string("status"));
        json_object_object_add(req, "unfinished", json_object_new_boolean(1));
        json_object *r = call_by(state, req, "wait", deadline, &rc);
        if (!r) {
            json_object_put(ids);
            return deadline && cl_now() >= deadline ? CL_CLIENT_TIMEOUT : rc;
        }
        json_object *jobs = cl_json_get(r, "jobs");
        for (size_t i = 0; i < json_object_array_length(jobs); i++)
            json_object_array_add(ids, json_object_new_int64(cl_json_int(json_object_array_get_idx(jobs, i), "id", 0)));
        json_object_put(r);
        if (!json_object_array_length(ids)) {
            json_object_put(ids);
            return 0;
        }
    }
    for (;;) {
        json_object *req = json_object_new_object();
        json_object_object_add(req, "op", json_object_new_string("status"));
        json_object_object_add(req, "ids", json_object_get(ids));
        double call_deadline = cl_now() + CL_SERVE_CALL_TIMEOUT;
        json_object *r = call_by(state, req, "wait", deadline && deadline < call_deadline ? deadline : call_deadline, &rc);
        if (!r) {
            json_object_put(ids);
            return deadline && cl_now() >= deadline ? CL_CLIENT_TIMEOUT : rc;
        }
        json_object *jobs = cl_json_get(r, "jobs");
        bool pending = false, bad = false;
        for (size_t i = 0; i < json_object_array_length(jobs); i++) {
            json_object *j = json_object_array_get_idx(jobs, i);
            if (!is_final(j))
                pending = true;
            else if (strcmp(cl_json_str(j, "state", ""), "done") || cl_json_int(j, "exit_code", -1) != 0)
                bad = true;
        }
        json_object_put(r);
        if (!pending) {
            json_object_put(ids);
            return bad ? CL_CLIENT_NOT_OK : CL_CLIENT_OK;
        }
        double left = deadline ? deadline - cl_now() : 0.5;
        if (left <= 0) {
            fprintf(stderr, "crashlab wait: timed out\n");
            json_object_put(ids);
            return CL_CLIENT_TIMEOUT;
        }
        usleep((useconds_t)((left < 0.5 ? left : 0.5) * 1e6));
    }
}

int cl_cmd_cancel(int argc, char **argv)
{
    const char *state = NULL;
    static const struct option longopts[] = { STATE_OPT, { "help", no_argument, NULL, 'h' }, { 0 } };
    optind = 1;
    int ch;
    while ((ch = getopt_long(argc, argv, "s:h", longopts, NULL)) != -1) {
        if (ch == 's')
            state = optarg;
        else {
            fprintf(ch == 'h' ? stdout : stderr, "usage: crashlab cancel ID [--state DIR]\n%s", ch == 'h' ? CL_CLIENT_EXIT_TABLE : "");
            return ch == 'h' ? 0 : 2;
        }
    }
    int64_t id;
    if (optind != argc - 1 || (id = parse_id(argv[optind])) < 0) {
        fprintf(stderr, "usage: crashlab cancel ID [--state DIR]\n");
        return 2;
    }
    json_object *req = json_object_new_object();
    json_object_object_add(req, "op", json_object_new_string("cancel"));
    json_object_object_add(req, "id", json_object_new_int64(id));
    int rc;
    json_object *r = call(state, req, "cancel", &rc);
    if (!r)
        return rc;
    json_object *j = cl_json_get(r, "job");
    printf("job %lld: %s\n", (long long)id, !strcmp(cl_json_str(j, "state", ""), "running") ? "stopping" : cl_json_str(j, "state", "?"));
    json_object_put(r);
    return 0;
}

int cl_cmd_logs(int argc, char **argv)
{
    const char *state_opt = NULL;
    static const struct option longopts[] = { STATE_OPT, { "help", no_argument, NULL, 'h' }, { 0 } };
    optind = 1;
    int ch;
    while ((ch = getopt_long(argc, argv, "s:h", longopts, NULL)) != -1) {
        if (ch == 's')
            state_opt = optarg;
        else {
            fprintf(ch == 'h' ? stdout : stderr, "usage: crashlab logs ID [--state DIR]\n%s", ch == 'h' ? CL_CLIENT_EXIT_TABLE : "");
            return ch == 'h' ? 0 : 2;
        }
    }
    int64_t id;
    if (optind != argc - 1 || (id = parse_id(argv[optind])) < 0) {
        fprintf(stderr, "usage: crashlab logs ID [--state DIR]\n");
        return 2;
    }
    CL_AUTOFREE char *state = cl_run_state_dir(state_opt);
    char path[PATH_MAX];
    cl_job_log_path(state ? state : ".", id, path, sizeof(path));
    CL_AUTOFREE char *text = NULL;
    size_t len = 0;
    CL_AUTOPTR(cl_error) err = NULL;
    /* The log is the run's progress output; its tail is what matters when it is huge. */
    if (!cl_file_read_tail(path, 16u << 20, &text, &len, &err)) {
        /* No log: either no such job (the same exit code as status and cancel), or one that
         * has not started yet (nothing to print). The daemon knows which. */
        int rc;
        json_object *r = get_jobs(state_opt, id, &rc);
        if (!r)
            return rc;
        json_object_put(r);
        fprintf(stderr, "crashlab logs: job %lld has no log yet\n", (long long)id);
        return CL_CLIENT_OK;
    }
    fwrite(text, 1, len, stdout);
    return 0;
}
