/* replay.c - `crashlab replay RUN_DIR`: the first half of a replay (issue 17). A record log
 * replays only with the very inputs it was recorded with, so every input result.json
 * "replay" names (the log, domain.xml, kernel, initrd) is hashed again and a changed one is
 * refused by name. The replay itself (QEMU rr=replay to the recorded icount, the dump
 * again, compared) is not written yet: README "Record and replay" says why. */
#include <getopt.h>
#include <inttypes.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "record.h"
#include "util/fileio.h"

static bool check_input(json_object *r, const char *key, const char *path, cl_error **errp)
{
    json_object *f = NULL, *want = NULL;
    if (!json_object_object_get_ex(r, key, &f) || !json_object_object_get_ex(f, "sha256", &want) ||
        !json_object_is_type(want, json_type_string))
        return cl_error_set(errp, CL_ERR_FORMAT, "replay: result.json replay.%s has no sha256", key);
    char hex[65];
    uint64_t size = 0;
    if (!cl_sha256_file(path, hex, &size, errp)) {
        cl_error_prefix(errp, "replay: input %s", key);
        return false;
    }
    if (strcmp(hex, json_object_get_string(want)))
        return cl_error_set(errp, CL_ERR_CORRUPT, "replay: input %s (%s) changed since the record: sha256 %s, recorded %.64s",
                            key, path, hex, json_object_get_string(want));
    return true;
}

/* The recorded path of kernel or initrd: a string, bounded. */
static const char *input_path(json_object *r, const char *key)
{
    json_object *f = NULL, *p = NULL;
    if (!json_object_object_get_ex(r, key, &f) || !json_object_object_get_ex(f, "path", &p) ||
        !json_object_is_type(p, json_type_string) || json_object_get_string_len(p) >= PATH_MAX)
        return NULL;
    return json_object_get_string(p);
}

/* QEMU's record log format follows its version: a log replays only under the QEMU that
 * wrote it (QEMU itself checks only the log format's version number). */
static bool check_qemu(json_object *res, cl_error **errp)
{
    json_object *h = NULL, *v = NULL;
    if (!json_object_object_get_ex(res, "host", &h) || !json_object_object_get_ex(h, "qemu_version", &v) ||
        !json_object_is_type(v, json_type_string))
        return cl_error_set(errp, CL_ERR_FORMAT, "replay: result.json host.qemu_version is missing");
    FILE *f = popen("qemu-system-x86_64 --version 2>/dev/null", "r");
    char line[256] = "", have[64] = "";
    if (f) {
        if (!fgets(line, sizeof(line), f))
            line[0] = 0;
        pclose(f);
    }
    if (sscanf(line, "QEMU emulator version %63[0-9.]", have) != 1)
        return cl_error_set(errp, CL_ERR_VIRT, "replay: cannot tell this host's QEMU version (qemu-system-x86_64 --version)");
    if (strcmp(have, json_object_get_string(v)))
        return cl_error_set(errp, CL_ERR_INVAL, "replay: recorded under QEMU %.63s, this host has QEMU %s",
                            json_object_get_string(v), have);
    return true;
}

static bool check_run(const char *dir, cl_error **errp)
{
    char p[PATH_MAX + 32];
    snprintf(p, sizeof(p), "%s/result.json", dir);
    CL_AUTOFREE char *text = NULL;
    if (!cl_file_read_all(p, 16u << 20, &text, NULL, errp))
        return false;
    json_object *res = json_tokener_parse(text), *r = NULL, *rec = NULL, *ic = NULL;
    bool ok = false;
    if (!res || !json_object_object_get_ex(res, "replay", &r) || !json_object_object_get_ex(r, "recorded", &rec) ||
        !json_object_get_boolean(rec)) {
        cl_error_set(errp, CL_ERR_INVAL, "replay: %s was not recorded (run it with --record under TCG)", dir);
        goto out;
    }
    if (!json_object_object_get_ex(r, "icount", &ic) || !json_object_is_type(ic, json_type_int)) {
        cl_error_set(errp, CL_ERR_FORMAT, "replay: %s has no icount at the dump (the run took none)", dir);
        goto out;
    }
    if (!check_qemu(res, errp))
        goto out;
    snprintf(p, sizeof(p), "%s/" CL_RECORD_LOG, dir);
    if (!check_input(r, "log", p, errp))
        goto out;
    snprintf(p, sizeof(p), "%s/domain.xml", dir);
    if (!check_input(r, "domain_xml", p, errp))
        goto out;
    for (const char *const *k = (const char *const[]){ "kernel", "initrd", NULL }; *k; k++) {
        const char *ip = input_path(r, *k);
        if (!ip) {
            cl_error_set(errp, CL_ERR_FORMAT, "replay: result.json replay.%s has no path", *k);
            goto out;
        }
        if (!check_input(r, *k, ip, errp))
            goto out;
    }
    printf("replay: %s: QEMU %s and inputs unchanged (log, domain.xml, kernel, initrd), dump at icount %" PRId64 "\n", dir,
           json_object_get_string(json_object_object_get(json_object_object_get(res, "host"), "qemu_version")),
           json_object_get_int64(ic));
    ok = true;
out:
    json_object_put(res);
    return ok;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: crashlab replay --check RUN_DIR\n"
               "  --check   check that every input of a recorded run (--record) is unchanged: the log,\n"
               "            domain.xml, kernel and initrd against the sha256 in result.json replay{}\n"
               "The replay itself is not implemented yet (README: Record and replay).\n");
}

int cl_cmd_replay(int argc, char **argv)
{
    static const struct option longopts[] = { { "check", no_argument, NULL, 'k' }, { "help", no_argument, NULL, 'h' }, { 0 } };
    bool check = false;
    int ch;
    optind = 1;
    while ((ch = getopt_long(argc, argv, "kh", longopts, NULL)) != -1) {
        switch (ch) {
        case 'k': check = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc - 1) {
        usage(stderr);
        return 2;
    }
    CL_AUTOPTR(cl_error) err = NULL;
    if (!check_run(argv[optind], &err)) {
        fprintf(stderr, "crashlab %s\n", err->msg);
        return 1;
    }
    if (!check) {
        fprintf(stderr, "crashlab replay: the replay itself is not implemented yet; --check checks the inputs\n");
        return 2;
    }
    return 0;
}
