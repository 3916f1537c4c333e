/* cmd_inspect.c - `crashlab inspect FILE [--json]`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "util/json.h"
#include "dump/cmd_args.h"
#include "dump/dump.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: crashlab inspect FILE [--json]\n"
               "Reads a Windows crash dump (PAGEDUMP/PAGEDU64), an ELF vmcore or a kdump-compressed\n"
               "dump and tells what crashed. Exit 0: read; 2: not a dump; 3: cut short or inconsistent\n"
               "(what could be read is still printed).\n");
}

static void print_human(FILE *m, json_object *o)
{
    json_object *v;
    fprintf(m, "title:       %s\n", cl_json_str(o, "title", NULL));
    fprintf(m, "format:      %s\n", cl_json_str(o, "format", NULL));
    if ((v = cl_json_get(o, "dump_type"))) {
        if (cl_json_get(v, "number"))
            fprintf(m, "dump type:   %s (%d)\n", cl_json_str(v, "name", NULL), json_object_get_int(cl_json_get(v, "number")));
        else
            fprintf(m, "dump type:   %s\n", cl_json_str(v, "name", NULL));
    }
    if ((v = cl_json_get(o, "machine"))) {
        if (cl_json_get(v, "number"))
            fprintf(m, "machine:     %s (0x%x)\n", cl_json_str(v, "name", NULL), (unsigned)json_object_get_int(cl_json_get(v, "number")));
        else
            fprintf(m, "machine:     %s\n", cl_json_str(v, "name", NULL));
    }
    if ((v = cl_json_get(o, "processors")))
        fprintf(m, "processors:  %d\n", json_object_get_int(v));
    if ((v = cl_json_get(o, "os"))) {
        if (cl_json_str(v, "release", NULL))
            fprintf(m, "kernel:      %s\n", cl_json_str(v, "release", NULL));
        if (cl_json_get(v, "build"))
            fprintf(m, "os:          Windows major %d build %d\n", json_object_get_int(cl_json_get(v, "major")),
                   json_object_get_int(cl_json_get(v, "build")));
    }
    if (cl_json_str(o, "system_time", NULL))
        fprintf(m, "time:        %s\n", cl_json_str(o, "system_time", NULL));
    if ((v = cl_json_get(o, "bugcheck"))) {
        fprintf(m, "bug check:   %s %s\n", cl_json_str(v, "code", NULL), cl_json_str(v, "name", NULL) ? cl_json_str(v, "name", NULL) : "(unknown)");
        json_object *p = cl_json_get(v, "params"), *mn = cl_json_get(v, "meaning");
        for (size_t i = 0; p && i < json_object_array_length(p); i++) {
            const char *mean = mn ? json_object_get_string(json_object_array_get_idx(mn, i)) : NULL;
            fprintf(m, "  arg%zu %-18s %s\n", i + 1, json_object_get_string(json_object_array_get_idx(p, i)),
                   mean ? mean : "");
        }
    }
    if ((v = cl_json_get(o, "module_count")))
        fprintf(m, "modules:     %d\n", json_object_get_int(v));
    if ((v = cl_json_get(o, "faulting_module")) && json_object_is_type(v, json_type_object)) {
        if (cl_json_str(v, "offset", NULL))
            fprintf(m, "faulting:    %s+%s (from %s)\n", cl_json_str(v, "name", NULL), cl_json_str(v, "offset", NULL), cl_json_str(v, "source", NULL));
        else
            fprintf(m, "faulting:    %s (from %s)\n", cl_json_str(v, "name", NULL), cl_json_str(v, "source", NULL));
    }
    if ((v = cl_json_get(o, "linux"))) {
        if (cl_json_str(v, "panic_message", NULL))
            fprintf(m, "panic:       %s\n", cl_json_str(v, "panic_message", NULL));
        if (cl_json_str(v, "crash_function", NULL))
            fprintf(m, "function:    %s\n", cl_json_str(v, "crash_function", NULL));
    }
    json_object *w = cl_json_get(o, "warnings");
    for (size_t i = 0; w && i < json_object_array_length(w); i++)
        fprintf(m, "warning:     %s\n", json_object_get_string(json_object_array_get_idx(w, i)));
    if (json_object_get_boolean(cl_json_get(o, "truncated")))
        fprintf(m, "TRUNCATED:   the file is cut short; the fields above are what it holds\n");
}

int cl_cmd_inspect(int argc, char **argv)
{
    const char *path;
    bool json;
    int rc = cl_dump_cmd_args(argc, argv, usage, &path, &json);
    if (rc >= 0)
        return rc;
    json_object *o = NULL;
    CL_AUTOPTR(cl_error) err = NULL;
    rc = cl_dump_inspect(path, &o, &err);
    if (rc == CL_DUMP_NOT_A_DUMP) {
        fprintf(stderr, "crashlab inspect: %s\n", err ? err->msg : "not a dump");
        return 2;
    }
    if (json)
        printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
    else
        cl_dump_print_terminal(print_human, o);
    json_object_put(o);
    if (rc == CL_DUMP_TRUNCATED)
        fprintf(stderr, "crashlab inspect: '%s' is truncated or inconsistent\n", path);
    return rc;
}
