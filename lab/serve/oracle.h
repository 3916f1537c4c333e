/* oracle.h - `crashlab corpus verify --oracle NAME | --oracle-cmd TEMPLATE`: a debugger's
 * reading of each dump of a corpus, compared with the manifest's labels, one case per
 * entry and label (printed, and written as JUnit).
 *
 * The contract between the lab and an oracle program (its arguments, the JSON reading it
 * prints) is documented in lab/serve/README.md, "Oracles". The comparison is pure and
 * unit-tested (serve_test.c); running the program is oracle_run.c.
 */
#ifndef CL_SERVE_ORACLE_H
#define CL_SERVE_ORACLE_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "util/error.h"

#define CL_ORACLE_READING_MAX (1u << 20)   /* bytes of oracle output read */
#define CL_ORACLE_CMD_MAX 8192

typedef enum {
    CL_ORACLE_PASS,
    CL_ORACLE_FAIL,
    CL_ORACLE_SKIP,
    CL_ORACLE_STATUS_LAST
} cl_oracle_status;

const char *cl_oracle_status_to_string(cl_oracle_status s);

typedef struct {
    char entry[256];      /* the dump's file in the corpus ("dumps/oops-1a2b.kdump") */
    char label[64];       /* "open", "panic", "crash_function", "task", "lock_a", ... */
    cl_oracle_status status;
    char message[512];
} cl_oracle_case;

typedef struct {
    cl_oracle_case *v;
    size_t n, cap;
} cl_oracle_cases;

void cl_oracle_cases_clear(cl_oracle_cases *c);
/* Appends one case (printf-style message); false when out of memory. */
bool cl_oracle_case_add(cl_oracle_cases *c, const char *entry, const char *label, cl_oracle_status st,
                        const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Compares one oracle reading with its manifest entry and appends one case per label:
 * "open", "os_release", "panic" (Linux) or "bugcheck" (Windows), "crash_function", every
 * ground_truth label (but fault, state, source) and every oracle_expect key. A label the
 * reading does not mention is skipped; one it reports with another value (or null: looked,
 * not found) fails. Returns the number of failed cases. */
int cl_oracle_compare(json_object *entry, json_object *reading, const char *entry_name, cl_oracle_cases *out);

/* The values a label and a reading are compared as: both numbers ("0x1f", "31", 31) ->
 * numerically; else both strings -> exactly; else json equality. */
bool cl_oracle_same(json_object *want, json_object *have);

/* "lf_fire.cold+0x12/0x40" -> "lf_fire". */
void cl_oracle_function_name(const char *in, char *out, size_t outlen);

/* What an oracle program is given. */
typedef struct {
    const char *dump;     /* the dump file */
    const char *vmlinux;  /* debug vmlinux (Linux) or "" when none was found */
    const char *entry;    /* a JSON file holding the manifest entry */
    const char *corpus;   /* the corpus directory */
} cl_oracle_vars;

/* Expands {dump}, {vmlinux}, {entry}, {corpus} (each shell-quoted) and {{ / }} in a
 * template for /bin/sh -c. False (why set) on an unknown placeholder or overflow. */
bool cl_oracle_expand(const char *tmpl, const cl_oracle_vars *v, char *out, size_t outlen, char *why, size_t whylen);

/* The template of a built-in oracle, "drgn" or "crash": its script in the lab's oracle
 * directory ($CRASHLAB_ORACLE_DIR, else lab/oracle beside the program's build directory,
 * else /usr/share/crashlab/oracle). */
bool cl_oracle_builtin(const char *name, char *tmpl, size_t len, cl_error **errp);

/* Runs the expanded command with a timeout; returns its reading (a JSON object) or NULL
 * with why (exit status, stderr's tail, what was wrong with the output). */
json_object *cl_oracle_run(const char *cmd, double timeout_s, char *why, size_t whylen);

typedef struct {
    const char *name;       /* for messages and JUnit: "drgn", "crash", "cmd" */
    const char *tmpl;
    const char *junit;      /* JUnit file to write, or NULL */
    const char *vmlinux;    /* overrides the manifest's debug.vmlinux, or NULL */
    double timeout_s;       /* per dump */
} cl_oracle_opts;

/* Runs the oracle over every entry of the corpus in dir. Returns the number of failed
 * cases, -1 when the corpus cannot be read (errp set). */
int cl_corpus_verify_oracle(const char *dir, const cl_oracle_opts *o, FILE *out, cl_error **errp);

/* Writes the cases as JUnit (one testsuite, a testcase per entry and label) to path,
 * atomically. */
bool cl_oracle_junit_write(const cl_oracle_cases *c, const char *suite, const char *path, cl_error **errp);

#endif
