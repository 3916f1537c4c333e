/* cmd_inspect.c - `crashlab inspect FILE [--json]`. */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "dump/dump.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: crashlab inspect FILE [--json]\n"
               "Reads a Windows crash dump (PAGEDUMP/PAGEDU64), an ELF vmcore or a kdump-compressed\n"
               "dump and tells what crashed. Exit 0: read; 2: not a dump; 3: cut short or inconsistent\n"
               "(what could be read is still printed).\n");
}

static const char *str(json_object *o, const char *key)
{
    json_object *v;
    return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
               ? json_object_get_string(v) : NULL;
}

static json_object *get(json_object *o, const char *key)
{
    json_object *v;
    return json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static void print_human(json_object *o)
{
    json_object *v;
    printf("title:       %s\n", str(o, "title"));
    printf("format:      %s\n", str(o, "format"));
    if ((v = get(o, "dump_type"))) {
        if (get(v, "number"))
            printf("dump type:   %s (%d)\n", str(v, "name"), json_object_get_int(get(v, "number")));
        else
            printf("dump type:   %s\n", str(v, "name"));
    }
    if ((v = get(o, "machine"))) {
        if (get(v, "number"))
            printf("machine:     %s (0x%x)\n", str(v, "name"), (unsigned)json_object_get_int(get(v, "number")));
        else
            printf("machine:     %s\n", str(v, "name"));
    }
    if ((v = get(o, "processors")))
        printf("processors:  %d\n", json_object_get_int(v));
    if ((v = get(o, "os"))) {
        if (str(v, "release"))
            printf("kernel:      %s\n", str(v, "release"));
        if (get(v, "build"))
            printf("os:          Windows major %d build %d\n", json_object_get_int(get(v, "major")),
                   json_object_get_int(get(v, "build")));
    }
    if (str(o, "system_time"))
        printf("time:        %s\n", str(o, "system_time"));
    if ((v = get(o, "bugcheck"))) {
        printf("bug check:   %s %s\n", str(v, "code"), str(v, "name") ? str(v, "name") : "(unknown)");
        json_object *p = get(v, "params"), *m = get(v, "meaning");
        for (size_t i = 0; p && i < json_object_array_length(p); i++) {
            const char *mean = m ? json_object_get_string(json_object_array_get_idx(m, i)) : NULL;
            printf("  arg%zu %-18s %s\n", i + 1, json_object_get_string(json_object_array_get_idx(p, i)),
                   mean ? mean : "");
        }
    }
    if ((v = get(o, "module_count")))
        printf("modules:     %d\n", json_object_get_int(v));
    if ((v = get(o, "faulting_module")) && json_object_is_type(v, json_type_object)) {
        if (str(v, "offset"))
            printf("faulting:    %s+%s (from %s)\n", str(v, "name"), str(v, "offset"), str(v, "source"));
        else
            printf("faulting:    %s (from %s)\n", str(v, "name"), str(v, "source"));
    }
    if ((v = get(o, "linux"))) {
        if (str(v, "panic_message"))
            printf("panic:       %s\n", str(v, "panic_message"));
        if (str(v, "crash_function"))
            printf("function:    %s\n", str(v, "crash_function"));
    }
    json_object *w = get(o, "warnings");
    for (size_t i = 0; w && i < json_object_array_length(w); i++)
        printf("warning:     %s\n", json_object_get_string(json_object_array_get_idx(w, i)));
    if (json_object_get_boolean(get(o, "truncated")))
        printf("TRUNCATED:   the file is cut short; the fields above are what it holds\n");
}

int cl_cmd_inspect(int argc, char **argv)
{
    const char *path = NULL;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) {
            json = true;
        } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if (argv[i][0] == '-' || path) {
            usage(stderr);
            return 2;
        } else {
            path = argv[i];
        }
    }
    if (!path) {
        usage(stderr);
        return 2;
    }
    json_object *o = NULL;
    CL_AUTOPTR(cl_error) err = NULL;
    int rc = cl_dump_inspect(path, &o, &err);
    if (rc == CL_DUMP_NOT_A_DUMP) {
        fprintf(stderr, "crashlab inspect: %s\n", err ? err->msg : "not a dump");
        return 2;
    }
    if (json)
        printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
    else
        print_human(o);
    json_object_put(o);
    if (rc == CL_DUMP_TRUNCATED)
        fprintf(stderr, "crashlab inspect: '%s' is truncated or inconsistent\n", path);
    return rc;
}
