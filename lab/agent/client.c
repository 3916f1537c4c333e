/* client.c - qemu-ga commands (sent by lab/virt/agentcmd.c), with deadlines and retries. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <openssl/evp.h>

#include "agent.h"
#include "util/fileio.h"
#include "util/interrupt.h"
#include "virt/agentcmd.h"

#define UPLOAD_CHUNK (48u << 10)

static void sleep_s(double s)
{
    struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };
    nanosleep(&ts, NULL);
}

bool cl_agent_command(cl_agent_dom dom, const char *cmd, double deadline, json_object **ret, cl_error **errp)
{
    for (int attempt = 1;; attempt++) {
        double left = deadline - cl_now();
        if (left <= 0)
            return cl_error_set(errp, CL_ERR_TIMEOUT, "agent: no answer before the deadline (%d attempts)", attempt - 1);
        int timeout = left < 1 ? 1 : (int)left;
        if (timeout > 60)
            timeout = 60;
        char *reply = NULL;
        bool retry = false;
        if (cl_virt_agent_command(dom, cmd, timeout, deadline - 0.2, &reply, &retry, errp)) {
            bool ok = cl_agent_parse_reply(reply, strnlen(reply, CL_AGENT_MAX_REPLY + 1), ret, errp);
            free(reply);
            return ok;
        }
        if (!retry)
            return false;
        if (cl_interrupt_pending())
            return cl_error_set(errp, CL_ERR_INTERRUPTED, "interrupted");
        sleep_s(0.2);
    }
}

bool cl_agent_wait_ping(cl_agent_dom dom, double deadline, cl_error **errp)
{
    CL_AUTOPTR(cl_error) last = NULL;
    while (cl_now() < deadline) {
        /* A run's SIGTERM while the guest boots ends the wait now, not at the boot timeout. */
        if (cl_interrupt_pending())
            return cl_error_set(errp, CL_ERR_INTERRUPTED, "interrupted");
        json_object *ret = NULL;
        cl_error_free(last);
        last = NULL;
        /* Short per-try deadline: a ping sent before qemu-ga opened its port is lost. */
        double t = cl_now(), d = t + 3;
        if (cl_agent_command(dom, "{\"execute\":\"guest-ping\"}", d < deadline ? d : deadline, &ret, &last)) {
            json_object_put(ret);
            return true;
        }
        if (!cl_virt_domain_running(dom))
            return cl_error_set(errp, CL_ERR_AGENT, "agent: the guest stopped running while waiting for the agent (%s)",
                                last->msg);
        /* Refused at once ("not connected" until qemu-ga opens its port, as right after a
         * restore): ask again soon, it costs nothing. A try that waited already paced us. */
        sleep_s(cl_now() - t < 0.1 ? 0.05 : 0.25);
    }
    return cl_error_set(errp, CL_ERR_TIMEOUT, "agent: no answer to guest-ping before the deadline%s%s",
                        last ? "; last error: " : "", last ? last->msg : "");
}

static bool cmd_printf(cl_agent_dom dom, double deadline, json_object **ret, cl_error **errp, json_object *cmd)
{
    const char *text = json_object_to_json_string_ext(cmd, JSON_C_TO_STRING_PLAIN);
    bool ok = cl_agent_command(dom, text, deadline, ret, errp);
    json_object_put(cmd);
    return ok;
}

static json_object *mkcmd(const char *execute, json_object *args)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "execute", json_object_new_string(execute));
    if (args)
        json_object_object_add(o, "arguments", args);
    return o;
}

static bool file_close(cl_agent_dom dom, int64_t handle, double deadline, cl_error **errp)
{
    json_object *args = json_object_new_object(), *ret = NULL;
    json_object_object_add(args, "handle", json_object_new_int64(handle));
    if (!cmd_printf(dom, deadline, &ret, errp, mkcmd("guest-file-close", args)))
        return false;
    json_object_put(ret);
    return true;
}

static bool file_open(cl_agent_dom dom, const char *path, const char *mode, double deadline, int64_t *handle,
                      cl_error **errp)
{
    json_object *args = json_object_new_object(), *ret = NULL;
    json_object_object_add(args, "path", json_object_new_string(path));
    json_object_object_add(args, "mode", json_object_new_string(mode));
    if (!cmd_printf(dom, deadline, &ret, errp, mkcmd("guest-file-open", args)))
        return false;
    bool ok = json_object_is_type(ret, json_type_int);
    if (ok)
        *handle = json_object_get_int64(ret);
    json_object_put(ret);
    return ok ? true : cl_error_set(errp, CL_ERR_AGENT, "agent: guest-file-open did not return a handle");
}

bool cl_agent_upload(cl_agent_dom dom, const char *host_path, const char *guest_path, double deadline,
                     cl_error **errp)
{
    CL_AUTOFREE char *data = NULL;
    size_t len = 0;
    if (!cl_file_read_all(host_path, CL_AGENT_MAX_UPLOAD, &data, &len, errp))
        return false;
    json_object *args = NULL, *ret = NULL;
    int64_t handle;
    if (!file_open(dom, guest_path, "w", deadline, &handle, errp)) {
        cl_error_prefix(errp, "upload '%s' to '%s'", host_path, guest_path);
        return false;
    }

    for (size_t off = 0; off < len || (len == 0 && off == 0); off += UPLOAD_CHUNK) {
        size_t n = len - off < UPLOAD_CHUNK ? len - off : UPLOAD_CHUNK;
        if (n == 0)
            break;
        CL_AUTOFREE char *b64 = cl_base64_encode(data + off, n);
        if (!b64) {
            file_close(dom, handle, deadline, NULL);
            return cl_error_set(errp, CL_ERR_NOMEM, "agent: out of memory encoding '%s'", host_path);
        }
        args = json_object_new_object();
        json_object_object_add(args, "handle", json_object_new_int64(handle));
        json_object_object_add(args, "buf-b64", json_object_new_string(b64));
        if (!cmd_printf(dom, deadline, &ret, errp, mkcmd("guest-file-write", args))) {
            file_close(dom, handle, deadline, NULL);
            cl_error_prefix(errp, "upload '%s' to '%s'", host_path, guest_path);
            return false;
        }
        json_object *cnt = NULL;
        if (!json_object_is_type(ret, json_type_object) || !json_object_object_get_ex(ret, "count", &cnt) ||
            !json_object_is_type(cnt, json_type_int) || json_object_get_int64(cnt) != (int64_t)n) {
            json_object_put(ret);
            file_close(dom, handle, deadline, NULL);
            return cl_error_set(errp, CL_ERR_AGENT, "agent: short write uploading '%s' at offset %zu", host_path, off);
        }
        json_object_put(ret);
    }
    return file_close(dom, handle, deadline, errp);
}

bool cl_agent_exec_start(cl_agent_dom dom, char *const argv[], double deadline, long *pid, cl_error **errp)
{
    if (!argv || !argv[0])
        return cl_error_set(errp, CL_ERR_INVAL, "agent: empty command");
    json_object *args = json_object_new_object(), *arr = json_object_new_array(), *ret = NULL;
    json_object_object_add(args, "path", json_object_new_string(argv[0]));
    for (size_t i = 1; argv[i]; i++)
        json_object_array_add(arr, json_object_new_string(argv[i]));
    json_object_object_add(args, "arg", arr);
    json_object_object_add(args, "capture-output", json_object_new_boolean(1));
    if (!cmd_printf(dom, deadline, &ret, errp, mkcmd("guest-exec", args))) {
        cl_error_prefix(errp, "exec '%s'", argv[0]);
        return false;
    }
    json_object *p = NULL;
    if (!json_object_is_type(ret, json_type_object) || !json_object_object_get_ex(ret, "pid", &p) ||
        !json_object_is_type(p, json_type_int) || json_object_get_int64(p) <= 0) {
        json_object_put(ret);
        return cl_error_set(errp, CL_ERR_AGENT, "agent: guest-exec did not return a pid");
    }
    *pid = (long)json_object_get_int64(p);
    json_object_put(ret);
    return true;
}

bool cl_agent_exec_wait(cl_agent_dom dom, long pid, double deadline, cl_agent_exec_status *st, cl_error **errp)
{
    double delay = 0.05;
    for (;;) {
        json_object *args = json_object_new_object(), *ret = NULL;
        json_object_object_add(args, "pid", json_object_new_int64(pid));
        if (!cmd_printf(dom, deadline, &ret, errp, mkcmd("guest-exec-status", args)))
            return false;
        cl_agent_exec_status s;
        bool ok = cl_agent_parse_exec_status(ret, CL_AGENT_MAX_OUTPUT, &s, errp);
        json_object_put(ret);
        if (!ok)
            return false;
        if (s.exited) {
            *st = s;
            return true;
        }
        cl_agent_exec_status_clear(&s);
        if (cl_now() + delay >= deadline)
            return cl_error_set(errp, CL_ERR_TIMEOUT, "agent: guest process %ld still running at the deadline", pid);
        if (cl_interrupt_pending())
            return cl_error_set(errp, CL_ERR_INTERRUPTED, "interrupted");
        sleep_s(delay);
        if (delay < 0.5)
            delay *= 2;
    }
}

bool cl_agent_exec(cl_agent_dom dom, char *const argv[], double deadline, cl_agent_exec_status *st,
                   cl_error **errp)
{
    long pid = 0;
    if (!cl_agent_exec_start(dom, argv, deadline, &pid, errp))
        return false;
    return cl_agent_exec_wait(dom, pid, deadline, st, errp);
}

#define DOWNLOAD_CHUNK (1u << 20)

bool cl_agent_download(cl_agent_dom dom, const char *guest_path, uint64_t size, const char *sha, uint64_t max,
                       const char *host_path, double deadline, cl_error **errp)
{
    if (size > max)
        return cl_error_set(errp, CL_ERR_GUEST, "agent: the guest says '%.200s' has %llu bytes, more than the %llu allowed",
                            guest_path, (unsigned long long)size, (unsigned long long)max);
    if (!sha || strlen(sha) != 64 || strspn(sha, "0123456789abcdef") != 64)
        return cl_error_set(errp, CL_ERR_GUEST, "agent: no valid sha256 for '%.200s'", guest_path);
    char tmp[4096];
    json_object *args = NULL, *ret = NULL;
    int64_t handle;
    if (!file_open(dom, guest_path, "r", deadline, &handle, errp))
        return false;
    int fd = cl_file_create_temp(host_path, CL_FILE_MODE, tmp, sizeof(tmp), errp);
    if (fd < 0) {
        file_close(dom, handle, deadline, NULL);
        cl_error_prefix(errp, "agent");
        return false;
    }
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_DigestInit_ex(md, EVP_sha256(), NULL);
    uint64_t got = 0;
    bool ok = true, eof = false;
    while (ok && !eof) {
        args = json_object_new_object();
        json_object_object_add(args, "handle", json_object_new_int64(handle));
        json_object_object_add(args, "count", json_object_new_int64(DOWNLOAD_CHUNK));
        ok = cmd_printf(dom, deadline, &ret, errp, mkcmd("guest-file-read", args));
        if (!ok)
            break;
        char *data = NULL;
        size_t len = 0;
        ok = cl_agent_parse_file_read(ret, DOWNLOAD_CHUNK, &data, &len, &eof, errp);
        json_object_put(ret);
        if (!ok)
            break;
        if (got + len > size) {
            free(data);
            ok = cl_error_set(errp, CL_ERR_GUEST, "agent: '%.200s' grew past the %llu bytes the guest announced",
                              guest_path, (unsigned long long)size);
            break;
        }
        for (size_t off = 0; ok && off < len;) {
            ssize_t n = write(fd, data + off, len - off);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                ok = cl_error_set_errno(errp, CL_ERR_IO, errno, "agent: cannot write '%s'", tmp);
            else
                off += (size_t)n;
        }
        EVP_DigestUpdate(md, data, len);
        free(data);
        got += len;
        if (!eof && len == 0)
            ok = cl_error_set(errp, CL_ERR_AGENT, "agent: guest-file-read returned nothing before end of file");
    }
    file_close(dom, handle, deadline, NULL);
    unsigned char dig[32];
    unsigned int dlen = 0;
    EVP_DigestFinal_ex(md, dig, &dlen);
    EVP_MD_CTX_free(md);
    char hex[65];
    for (int i = 0; i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", dig[i]);
    if (ok && got != size)
        ok = cl_error_set(errp, CL_ERR_GUEST, "agent: '%.200s' has %llu bytes, the guest announced %llu", guest_path,
                          (unsigned long long)got, (unsigned long long)size);
    if (ok && strcmp(hex, sha))
        ok = cl_error_set(errp, CL_ERR_GUEST, "agent: sha256 of '%.200s' is %s, the guest announced %s", guest_path, hex, sha);
    if (ok && fsync(fd) < 0)
        ok = cl_error_set_errno(errp, CL_ERR_IO, errno, "agent: cannot sync '%s'", tmp);
    if (close(fd) < 0 && ok)
        ok = cl_error_set_errno(errp, CL_ERR_IO, errno, "agent: cannot close '%s'", tmp);
    if (ok && rename(tmp, host_path) < 0)
        ok = cl_error_set_errno(errp, CL_ERR_IO, errno, "agent: cannot rename '%s'", tmp);
    if (!ok)
        unlink(tmp);
    return ok;
}
