/* capture_kdump.c - the kdump file QEMU writes, made into the one every debugger opens.
 *
 * QEMU 7.2 writes libvirt's kdump-* formats in makedumpfile's flattened layout with an
 * almost empty utsname and a misread phys_base; lab/dump/kdump/convert.h says what is wrong
 * and what is written instead. The conversion runs right after the dump, before its sha256
 * is taken, so result.json describes the file that is stored. */
#include <stdio.h>

#include "dump/kdump/convert.h"
#include "run_priv.h"

const char *cl_run_kdump_standard(cl_run_ctx *c, json_object **conv)
{
    *conv = NULL;
    cl_kdump_convert_info ci;
    CL_AUTOPTR(cl_error) err = NULL;
    if (!cl_kdump_convert(c->dump_path, c->dump_path, &ci, &err)) {
        /* The file is still QEMU's, complete and readable by crash and `crashlab inspect`:
         * keep it, and name it for what it is. */
        char w[1024];
        snprintf(w, sizeof(w), "dump: QEMU's flattened kdump file is kept as written (drgn cannot open it): %.900s",
                 err->msg);
        json_object_array_add(c->warnings, json_object_new_string(w));
        return "kdump-zlib-flattened";
    }
    json_object *o = json_object_new_object();
    json_object_object_add(o, "from", json_object_new_string(ci.was_flattened ? "kdump-zlib-flattened" : "kdump-zlib"));
    json_object_object_add(o, "seconds", json_object_new_double(ci.seconds));
    json_object *u = json_object_new_object();
    json_object_object_add(u, "sysname", json_object_new_string(ci.sysname));
    json_object_object_add(u, "nodename", json_object_new_string(ci.nodename));
    json_object_object_add(u, "release", json_object_new_string(ci.release));
    json_object_object_add(u, "version", json_object_new_string(ci.version));
    json_object_object_add(u, "machine", json_object_new_string(ci.machine));
    json_object_object_add(o, "utsname", u);
    json_object_object_add(o, "version_from", json_object_new_string(ci.version_from));
    if (ci.phys_base != ci.phys_base_header) {
        char hex[2][24];
        snprintf(hex[0], sizeof(hex[0]), "0x%llx", (unsigned long long)ci.phys_base_header);
        snprintf(hex[1], sizeof(hex[1]), "0x%llx", (unsigned long long)ci.phys_base);
        json_object *pb = json_object_new_object();
        json_object_object_add(pb, "qemu", json_object_new_string(hex[0]));
        json_object_object_add(pb, "written", json_object_new_string(hex[1]));
        json_object_object_add(o, "phys_base", pb);
    }
    *conv = o;
    return "kdump-zlib";
}
