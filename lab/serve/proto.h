/* proto.h - how clients talk to `crashlab serve`: one JSON object per line over the UNIX
 * socket <state>/serve.sock (mode 0600), one request and one reply per connection.
 *
 *   {"op":"ping"}                                   -> {"ok":true,"pid":N,...}
 *   {"op":"submit","jobs":[{"scenario":"/abs.yaml","priority":0,"batch":"",
 *                           "options":{"accel":"tcg",...}}]}  -> {"ok":true,"ids":[1,2]}
 *   {"op":"status"} or {"op":"status","id":N}       -> {"ok":true,"jobs":[{...}]}
 *   {"op":"cancel","id":N}                          -> {"ok":true,"job":{...}}
 *   {"op":"hosts"}                                  -> {"ok":true,"hosts":[{...}]}
 * A failed request answers {"ok":false,"error":"message","code":C}, C one of the
 * CL_REPLY_* strings below. Lines are capped at CL_SERVE_MAX_LINE bytes both ways.
 */
#ifndef CL_SERVE_PROTO_H
#define CL_SERVE_PROTO_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/un.h>

#include "util/error.h"
#include "util/json.h"

#define CL_SERVE_MAX_LINE (8u << 20)

/* Why the daemon refused a request ("code" of a failed reply). */
#define CL_REPLY_BAD_INPUT "bad-input"     /* the request or a job in it is invalid */
#define CL_REPLY_NO_SUCH_JOB "no-such-job"
#define CL_REPLY_REFUSED "refused"         /* valid, but not now: e.g. cancel of a finished job */
#define CL_REPLY_FAILED "failed"           /* the daemon could not do it (its queue cannot be written) */

/* Exit codes of every client command (submit, status, wait, cancel, logs): one table,
 * in the README, lab/serve/README.md and each usage text (CL_CLIENT_EXIT_TABLE). */
enum {
    CL_CLIENT_OK = 0,
    CL_CLIENT_NOT_OK = 1,      /* wait: a job ended otherwise than expected or was cancelled;
                                  the daemon refused (already finished) or failed the request */
    CL_CLIENT_BAD_INPUT = 2,   /* an option, argument, scenario or matrix refused, here or by the daemon */
    CL_CLIENT_NO_DAEMON = 3,   /* no daemon could be asked: none listens, the socket refused us, or it did not answer in time */
    CL_CLIENT_TIMEOUT = 4,     /* wait --timeout passed */
    CL_CLIENT_NO_JOB = 5,      /* no such job */
};
#define CL_CLIENT_EXIT_TABLE \
    "Exit: 0 ok (wait: every job ended as expected), 1 a job did not end as expected or the request was refused,\n" \
    "2 bad input (nothing was changed), 3 no daemon answered (not running, no permission, or no reply in time),\n" \
    "4 wait timed out, 5 no such job.\n"

/* Job priorities: higher runs first. */
#define CL_SERVE_MAX_PRIORITY 1000000

/* A client call's deadline unless the command has its own (seconds). */
#define CL_SERVE_CALL_TIMEOUT 60.0
/* <state>/serve.sock, or an error when the path does not fit sun_path. */
bool cl_serve_sock_path(const char *state, char out[sizeof(((struct sockaddr_un *)0)->sun_path)], cl_error **errp);

/* Sends req to the daemon of state and returns its reply when "ok" is true, by the
 * absolute deadline (cl_now() based): connect, send and receive never wait past it. On
 * failure, *exit_code (if not NULL) gets the CL_CLIENT_* code that says why: an "ok":false
 * reply maps its "code", a socket that is missing, refuses us or stays silent is
 * CL_CLIENT_NO_DAEMON (CL_ERR_TIMEOUT when the deadline passed). */
json_object *cl_serve_call(const char *state, json_object *req, double deadline, int *exit_code, cl_error **errp);

/* Reads one line (without the newline) of at most max bytes from fd, by the absolute
 * deadline (0: none); CL_ERR_TIMEOUT when it passes. */
char *cl_serve_read_line(int fd, size_t max, double deadline, cl_error **errp);

/* Writes all of buf; false on error. */
bool cl_serve_write_all(int fd, const char *buf, size_t len);


#endif
