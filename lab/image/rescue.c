/* rescue.c - offline dump rescue: the dump a Windows guest wrote, read off its disk
 * when the guest never came back to hand it over.
 *
 * Where Windows puts it: DumpFile (CrashControl; %SystemRoot%\MEMORY.DMP by default) once
 * the boot after the crash has copied it out of the page file; Minidump\*.dmp; a
 * DedicatedDumpFile; and, when the guest never booted again, still inside pagefile.sys,
 * which then starts with the dump's own header. Every copy is bounded; each is read back
 * with the lab's dump readers (lab/dump), and a dump cut short (the guest died while
 * writing it) is kept and flagged "truncated", never chosen over a whole one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "dump/dump.h"
#include "image/image_priv.h"
#include "util/fileio.h"
#include "util/json.h"

#define MAX_CANDIDATES 24
#define MAX_MINIDUMPS 16

typedef struct {
    char guest[300];     /* the Windows path, for the record */
    char path[512];      /* appliance path */
    bool pagefile;       /* only the dump's own length, from its header */
} candidate;

/* %SystemRoot%\X or C:\X -> X relative to the Windows volume; false if elsewhere. The
 * path is the guest's registry value: no ".." may walk it off the volume's mount. */
bool cl_image_volume_relative(const char *win, char *out, size_t len)
{
    if (strstr(win, "..") || strchr(win, '/'))
        return false;
    if (!strncasecmp(win, "%SystemRoot%\\", 13))
        return (size_t)snprintf(out, len, "Windows\\%s", win + 13) < len;
    if (!strncasecmp(win, "C:\\", 3))
        return (size_t)snprintf(out, len, "%s", win + 3) < len;
    return false;
}

static void add_candidate(cl_disk *d, candidate *c, size_t *n, const char *rel, bool pagefile)
{
    if (*n >= MAX_CANDIDATES)
        return;
    char p[512];
    if (!cl_disk_resolve(d, "/c", rel, p, sizeof(p)) || cl_disk_file_size(d, p) < 0)
        return;
    for (size_t i = 0; i < *n; i++)
        if (!strcmp(c[i].path, p))
            return;
    snprintf(c[*n].guest, sizeof(c[*n].guest), "C:\\%s", rel);
    snprintf(c[*n].path, sizeof(c[*n].path), "%s", p);
    c[*n].pagefile = pagefile;
    (*n)++;
}

/* The length of a dump at the start of a page file: RequiredDumpSpace (0xfa0 in both
 * header layouts), when the page file starts with a dump header at all. */
static uint64_t pagefile_dump_len(cl_disk *d, const char *path)
{
    uint8_t h[0x1000];
    if (cl_disk_read_head(d, path, h, sizeof(h)) != (int64_t)sizeof(h))
        return 0;
    if (memcmp(h, "PAGE", 4) || (memcmp(h + 4, "DU64", 4) && memcmp(h + 4, "DUMP", 4)))
        return 0;
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | h[0xfa0 + i];
    return v;
}

static void find_candidates(cl_disk *d, const cl_image_facts *f, candidate *c, size_t *n)
{
    char rel[300];
    if (f->dump_file[0] && cl_image_volume_relative(f->dump_file, rel, sizeof(rel)))
        add_candidate(d, c, n, rel, false);
    add_candidate(d, c, n, "Windows\\MEMORY.DMP", false);
    if (f->dedicated_dump_file[0] && cl_image_volume_relative(f->dedicated_dump_file, rel, sizeof(rel)))
        add_candidate(d, c, n, rel, false);
    char dir[512];
    if (cl_disk_resolve(d, "/c", "Windows\\Minidump", dir, sizeof(dir))) {
        char **names = cl_disk_ls(d, dir, 256);
        size_t k = 0;
        for (size_t i = 0; names && names[i] && k < MAX_MINIDUMPS; i++) {
            size_t l = strlen(names[i]);
            if (l < 5 || strcasecmp(names[i] + l - 4, ".dmp") || strchr(names[i], '/'))
                continue;
            snprintf(rel, sizeof(rel), "Windows\\Minidump\\%s", names[i]);
            add_candidate(d, c, n, rel, false);
            k++;
        }
        cl_disk_names_free(names);
    }
    add_candidate(d, c, n, "pagefile.sys", true);
}

static json_object *rescue_one(cl_disk *d, const candidate *c, const char *out_dir, int idx, uint64_t max,
                               int *whole)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "guest_path", json_object_new_string(c->guest));
    uint64_t want = max;
    bool cut = false;
    if (c->pagefile) {
        uint64_t len = pagefile_dump_len(d, c->path);
        if (!len) {
            json_object_put(o);
            return NULL;   /* an ordinary page file: no dump in it */
        }
        int64_t fsz = cl_disk_file_size(d, c->path);
        want = len;
        if (fsz >= 0 && (uint64_t)fsz < want)
            want = (uint64_t)fsz;
        if (want > max) {
            want = max;
            cut = true;
        }
        json_object_object_add(o, "from_pagefile", json_object_new_boolean(true));
    } else {
        int64_t fsz = cl_disk_file_size(d, c->path);
        if (fsz >= 0 && (uint64_t)fsz > max)
            cut = true;
    }
    char name[64], local[PATH_MAX + 64], part[PATH_MAX + 80];
    snprintf(name, sizeof(name), "rescued-%d.dmp", idx);
    snprintf(local, sizeof(local), "%s/%s", out_dir, name);
    snprintf(part, sizeof(part), "%s/.%s.partial", out_dir, name);
    uint64_t copied = 0;
    CL_AUTOPTR(cl_error) err = NULL;
    if (!cl_disk_download(d, c->path, part, want, true, &copied, &err)) {
        unlink(part);
        json_object_object_add(o, "error", json_object_new_string(err->msg));
        return o;
    }
    if (rename(part, local) < 0) {
        unlink(part);
        json_object_object_add(o, "error", json_object_new_string(strerror(errno)));
        return o;
    }
    char sha[65];
    cl_sha256_file(local, sha, NULL, NULL);
    json_object_object_add(o, "path", json_object_new_string(name));
    json_object_object_add(o, "bytes", json_object_new_int64((int64_t)copied));
    json_object_object_add(o, "sha256", json_object_new_string(sha));
    json_object *insp = NULL;
    CL_AUTOPTR(cl_error) ierr = NULL;
    int rc = cl_dump_inspect(local, &insp, &ierr);
    bool truncated = cut || rc == CL_DUMP_TRUNCATED;
    json_object_object_add(o, "truncated", json_object_new_boolean(truncated));
    if (cut)
        json_object_object_add(o, "reason", json_object_new_string("larger than the copy limit: only the start was copied"));
    else if (rc == CL_DUMP_TRUNCATED)
        json_object_object_add(o, "reason", json_object_new_string("cut short: the guest died while writing it"));
    if (rc == CL_DUMP_NOT_A_DUMP || !insp) {
        json_object_object_add(o, "readable", json_object_new_boolean(false));
        json_object_object_add(o, "error", json_object_new_string(ierr ? ierr->msg : "not a dump"));
    } else {
        json_object_object_add(o, "readable", json_object_new_boolean(true));
        json_object_object_add(o, "inspect", insp);
        if (!truncated)
            *whole = 1;
    }
    return o;
}

int cl_image_rescue(const char *image, const char *out_dir, uint64_t max_bytes, json_object **result, cl_error **errp)
{
    if (!cl_mkdir_p(out_dir, 0755, errp))
        return -1;
    CL_AUTOPTR(cl_disk) d = cl_disk_open(image, NULL, false, errp);
    if (!d)
        return -1;
    if (!cl_disk_has_windows(d)) {
        cl_error_set(errp, CL_ERR_FORMAT, "rescue: '%s' holds no Windows volume (Windows\\System32\\config\\SYSTEM)", image);
        return -1;
    }
    cl_image_facts f;
    if (!cl_image_facts_from_disk(d, NULL, &f, errp))
        return -1;
    candidate c[MAX_CANDIDATES];
    size_t n = 0;
    find_candidates(d, &f, c, &n);
    json_object *res = json_object_new_object();
    json_object *arr = json_object_new_array();
    int copied = 0, chosen = -1;
    for (size_t i = 0; i < n; i++) {
        int whole = 0;
        json_object *o = rescue_one(d, &c[i], out_dir, copied, max_bytes, &whole);
        if (!o)
            continue;
        if (json_object_object_get_ex(o, "path", NULL)) {
            if (whole && chosen < 0)
                chosen = (int)json_object_array_length(arr);
            copied++;
        }
        json_object_array_add(arr, o);
    }
    /* rescued-0.dmp is the chosen dump: the run's rung takes that name. */
    if (chosen > 0) {
        json_object *a = json_object_array_get_idx(arr, (size_t)chosen), *z = NULL;
        for (size_t i = 0; i < json_object_array_length(arr) && !z; i++)
            if (!strcmp(cl_json_str(json_object_array_get_idx(arr, i), "path", ""), "rescued-0.dmp"))
                z = json_object_array_get_idx(arr, i);
        char pa[PATH_MAX + 64], pz[PATH_MAX + 64], pt[PATH_MAX + 64];
        snprintf(pa, sizeof(pa), "%s/%s", out_dir, cl_json_str(a, "path", ""));
        snprintf(pz, sizeof(pz), "%s/rescued-0.dmp", out_dir);
        snprintf(pt, sizeof(pt), "%s/.rescued-swap", out_dir);
        if (z && rename(pz, pt) == 0 && rename(pa, pz) == 0 && rename(pt, pa) == 0) {
            json_object_object_add(z, "path", json_object_new_string(cl_json_str(a, "path", "")));
            json_object_object_add(a, "path", json_object_new_string("rescued-0.dmp"));
        }
    }
    json_object_object_add(res, "image", json_object_new_string(image));
    json_object_object_add(res, "launch_seconds", json_object_new_double(cl_disk_launch_seconds(d)));
    json_object_object_add(res, "dumps", arr);
    json_object_object_add(res, "chosen", chosen >= 0 ? json_object_new_int(chosen) : NULL);
    *result = res;
    return copied;
}
