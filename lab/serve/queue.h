/* queue.h - the daemon's job store: one SQLite database (WAL) under the state directory.
 *
 * A job is a scenario plus run options. It moves queued -> running -> done, or to
 * cancelled; an infra-error attempt puts it back to queued with a later not_before. Every
 * change is one UPDATE of the whole row inside SQLite's journal, so a daemon killed at any
 * moment finds each job in exactly one state on restart.
 */
#ifndef CL_SERVE_QUEUE_H
#define CL_SERVE_QUEUE_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

typedef enum {
    CL_JOB_QUEUED,
    CL_JOB_RUNNING,
    CL_JOB_DONE,
    CL_JOB_CANCELLED,
    CL_JOB_STATE_LAST
} cl_job_state;

typedef struct {
    int64_t id;
    char *scenario;         /* absolute path */
    char *name;             /* scenario name, for listings */
    char *options;          /* JSON object text: accel, dump_format, guest, driver, labels, key */
    char *batch;            /* matrix/batch name or "" */
    int priority;           /* higher runs first */
    cl_job_state state;
    int attempts;           /* attempts started so far */
    int max_attempts;
    unsigned memory_mb, vcpus;
    bool cancel_requested;
    /* the current or last attempt */
    char *run_id;
    char *host;
    int slot;
    long pid;
    unsigned long long pid_start;  /* /proc/PID/stat starttime: a reused pid is not ours */
    /* outcome */
    char *verdict;          /* result.json verdict of the last attempt, or NULL */
    char *reason;
    char *result_dir;       /* the final run directory */
    int exit_code;          /* of `crashlab run`; -1 none */
    double submitted, started, finished, not_before;  /* Unix time; 0 unset */
} cl_job;

typedef struct cl_queue cl_queue;

cl_queue *cl_queue_open(const char *path, cl_error **errp);
void cl_queue_close(cl_queue *q);
CL_DEFINE_AUTOPTR_FUNC(cl_queue, cl_queue_close)

void cl_job_free(cl_job *j);
CL_DEFINE_AUTOPTR_FUNC(cl_job, cl_job_free)
void cl_job_list_free(cl_job **jobs, size_t n);

/* Inserts j (state queued, attempts 0) and sets j->id. */
bool cl_queue_add(cl_queue *q, cl_job *j, cl_error **errp);

/* Writes every mutable field of j back to its row. */
bool cl_queue_update(cl_queue *q, const cl_job *j, cl_error **errp);

/* NULL with CL_ERR_INVAL when there is no such job. */
cl_job *cl_queue_get(cl_queue *q, int64_t id, cl_error **errp);

/* Jobs in state (or every job when state is CL_JOB_STATE_LAST), in scheduling order for
 * queued jobs (priority descending, then id) and by id otherwise. */
bool cl_queue_list(cl_queue *q, cl_job_state state, cl_job ***out, size_t *n, cl_error **errp);

/* Many updates as one transaction (a matrix submit is all or nothing). */
bool cl_queue_begin(cl_queue *q, cl_error **errp);
bool cl_queue_commit(cl_queue *q, cl_error **errp);
void cl_queue_rollback(cl_queue *q);

const char *cl_job_state_to_string(cl_job_state s);
bool cl_job_state_from_string(const char *s, cl_job_state *out);
bool cl_job_is_final(const cl_job *j);

/* The job as the status command shows it. */
json_object *cl_job_to_json(const cl_job *j);

#endif
