/* cmd_corpus.c - `crashlab corpus build|verify`. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "corpus.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: crashlab corpus build --from RUNS... --out DIR\n"
               "       crashlab corpus verify DIR\n"
               "RUNS: run directories or directories of runs. build exits 0 when the corpus was written;\n"
               "verify exits 0 when every dump matches its labels, 1 on any mismatch, 2 on a bad corpus.\n");
}

static int build(int argc, char **argv)
{
    const char *out = NULL;
    char *from[256];
    size_t nfrom = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--out") && i + 1 < argc) {
            out = argv[++i];
        } else if (!strcmp(argv[i], "--from")) {
            while (i + 1 < argc && strncmp(argv[i + 1], "--", 2) && nfrom < 256)
                from[nfrom++] = argv[++i];
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
    size_t count = 0;
    if (!cl_runs_collect(from, nfrom, &runs, &err) || !cl_corpus_build(&runs, out, &count, &err)) {
        fprintf(stderr, "crashlab corpus: %s\n", err->msg);
        cl_runs_clear(&runs);
        return 2;
    }
    printf("%s: %zu dump(s) from %zu run(s)\n", out, count, runs.n);
    cl_runs_clear(&runs);
    return 0;
}

int cl_cmd_corpus(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "build"))
        return build(argc - 1, argv + 1);
    if (argc == 3 && !strcmp(argv[1], "verify")) {
        CL_AUTOPTR(cl_error) err = NULL;
        int bad = cl_corpus_verify(argv[2], stdout, &err);
        if (bad < 0) {
            fprintf(stderr, "crashlab corpus: %s\n", err->msg);
            return 2;
        }
        if (bad)
            fprintf(stderr, "crashlab corpus: %d mismatch(es)\n", bad);
        return bad ? 1 : 0;
    }
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        usage(stdout);
        return 0;
    }
    usage(stderr);
    return 2;
}
