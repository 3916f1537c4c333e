/* replay_gdb.h - `crashlab replay RUN_DIR --gdb PORT` (issue 17, README "Reverse debugging a
 * recorded crash"): the replay stops at the recorded panic with QEMU's gdbstub open, and
 * gdb's reverse-stepi and reverse-continue work from there.
 *
 * QEMU goes backwards by loading the nearest VM snapshot before the target instruction count
 * and replaying forwards from it, so the replay needs a qcow2 file that holds snapshots
 * (a drive with if=none: no device sees it, so the recorded guest is unchanged) and
 * snapshots made on the way: at power-on and shortly before the panic, where the cause of
 * a crash usually is. A reverse-continue replays from the nearest one; without the late
 * snapshots it would replay the whole boot twice (minutes here).
 *
 * The replay directory gets replay.gdb: the kernel's debug symbols at the KASLR offset the
 * dump recorded, `target remote`, and a command (cl-load-modules) that reads the guest's
 * module list over the stub and adds each module's symbols at its section addresses. */
#ifndef CL_RUN_REPLAY_GDB_H
#define CL_RUN_REPLAY_GDB_H

#include <json-c/json.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/error.h"
#include "virt/virt.h"

typedef struct {
    int port;                      /* QEMU's gdbstub, on 127.0.0.1 */
    char snapshots[PATH_MAX];      /* the qcow2 that holds the replay's snapshots */
} cl_replay_gdb;

/* Creates the snapshot file in dir (qemu-img) and hands it to QEMU's user. */
bool cl_replay_gdb_prepare(cl_replay_gdb *g, int port, const char *dir, cl_error **errp);

/* Adds the snapshot drive and the gdbstub to the domain XML's <qemu:commandline>. */
bool cl_replay_gdb_xml(const cl_replay_gdb *g, char **xml, cl_error **errp);

/* With the domain started paused at instruction 0: a snapshot there and at each point
 * before end_icount (QMP replay-break, savevm), then resumes it towards the panic. Each
 * snapshot's name and icount go into snaps (an array). */
bool cl_replay_gdb_snapshots(cl_virt *v, cl_domain *dom, int64_t end_icount, double deadline,
                             json_object *snaps, cl_error **errp);

/* Writes dir/replay.gdb for the recorded run res (result.json): vmlinux from the kernel's
 * -dbg package at the dump's kernel_offset, target remote, and the module loader, which
 * takes labfault's symbols from module (checked against the image's manifest; a mismatch is
 * a warning in the script and on stderr) and every other module's from the -dbg package. */
bool cl_replay_gdb_script(const cl_replay_gdb *g, json_object *res, const char *dir, const char *module, char *path,
                          size_t pathlen, cl_error **errp);

#endif
