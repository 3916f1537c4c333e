/* reaper.h - a run reaps the QEMU processes it starts, whatever the host's init does.
 *
 * libvirt starts QEMU daemonized, so an exited QEMU is a zombie until whatever adopted it
 * reaps it: systemd does so at once, but a container's or sandbox's init may reap late
 * (measured here: about 1 s) or never. libvirt's destroy polls the pid until it is gone,
 * and a zombie is not gone, so every teardown waited on somebody else's init (1-2 s per
 * run here; where nothing reaps, 15 s and an error).
 *
 * cl_reaper_fork() splits the process the way tini or dumb-init do, plus one: the original
 * process only waits for the worker's exit status and passes on the signals sent to it; its
 * child, the reaper, is a child subreaper that reaps and forwards signals; the work goes on
 * in the reaper's child. Orphans (QEMU) are adopted by the reaper, never by the worker, so
 * reaping them can never take the exit status of a child libvirt itself waits for. The
 * reaper is not the original process so that it can outlive the command when the worker
 * keeps a process for later (cl_reaper_keep: the spare guest of a warm run), and reap it
 * the moment it exits.
 */
#ifndef CL_REAPER_H
#define CL_REAPER_H

#include <stdbool.h>

/* Returns true in the worker: carry on. In the original process, returns false once the
 * worker has ended, with *status set to what the command should exit with (the worker's
 * exit code, or 128 + the signal that killed it). Signals sent to the original process
 * with kill(2) are passed on to the worker. Nothing outlives the command unless kept: if
 * the original process is killed (even with SIGKILL) the worker gets SIGTERM, tears its
 * domain down and records the run; if the worker is killed, the reaper kills and reaps
 * every process it adopted from it (QEMU) before the command returns. If the split cannot
 * be made, returns true without forking: the work goes on unsplit. */
bool cl_reaper_fork(int *status);

/* In the worker: the process pid (adopted by the reaper) outlives the command. The reaper
 * stays, detached from the terminal, until every kept process has exited (reaping each at
 * once), for at most 30 minutes, then kills what is left. */
void cl_reaper_keep(long pid);

/* In the worker: true once the reaper is gone (the worker was told with SIGTERM and should
 * finish quickly; nobody reaps its QEMU at once any more). */
bool cl_reaper_orphaned(void);

#endif
