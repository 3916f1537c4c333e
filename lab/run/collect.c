#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "collect.h"
#include "util/fileio.h"

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
        char key[16];
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
            snprintf(out, outlen, "%.*s/log/qemu/%s.log", (int)n, root + 5, c->domname);
        } else {
            snprintf(out, outlen, "%s/embed/log/qemu/%s.log", c->state_dir, c->domname);
        }
        return true;
    }
    if (cl_virt_is_local(c->v) && strstr(uri, "/system")) {
        snprintf(out, outlen, "/var/log/libvirt/qemu/%s.log", c->domname);
        return true;
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
    json_object *cap = NULL;
    if (!json_object_object_get_ex(c->res, "capture", &cap)) {
        cap = json_object_new_object();
        json_object_object_add(c->res, "capture", cap);
    }
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

int cl_run_collect_guest_dumps(cl_run_ctx *c)
{
    /* libvirt marked the domain crashed and refuses agent commands; QEMU never stopped the
     * guest (panic action none). A suspend/resume makes libvirt's state running again. */
    if (virDomainSuspend(c->dom) == 0)
        virDomainResume(c->dom);
    cl_run_ladder(c, "guest-dump", "the guest runs on to write its own dump");
    double deadline = cl_now() + c->s->t_guest_dump;
    if (deadline > c->deadline)
        deadline = c->deadline;
    /* The agent of the crashed boot is gone; wait for the one of the next boot. */
    cl_virt_event ev;
    cl_virt_wait_event(c->v, c->domname, 1u << CL_VEV_AGENT_CONNECTED, deadline, &ev);
    CL_AUTOPTR(cl_error) err = NULL;
    if (!cl_agent_wait_ping(c->dom, deadline, &err)) {
        cl_run_ladder(c, "guest-back", err->msg);
        return -1;
    }
    cl_run_ladder(c, "guest-back", "the agent answers again");
    const char *agent = c->s->profile == CL_PROFILE_WINDOWS ? "C:\\crashlab\\labagent.exe" : "/usr/bin/labagent";
    char *argv[] = { (char *)agent, "collect", NULL };
    cl_agent_exec_status st = { 0 };
    if (!cl_agent_exec(c->dom, argv, cl_now() + c->s->t_step, &st, &err)) {
        cl_run_ladder(c, "collect", err->msg);
        return 0;
    }
    json_object *o = agent_out(&st), *dumps = NULL;
    cl_agent_exec_status_clear(&st);
    if (!o || !json_object_object_get_ex(o, "dumps", &dumps) || !json_object_is_type(dumps, json_type_array)) {
        cl_run_ladder(c, "collect", "labagent collect gave no list of dumps");
        json_object_put(o);
        return 0;
    }
    json_object *files = json_object_new_array();
    /* A guest dump is at most the guest's memory and its headers. */
    uint64_t max = ((uint64_t)c->s->memory_mb << 20) + ((uint64_t)c->s->memory_mb << 18) + (64u << 20);
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
    json_object *cap = NULL;
    if (!json_object_object_get_ex(c->res, "capture", &cap)) {
        cap = json_object_new_object();
        json_object_object_add(c->res, "capture", cap);
    }
    json_object_object_add(cap, "guest_dumps", files);
    char what[96];
    snprintf(what, sizeof(what), "%d of %zu listed dump(s) fetched and verified", got, n);
    cl_run_ladder(c, "collect", what);
    return got;
}
