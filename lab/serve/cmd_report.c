/* cmd_report.c - `crashlab report`. */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "report.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: crashlab report --from RUNS... --out DIR [--previous DIR] [--title TEXT]\n"
               "RUNS: run directories or directories of runs. Writes DIR/report.html, junit.xml, summary.json,\n"
               "and compare.json when --previous names an earlier report's directory.\n"
               "Exit: 0 every run had its expected verdict, 1 some did not, 2 bad input.\n");
}

int cl_cmd_report(int argc, char **argv)
{
    const char *out = NULL, *prev = NULL, *title = "crashlab report";
    char *from[256];
    size_t nfrom = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--out") && i + 1 < argc) {
            out = argv[++i];
        } else if (!strcmp(argv[i], "--previous") && i + 1 < argc) {
            prev = argv[++i];
        } else if (!strcmp(argv[i], "--title") && i + 1 < argc) {
            title = argv[++i];
        } else if (!strcmp(argv[i], "--from")) {
            while (i + 1 < argc && strncmp(argv[i + 1], "--", 2) && nfrom < 256)
                from[nfrom++] = argv[++i];
        } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (!out || !nfrom) {
        usage(stderr);
        return 2;
    }
    CL_AUTOPTR(cl_error) err = NULL;
    cl_runs runs = { 0 };
    if (!cl_runs_collect(from, nfrom, &runs, &err) || !cl_report_write(&runs, out, prev, title, &err)) {
        fprintf(stderr, "crashlab report: %s\n", err->msg);
        cl_runs_clear(&runs);
        return 2;
    }
    int bad = 0;
    for (size_t i = 0; i < runs.n; i++)
        bad += strcmp(cl_run_verdict(&runs.v[i]), cl_run_expected(&runs.v[i])) != 0;
    printf("%s/report.html: %zu run(s), %d not as expected\n", out, runs.n, bad);
    cl_runs_clear(&runs);
    return bad ? 1 : 0;
}
