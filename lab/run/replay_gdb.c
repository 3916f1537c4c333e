/* replay_gdb.c - the snapshots, the gdbstub and replay.gdb of `crashlab replay --gdb`
 * (replay_gdb.h says why each is needed). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "record.h"
#include "replay_gdb.h"
#include "util/buf.h"
#include "util/fileio.h"
#include "util/json.h"
#include "util/proc.h"
#include "virt/domain.h"

/* How far before the panic the late snapshots are, in instructions, farthest first: a
 * reverse-continue replays from the nearest one before the panic and goes back one at a
 * time while the watched write is older. Measured on the use-after-free record (7.4 billion
 * instructions): the panic's two stack reports on the serial console take the last ~150
 * million (the 8250 driver waits for the UART between characters), so the faulting store is
 * between the 300 and the 100 million marks. */
static const int64_t snapshot_back[] = { 1000000000, 300000000, 100000000, 30000000 };

bool cl_replay_gdb_prepare(cl_replay_gdb *g, int port, const char *dir, cl_error **errp)
{
    memset(g, 0, sizeof(*g));
    g->port = port;
    if (!cl_path_fmt(g->snapshots, sizeof(g->snapshots), errp, "%s/rr-snapshots.qcow2", dir))
        return false;
    /* Snapshots hold the guest's RAM: room for a handful of 256 MiB guests, allocated lazily. */
    char *argv[] = { "qemu-img", "create", "-q", "-f", "qcow2", g->snapshots, "8G", NULL };
    if (!cl_proc_run_quiet(argv, errp))
        return cl_error_prefix(errp, "replay --gdb: snapshot file"), false;
    return cl_record_give_to_qemu(g->snapshots, errp) || (cl_error_prefix(errp, "replay --gdb"), false);
}

bool cl_replay_gdb_xml(const cl_replay_gdb *g, char **xml, cl_error **errp)
{
    if (strchr(g->snapshots, ',') || strchr(g->snapshots, '\'') || strchr(g->snapshots, '&') || strchr(g->snapshots, '<'))
        return cl_error_set(errp, CL_ERR_INVAL, "replay --gdb: the replay directory '%s' holds , ' & or <", g->snapshots);
    char *end = strstr(*xml, "</qemu:commandline>");
    if (!end)
        return cl_error_set(errp, CL_ERR_FORMAT, "replay --gdb: domain.xml has no <qemu:commandline>");
    cl_buf b = { 0 };
    cl_buf_add(&b, *xml, (size_t)(end - *xml));
    /* if=none: a drive no device sees, only savevm and QEMU's reverse debugging use it. */
    cl_buf_addf(&b, "  <qemu:arg value='-drive'/>\n    <qemu:arg value='file=%s,if=none,id=rr-snapshots,format=qcow2'/>\n",
                  g->snapshots);
    cl_buf_addf(&b, "    <qemu:arg value='-gdb'/>\n    <qemu:arg value='tcp:127.0.0.1:%d'/>\n  ", g->port);
    cl_buf_adds(&b, end);
    char *n = cl_buf_finish(&b, errp);
    if (!n)
        return false;
    free(*xml);
    *xml = n;
    return true;
}

/* One HMP command (savevm has no synchronous QMP twin in QEMU 7.2): its output is empty
 * when it worked, else the error QEMU printed. */
static bool hmp(cl_domain *dom, const char *line, cl_error **errp)
{
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "{\"execute\":\"human-monitor-command\",\"arguments\":{\"command-line\":\"%s\"}}", line);
    CL_AUTOFREE char *out = NULL;
    if (!cl_domain_qmp(dom, cmd, &out, errp))
        return cl_error_prefix(errp, "replay --gdb: %s", line), false;
    json_object *j = strlen(out) < 65536 ? json_tokener_parse(out) : NULL, *ret = NULL;
    bool ok = j && json_object_object_get_ex(j, "return", &ret) && json_object_is_type(ret, json_type_string) &&
              json_object_get_string_len(ret) == 0;
    if (!ok)
        cl_error_set(errp, CL_ERR_VIRT, "replay --gdb: %s: %.300s", line,
                     ret && json_object_is_type(ret, json_type_string) ? json_object_get_string(ret) : out);
    json_object_put(j);
    return ok;
}

static bool snapshot(cl_domain *dom, const char *tag, int64_t icount, json_object *snaps, cl_error **errp)
{
    char line[96];
    snprintf(line, sizeof(line), "savevm %s", tag);
    double t = cl_now();
    if (!hmp(dom, line, errp))
        return false;
    json_object *s = json_object_new_object();
    json_object_object_add(s, "name", json_object_new_string(tag));
    json_object_object_add(s, "icount", json_object_new_int64(icount));
    json_object_object_add(s, "seconds", json_object_new_double(cl_now() - t));
    json_object_array_add(snaps, s);
    return true;
}

/* QMP cont, not libvirt's resume: after an HMP savevm libvirt may already count the
 * domain as running (seen here at power-on) and refuses; QEMU's cont on a running VM is a
 * no-op, and libvirt learns the state from QEMU's RESUME event. */
static bool cont(cl_domain *dom, cl_error **errp)
{
    CL_AUTOFREE char *out = NULL;
    return cl_domain_qmp(dom, "{\"execute\":\"cont\"}", &out, errp);
}

/* QMP query-status until QEMU stops at the break. Polled, not an event: libvirt's view of
 * the run state is off after HMP savevm (above) and its suspended event did not come. */
static bool wait_paused(cl_virt *v, cl_domain *dom, int64_t at, double deadline, cl_error **errp)
{
    while (cl_now() < deadline && !cl_virt_interrupted(v)) {
        CL_AUTOFREE char *out = NULL;
        if (!cl_domain_qmp(dom, "{\"execute\":\"query-status\"}", &out, errp))
            return cl_error_prefix(errp, "replay --gdb: query-status"), false;
        json_object *j = strlen(out) < 4096 ? json_tokener_parse(out) : NULL, *ret = NULL, *st = NULL;
        const char *status = j && json_object_object_get_ex(j, "return", &ret) && json_object_object_get_ex(ret, "status", &st)
                                 ? json_object_get_string(st) : "?";
        bool paused = !strcmp(status, "paused"), other = strcmp(status, "running") != 0 && !paused;
        char seen[32];
        snprintf(seen, sizeof(seen), "%s", status);
        json_object_put(j);
        if (paused)
            return true;
        if (other)
            return cl_error_set(errp, CL_ERR_GUEST, "replay --gdb: QEMU is %s before icount %" PRId64, seen, at);
        usleep(200 * 1000);
    }
    return cl_error_set(errp, CL_ERR_TIMEOUT, "replay --gdb: the replay did not stop at icount %" PRId64 " (%s)", at,
                        cl_virt_interrupted(v) ? "interrupted" : "deadline");
}

bool cl_replay_gdb_snapshots(cl_virt *v, cl_domain *dom, int64_t end_icount, double deadline,
                             json_object *snaps, cl_error **errp)
{
    if (!snapshot(dom, "power-on", 0, snaps, errp))
        return false;
    for (size_t i = 0; i < sizeof(snapshot_back) / sizeof(snapshot_back[0]); i++) {
        int64_t at = end_icount - snapshot_back[i];
        if (at <= 0)
            continue;
        char cmd[128], tag[48];
        snprintf(cmd, sizeof(cmd), "{\"execute\":\"replay-break\",\"arguments\":{\"icount\":%" PRId64 "}}", at);
        CL_AUTOFREE char *out = NULL;
        if (!cl_domain_qmp(dom, cmd, &out, errp) || !cont(dom, errp))
            return cl_error_prefix(errp, "replay --gdb: replay-break at %" PRId64, at), false;
        if (!wait_paused(v, dom, at, deadline, errp))
            return false;
        snprintf(tag, sizeof(tag), "icount-%" PRId64, at);
        if (!snapshot(dom, tag, at, snaps, errp))
            return false;
    }
    return cont(dom, errp);
}

/* The gdb side, in gdb's Python: the guest's module list read over the stub (struct module
 * from vmlinux's debug information), each module's sections from its sect_attrs, the
 * symbols from the given labfault.ko or the -dbg package's tree. Guest memory is hostile:
 * the walk stops after 4096 entries. */
static const char module_loader[] =
    "python\n"
    "import gdb, os\n"
    "class ClLoadModules(gdb.Command):\n"
    "    \"\"\"cl-load-modules LABFAULT_KO DEBUG_TREE: symbols of every module the guest has loaded.\"\"\"\n"
    "    def __init__(self):\n"
    "        super().__init__('cl-load-modules', gdb.COMMAND_USER)\n"
    "    def invoke(self, arg, from_tty):\n"
    "        labfault, tree = gdb.string_to_argv(arg)\n"
    "        files = {}\n"
    "        for root, dirs, names in os.walk(tree):\n"
    "            for f in names:\n"
    "                if f.endswith('.ko'):\n"
    "                    files.setdefault(f[:-3].replace('-', '_'), os.path.join(root, f))\n"
    "        mt = gdb.lookup_type('struct module')\n"
    "        off = mt['list'].bitpos // 8\n"
    "        head = gdb.parse_and_eval('&modules')\n"
    "        p = head['next']\n"
    "        for _ in range(4096):\n"
    "            if int(p) == int(head):\n"
    "                break\n"
    "            m = gdb.Value(int(p) - off).cast(mt.pointer())\n"
    "            p = p['next']\n"
    "            name = m['name'].string()\n"
    "            path = labfault if name == 'labfault' else files.get(name)\n"
    "            if not path:\n"
    "                print('cl-load-modules: %s: no symbol file' % name)\n"
    "                continue\n"
    "            sa = m['sect_attrs']\n"
    "            secs = {}\n"
    "            for i in range(min(int(sa['nsections']), 256)):\n"
    "                a = sa['attrs'][i]\n"
    "                secs[a['battr']['attr']['name'].string()] = int(a['address'])\n"
    "            if '.text' not in secs:\n"
    "                continue\n"
    "            text = secs.pop('.text')\n"
    "            cmd = 'add-symbol-file %s 0x%x' % (path, text)\n"
    "            cmd += ''.join(' -s %s 0x%x' % kv for kv in sorted(secs.items()) if kv[0].startswith('.') and not kv[0].startswith('.note'))\n"
    "            gdb.execute(cmd, to_string=True)\n"
    "            print('cl-load-modules: %s .text at 0x%x from %s' % (name, text, path))\n"
    "ClLoadModules()\n"
    "end\n";

/* The labfault.ko the recorded image carried, by the manifest beside its initrd: the
 * sha256 gdb's symbols must have. NULL when the manifest does not say. */
static char *image_module_sha(const char *initrd)
{
    const char *slash = initrd ? strrchr(initrd, '/') : NULL;
    if (!slash)
        return NULL;
    char p[PATH_MAX];
    if (snprintf(p, sizeof(p), "%.*s/manifest.json", (int)(slash - initrd), initrd) >= (int)sizeof(p))
        return NULL;
    CL_AUTOFREE char *text = NULL;
    if (!cl_file_read_all(p, 1u << 20, &text, NULL, NULL))
        return NULL;
    json_object *m = json_tokener_parse(text);
    const char *sha = cl_json_str(cl_json_get(cl_json_get(m, "initrd"), "labfault.ko"), "sha256", NULL);
    char *out = sha && strlen(sha) == 64 ? strdup(sha) : NULL;
    json_object_put(m);
    return out;
}

static bool plain_path(const char *s)
{
    return s && *s && !strpbrk(s, "\n\r\"'\\ ");
}

bool cl_replay_gdb_script(const cl_replay_gdb *g, json_object *res, const char *dir, const char *module, char *path,
                          size_t pathlen, cl_error **errp)
{
    const char *release = cl_json_str(cl_json_get(res, "guest"), "kernel_release", NULL);
    const char *offset = cl_json_str(cl_json_get(cl_json_get(res, "crash"), "linux"), "kernel_offset", NULL);
    const char *initrd = cl_json_str(cl_json_get(cl_json_get(res, "replay"), "initrd"), "path", NULL);
    if (!plain_path(release) || strchr(release, '/') || !offset || strspn(offset, "0123456789abcdefx") != strlen(offset))
        return cl_error_set(errp, CL_ERR_FORMAT, "replay --gdb: result.json has no kernel release or crash.linux.kernel_offset");
    char abs[PATH_MAX];
    if (!realpath(module, abs))
        return cl_error_set_errno(errp, CL_ERR_IO, errno, "replay --gdb: module '%s'", module);
    if (!plain_path(abs))
        return cl_error_set(errp, CL_ERR_INVAL, "replay --gdb: module path '%s' holds a space or a quote", abs);
    CL_AUTOFREE char *want = image_module_sha(initrd);
    char have[65] = "";
    if (!cl_sha256_file(abs, have, NULL, errp))
        return false;
    char note[PATH_MAX + 160] = "";
    if (want && strcmp(want, have))
        snprintf(note, sizeof(note), "%s is not the labfault.ko the recorded image carried (sha256 %.16s..., image %.16s...)",
                 abs, have, want);
    else if (!want)
        snprintf(note, sizeof(note), "the image's manifest does not say which labfault.ko it carried");
    if (note[0])
        fprintf(stderr, "replay --gdb: warning: %s: its symbols may be wrong\n", note);
    cl_buf b = { 0 };
    cl_buf_addf(&b, "# crashlab replay --gdb: gdb -x %s/replay.gdb\n", dir);
    cl_buf_addf(&b, "# The replay is paused at the recorded panic; reverse-stepi and reverse-continue replay from\n"
                      "# the nearest snapshot (%s).\n", g->snapshots);
    if (note[0])
        cl_buf_addf(&b, "# warning: %s\n", note);
    cl_buf_addf(&b, "set pagination off\nset confirm off\n"
                      "# The kernel's debug symbols (linux-image-%s-dbg) at the KASLR offset the dump recorded.\n"
                      "symbol-file -o %s /usr/lib/debug/boot/vmlinux-%s\n"
                      "target remote 127.0.0.1:%d\n",
                  release, offset, release, g->port);
    cl_buf_adds(&b, module_loader);
    cl_buf_addf(&b, "cl-load-modules %s /usr/lib/debug/lib/modules/%s\n", abs, release);
    CL_AUTOFREE char *text = cl_buf_finish(&b, errp);
    return text && cl_path_fmt(path, pathlen, errp, "%s/replay.gdb", dir) && cl_file_write_atomic(path, text, strlen(text), errp);
}
