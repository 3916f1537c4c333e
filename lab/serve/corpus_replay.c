/* corpus_replay.c - which corpus entries replay to the instruction (issue 17), what the
 * corpus keeps so that they can (the record log, the domain XML, the run's result.json and
 * the kernel and initrd the guest booted), and `corpus verify --replay`, which replays each
 * such entry with `crashlab replay` and checks the dump comes back identical. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "corpus.h"
#include "util/fileio.h"
#include "util/json.h"

static void not_replayable(json_object *l, const char *why)
{
    json_object *r = json_object_new_object();
    json_object_object_add(r, "replayable", json_object_new_boolean(0));
    json_object_object_add(r, "why", json_object_new_string(why));
    json_object_object_add(l, "replay", r);
}

/* Copies from into partial/inputs/<sha16>-<base> once; name gets the corpus-relative path. */
static bool add_input(const char *from, const char *sha, const char *partial, char *name, size_t namelen, cl_error **errp)
{
    const char *base = strrchr(from, '/') ? strrchr(from, '/') + 1 : from;
    snprintf(name, namelen, "inputs/%.16s-%.100s", sha, base);
    char dst[PATH_MAX + 200], dir[PATH_MAX + 16];
    snprintf(dst, sizeof(dst), "%s/%s", partial, name);
    snprintf(dir, sizeof(dir), "%s/inputs", partial);
    struct stat st;
    return stat(dst, &st) == 0 || (cl_mkdir_p(dir, CL_DIR_MODE_PASS, errp) && cl_corpus_copy_file(from, dst, errp));
}

bool cl_corpus_add_replay(const char *run_dir, json_object *result, const char *partial, const char *name, json_object *l,
                          cl_error **errp)
{
    json_object *r = cl_json_get(result, "replay");
    const char *fmt = cl_json_str(cl_json_get(result, "dump"), "format", "");
    if (!r || !json_object_get_boolean(cl_json_get(r, "recorded")))
        return not_replayable(l, "the run was not recorded (crashlab run --record, TCG)"), true;
    if (cl_json_int(r, "icount", -1) <= 0)
        return not_replayable(l, "the record has no instruction count at the dump"), true;
    if (strcmp(fmt, "elf") && strcmp(fmt, "kdump-zlib"))
        return not_replayable(l, "the dump is not in a format QEMU writes itself (elf, kdump-zlib)"), true;
    /* Each input must still be what the run recorded, or the copy would not replay. */
    const char *keys[] = { "log", "domain_xml", "kernel", "initrd" };
    char src[4][PATH_MAX + 64];
    for (int i = 0; i < 4; i++) {
        const char *p = cl_json_str(cl_json_get(r, keys[i]), "path", NULL), *want = cl_json_str(cl_json_get(r, keys[i]), "sha256", NULL);
        char sha[65];
        if (!p || !want || strstr(p, "..") || (i < 2 && strchr(p, '/')))
            return not_replayable(l, "the record's inputs are not named in result.json"), true;
        snprintf(src[i], sizeof(src[i]), i < 2 ? "%s/%s" : "%.0s%s", run_dir, p);
        if (!cl_sha256_file(src[i], sha, NULL, NULL) || strcmp(sha, want)) {
            char why[160];
            snprintf(why, sizeof(why), "the record's %s is gone or changed since the run", keys[i]);
            return not_replayable(l, why), true;
        }
    }
    char rdir[PATH_MAX + 300], rel[300], kname[160], iname[160], p[PATH_MAX + 400];
    snprintf(rel, sizeof(rel), "replay/%s", name);
    snprintf(rdir, sizeof(rdir), "%s/%s", partial, rel);
    /* QEMU (another user when the lab runs as root) opens the kernel and initrd in here:
     * the directories on the way can be passed, not listed. */
    char rroot[PATH_MAX + 16];
    snprintf(rroot, sizeof(rroot), "%s/replay", partial);
    if (chmod(partial, CL_DIR_MODE_PASS) < 0)
        return cl_error_set_errno(errp, CL_ERR_IO, errno, "corpus: cannot open '%s' for QEMU to pass", partial);
    if (!cl_mkdir_p(rroot, CL_DIR_MODE_PASS, errp) || !cl_mkdir_p(rdir, CL_DIR_MODE_PASS, errp))
        return false;
    snprintf(p, sizeof(p), "%s/replay.bin", rdir);
    if (!cl_corpus_copy_file(src[0], p, errp))
        return false;
    snprintf(p, sizeof(p), "%s/domain.xml", rdir);
    if (!cl_corpus_copy_file(src[1], p, errp) ||
        !add_input(src[2], cl_json_str(cl_json_get(r, "kernel"), "sha256", ""), partial, kname, sizeof(kname), errp) ||
        !add_input(src[3], cl_json_str(cl_json_get(r, "initrd"), "sha256", ""), partial, iname, sizeof(iname), errp))
        return false;
    /* The run's result.json with the kernel and initrd pointing at the corpus's copies,
     * relative to the entry's replay directory: what `crashlab replay` reads. */
    json_object *res = NULL;
    json_object_deep_copy(result, &res, NULL);
    json_object *rr = cl_json_get(res, "replay");
    char kp[200], ip[200];
    snprintf(kp, sizeof(kp), "../../%s", kname);
    snprintf(ip, sizeof(ip), "../../%s", iname);
    json_object_object_add(cl_json_get(rr, "kernel"), "path", json_object_new_string(kp));
    json_object_object_add(cl_json_get(rr, "initrd"), "path", json_object_new_string(ip));
    const char *text = json_object_to_json_string_ext(res, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
    snprintf(p, sizeof(p), "%s/result.json", rdir);
    bool ok = cl_file_write_atomic(p, text, strlen(text), errp);
    json_object_put(res);
    if (!ok)
        return false;
    json_object *o = json_object_new_object();
    json_object_object_add(o, "replayable", json_object_new_boolean(1));
    json_object_object_add(o, "dir", json_object_new_string(rel));
    json_object_object_add(o, "icount", json_object_new_int64(cl_json_int(r, "icount", 0)));
    json_object_object_add(o, "qemu_version", json_object_new_string(cl_json_str(cl_json_get(result, "host"), "qemu_version", "")));
    json_object_object_add(l, "replay", o);
    return true;
}

/* The replay.json `crashlab replay` wrote under results (one run directory). */
static json_object *replay_json(const char *results)
{
    DIR *d = opendir(results);
    json_object *j = NULL;
    struct dirent *de;
    while (d && !j && (de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char p[PATH_MAX + 300];
        snprintf(p, sizeof(p), "%s/%s/replay.json", results, de->d_name);
        CL_AUTOFREE char *text = NULL;
        if (cl_file_read_all(p, 1u << 20, &text, NULL, NULL))
            j = json_tokener_parse(text);
    }
    if (d)
        closedir(d);
    return j;
}

static int replay_one(const char *corpus, json_object *l, const char *self, const char *state, FILE *out)
{
    const char *file = cl_json_str(l, "file", "?"), *rel = cl_json_str(cl_json_get(l, "replay"), "dir", NULL);
    if (!rel || strstr(rel, "..") || rel[0] == '/') {
        fprintf(out, "MISMATCH %s: replay: the entry names no replay directory inside the corpus\n", file);
        return 1;
    }
    char dir[PATH_MAX + 400], results[] = "/tmp/crashlab-corpus-replay.XXXXXX";
    snprintf(dir, sizeof(dir), "%s/%s", corpus, rel);
    if (!mkdtemp(results)) {
        fprintf(out, "MISMATCH %s: replay: cannot make a results directory: %s\n", file, strerror(errno));
        return 1;
    }
    chmod(results, 0711);   /* QEMU (another user under a root daemon) opens the log copy in there */
    fflush(out);
    pid_t pid = fork();
    if (pid == 0) {
        /* Its words go to a file: a failure before replay.json exists (a changed input) is
         * reported from its last line. */
        char errf[sizeof(results) + 16];
        snprintf(errf, sizeof(errf), "%s/stderr", results);
        int null = open("/dev/null", O_WRONLY), ef = open(errf, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (null >= 0)
            dup2(null, STDOUT_FILENO);
        if (ef >= 0)
            dup2(ef, STDERR_FILENO);
        if (state)
            execl(self, self, "replay", dir, "--results", results, "--state", state, (char *)NULL);
        else
            execl(self, self, "replay", dir, "--results", results, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    json_object *j = replay_json(results);
    int bad = 0;
    if (pid < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0 || !j || !json_object_get_boolean(cl_json_get(j, "identical"))) {
        char last[512] = "crashlab replay failed", p[sizeof(results) + 16];
        snprintf(p, sizeof(p), "%s/stderr", results);
        CL_AUTOFREE char *text = NULL;
        if (cl_file_read_all(p, 1u << 20, &text, NULL, NULL)) {
            /* The last line that is the replay's own (libvirt logs its warnings there too). */
            for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
                if (!strncmp(line, "crashlab ", 9))
                    snprintf(last, sizeof(last), "%s", line + 9);
        }
        fprintf(out, "MISMATCH %s: replay: %s\n", file,
                cl_json_str(j, "error", NULL)        ? cl_json_str(j, "error", NULL)
                : cl_json_str(j, "difference", NULL) ? cl_json_str(j, "difference", NULL)
                                                     : last);
        bad = 1;
    } else {
        fprintf(out, "ok %s: replay: icount %lld and dump sha256 %.16s... as recorded\n", file,
                (long long)cl_json_int(j, "icount", 0), cl_json_str(cl_json_get(j, "dump"), "sha256", "?"));
    }
    json_object_put(j);
    cl_rm_rf(results, NULL);
    return bad;
}

int cl_corpus_verify_replay(const char *dir, const char *self, const char *state, FILE *out, cl_error **errp)
{
    json_object *m = cl_corpus_manifest_load(dir, errp);
    if (!m)
        return -1;
    json_object *dumps = cl_json_get(m, "dumps");
    int bad = 0;
    size_t n = json_object_array_length(dumps), tried = 0;
    for (size_t i = 0; i < n; i++) {
        json_object *l = json_object_array_get_idx(dumps, i);
        if (!json_object_get_boolean(cl_json_get(cl_json_get(l, "replay"), "replayable"))) {
            fprintf(out, "skip %s: replay: %s\n", cl_json_str(l, "file", "?"),
                    cl_json_str(cl_json_get(l, "replay"), "why", "no replay information"));
            continue;
        }
        tried++;
        bad += replay_one(dir, l, self, state, out);
    }
    json_object_put(m);
    if (!tried) {
        fprintf(out, "MISMATCH manifest: no entry is replayable\n");
        bad++;
    }
    return bad;
}
