/* cmd_image.c - `crashlab image check IMAGE` and `crashlab image prepare BASE --out LAB`. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "image/image_priv.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: crashlab image check IMAGE [--memory-mb N] [--cert FILE] [--json]\n"
            "       crashlab image prepare BASE --out LAB [--virtio-win ISO] [--memory-mb N] [--dump-type T]\n"
            "                              [--labagent FILE] [--cert FILE] [--overlay] [--json]\n"
            "check:   an offline preflight of a Windows disk image: one line per finding with what it\n"
            "         breaks and its fix. Exit 0 lab-ready, 1 not, 2 bad input or unreadable image.\n"
            "prepare: a lab-ready copy of BASE (never written) at LAB: CrashControl, page file, Driver\n"
            "         Verifier special pool, BCD test signing, labagent.exe and the certificate offline;\n"
            "         qemu-ga and the virtio drivers from ISO and the certificate store at first boot.\n"
            "         --dump-type kernel (default) | full | small | automatic | active; --overlay makes LAB a\n"
            "         qcow2 overlay backed by BASE instead of a copy. Then checks LAB. Exit as check.\n");
}

static bool parse_mb(const char *s, uint32_t *out)
{
    char *end = NULL;
    unsigned long v = strtoul(s, &end, 10);
    if (!*s || *end || v < 16 || v > (4u << 20))
        return false;
    *out = (uint32_t)v;
    return true;
}

static const char *default_cert(const char *given)
{
    if (given)
        return given;
    return access(CL_IMAGE_DEFAULT_CERT, R_OK) == 0 ? CL_IMAGE_DEFAULT_CERT : NULL;
}

/* Judges the facts (read here unless given) and prints the report. Exit code as documented. */
static int check_and_report(const char *image, uint32_t mb, const char *cert, bool json, json_object *changes,
                            const cl_image_facts *given)
{
    CL_AUTOPTR(cl_error) err = NULL;
    char thumb[41];
    if (cert && !cl_image_cert_thumbprint(cert, thumb, &err)) {
        fprintf(stderr, "crashlab image: %s\n", err->msg);
        return 2;
    }
    cl_image_facts f;
    if (given)
        f = *given;
    else if (!cl_image_read_facts(image, cert ? thumb : NULL, &f, &err)) {
        fprintf(stderr, "crashlab image: %s: %s\n", image, err->msg);
        return 2;
    }
    cl_image_report r;
    cl_image_evaluate(&f, mb, &r);
    if (json) {
        json_object *o = cl_image_report_json(&r, &f);
        json_object_object_add(o, "image", json_object_new_string(image));
        if (changes)
            json_object_object_add(o, "changes", json_object_get(changes));
        printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(o);
    } else {
        printf("%s:\n", image);
        cl_image_report_print(&r, &f, stdout);
    }
    return cl_image_report_ready(&r) ? 0 : 1;
}

int cl_cmd_image(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *sub = argv[1];
    bool prepare = !strcmp(sub, "prepare");
    if (!prepare && strcmp(sub, "check")) {
        fprintf(stderr, "crashlab image: unknown subcommand '%s' (check, prepare)\n", sub);
        return 2;
    }
    static const struct option longopts[] = {
        { "memory-mb", required_argument, NULL, 'm' }, { "json", no_argument, NULL, 'j' },
        { "out", required_argument, NULL, 'o' },       { "virtio-win", required_argument, NULL, 'v' },
        { "labagent", required_argument, NULL, 'a' },  { "cert", required_argument, NULL, 'c' },
        { "dump-type", required_argument, NULL, 't' }, { "overlay", no_argument, NULL, 'O' },
        { "quiet", no_argument, NULL, 'q' },           { "help", no_argument, NULL, 'h' },
        { 0 },
    };
    cl_image_prepare_opts po = { 0 };
    uint32_t mb = 2048;
    bool json = false;
    optind = 1;
    int ch;
    while ((ch = getopt_long(argc - 1, argv + 1, "m:jo:v:a:c:t:Oqh", longopts, NULL)) != -1) {
        switch (ch) {
        case 'm':
            if (!parse_mb(optarg, &mb)) {
                fprintf(stderr, "crashlab image: --memory-mb '%s' is not a number of MiB from 16 to 4194304\n", optarg);
                return 2;
            }
            break;
        case 'j': json = true; break;
        case 'o': po.out = optarg; break;
        case 'v': po.virtio_iso = optarg; break;
        case 'a': po.labagent = optarg; break;
        case 'c': po.cert = optarg; break;
        case 't': po.dump_type = optarg; break;
        case 'O': po.overlay = true; break;
        case 'q': po.quiet = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc - 2) {
        usage(stderr);
        return 2;
    }
    const char *image = argv[optind + 1];
    if (!prepare) {
        if (po.out || po.virtio_iso || po.labagent || po.dump_type || po.overlay) {
            fprintf(stderr, "crashlab image check: --out, --virtio-win, --labagent, --dump-type and --overlay are prepare's\n");
            return 2;
        }
        if (access(image, R_OK) != 0) {
            fprintf(stderr, "crashlab image check: cannot read '%s'\n", image);
            return 2;
        }
        return check_and_report(image, mb, default_cert(po.cert), json, NULL, NULL);
    }
    if (!po.out) {
        fprintf(stderr, "crashlab image prepare: --out LAB.qcow2 is required (the base is never written)\n");
        return 2;
    }
    po.base = image;
    po.memory_mb = mb;
    po.quiet = po.quiet || json;
    json_object *changes = NULL;
    CL_AUTOPTR(cl_error) err = NULL;
    cl_image_facts after;
    po.after = &after;
    if (!po.cert)
        po.cert = default_cert(NULL);
    if (!cl_image_prepare(&po, &changes, &err)) {
        fprintf(stderr, "crashlab image prepare: %s\n", err->msg);
        return err->code == CL_ERR_INVAL || err->code == CL_ERR_FORMAT ? 2 : 1;
    }
    int rc = check_and_report(po.out, mb, po.cert, json, changes, &after);
    json_object_put(changes);
    return rc;
}
