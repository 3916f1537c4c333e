/* daemon_priv.h - the state of `crashlab serve`, shared by its files:
 * daemon.c (socket and requests), sched.c (slots, children, retries), recover.c (restart). */
#ifndef CL_SERVE_DAEMON_PRIV_H
#define CL_SERVE_DAEMON_PRIV_H

#include <json-c/json.h>
#include <limits.h>
#include <stdbool.h>
#include <sys/types.h>

#include "hosts.h"
#include "queue.h"
#include "settle.h"

#define CL_DAEMON_MAX_CONNS 32
#define CL_DAEMON_MAX_RUNNING 256

typedef struct {
    int fd;
    char *buf;
    size_t len, cap;
    char *out;           /* the reply, while it is being sent (the loop never blocks on a client) */
    size_t out_len, out_off;
    double deadline;     /* cl_now(): a client that has not sent its request and read the reply by then is dropped */
} cl_daemon_conn;

/* Seconds a client gets for one request and its reply. */
#define CL_DAEMON_CONN_TIMEOUT 30.0

typedef struct {
    int64_t job;
    pid_t pid;
    cl_host *host;
    int slot;
    unsigned mem, vcpus;
    double deadline;     /* cl_now(): the run's own timeout plus a margin; past it, TERM then KILL;
                            while cleaning: when the cleanup helper is given up */
    bool termed;
    /* After a run killed by a signal, pid is the domain cleanup helper's (the slot stays
     * busy until it ends: two processes on one embedded root confuse each other); the
     * job is settled with run_code when it exits. The loop never waits for it. */
    bool cleaning;
    int run_code;
} cl_daemon_child;

typedef struct {
    char state[PATH_MAX];
    char results[PATH_MAX];
    char attempts_dir[PATH_MAX];   /* <results>/.attempts: every attempt lands here first */
    char self[PATH_MAX];           /* this program, for the children */
    char tag[8];                   /* 6 hex digits of this host + state directory: run ids of
                                      two daemons never collide on a shared libvirt host */
    cl_queue *q;
    cl_hosts hosts;
    int max_running;
    int max_attempts;
    double backoff;                /* seconds before the first retry; doubles each time */
    double margin;                 /* watchdog: seconds past a scenario's run timeout */
    bool quiet;
    bool spare;                    /* warm runs on embedded hosts keep a spare guest (run --spare) */
    bool stopping;
    double queue_retry_at;         /* cl_now(): after a failed queue write, no new attempt before */
    double next_reconcile;         /* cl_now(): next check for rows left "running" without a child */
    int lfd;
    cl_daemon_conn conns[CL_DAEMON_MAX_CONNS];
    cl_daemon_child kids[CL_DAEMON_MAX_RUNNING];
    int nkids;
} cl_daemon;

/* Checks, on every host whose files are not this machine's, the storage pool its dumps
 * are written into (dump_pool, else guest_pool): it must exist, be active and be a
 * directory pool. A host without one takes no jobs until the next start; the log and
 * {"op":"hosts"} say why (dumppool.c). */
bool cl_dump_pool_check_hosts(cl_daemon *d, cl_error **errp);

void cl_daemon_log(cl_daemon *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Answers one request line (requests.c); the reply is always an object with "ok". */
json_object *cl_daemon_handle(cl_daemon *d, const char *line);
json_object *cl_daemon_reply_error(const char *code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Starts as many queued jobs as slots and capacity allow. */
void cl_sched_tick(cl_daemon *d, double now);

/* Stops attempts that outlived their scenario's run timeout by far (a wedged run must
 * not hold a slot forever): SIGTERM, then SIGKILL a minute later. */
void cl_sched_watchdog(cl_daemon *d);

/* Reaps exited children and settles their jobs. */
void cl_sched_reap(cl_daemon *d);

/* Settles the attempt of a running job whose process has exited: exit_code is that of
 * `crashlab run`, CL_SETTLE_EXIT_SIGNAL for a child killed by a signal,
 * CL_SETTLE_EXIT_UNKNOWN when the daemon was not its parent (recovery: only the recorded
 * result tells). The decision is cl_settle_decide (settle.h). Returns false when the
 * queue could not be written (the row stays "running"; cl_sched_tick settles it again). */
#define CL_SCHED_EXIT_UNKNOWN CL_SETTLE_EXIT_UNKNOWN
bool cl_sched_settle(cl_daemon *d, cl_job *j, int exit_code);

/* The one way a job ends (done or cancelled): state, verdict, reason, its run directory
 * moved to results/ (or one recorded for it when the attempt left none), then the row.
 * False when the queue could not be written. */
bool cl_sched_close(cl_daemon *d, cl_job *j, cl_job_state state, const char *verdict, const char *reason);

/* Asks the child of a running job to stop (cancel, shutdown). */
void cl_sched_signal(cl_daemon *d, int64_t job, int sig);

/* Run on start, before any scheduling: every job left "running" by a previous daemon is
 * waited for, its domain destroyed, then settled. */
bool cl_recover(cl_daemon *d, cl_error **errp);

/* Destroys the domains a run left on a host (forked helper; the daemon never opens an
 * embedded root itself). Returns how many were destroyed, -1 on failure. Waits up to a
 * minute: for recovery, before the daemon listens. */
int cl_recover_destroy_domains(cl_daemon *d, const char *host, int slot, const char *run_id);

/* The same helper, started and not waited for: its pid (exit status: domains destroyed,
 * 255 failure), -1 when it could not start. The main loop reaps it. */
pid_t cl_recover_start_cleanup(cl_daemon *d, const char *host, int slot, const char *run_id);

/* Copies the guest files to every host that names a guest_pool (remote hosts), checksum
 * verified, and sets host->guest_dir to where they are there; a host where that fails is
 * disabled (logged) until the next start. */
bool cl_guest_sync_hosts(cl_daemon *d, cl_error **errp);

/* The state directory of a host's slot (its own embedded root). */
void cl_sched_slot_dir(const cl_daemon *d, const char *host, int slot, char *out, size_t outlen);

/* /proc/PID/stat start time, 0 if the process is gone. */

#endif
