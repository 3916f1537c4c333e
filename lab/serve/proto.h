/* proto.h - how clients talk to `crashlab serve`: one JSON object per line over the UNIX
 * socket <state>/serve.sock (mode 0600), one request and one reply per connection.
 *
 *   {"op":"ping"}                                   -> {"ok":true,"pid":N,...}
 *   {"op":"submit","jobs":[{"scenario":"/abs.yaml","priority":0,"batch":"",
 *                           "options":{"accel":"tcg",...}}]}  -> {"ok":true,"ids":[1,2]}
 *   {"op":"status"} or {"op":"status","id":N}       -> {"ok":true,"jobs":[{...}]}
 *   {"op":"cancel","id":N}                          -> {"ok":true,"job":{...}}
 *   {"op":"hosts"}                                  -> {"ok":true,"hosts":[{...}]}
 * A failed request answers {"ok":false,"error":"message"}. Lines are capped at
 * CL_SERVE_MAX_LINE bytes both ways.
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

/* <state>/serve.sock, or an error when the path does not fit sun_path. */
bool cl_serve_sock_path(const char *state, char out[sizeof(((struct sockaddr_un *)0)->sun_path)], cl_error **errp);

/* Sends req to the daemon of state and returns its reply when "ok" is true; an "ok":false
 * reply becomes an error carrying the daemon's message. */
json_object *cl_serve_call(const char *state, json_object *req, cl_error **errp);

/* Reads one line (without the newline) of at most max bytes from a blocking fd. */
char *cl_serve_read_line(int fd, size_t max, cl_error **errp);

/* Writes all of buf; false on error. */
bool cl_serve_write_all(int fd, const char *buf, size_t len);


#endif
