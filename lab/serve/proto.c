/* proto.c - the client side of the control socket, and shared line I/O. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "proto.h"
#include "util/fileio.h"

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

/* Waits until fd is ready for events or the deadline (0: none) passes: 1 ready, 0 timed
 * out, -1 error. */
static int wait_fd(int fd, short events, double deadline)
{
    for (;;) {
        int ms = -1;
        if (deadline > 0) {
            double left = deadline - cl_now();
            if (left <= 0)
                return 0;
            ms = (int)(left * 1000) + 1;
        }
        struct pollfd p = { .fd = fd, .events = events };
        int r = poll(&p, 1, ms);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return r;
        return 1;
    }
}

static bool send_by(int fd, const char *buf, size_t len, double deadline, cl_error **errp)
{
    while (len) {
        int w = wait_fd(fd, POLLOUT, deadline);
        if (w == 0)
            return cl_error_set(errp, CL_ERR_TIMEOUT, "serve: the daemon did not take the request in time");
        ssize_t n = w < 0 ? -1 : send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0)
            return cl_error_set_errno(errp, CL_ERR_IO, errno, "serve: cannot send a request");
        buf += n;
        len -= (size_t)n;
    }
    return true;
}

char *cl_serve_read_line(int fd, size_t max, double deadline, cl_error **errp)
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
        int w = wait_fd(fd, POLLIN, deadline);
        if (w == 0) {
            free(buf);
            return cl_error_set(errp, CL_ERR_TIMEOUT, "serve: no reply in time"), NULL;
        }
        ssize_t n = w < 0 ? -1 : recv(fd, buf + len, cap - len - 1, MSG_DONTWAIT);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
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

/* A refused or missing socket says which: a user without permission must not be sent to
 * start a daemon that is already running. */
static bool connect_by(int fd, const struct sockaddr_un *sa, const char *state, double deadline, cl_error **errp)
{
    for (;;) {
        if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) == 0)
            return true;
        int e = errno;
        if (e == EINTR)
            continue;
        if (e == EAGAIN && cl_now() < deadline) {
            /* The daemon's backlog is full: it is busy, try again shortly. */
            struct timespec ts = { 0, 50 * 1000 * 1000 };
            nanosleep(&ts, NULL);
            continue;
        }
        if (e == EAGAIN)
            return cl_error_set(errp, CL_ERR_TIMEOUT, "the crashlab daemon at '%s' did not accept the connection in time",
                                sa->sun_path);
        if (e == EACCES || e == EPERM)
            return cl_error_set_errno(errp, CL_ERR_IO, e,
                                      "cannot talk to the crashlab daemon at '%s': the socket is its owner's only (mode 0600); run as that user",
                                      sa->sun_path);
        if (e == ENOENT || e == ECONNREFUSED)
            return cl_error_set_errno(errp, CL_ERR_IO, e,
                                      "no crashlab daemon answers at '%s' (start `crashlab serve --state %s`)", sa->sun_path,
                                      state);
        return cl_error_set_errno(errp, CL_ERR_IO, e, "cannot connect to the crashlab daemon at '%s'", sa->sun_path);
    }
}

static int exit_for_reply(const char *code)
{
    if (!strcmp(code, CL_REPLY_BAD_INPUT))
        return CL_CLIENT_BAD_INPUT;
    if (!strcmp(code, CL_REPLY_NO_SUCH_JOB))
        return CL_CLIENT_NO_JOB;
    return CL_CLIENT_NOT_OK;
}

json_object *cl_serve_call(const char *state, json_object *req, double deadline, int *exit_code, cl_error **errp)
{
    int dummy;
    if (!exit_code)
        exit_code = &dummy;
    *exit_code = CL_CLIENT_NO_DAEMON;
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (!cl_serve_sock_path(state, sa.sun_path, errp)) {
        *exit_code = CL_CLIENT_BAD_INPUT;
        return NULL;
    }
    CL_AUTOCLOSE fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);   /* a full backlog must not block connect */
    if (fd < 0)
        return cl_error_set_errno(errp, CL_ERR_IO, errno, "serve: socket"), NULL;
    if (!connect_by(fd, &sa, state, deadline, errp))
        return NULL;
    const char *text = json_object_to_json_string_ext(req, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    CL_AUTOPTR(cl_error) err = NULL;
    CL_AUTOFREE char *line = NULL;
    if (send_by(fd, text, strlen(text), deadline, &err) && send_by(fd, "\n", 1, deadline, &err))
        line = cl_serve_read_line(fd, CL_SERVE_MAX_LINE, deadline, &err);
    if (!line) {
        if (err->code == CL_ERR_TIMEOUT)
            return cl_error_set(errp, CL_ERR_TIMEOUT, "the crashlab daemon at '%s' did not answer in time", sa.sun_path), NULL;
        return cl_error_set(errp, err->code, "%s", err->msg), NULL;
    }
    json_object *rep = json_tokener_parse(line);
    if (!rep || !json_object_is_type(rep, json_type_object)) {
        json_object_put(rep);
        return cl_error_set(errp, CL_ERR_FORMAT, "serve: the daemon's reply is not a JSON object"), NULL;
    }
    json_object *ok = cl_json_get(rep, "ok");
    if (!ok || !json_object_get_boolean(ok)) {
        *exit_code = exit_for_reply(cl_json_str(rep, "code", ""));
        cl_error_set(errp, CL_ERR_INVAL, "%s", cl_json_str(rep, "error", "the daemon refused the request"));
        json_object_put(rep);
        return NULL;
    }
    *exit_code = CL_CLIENT_OK;
    return rep;
}
