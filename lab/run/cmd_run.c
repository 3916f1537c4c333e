/* cmd_run.c - `crashlab run`. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "util/fileio.h"
#include "util/interrupt.h"
#include "util/names.h"
#include "util/reaper.h"
#include "run_priv.h"

static void on_signal(int sig)
{
    (void)sig;
    cl_run_interrupted = 1;
    /* The reaper was killed: tear down and record, but never hang on without it. */
    if (cl_reaper_orphaned())
        alarm(60);
    cl_virt_interrupt_opens();   /* a connect in progress gives up */
    cl_virt *v = cl_run_current_virt;
    if (v)
        cl_virt_interrupt(v);
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: crashlab run SCENARIO.yaml [options]\n"
            "  --results DIR       where runs land (default: results)\n"
            "  --connect URI       libvirt URI (default: embedded QEMU driver under the state directory)\n"
            "  --state DIR         state directory (default: $CRASHLAB_STATE, else /var/lib/crashlab as root,\n"
            "                      else ~/.cache/crashlab)\n"
            "  --guest DIR         Linux guest files (default: $CRASHLAB_GUEST or build/guest)\n"
            "  --accel auto|kvm|tcg  accelerator (default auto: KVM if a probe boot works, else TCG)\n"
            "  --dump-format F     kdump-lzo | kdump-zstd | kdump-zlib | elf | win-dmp | none (default: the scenario's)\n"
            "  --run-id ID         use this run id (" CL_NAME_GRAMMAR ")\n"
            "  --dump-pool NAME    remote host: its storage pool that dumps are written into and brought home from\n"
            "  --image FILE        windows: the base qcow2 image (never written; each run boots an overlay)\n"
            "  --no-check          windows: skip the image pre-check (crashlab image check, ~30 s of libguestfs)\n"
            "  --warm              start from a saved, agent-ready guest (prepared once per state dir)\n"
            "  --spare             with --warm: restore the next run's guest, paused, while this one runs\n"
            "                      (it stays behind; the next --warm --spare run resumes it)\n"
            "  --cold              boot from scratch (the default)\n"
            "  --record            TCG: record the run under QEMU record/replay (replay.bin; README: Record and replay)\n"
            "  --print-xml         print the domain XML and stop; nothing is started\n"
            "  --quiet             no progress lines\n"
            "  --json              print result.json on stdout\n"
            "Exit: 0 the verdict is what the scenario expects, 1 it is not, 2 bad input, 3 the run could not be recorded.\n");
}

int cl_cmd_run(int argc, char **argv)
{
    /* Before anything else: a SIGTERM in the first milliseconds (a scheduler that changed
     * its mind) must end as a recorded "interrupted" run, never as a silent exit 143. The
     * reaper inherits these handlers but keeps the signals blocked and forwards them. */
    cl_interrupt_catch(on_signal, &cl_run_interrupted);
    cl_run_opts o = { 0 };
    static const struct option longopts[] = {
        { "results", required_argument, NULL, 'r' }, { "connect", required_argument, NULL, 'c' },
        { "state", required_argument, NULL, 's' },   { "guest", required_argument, NULL, 'g' },
        { "accel", required_argument, NULL, 'a' },   { "dump-format", required_argument, NULL, 'd' },
        { "run-id", required_argument, NULL, 'i' },  { "print-xml", no_argument, NULL, 'x' },
        { "quiet", no_argument, NULL, 'q' },         { "json", no_argument, NULL, 'j' },
        { "image", required_argument, NULL, 'I' },  { "warm", no_argument, NULL, 'w' }, { "spare", no_argument, NULL, 'p' },          { "cold", no_argument, NULL, 'C' },
        { "dump-pool", required_argument, NULL, 'P' },
        { "no-check", no_argument, NULL, 'N' },      { "record", no_argument, NULL, 'R' },
        { "help", no_argument, NULL, 'h' },          { 0 },
    };
    optind = 1;
    int ch;
    while ((ch = getopt_long(argc, argv, "r:c:s:g:a:d:i:xqjhwCI:P:NR", longopts, NULL)) != -1) {
        switch (ch) {
        case 'r': o.results_dir = optarg; break;
        case 'c': o.uri = optarg; break;
        case 's': o.state_dir = optarg; break;
        case 'g': o.guest_dir = optarg; break;
        case 'a': o.accel = optarg; break;
        case 'd': o.dump_format = optarg; break;
        case 'i': o.run_id = optarg; break;
        case 'x': o.print_xml = true; break;
        case 'q': o.quiet = true; break;
        case 'j': o.json = true; break;
        case 'I': o.image = optarg; break;
        case 'w': o.warm = true; break;
        case 'p': o.warm = o.spare = true; break;
        case 'C': o.warm = false; break;
        case 'P': o.dump_pool = optarg; break;
        case 'N': o.no_check = true; break;
        case 'R': o.record = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc - 1) {
        usage(stderr);
        return 2;
    }
    o.scenario_path = argv[optind];
    CL_AUTOPTR(cl_error) err = NULL;
    if (!cl_run_opts_check(&o, &err)) {
        fprintf(stderr, "crashlab run: %s\n", err->msg);
        return 2;
    }
    /* A run starts QEMU: reap it ourselves (lab/util/reaper.h). */
    int status;
    if (!o.print_xml && !cl_reaper_fork(&status))
        return status;
    json_object *res = NULL;
    int rc = cl_run_execute(&o, o.json ? &res : NULL);
    if (res) {
        printf("%s\n", json_object_to_json_string_ext(res, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(res);
    }
    return rc;
}
