/* oracle_run.c - running an oracle program over a corpus (oracle.h): expanding its
 * template, capturing its reading with a time limit, and the verify loop. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "corpus.h"
#include "oracle.h"
#include "util/fileio.h"
#include "util/json.h"

#define ORACLE_STDERR_TAIL 2048

static bool is_file(const char *p)
{
    struct stat st;
    return p && stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* The lab's oracle scripts: $CRASHLAB_ORACLE_DIR, else beside the program (build/crashlab
 * and build/asan/crashlab live in the source tree), else an installed copy. */
bool cl_oracle_builtin(const char *name, char *tmpl, size_t len, cl_error **errp)
{
    if (strcmp(name, "drgn") && strcmp(name, "crash"))
        return cl_error_set(errp, CL_ERR_INVAL, "oracle '%s' is not built in (built in: drgn, crash; or use --oracle-cmd)", name);
    char exe[PATH_MAX] = "", dirs[4][PATH_MAX + 64], script[PATH_MAX + 128];
    size_t nd = 0;
    const char *env = getenv("CRASHLAB_ORACLE_DIR");
    if (env && *env)
        snprintf(dirs[nd++], sizeof(dirs[0]), "%s", env);
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n > 0) {
        exe[n] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash)
            *slash = '\0';
        snprintf(dirs[nd++], sizeof(dirs[0]), "%s/../lab/oracle", exe);
        snprintf(dirs[nd++], sizeof(dirs[0]), "%s/../../lab/oracle", exe);
    }
    snprintf(dirs[nd++], sizeof(dirs[0]), "/usr/share/crashlab/oracle");
    for (size_t i = 0; i < nd; i++) {
        if (!cl_path_fmt(script, sizeof(script), NULL, "%s/%s_oracle.py", dirs[i], name) || !is_file(script))
            continue;
        char real[PATH_MAX];
        if (!realpath(script, real))
            continue;
        /* The script path is ours, not the template user's: quote it like a placeholder. */
        if (strchr(real, '\'') || (size_t)snprintf(tmpl, len, "/usr/bin/python3 '%s' --dump {dump} --vmlinux {vmlinux} "
                                                              "--entry {entry} --corpus {corpus}", real) >= len)
            return cl_error_set(errp, CL_ERR_INVAL, "oracle script path '%s' cannot be used", real);
        return true;
    }
    return cl_error_set(errp, CL_ERR_INVAL, "oracle script %s_oracle.py not found (looked in $CRASHLAB_ORACLE_DIR, "
                                               "lab/oracle beside the program, /usr/share/crashlab/oracle)", name);
}

/* Reads what is ready on fd into buf (at most cap bytes kept: the first ones for stdout,
 * the last ones for stderr when keep_tail). false at EOF or error. */
static bool drain(int fd, char *buf, size_t *len, size_t cap, bool keep_tail, bool *overflow)
{
    char tmp[8192];
    ssize_t n = read(fd, tmp, sizeof(tmp));
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return true;
    if (n <= 0)
        return false;
    size_t k = (size_t)n;
    if (*len + k > cap) {
        if (!keep_tail) {
            *overflow = true;
            k = cap - *len;
        } else {
            size_t drop = *len + k - cap;
            if (drop > *len)
                drop = *len;
            memmove(buf, buf + drop, *len - drop);
            *len -= drop;
            if (k > cap) {
                memcpy(buf, tmp + (k - cap), cap);
                *len = cap;
                return true;
            }
        }
    }
    memcpy(buf + *len, tmp, k);
    *len += k;
    return true;
}

json_object *cl_oracle_run(const char *cmd, double timeout_s, char *why, size_t whylen)
{
    int out[2], err[2];
    if (pipe2(out, O_CLOEXEC) < 0) {
        snprintf(why, whylen, "pipe: %s", strerror(errno));
        return NULL;
    }
    if (pipe2(err, O_CLOEXEC) < 0) {
        snprintf(why, whylen, "pipe: %s", strerror(errno));
        close(out[0]);
        close(out[1]);
        return NULL;
    }
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(why, whylen, "fork: %s", strerror(errno));
        close(out[0]), close(out[1]), close(err[0]), close(err[1]);
        return NULL;
    }
    if (pid == 0) {
        /* Its own process group, so that a timeout ends the tools it started too. */
        setpgid(0, 0);
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0)
            dup2(devnull, 0);
        dup2(out[1], 1);
        dup2(err[1], 2);
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    setpgid(pid, pid);
    close(out[1]);
    close(err[1]);
    char *obuf = malloc(CL_ORACLE_READING_MAX + 1), ebuf[ORACLE_STDERR_TAIL + 1];
    size_t olen = 0, elen = 0;
    bool oopen = true, eopen = true, overflow = false, timed_out = false;
    double deadline = cl_now() + timeout_s;
    while (obuf && (oopen || eopen)) {
        double left = deadline - cl_now();
        if (left <= 0) {
            timed_out = true;
            break;
        }
        struct pollfd p[2] = { { oopen ? out[0] : -1, POLLIN, 0 }, { eopen ? err[0] : -1, POLLIN, 0 } };
        int r = poll(p, 2, left > 1 ? 1000 : (int)(left * 1000) + 1);
        if (r < 0 && errno != EINTR)
            break;
        if (oopen && (p[0].revents & (POLLIN | POLLHUP | POLLERR)))
            oopen = drain(out[0], obuf, &olen, CL_ORACLE_READING_MAX, false, &overflow);
        if (eopen && (p[1].revents & (POLLIN | POLLHUP | POLLERR)))
            eopen = drain(err[0], ebuf, &elen, ORACLE_STDERR_TAIL, true, &overflow);
    }
    if (timed_out || !obuf)
        kill(-pid, SIGKILL);
    close(out[0]);
    close(err[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    ebuf[elen] = '\0';
    for (size_t i = 0; i < elen; i++)
        if (ebuf[i] == '\n' && i + 1 < elen)
            ebuf[i] = '|';
    if (!obuf) {
        snprintf(why, whylen, "out of memory");
        return NULL;
    }
    obuf[olen] = '\0';
    json_object *reading = NULL;
    if (timed_out) {
        snprintf(why, whylen, "the oracle did not finish within %.0f s (killed); stderr: %.300s", timeout_s, ebuf);
    } else if (overflow) {
        snprintf(why, whylen, "the oracle printed more than %u bytes", CL_ORACLE_READING_MAX);
    } else {
        json_tokener *tok = json_tokener_new_ex(32);
        reading = tok ? json_tokener_parse_ex(tok, obuf, (int)olen) : NULL;
        /* One object and nothing after it but blanks: a second value is not a reading. */
        size_t end = tok ? (size_t)tok->char_offset : 0;
        while (end < olen && strchr(" \t\r\n", obuf[end]))
            end++;
        if (reading && (json_tokener_get_error(tok) != json_tokener_success || end != olen ||
                        !json_object_is_type(reading, json_type_object))) {
            json_object_put(reading);
            reading = NULL;
        }
        json_tokener_free(tok);
        if (!reading)
            snprintf(why, whylen, "the oracle (%s %d) printed no JSON object; stderr: %.300s",
                     WIFEXITED(status) ? "exit" : "signal", WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), ebuf);
    }
    free(obuf);
    return reading;
}

/* The debug vmlinux for an entry: the option, else the one the manifest names, else
 * Debian's place for the entry's release. "" when none exists here. */
static void find_vmlinux(const cl_oracle_opts *o, json_object *entry, char *out, size_t len)
{
    json_object *dbg = cl_json_get(entry, "debug");
    const char *rel = cl_json_str(dbg, "kernel_release", cl_json_str(entry, "os_release", NULL));
    out[0] = '\0';
    if (o->vmlinux) {
        snprintf(out, len, "%s", o->vmlinux);
        return;
    }
    const char *m = cl_json_str(dbg, "vmlinux", NULL);
    if (is_file(m)) {
        snprintf(out, len, "%s", m);
        return;
    }
    if (rel && !strchr(rel, '/')) {
        snprintf(out, len, "/usr/lib/debug/boot/vmlinux-%s", rel);
        if (is_file(out))
            return;
        snprintf(out, len, "/usr/lib/debug/lib/modules/%s/vmlinux", rel);
        if (is_file(out))
            return;
    }
    out[0] = '\0';
}

static int verify_one(const char *dir, json_object *entry, const cl_oracle_opts *o, cl_oracle_cases *cases)
{
    const char *file = cl_json_str(entry, "file", NULL);
    if (!file || strstr(file, "..") || file[0] == '/') {
        cl_oracle_case_add(cases, file ? file : "?", "open", CL_ORACLE_FAIL, "the entry names no file inside the corpus");
        return 1;
    }
    char dump[PATH_MAX + 512], vmlinux[PATH_MAX], etmp[] = "/tmp/crashlab-oracle-entry.XXXXXX", cmd[CL_ORACLE_CMD_MAX],
        why[1024];
    snprintf(dump, sizeof(dump), "%s/%s", dir, file);
    find_vmlinux(o, entry, vmlinux, sizeof(vmlinux));
    int fd = mkstemp(etmp);
    if (fd < 0) {
        cl_oracle_case_add(cases, file, "open", CL_ORACLE_FAIL, "cannot create the entry file: %s", strerror(errno));
        return 1;
    }
    const char *text = json_object_to_json_string_ext(entry, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
    size_t tl = strlen(text);
    bool wrote = write(fd, text, tl) == (ssize_t)tl;
    close(fd);
    json_object *reading = NULL;
    cl_oracle_vars v = { dump, vmlinux, etmp, dir };
    if (!wrote)
        snprintf(why, sizeof(why), "cannot write the entry file '%s'", etmp);
    else if (cl_oracle_expand(o->tmpl, &v, cmd, sizeof(cmd), why, sizeof(why)))
        reading = cl_oracle_run(cmd, o->timeout_s, why, sizeof(why));
    unlink(etmp);
    if (!reading) {
        cl_oracle_case_add(cases, file, "open", CL_ORACLE_FAIL, "%s", why);
        return 1;
    }
    int bad = cl_oracle_compare(entry, reading, file, cases);
    json_object_put(reading);
    return bad;
}

int cl_corpus_verify_oracle(const char *dir, const cl_oracle_opts *o, FILE *out, cl_error **errp)
{
    json_object *m = cl_corpus_manifest_load(dir, errp);
    if (!m)
        return -1;
    json_object *dumps = cl_json_get(m, "dumps");
    cl_oracle_cases cases = { 0 };
    int bad = 0;
    size_t n = json_object_array_length(dumps);
    for (size_t i = 0; i < n; i++) {
        size_t first = cases.n;
        bad += verify_one(dir, json_object_array_get_idx(dumps, i), o, &cases);
        for (size_t k = first; k < cases.n; k++)
            fprintf(out, "%s %s %s: %s\n", cl_oracle_status_to_string(cases.v[k].status), cases.v[k].entry, cases.v[k].label,
                    cases.v[k].message);
        fflush(out);
    }
    json_object_put(m);
    size_t pass = 0, skip = 0;
    for (size_t k = 0; k < cases.n; k++) {
        pass += cases.v[k].status == CL_ORACLE_PASS;
        skip += cases.v[k].status == CL_ORACLE_SKIP;
    }
    fprintf(out, "oracle %s: %zu dump(s), %zu case(s): %zu ok, %d mismatch(es), %zu not checked\n", o->name, n, cases.n, pass,
            bad, skip);
    char suite[128];
    snprintf(suite, sizeof(suite), "crashlab corpus verify --oracle %s", o->name);
    if (o->junit && !cl_oracle_junit_write(&cases, suite, o->junit, errp)) {
        cl_oracle_cases_clear(&cases);
        return -1;
    }
    cl_oracle_cases_clear(&cases);
    return bad;
}
