/* record.h - a run recorded under QEMU record/replay (issue 17, README "Record and replay"):
 * what the run directory keeps so that `crashlab replay` can run the same guest again to
 * the same instruction, and result.json "replay". */
#ifndef CL_RUN_RECORD_H
#define CL_RUN_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "run_priv.h"
#include "virt/domxml.h"

#define CL_RECORD_LOG "replay.bin"

/* Before the domain XML is built: when the run asks for a record (--record or
 * capture.record), under TCG points dx->rr_file at RUN_DIR/replay.bin (path is its storage)
 * and hashes the kernel and initrd the guest boots; under KVM says so in result.json
 * ("recorded": false) and the run goes on unrecorded. Refused (CL_ERR_INVAL): --warm (a
 * replay starts at power-on, a restored guest did not), a remote host, and (Linux) any step
 * but installing labfault.ko and one trigger, which the guest's init fires instead
 * (dx->cmdline gets crashlab.selftest=...); the dump is ELF unless --dump-format says. */
bool cl_run_record_prepare(cl_run_ctx *c, cl_domxml_opts *dx, char *path, size_t pathlen, cl_error **errp);

/* True when this run is recorded: the guest gets no agent command at all (the fault fires
 * from the guest's init), so the run goes from boot straight to observe. */
bool cl_run_record_agentless(const cl_run_ctx *c);

/* After the dump, while the guest is still paused at it: the instruction count QEMU has
 * reached (QMP query-replay), the point a replay must run to. Failures are warnings. */
void cl_run_record_icount(cl_run_ctx *c);

/* As root the embedded driver runs QEMU as libvirt-qemu, and libvirt chowns only the files
 * its XML names, not a <qemu:arg> path (the record log, a replay's copy, the snapshot
 * file): hands path over. Not root: nothing to do. */
bool cl_record_give_to_qemu(const char *path, cl_error **errp);

/* QMP query-replay: the instruction count, when QEMU runs in want_mode ("record", or "play" for a replay). */
bool cl_record_query_icount(cl_domain *dom, const char *want_mode, int64_t *icount, cl_error **errp);

/* After teardown (QEMU has closed the log): size and sha256 of the log and of domain.xml. */
void cl_run_record_finish(cl_run_ctx *c);

#endif
