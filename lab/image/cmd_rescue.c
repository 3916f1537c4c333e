/* cmd_rescue.c - `crashlab rescue DISK --out DIR`: the dump a Windows guest left on its
 * disk, copied out offline and read. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "image/image.h"
#include "util/json.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: crashlab rescue DISK --out DIR [--max-mb N] [--json]\n"
            "Finds the crash dumps Windows left on DISK (CrashControl DumpFile, Windows\\MEMORY.DMP,\n"
            "Windows\\Minidump\\*.dmp, a dedicated dump file, a dump still in pagefile.sys), copies each\n"
            "(at most --max-mb, default 65536) to DIR/rescued-N.dmp and reads it. A dump cut short is kept\n"
            "and flagged truncated. Exit 0: a whole dump was found; 1: none, or only truncated ones;\n"
            "2: bad input or an unreadable disk.\n");
}

int cl_cmd_rescue(int argc, char **argv)
{
    static const struct option longopts[] = {
        { "out", required_argument, NULL, 'o' }, { "max-mb", required_argument, NULL, 'm' },
        { "json", no_argument, NULL, 'j' },      { "help", no_argument, NULL, 'h' },
        { 0 },
    };
    const char *out = NULL;
    uint64_t max_mb = 65536;
    bool json = false;
    optind = 1;
    int ch;
    while ((ch = getopt_long(argc, argv, "o:m:jh", longopts, NULL)) != -1) {
        switch (ch) {
        case 'o': out = optarg; break;
        case 'm': {
            char *end = NULL;
            max_mb = strtoull(optarg, &end, 10);
            if (!*optarg || *end || max_mb == 0 || max_mb > (1ull << 24)) {
                fprintf(stderr, "crashlab rescue: --max-mb '%s' is not a number of MiB from 1 to 16777216\n", optarg);
                return 2;
            }
            break;
        }
        case 'j': json = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc - 1 || !out) {
        usage(stderr);
        return 2;
    }
    const char *disk = argv[optind];
    if (access(disk, R_OK) != 0) {
        fprintf(stderr, "crashlab rescue: cannot read '%s'\n", disk);
        return 2;
    }
    json_object *res = NULL;
    CL_AUTOPTR(cl_error) err = NULL;
    int n = cl_image_rescue(disk, out, max_mb << 20, &res, &err);
    if (n < 0) {
        fprintf(stderr, "crashlab rescue: %s\n", err->msg);
        return 2;
    }
    json_object *chosen = cl_json_get(res, "chosen");
    if (json) {
        printf("%s\n", json_object_to_json_string_ext(res, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
    } else {
        json_object *arr = cl_json_get(res, "dumps");
        for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
            json_object *d = json_object_array_get_idx(arr, i), *insp = cl_json_get(d, "inspect");
            printf("%s -> %s/%s: %lld bytes%s%s%s\n", cl_json_str(d, "guest_path", "?"), out, cl_json_str(d, "path", "(not copied)"),
                   (long long)json_object_get_int64(cl_json_get(d, "bytes")),
                   json_object_get_boolean(cl_json_get(d, "truncated")) ? ", TRUNCATED: " : "",
                   json_object_get_boolean(cl_json_get(d, "truncated")) ? cl_json_str(d, "reason", "") : "",
                   chosen && json_object_get_int(chosen) == (int)i ? " (chosen)" : "");
            if (insp)
                printf("  %s\n", cl_json_str(insp, "title", "(no title)"));
            else if (cl_json_str(d, "error", NULL))
                printf("  error: %s\n", cl_json_str(d, "error", NULL));
        }
        if (!arr || json_object_array_length(arr) == 0)
            printf("no dump on %s\n", disk);
    }
    int rc = chosen ? 0 : 1;
    json_object_put(res);
    return rc;
}
