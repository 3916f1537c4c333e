/* cmd_spare.c - `crashlab spare`: the paused guests that `run --spare` leaves for the next run. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "util/fileio.h"
#include "virt/saved.h"
#include "run_priv.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: crashlab spare list|drop [--state DIR] [--connect URI]\n"
               "  list   the spares kept in this state directory's libvirt (name, image key)\n"
               "  drop   destroy them (their memory is given back; the next --spare run restores again)\n");
}

int cl_cmd_spare(int argc, char **argv)
{
    const char *state = NULL, *uri = NULL;
    static const struct option longopts[] = {
        { "state", required_argument, NULL, 's' },
        { "connect", required_argument, NULL, 'c' },
        { "help", no_argument, NULL, 'h' },
        { 0, 0, 0, 0 },
    };
    int ch;
    while ((ch = getopt_long(argc, argv, "s:c:h", longopts, NULL)) != -1) {
        switch (ch) {
        case 's': state = optarg; break;
        case 'c': uri = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc - 1 || (strcmp(argv[optind], "list") && strcmp(argv[optind], "drop"))) {
        usage(stderr);
        return 2;
    }
    bool drop = !strcmp(argv[optind], "drop");
    CL_AUTOFREE char *dir = cl_run_state_dir(state);
    CL_AUTOPTR(cl_error) err = NULL;
    CL_AUTOPTR(cl_virt) v = dir ? cl_virt_open_by(uri, dir, cl_now() + 60, &err) : NULL;
    if (!v) {
        fprintf(stderr, "crashlab spare: %s\n", err ? err->msg : "no state directory");
        return 1;
    }
    int n = drop ? cl_saved_drop_spares(v, NULL) : cl_saved_list_spares(v, stdout);
    if (drop)
        printf("%d spare%s dropped\n", n, n == 1 ? "" : "s");
    return n < 0 ? 1 : 0;
}
