/* remote.c - the remote branch of a run (remote.h). */
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include "remote.h"
#include "util/json.h"
#include "virt/console.h"
#include "virt/domain.h"
#include "virt/hostinfo.h"
#include "virt/storage.h"

/* Guest output kept from the console stream; past it bytes are read and dropped. */
#define REMOTE_CONSOLE_MAX (64ull << 20)

bool cl_run_remote_check(cl_run_ctx *c, const char *kernel, const char *initrd, cl_error **errp)
{
    /* The guest files are named by their path on that host; libvirt, not access(), says
     * whether they are there. */
    if (kernel && kernel[0] && (!cl_vol_exists_at(c->v, kernel, errp) || !cl_vol_exists_at(c->v, initrd, errp))) {
        cl_error_prefix(errp, "remote host: the guest files are not there (the daemon's guest_pool puts them there)");
        return false;
    }
    if (c->s->dump_format == CL_DUMPFMT_NONE)
        return true;
    cl_pool_info pi;
    if (!cl_pool_check(c->v, c->opts->dump_pool, &pi, errp))
        return false;
    /* A kdump of a guest is at most its memory; say so now rather than after the crash. */
    uint64_t need = (uint64_t)c->s->memory_mb << 20;
    if (pi.available < need)
        return cl_error_set(errp, CL_ERR_VIRT, "remote host: pool '%s' has %llu bytes free, a dump of this %u MiB guest may need %llu",
                            c->opts->dump_pool, (unsigned long long)pi.available, c->s->memory_mb, (unsigned long long)need);
    return true;
}

cl_domain *cl_run_remote_start(cl_run_ctx *c, const char *xml, cl_error **errp)
{
    cl_domain *dom = cl_domain_start_paused(c->v, xml, errp);
    if (!dom)
        return NULL;
    c->console_stream = cl_console_open(c->v, dom, c->console, REMOTE_CONSOLE_MAX, errp);
    if (!c->console_stream || !cl_domain_resume(dom, errp)) {
        cl_domain_destroy(dom);
        cl_console_close(c->console_stream, 0, NULL);
        c->console_stream = NULL;
        return NULL;
    }
    return dom;
}

void cl_run_remote_console_close(cl_run_ctx *c)
{
    if (!c->console_stream)
        return;
    cl_console_stats st;
    /* The domain is gone: what it said last may still be on its way. */
    cl_console_close(c->console_stream, 2.0, &st);
    c->console_stream = NULL;
    json_object *cap = cl_json_child(c->res, "capture");
    json_object *o = json_object_new_object();
    json_object_object_add(o, "via", json_object_new_string("virDomainOpenConsole"));
    json_object_object_add(o, "bytes", json_object_new_int64((int64_t)st.bytes));
    json_object_object_add(o, "dropped", json_object_new_int64((int64_t)st.dropped));
    json_object_object_add(o, "ended", json_object_new_string(st.eof ? "eof" : st.error[0] ? st.error : "closed by the run"));
    json_object_object_add(cap, "console", o);
    if (st.dropped)
        json_object_array_add(c->warnings, json_object_new_string("console: the guest said more than the console cap; the rest was dropped"));
}

void cl_run_remote_host_json(cl_run_ctx *c, json_object *host)
{
    json_object_object_add(host, "remote", json_object_new_boolean(c->remote));
    cl_host_info hi;
    CL_AUTOPTR(cl_error) err = NULL;
    if (!cl_virt_host_info(c->v, &hi, &err)) {
        json_object_array_add(c->warnings, json_object_new_string(err->msg));
        return;
    }
    json_object_object_add(host, "libvirt_hostname", json_object_new_string(hi.hostname));
    json_object *caps = json_object_new_object();
    json_object_object_add(caps, "arch", json_object_new_string(hi.arch));
    json_object_object_add(caps, "cpu_model", json_object_new_string(hi.cpu_model));
    json_object_object_add(caps, "cpu_vendor", json_object_new_string(hi.cpu_vendor));
    json_object_object_add(caps, "host_uuid", json_object_new_string(hi.host_uuid));
    json_object_object_add(caps, "cpus", json_object_new_int((int)hi.cpus));
    json_object_object_add(caps, "mhz", json_object_new_int((int)hi.mhz));
    json_object_object_add(caps, "numa_nodes", json_object_new_int((int)hi.nodes));
    json_object_object_add(caps, "sockets", json_object_new_int((int)hi.sockets));
    json_object_object_add(caps, "cores", json_object_new_int((int)hi.cores));
    json_object_object_add(caps, "threads", json_object_new_int((int)hi.threads));
    json_object_object_add(caps, "memory_mb", json_object_new_int64((int64_t)hi.memory_mb));
    json_object_object_add(host, "capabilities", caps);
    /* "hostname" has always been this machine's: on a remote run it is where crashlab ran,
     * libvirt_hostname is where the guest ran. */
    struct utsname u;
    if (c->remote && uname(&u) == 0)
        json_object_object_add(host, "lab_hostname", json_object_new_string(u.nodename));
}

bool cl_run_remote_dump(cl_run_ctx *c, cl_dump_format fmt, const char *path, json_object **info, cl_error **errp)
{
    *info = NULL;
    /* The volume is named by the run: one run id, one volume, on every host. */
    char vol[160];
    snprintf(vol, sizeof(vol), "crashlab-%s.%s", c->run_id, strrchr(path, '.') ? strrchr(path, '.') + 1 : "dump");
    /* A dump is at most the guest's memory and its headers. */
    uint64_t max = ((uint64_t)c->s->memory_mb << 20) + ((uint64_t)c->s->memory_mb << 18) + (64u << 20);
    cl_remote_dump rd;
    bool ok = cl_domain_dump_to_pool(c->v, c->dom, fmt, c->opts->dump_pool, vol, path, max, &rd, errp);
    json_object *o = json_object_new_object();
    /* dump.writer as lab/run/labdump.c records it: the lab's own writer reads guest RAM out
     * of the QEMU process, which is on that host. */
    json_object *w = json_object_new_object();
    json_object_object_add(w, "name", json_object_new_string("qemu"));
    char why[400];
    snprintf(why, sizeof(why), "remote host: its QEMU's memory cannot be read from here; QEMU there writes the dump into pool '%s' and it comes home over the libvirt connection",
             c->opts->dump_pool);
    json_object_object_add(w, "why", json_object_new_string(why));
    json_object_object_add(o, "writer", w);
    json_object *r = json_object_new_object();
    json_object_object_add(r, "pool", json_object_new_string(c->opts->dump_pool));
    json_object_object_add(r, "volume", json_object_new_string(rd.volume));
    json_object_object_add(r, "host_path", json_object_new_string(rd.host_path));
    json_object_object_add(r, "dump_seconds", json_object_new_double(rd.dump_seconds));
    json_object_object_add(r, "download_seconds", json_object_new_double(rd.download_seconds));
    json_object_object_add(r, "download_mb_per_s",
                           json_object_new_double(rd.download_seconds > 0 ? rd.bytes / 1e6 / rd.download_seconds : 0));
    json_object_object_add(r, "spot_checks", json_object_new_int(rd.spot_checks));
    json_object_object_add(r, "deleted_on_host", json_object_new_boolean(rd.deleted));
    json_object_object_add(o, "remote", r);
    if (!rd.deleted && rd.host_path[0]) {
        char w[1200];
        snprintf(w, sizeof(w), "dump: the host's copy '%s' could not be deleted", rd.host_path);
        json_object_array_add(c->warnings, json_object_new_string(w));
    }
    if (ok)
        cl_run_progress(c, "capture", "dump brought home from pool %s: %llu bytes, written in %.1fs, downloaded in %.2fs (%.0f MB/s)",
                        c->opts->dump_pool, (unsigned long long)rd.bytes, rd.dump_seconds, rd.download_seconds,
                        rd.download_seconds > 0 ? rd.bytes / 1e6 / rd.download_seconds : 0);
    *info = o;
    return ok;
}
