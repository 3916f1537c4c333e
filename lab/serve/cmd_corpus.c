/* cmd_corpus.c - `crashlab corpus build|verify`. */
#include <getopt.h>
#include <limits.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "corpus.h"
#include "oracle.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: crashlab corpus build --from RUNS... --out DIR\n"
               "       crashlab corpus verify DIR [--oracle drgn|crash | --oracle-cmd TEMPLATE | --replay [--state DIR]]\n"
               "                                  [--junit FILE] [--vmlinux PATH] [--timeout SECONDS]\n"
               "RUNS: run directories or directories of runs. build exits 0 when the corpus was written;\n"
               "verify exits 0 when every dump matches its labels, 1 on any mismatch, 2 on a bad corpus.\n"
               "Without an oracle verify re-reads each dump with the lab's own reader; with one, a debugger\n"
               "reads each dump and every label is compared (TEMPLATE placeholders: {dump} {vmlinux} {entry}\n"
               "{corpus}; contract in lab/serve/README.md, \"Oracles\"). --replay replays every entry recorded\n"
               "with run --record (manifest replay.replayable) and checks icount and dump sha256 come back.\n");
}

static int verify(int argc, char **argv)
{
    const char *dir = NULL, *oracle = NULL, *cmd = NULL, *state = NULL;
    bool replay = false;
    cl_oracle_opts o = { .timeout_s = 600 };
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool more = i + 1 < argc;
        if (!strcmp(a, "--oracle") && more)
            oracle = argv[++i];
        else if (!strcmp(a, "--oracle-cmd") && more)
            cmd = argv[++i];
        else if (!strcmp(a, "--replay"))
            replay = true;
        else if (!strcmp(a, "--state") && more)
            state = argv[++i];
        else if (!strcmp(a, "--junit") && more)
            o.junit = argv[++i];
        else if (!strcmp(a, "--vmlinux") && more)
            o.vmlinux = argv[++i];
        else if (!strcmp(a, "--timeout") && more) {
            char *end = NULL;
            o.timeout_s = strtod(argv[++i], &end);
            if (!end || *end || !(o.timeout_s > 0 && o.timeout_s <= 86400)) {
                fprintf(stderr, "crashlab corpus: --timeout '%s' is not a number of seconds (1-86400)\n", argv[i]);
                return 2;
            }
        } else if (a[0] != '-' && !dir)
            dir = a;
        else {
            usage(stderr);
            return 2;
        }
    }
    if (!dir || (oracle && cmd) || ((o.junit || o.vmlinux) && !oracle && !cmd) || (replay && (oracle || cmd)) ||
        (state && !replay)) {
        if (oracle && cmd)
            fprintf(stderr, "crashlab corpus: --oracle and --oracle-cmd exclude each other\n");
        usage(stderr);
        return 2;
    }
    CL_AUTOPTR(cl_error) err = NULL;
    int bad;
    if (replay) {
        char self[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
        if (n <= 0) {
            fprintf(stderr, "crashlab corpus: cannot find this program (/proc/self/exe) to run replays\n");
            return 2;
        }
        self[n] = 0;
        bad = cl_corpus_verify_replay(dir, self, state, stdout, &err);
    } else if (!oracle && !cmd) {
        bad = cl_corpus_verify(dir, stdout, &err);
    } else {
        char tmpl[CL_ORACLE_CMD_MAX];
        if (oracle && !cl_oracle_builtin(oracle, tmpl, sizeof(tmpl), &err)) {
            fprintf(stderr, "crashlab corpus: %s\n", err->msg);
            return 2;
        }
        o.name = oracle ? oracle : "cmd";
        o.tmpl = oracle ? tmpl : cmd;
        bad = cl_corpus_verify_oracle(dir, &o, stdout, &err);
    }
    if (bad < 0) {
        fprintf(stderr, "crashlab corpus: %s\n", err->msg);
        return 2;
    }
    if (bad)
        fprintf(stderr, "crashlab corpus: %d mismatch(es)\n", bad);
    return bad ? 1 : 0;
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
    if (argc >= 3 && !strcmp(argv[1], "verify"))
        return verify(argc - 1, argv + 1);
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        usage(stdout);
        return 0;
    }
    usage(stderr);
    return 2;
}
