/* labdump.c - see labdump.h. */
#include "labdump.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/fileio.h"
#include "virt/domain.h"
#include "virt/memdump.h"

/* CRASHLAB_DUMP_ALSO=kdump-zlib,elf (tests/integration/dump-writer.sh, bench/bench.sh): after
 * the lab's dump, QEMU dumps the same paused guest in these formats beside it
 * (dump-qemu.kdump, dump-qemu.elf), timed, so the two writers can be compared page for page. */
static void dump_also(cl_run_ctx *c, const char *path, json_object *w)
{
    const char *also = getenv("CRASHLAB_DUMP_ALSO");
    if (!also || !*also)
        return;
    json_object *arr = json_object_new_array();
    json_object_object_add(w, "also", arr);
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = '\0';
    static const struct { const char *name; cl_dump_format f; const char *file; } fmts[] = {
        { "kdump-zlib", CL_DUMPFMT_KDUMP_ZLIB, "dump-qemu.kdump" }, { "elf", CL_DUMPFMT_ELF, "dump-qemu.elf" } };
    for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
        if (!strstr(also, fmts[i].name))
            continue;
        char out[4200];
        snprintf(out, sizeof(out), "%s/%s", slash ? dir : ".", fmts[i].file);
        double t = cl_now();
        CL_AUTOPTR(cl_error) err = NULL;
        json_object *o = json_object_new_object();
        json_object_object_add(o, "format", json_object_new_string(fmts[i].name));
        json_object_object_add(o, "path", json_object_new_string(fmts[i].file));
        if (cl_domain_dump(c->dom, fmts[i].f, out, &err)) {
            json_object_object_add(o, "seconds", json_object_new_double(cl_now() - t));
            uint64_t size = 0;
            char sha[65];
            cl_sha256_file(out, sha, &size, NULL);
            json_object_object_add(o, "bytes", json_object_new_int64((int64_t)size));
        } else {
            json_object_object_add(o, "error", json_object_new_string(err->msg));
        }
        json_object_array_add(arr, o);
    }
}

bool cl_run_lab_dump(cl_run_ctx *c, const char *path, cl_dump_format fmt, json_object **writer)
{
    json_object *w = json_object_new_object();
    *writer = w;
    /* The writer reads guest RAM out of the QEMU process: only possible where it runs. */
    if (!cl_virt_is_local(c->v)) {
        json_object_object_add(w, "name", json_object_new_string("qemu"));
        json_object_object_add(w, "why", json_object_new_string("remote host: its QEMU's memory cannot be read from here"));
        return false;
    }
    cl_memdump_stats st = { 0 };
    CL_AUTOPTR(cl_error) err = NULL;
    cl_kw_codec codec = fmt == CL_DUMPFMT_KDUMP_LZO ? CL_KW_LZO : CL_KW_ZSTD;
    if (!cl_memdump_kdump(c->dom, path, 0, codec, &st, &err)) {
        json_object_object_add(w, "name", json_object_new_string("qemu"));
        json_object_object_add(w, "why", json_object_new_string(err->msg));
        cl_run_progress(c, "capture", "lab writer failed (%s); QEMU writes kdump-zlib", err->msg);
        return false;
    }
    json_object_object_add(w, "name", json_object_new_string("crashlab"));
    json_object_object_add(w, "codec", json_object_new_string(codec == CL_KW_LZO ? "lzo" : "zstd"));
    json_object_object_add(w, "threads", json_object_new_int(st.w.threads));
    json_object_object_add(w, "pages", json_object_new_int64((int64_t)st.w.pages));
    json_object_object_add(w, "zero_pages", json_object_new_int64((int64_t)st.w.zero_pages));
    json_object_object_add(w, "prepare_seconds", json_object_new_double(st.prepare_s));
    json_object_object_add(w, "write_seconds", json_object_new_double(st.write_s));
    dump_also(c, path, w);
    return true;
}
