#include "dump/dump.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "dump/elf/elfcore.h"
#include "dump/inspect_priv.h"
#include "dump/kdump/kdump.h"
#include "dump/title.h"
#include "dump/windows/windump.h"

json_object *cl_json_hex(uint64_t v)
{
    char s[24];
    snprintf(s, sizeof(s), "0x%" PRIx64, v);
    return json_object_new_string(s);
}

json_object *cl_json_time(int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    char s[32];
    if (!gmtime_r(&tt, &tm) || !strftime(s, sizeof(s), "%Y-%m-%dT%H:%M:%SZ", &tm))
        return NULL;
    return json_object_new_string(s);
}

void cl_json_add_notes(json_object *o, const cl_dump_notes *n)
{
    json_object_object_add(o, "truncated", json_object_new_boolean(n->truncated));
    json_object *w = json_object_new_array();
    for (size_t i = 0; i < n->n; i++)
        json_object_array_add(w, json_object_new_string(n->items[i]));
    if (n->dropped) {
        char s[64];
        snprintf(s, sizeof(s), "%zu more warnings not shown", n->dropped);
        json_object_array_add(w, json_object_new_string(s));
    }
    json_object_object_add(o, "warnings", w);
}

_Static_assert(sizeof(((cl_dump_crash *)0)->title) > CL_TITLE_MAX, "cl_dump_crash.title holds a whole title");

int cl_dump_inspect_reader(cl_reader *r, const char *name, json_object **out, cl_dump_crash *crash, cl_error **errp)
{
    cl_dump_crash unused;
    if (!crash)
        crash = &unused;
    memset(crash, 0, sizeof(*crash));
    unsigned char head[16] = { 0 };
    size_t n = cl_reader_size(r) < sizeof(head) ? (size_t)cl_reader_size(r) : sizeof(head);
    if (!cl_reader_read(r, 0, n, head, errp))
        return CL_DUMP_NOT_A_DUMP;
    if (cl_windump_probe(head, n))
        return cl_inspect_windows(r, out, crash, errp);
    if (cl_elfcore_probe(head, n) || cl_kdump_probe(head, n))
        return cl_inspect_linux(r, out, crash, errp);
    cl_error_set(errp, CL_ERR_FORMAT,
                 "'%s' is not a dump: expected PAGEDUMP/PAGEDU64 (Windows), \\x7fELF (vmcore), "
                 "KDUMP (kdump-compressed) or makedumpfile (flattened) at offset 0", name);
    return CL_DUMP_NOT_A_DUMP;
}

int cl_dump_inspect_crash(const char *path, struct json_object **out, cl_dump_crash *crash, cl_error **errp)
{
    if (crash)
        memset(crash, 0, sizeof(*crash));
    CL_AUTOPTR(cl_reader) r = cl_reader_open_file(path, errp);
    if (!r)
        return CL_DUMP_NOT_A_DUMP;
    return cl_dump_inspect_reader(r, path, out, crash, errp);
}

int cl_dump_inspect(const char *path, struct json_object **out, cl_error **errp)
{
    return cl_dump_inspect_crash(path, out, NULL, errp);
}
