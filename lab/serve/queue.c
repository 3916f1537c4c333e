/* queue.c - the job store in SQLite. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "queue.h"

struct cl_queue {
    sqlite3 *db;
};

static const char *const state_names[CL_JOB_STATE_LAST] = { "queued", "running", "done", "cancelled" };

const char *cl_job_state_to_string(cl_job_state s)
{
    return s < CL_JOB_STATE_LAST ? state_names[s] : "?";
}

bool cl_job_state_from_string(const char *s, cl_job_state *out)
{
    for (int i = 0; i < CL_JOB_STATE_LAST; i++)
        if (s && !strcmp(s, state_names[i])) {
            *out = (cl_job_state)i;
            return true;
        }
    return false;
}

bool cl_job_is_final(const cl_job *j)
{
    return j->state == CL_JOB_DONE || j->state == CL_JOB_CANCELLED;
}

static bool db_error(cl_queue *q, cl_error **errp, const char *what)
{
    return cl_error_set(errp, CL_ERR_IO, "queue: %s: %s", what, sqlite3_errmsg(q->db));
}

#define COLUMNS "id, scenario, name, options, batch, priority, state, attempts, max_attempts, memory_mb, vcpus, " \
                "cancel_requested, run_id, host, slot, pid, pid_start, verdict, reason, result_dir, exit_code, " \
                "submitted, started, finished, not_before"

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS jobs ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT, scenario TEXT NOT NULL, name TEXT NOT NULL, options TEXT NOT NULL,"
    " batch TEXT NOT NULL DEFAULT '', priority INTEGER NOT NULL DEFAULT 0, state TEXT NOT NULL,"
    " attempts INTEGER NOT NULL DEFAULT 0, max_attempts INTEGER NOT NULL DEFAULT 3,"
    " memory_mb INTEGER NOT NULL DEFAULT 0, vcpus INTEGER NOT NULL DEFAULT 1,"
    " cancel_requested INTEGER NOT NULL DEFAULT 0, run_id TEXT, host TEXT, slot INTEGER NOT NULL DEFAULT -1,"
    " pid INTEGER NOT NULL DEFAULT 0, pid_start INTEGER NOT NULL DEFAULT 0, verdict TEXT, reason TEXT,"
    " result_dir TEXT, exit_code INTEGER NOT NULL DEFAULT -1, submitted REAL NOT NULL DEFAULT 0,"
    " started REAL NOT NULL DEFAULT 0, finished REAL NOT NULL DEFAULT 0, not_before REAL NOT NULL DEFAULT 0);"
    "CREATE INDEX IF NOT EXISTS jobs_state ON jobs(state, priority, id);";

cl_queue *cl_queue_open(const char *path, cl_error **errp)
{
    cl_queue *q = calloc(1, sizeof(*q));
    if (!q)
        return cl_error_set(errp, CL_ERR_NOMEM, "queue: out of memory"), NULL;
    if (sqlite3_open_v2(path, &q->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL) != SQLITE_OK) {
        cl_error_set(errp, CL_ERR_IO, "queue: cannot open '%s': %s", path, q->db ? sqlite3_errmsg(q->db) : "out of memory");
        cl_queue_close(q);
        return NULL;
    }
    sqlite3_busy_timeout(q->db, 5000);
    /* WAL + synchronous=FULL: a committed state change survives a kill and a power cut. */
    if (sqlite3_exec(q->db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_exec(q->db, schema, NULL, NULL, NULL) != SQLITE_OK) {
        db_error(q, errp, "cannot set up the database");
        cl_queue_close(q);
        return NULL;
    }
    return q;
}

void cl_queue_close(cl_queue *q)
{
    if (!q)
        return;
    sqlite3_close(q->db);
    free(q);
}

void cl_job_free(cl_job *j)
{
    if (!j)
        return;
    free(j->scenario);
    free(j->name);
    free(j->options);
    free(j->batch);
    free(j->run_id);
    free(j->host);
    free(j->verdict);
    free(j->reason);
    free(j->result_dir);
    free(j);
}

void cl_job_list_free(cl_job **jobs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        cl_job_free(jobs[i]);
    free(jobs);
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

bool cl_queue_add(cl_queue *q, cl_job *j, cl_error **errp)
{
    sqlite3_stmt *st = NULL;
    const char *sql = "INSERT INTO jobs (scenario, name, options, batch, priority, state, max_attempts, memory_mb, vcpus,"
                      " submitted) VALUES (?,?,?,?,?,'queued',?,?,?,?)";
    if (sqlite3_prepare_v2(q->db, sql, -1, &st, NULL) != SQLITE_OK)
        return db_error(q, errp, "cannot prepare insert");
    bind_text(st, 1, j->scenario);
    bind_text(st, 2, j->name ? j->name : "");
    bind_text(st, 3, j->options ? j->options : "{}");
    bind_text(st, 4, j->batch ? j->batch : "");
    sqlite3_bind_int(st, 5, j->priority);
    sqlite3_bind_int(st, 6, j->max_attempts > 0 ? j->max_attempts : 3);
    sqlite3_bind_int(st, 7, (int)j->memory_mb);
    sqlite3_bind_int(st, 8, (int)j->vcpus);
    sqlite3_bind_double(st, 9, j->submitted);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return db_error(q, errp, "cannot insert a job");
    j->id = sqlite3_last_insert_rowid(q->db);
    j->state = CL_JOB_QUEUED;
    return true;
}

bool cl_queue_update(cl_queue *q, const cl_job *j, cl_error **errp)
{
    sqlite3_stmt *st = NULL;
    const char *sql = "UPDATE jobs SET state=?, attempts=?, cancel_requested=?, run_id=?, host=?, slot=?, pid=?,"
                      " pid_start=?, verdict=?, reason=?, result_dir=?, exit_code=?, started=?, finished=?,"
                      " not_before=?, priority=? WHERE id=?";
    if (sqlite3_prepare_v2(q->db, sql, -1, &st, NULL) != SQLITE_OK)
        return db_error(q, errp, "cannot prepare update");
    bind_text(st, 1, cl_job_state_to_string(j->state));
    sqlite3_bind_int(st, 2, j->attempts);
    sqlite3_bind_int(st, 3, j->cancel_requested);
    bind_text(st, 4, j->run_id);
    bind_text(st, 5, j->host);
    sqlite3_bind_int(st, 6, j->slot);
    sqlite3_bind_int64(st, 7, j->pid);
    sqlite3_bind_int64(st, 8, (sqlite3_int64)j->pid_start);
    bind_text(st, 9, j->verdict);
    bind_text(st, 10, j->reason);
    bind_text(st, 11, j->result_dir);
    sqlite3_bind_int(st, 12, j->exit_code);
    sqlite3_bind_double(st, 13, j->started);
    sqlite3_bind_double(st, 14, j->finished);
    sqlite3_bind_double(st, 15, j->not_before);
    sqlite3_bind_int(st, 16, j->priority);
    sqlite3_bind_int64(st, 17, j->id);
    int rc = sqlite3_step(st);
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE)
        return db_error(q, errp, "cannot update a job");
    if (sqlite3_changes(q->db) != 1)
        return cl_error_set(errp, CL_ERR_INVAL, "queue: no job %lld", (long long)j->id);
    return true;
}

static char *col_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? strdup((const char *)t) : NULL;
}

static cl_job *row_to_job(sqlite3_stmt *st)
{
    cl_job *j = calloc(1, sizeof(*j));
    if (!j)
        return NULL;
    int i = 0;
    j->id = sqlite3_column_int64(st, i++);
    j->scenario = col_text(st, i++);
    j->name = col_text(st, i++);
    j->options = col_text(st, i++);
    j->batch = col_text(st, i++);
    j->priority = sqlite3_column_int(st, i++);
    const char *s = (const char *)sqlite3_column_text(st, i++);
    if (!cl_job_state_from_string(s, &j->state))
        j->state = CL_JOB_QUEUED;
    j->attempts = sqlite3_column_int(st, i++);
    j->max_attempts = sqlite3_column_int(st, i++);
    j->memory_mb = (unsigned)sqlite3_column_int(st, i++);
    j->vcpus = (unsigned)sqlite3_column_int(st, i++);
    j->cancel_requested = sqlite3_column_int(st, i++) != 0;
    j->run_id = col_text(st, i++);
    j->host = col_text(st, i++);
    j->slot = sqlite3_column_int(st, i++);
    j->pid = (long)sqlite3_column_int64(st, i++);
    j->pid_start = (unsigned long long)sqlite3_column_int64(st, i++);
    j->verdict = col_text(st, i++);
    j->reason = col_text(st, i++);
    j->result_dir = col_text(st, i++);
    j->exit_code = sqlite3_column_int(st, i++);
    j->submitted = sqlite3_column_double(st, i++);
    j->started = sqlite3_column_double(st, i++);
    j->finished = sqlite3_column_double(st, i++);
    j->not_before = sqlite3_column_double(st, i++);
    if (!j->scenario || !j->options) {
        cl_job_free(j);
        return NULL;
    }
    return j;
}

cl_job *cl_queue_get(cl_queue *q, int64_t id, cl_error **errp)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(q->db, "SELECT " COLUMNS " FROM jobs WHERE id=?", -1, &st, NULL) != SQLITE_OK)
        return db_error(q, errp, "cannot prepare select"), NULL;
    sqlite3_bind_int64(st, 1, id);
    cl_job *j = NULL;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        if (!(j = row_to_job(st)))
            cl_error_set(errp, CL_ERR_NOMEM, "queue: out of memory");
    } else if (rc == SQLITE_DONE) {
        cl_error_set(errp, CL_ERR_INVAL, "no job %lld", (long long)id);
    } else {
        db_error(q, errp, "cannot read a job");
    }
    sqlite3_finalize(st);
    return j;
}

bool cl_queue_list(cl_queue *q, cl_job_state state, cl_job ***out, size_t *n, cl_error **errp)
{
    sqlite3_stmt *st = NULL;
    const char *sql = state == CL_JOB_STATE_LAST ? "SELECT " COLUMNS " FROM jobs ORDER BY id"
                      : state == CL_JOB_QUEUED   ? "SELECT " COLUMNS " FROM jobs WHERE state=? ORDER BY priority DESC, id"
                                                 : "SELECT " COLUMNS " FROM jobs WHERE state=? ORDER BY id";
    if (sqlite3_prepare_v2(q->db, sql, -1, &st, NULL) != SQLITE_OK)
        return db_error(q, errp, "cannot prepare list");
    if (state != CL_JOB_STATE_LAST)
        bind_text(st, 1, cl_job_state_to_string(state));
    cl_job **v = NULL;
    size_t len = 0, cap = 0;
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (len == cap) {
            cap = cap ? cap * 2 : 16;
            cl_job **nv = realloc(v, cap * sizeof(*v));
            if (!nv)
                break;
            v = nv;
        }
        cl_job *j = row_to_job(st);
        if (!j)
            break;
        v[len++] = j;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        cl_job_list_free(v, len);
        return rc == SQLITE_ROW ? cl_error_set(errp, CL_ERR_NOMEM, "queue: out of memory") : db_error(q, errp, "cannot list jobs");
    }
    *out = v;
    *n = len;
    return true;
}

bool cl_queue_begin(cl_queue *q, cl_error **errp)
{
    if (sqlite3_exec(q->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return db_error(q, errp, "cannot begin");
    return true;
}

bool cl_queue_commit(cl_queue *q, cl_error **errp)
{
    if (sqlite3_exec(q->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        return db_error(q, errp, "cannot commit");
    return true;
}

void cl_queue_rollback(cl_queue *q)
{
    sqlite3_exec(q->db, "ROLLBACK", NULL, NULL, NULL);
}

static void add_str(json_object *o, const char *k, const char *v)
{
    json_object_object_add(o, k, v ? json_object_new_string(v) : NULL);
}

static void add_time(json_object *o, const char *k, double t)
{
    json_object_object_add(o, k, t > 0 ? json_object_new_double(t) : NULL);
}

json_object *cl_job_to_json(const cl_job *j)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_int64(j->id));
    add_str(o, "scenario", j->scenario);
    add_str(o, "name", j->name);
    json_object *opts = json_tokener_parse(j->options);
    json_object_object_add(o, "options", opts ? opts : json_object_new_object());
    add_str(o, "batch", j->batch);
    json_object_object_add(o, "priority", json_object_new_int(j->priority));
    add_str(o, "state", cl_job_state_to_string(j->state));
    json_object_object_add(o, "attempts", json_object_new_int(j->attempts));
    json_object_object_add(o, "max_attempts", json_object_new_int(j->max_attempts));
    json_object_object_add(o, "memory_mb", json_object_new_int((int)j->memory_mb));
    json_object_object_add(o, "vcpus", json_object_new_int((int)j->vcpus));
    json_object_object_add(o, "cancel_requested", json_object_new_boolean(j->cancel_requested));
    add_str(o, "run_id", j->run_id);
    add_str(o, "host", j->host);
    json_object_object_add(o, "slot", j->slot >= 0 ? json_object_new_int(j->slot) : NULL);
    json_object_object_add(o, "pid", j->pid > 0 ? json_object_new_int64(j->pid) : NULL);
    add_str(o, "verdict", j->verdict);
    add_str(o, "reason", j->reason);
    add_str(o, "result_dir", j->result_dir);
    json_object_object_add(o, "exit_code", j->exit_code >= 0 ? json_object_new_int(j->exit_code) : NULL);
    add_time(o, "submitted", j->submitted);
    add_time(o, "started", j->started);
    add_time(o, "finished", j->finished);
    add_time(o, "not_before", j->not_before);
    return o;
}
