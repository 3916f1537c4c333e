/* proto.c - the client side of the control socket, and shared line I/O. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "proto.h"

bool cl_serve_sock_path(const char *state, char out[sizeof(((struct sockaddr_un *)0)->sun_path)], cl_error **errp)
{
    size_t cap = sizeof(((struct sockaddr_un *)0)->sun_path);
    if ((size_t)snprintf(out, cap, "%s/serve.sock", state) >= cap)
        return cl_error_set(errp, CL_ERR_INVAL, "serve: state directory '%s' is too long for a UNIX socket path", state);
    return true;
}

bool cl_serve_write_all(int fd, const char *buf, size_t len)
{
    while (len) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        buf += n;
        len -= (size_t)n;
    }
    return true;
}

char *cl_serve_read_line(int fd, size_t max, cl_error **errp)
{
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    if (!buf)
        return cl_error_set(errp, CL_ERR_NOMEM, "serve: out of memory"), NULL;
    for (;;) {
        if (len + 1 >= cap) {
            if (cap > max) {
                free(buf);
                return cl_error_set(errp, CL_ERR_FORMAT, "serve: a message is longer than %zu bytes", max), NULL;
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                return cl_error_set(errp, CL_ERR_NOMEM, "serve: out of memory"), NULL;
            }
            buf = nb;
            cap *= 2;
        }
        ssize_t n = read(fd, buf + len, cap - len - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            free(buf);
            return cl_error_set_errno(errp, CL_ERR_IO, errno, "serve: cannot read from the socket"), NULL;
        }
        if (n == 0) {
            free(buf);
            return cl_error_set(errp, CL_ERR_IO, "serve: the connection closed before a whole message"), NULL;
        }
        char *nl = memchr(buf + len, '\n', (size_t)n);
        len += (size_t)n;
        if (nl) {
            *nl = '\0';
            if ((size_t)(nl - buf) > max) {
                free(buf);
                return cl_error_set(errp, CL_ERR_FORMAT, "serve: a message is longer than %zu bytes", max), NULL;
            }
            return buf;
        }
    }
}

json_object *cl_serve_call(const char *state, json_object *req, cl_error **errp)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (!cl_serve_sock_path(state, sa.sun_path, errp))
        return NULL;
    CL_AUTOCLOSE fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return cl_error_set_errno(errp, CL_ERR_IO, errno, "serve: socket"), NULL;
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        return cl_error_set_errno(errp, CL_ERR_IO, errno,
                                  "no crashlab daemon answers at '%s' (start `crashlab serve --state %s`)", sa.sun_path, state),
               NULL;
    const char *text = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    if (!cl_serve_write_all(fd, text, strlen(text)) || !cl_serve_write_all(fd, "\n", 1))
        return cl_error_set_errno(errp, CL_ERR_IO, errno, "serve: cannot send a request"), NULL;
    CL_AUTOFREE char *line = cl_serve_read_line(fd, CL_SERVE_MAX_LINE, errp);
    if (!line)
        return NULL;
    json_object *rep = json_tokener_parse(line);
    if (!rep || !json_object_is_type(rep, json_type_object)) {
        json_object_put(rep);
        return cl_error_set(errp, CL_ERR_FORMAT, "serve: the daemon's reply is not a JSON object"), NULL;
    }
    json_object *ok = cl_json_get(rep, "ok");
    if (!ok || !json_object_get_boolean(ok)) {
        cl_error_set(errp, CL_ERR_INVAL, "%s", cl_json_str(rep, "error", "the daemon refused the request"));
        json_object_put(rep);
        return NULL;
    }
    return rep;
}
