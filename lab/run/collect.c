#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture_sm.h"
#include "collect.h"
#include "image/image.h"
#include "virt/domain.h"
#include "util/fileio.h"
#include "util/json.h"

#define DOMAIN_LOG_MAX (1u << 20)

bool cl_hv_record_parse(const char *log, size_t len, uint64_t args[5])
{
    const char *needle = "panic hyper-v: ";
    const char *last = NULL;
    for (const char *p = log; p && (size_t)(p - log) < len;) {
        const char *q = memmem(p, len - (size_t)(p - log), needle, strlen(needle));
        if (!q)
            break;
        last = q;
        p = q + 1;
    }
    if (!last)
        return false;
    const char *end = memchr(last, '\n', len - (size_t)(last - log));
    size_t n = end ? (size_t)(end - last) : len - (size_t)(last - log);
    char line[512];
    if (n >= sizeof(line))
        n = sizeof(line) - 1;
    memcpy(line, last, n);
    line[n] = '\0';
    for (int i = 0; i < 5; i++) {
        char key[24];
        snprintf(key, sizeof(key), "arg%d='", i + 1);
        const char *k = strstr(line, key);
        if (!k)
            return false;
        char *e = NULL;
        args[i] = strtoull(k + strlen(key), &e, 0);
        if (!e || *e != '\'')
            return false;
    }
    return true;
}

static bool domain_log_path(cl_run_ctx *c, char *out, size_t outlen)
{
    const char *uri = c->opts->uri;
    if (!uri || strstr(uri, "/embed")) {
        const char *root = uri ? strstr(uri, "root=") : NULL;
        if (root) {
            size_t n = strcspn(root + 5, "&");
            return cl_path_fmt(out, outlen, NULL, "%.*s/log/qemu/%s.log", (int)n, root + 5, c->domname);
        }
        return cl_path_fmt(out, outlen, NULL, "%s/embed/log/qemu/%s.log", c->state_dir, c->domname);
    }
    if (cl_virt_is_local(c->v) && strstr(uri, "/system")) {
        return cl_path_fmt(out, outlen, NULL, "/var/log/libvirt/qemu/%s.log", c->domname);
    }
    return false;
}

bool cl_run_hv_record(cl_run_ctx *c, uint64_t args[5])
{
    char path[PATH_MAX + 64];
    if (!domain_log_path(c, path, sizeof(path)))
        return false;
    CL_AUTOFREE char *text = NULL;
    size_t len = 0;
    if (!cl_file_read_tail(path, DOMAIN_LOG_MAX, &text, &len, NULL) || !cl_hv_record_parse(text, len, args))
        return false;
    json_object *cap = cl_json_child(c->res, "capture");
    json_object *r = json_object_new_object();
    char hex[24];
    snprintf(hex, sizeof(hex), "0x%" PRIx64, args[0]);
    json_object_object_add(r, "code", json_object_new_string(hex));
    json_object *p = json_object_new_array();
    for (int i = 1; i < 5; i++) {
        snprintf(hex, sizeof(hex), "0x%" PRIx64, args[i]);
        json_object_array_add(p, json_object_new_string(hex));
    }
    json_object_object_add(r, "params", p);
    json_object_object_add(r, "source", json_object_new_string("hyper-v crash MSRs (libvirt domain log)"));
    json_object_object_add(cap, "hypervisor_record", r);
    return true;
}

static json_object *agent_out(const cl_agent_exec_status *st)
{
    if (!st->out || !st->outlen || st->exitcode != 0)
        return NULL;
    json_object *o = json_tokener_parse(st->out);
    if (!json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        return NULL;
    }
    return o;
}

/* The memory dump's size in one `collect` listing, or false when it names none. */
static bool listed_memory_dump(json_object *o, uint64_t *size)
{
    json_object *dumps = NULL;
    if (!o || !json_object_object_get_ex(o, "dumps", &dumps) || !json_object_is_type(dumps, json_type_array))
        return false;
    for (size_t i = 0; i < json_object_array_length(dumps) && i < CL_COLLECT_MAX_FILES; i++) {
        json_object *d = json_object_array_get_idx(dumps, i), *kind = NULL, *sz = NULL;
        if (json_object_object_get_ex(d, "kind", &kind) && json_object_object_get_ex(d, "size", &sz) &&
            json_object_is_type(sz, json_type_int) && json_object_get_int64(sz) > 0 &&
            (!strcmp(json_object_get_string(kind), "memory") || !strcmp(json_object_get_string(kind), "file"))) {
            *size = (uint64_t)json_object_get_int64(sz);
            return true;
        }
    }
    return false;
}

static json_object *run_collect(cl_run_ctx *c, double deadline)
{
    const char *agent = c->s->profile == CL_PROFILE_WINDOWS ? "C:\\crashlab\\labagent.exe" : "/usr/bin/labagent";
    char *argv[] = { (char *)agent, "collect", NULL };
    cl_agent_exec_status st = { 0 };
    CL_AUTOPTR(cl_error) err = NULL;
    double d = cl_now() + c->s->t_step;
    if (!cl_agent_exec(c->dom, argv, d < deadline ? d : deadline, &st, &err))
        return NULL;
    json_object *o = agent_out(&st);
    cl_agent_exec_status_clear(&st);
    return o;
}

/* The offline rescue rung (engineer F's lab/image/rescue.c): the domain is destroyed and
 * the dump Windows left on the run's overlay is read with libguestfs. */
static int offline_rescue(cl_run_ctx *c, uint64_t max)
{
    char overlay[PATH_MAX + 16];
    snprintf(overlay, sizeof(overlay), "%s/disk.qcow2", c->partial_dir);
    if (c->s->profile != CL_PROFILE_WINDOWS || access(overlay, R_OK) != 0) {
        cl_run_ladder(c, "offline-rescue", "skipped: no Windows overlay to read");
        return 0;
    }
    if (c->dom) {
        cl_domain_destroy(c->dom);   /* the disk must be quiet before libguestfs opens it */
        c->dom = NULL;
        cl_virt_forget(c->v, c->domname);
    }
    json_object *r = NULL;
    CL_AUTOPTR(cl_error) err = NULL;
    int n = cl_image_rescue(overlay, c->partial_dir, max, &r, &err);
    char what[300];
    if (n < 0)
        snprintf(what, sizeof(what), "%.299s", err ? err->msg : "the overlay could not be read"); /* a ladder line: cut */
    else
        snprintf(what, sizeof(what), "%d dump(s) read off the overlay", n);
    cl_run_ladder(c, "offline-rescue", what);
    if (r) {
        json_object *cap = cl_json_child(c->res, "capture");
        json_object_object_add(cap, "offline_rescue", r);
    }
    if (n > 0) {
        /* rescued-0.dmp is the chosen dump (lab/image/image.h); offline_rescue.dumps says
         * where on the guest's disk it came from and whether it is whole. */
        cl_path_fmt(c->dump_path, sizeof(c->dump_path), NULL, "%s/rescued-0.dmp", c->partial_dir); /* fits: cl_run_open_dirs */
        snprintf(c->crash_method, sizeof(c->crash_method), "offline");
    }
    return n;
}

int cl_run_collect_guest_dumps(cl_run_ctx *c)
{
    /* The guest runs on (panic action none) but libvirt refuses agent commands to a crashed domain. */
    cl_domain_unmark_crashed(c->dom);
    cl_run_ladder(c, "guest-dump", "the guest runs on to write its own dump");
    double timeout = c->s->t_guest_dump;
    if (cl_now() + timeout > c->deadline)
        timeout = c->deadline - cl_now();
    /* A guest dump is at most the guest's memory and its headers. */
    uint64_t max = ((uint64_t)c->s->memory_mb << 20) + ((uint64_t)c->s->memory_mb << 18) + (64u << 20);
    cl_cap_sm m;
    cl_cap_init(&m, cl_now(), timeout, CL_COLLECT_STABLE_SECONDS(c->s->profile == CL_PROFILE_WINDOWS));
    json_object *o = NULL;
    char why[300];
    while (m.state == CL_CAP_WAIT_AGENT || m.state == CL_CAP_POLL_DUMP) {
        if (cl_run_interrupted)
            return -1;
        cl_cap_obs ob = { 0 };
        if (m.state == CL_CAP_WAIT_AGENT) {
            /* The agent of the crashed boot is gone; wait for the one of the next boot. */
            cl_virt_event ev;
            double d = cl_now() + 15 < m.deadline ? cl_now() + 15 : m.deadline;
            cl_virt_wait_event(c->v, c->domname, 1u << CL_VEV_AGENT_CONNECTED, d, &ev);
            ob.agent_answers = cl_agent_wait_ping(c->dom, cl_now() + 5 < m.deadline ? cl_now() + 5 : m.deadline, NULL);
        } else {
            json_object_put(o);
            o = run_collect(c, m.deadline);
            ob.agent_answers = ob.listed = o != NULL;
            ob.dump_present = listed_memory_dump(o, &ob.dump_size);
        }
        ob.now = cl_now();
        cl_cap_state before = m.state;
        if (cl_cap_step(&m, &ob, why, sizeof(why)) != before)
            cl_run_ladder(c, before == CL_CAP_WAIT_AGENT ? "guest-back" : "guest-dump-file", why);
        else if (m.state == CL_CAP_POLL_DUMP)
            usleep(CL_COLLECT_POLL_USEC(c->s->profile == CL_PROFILE_WINDOWS));
    }
    if (m.state != CL_CAP_FETCH) {
        json_object_put(o);
        int n = offline_rescue(c, max);
        return cl_cap_rescued(&m, n > 0) == CL_CAP_DONE ? n : -1;
    }
    json_object *dumps = NULL;
    if (!json_object_object_get_ex(o, "dumps", &dumps) || !json_object_is_type(dumps, json_type_array)) {
        json_object_put(o);
        return -1;
    }
    double deadline = c->deadline;
    json_object *files = json_object_new_array();
    size_t n = json_object_array_length(dumps);
    int got = 0;
    for (size_t i = 0; i < n && i < CL_COLLECT_MAX_FILES; i++) {
        json_object *d = json_object_array_get_idx(dumps, i), *p = NULL, *sz = NULL, *sha = NULL, *kind = NULL;
        if (!json_object_object_get_ex(d, "path", &p) || !json_object_object_get_ex(d, "size", &sz) ||
            !json_object_object_get_ex(d, "sha256", &sha) || !json_object_is_type(sz, json_type_int) ||
            json_object_get_int64(sz) < 0)
            continue;
        json_object_object_get_ex(d, "kind", &kind);
        /* The host name is the lab's: nothing the guest says becomes a host path. */
        char local[PATH_MAX + 64], name[64];
        snprintf(name, sizeof(name), "guest-dump-%zu.%s", i, c->s->profile == CL_PROFILE_WINDOWS ? "dmp" : "bin");
        snprintf(local, sizeof(local), "%s/%s", c->partial_dir, name);
        json_object *f = json_object_new_object();
        json_object_object_add(f, "guest_path", json_object_new_string(json_object_get_string(p)));
        json_object_object_add(f, "kind", json_object_new_string(kind ? json_object_get_string(kind) : "file"));
        json_object_object_add(f, "bytes", json_object_new_int64(json_object_get_int64(sz)));
        CL_AUTOPTR(cl_error) derr = NULL;
        double t = cl_now();
        if (cl_agent_download(c->dom, json_object_get_string(p), (uint64_t)json_object_get_int64(sz),
                              json_object_get_string(sha), max, local, deadline, &derr)) {
            json_object_object_add(f, "path", json_object_new_string(name));
            json_object_object_add(f, "sha256", json_object_new_string(json_object_get_string(sha)));
            json_object_object_add(f, "seconds", json_object_new_double(cl_now() - t));
            got++;
        } else {
            json_object_object_add(f, "error", json_object_new_string(derr->msg));
        }
        json_object_array_add(files, f);
    }
    json_object_put(o);
    json_object *cap = cl_json_child(c->res, "capture");
    json_object_object_add(cap, "guest_dumps", files);
    char what[96];
    snprintf(what, sizeof(what), "%d of %zu listed dump(s) fetched and verified", got, n);
    cl_run_ladder(c, "collect", what);
    if (got == 0 && cl_cap_fetched(&m, false) == CL_CAP_OFFLINE_RESCUE) {
        int r = offline_rescue(c, max);
        return cl_cap_rescued(&m, r > 0) == CL_CAP_DONE ? r : -1;
    }
    cl_cap_fetched(&m, true);
    return got;
}
