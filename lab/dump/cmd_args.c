/* cmd_args.c - DUMP [--json] for the dump commands. */
#include <stdlib.h>
#include <string.h>

#include "cmd_args.h"
#include "util/text.h"

int cl_dump_cmd_args(int argc, char **argv, void (*usage)(FILE *), const char **path, bool *json)
{
    *path = NULL;
    *json = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) {
            *json = true;
        } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if (argv[i][0] == '-' || *path) {
            usage(stderr);
            return 2;
        } else {
            *path = argv[i];
        }
    }
    if (!*path) {
        usage(stderr);
        return 2;
    }
    return -1;
}

void cl_dump_print_terminal(void (*print)(FILE *, json_object *), json_object *o)
{
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    if (!m)
        return;
    print(m, o);
    fclose(m);
    cl_text_put_lines(stdout, text);
    free(text);
}
