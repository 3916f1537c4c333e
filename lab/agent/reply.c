/* reply.c - parsing what qemu-ga answers. Pure functions: bytes in, values out. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"

bool cl_agent_parse_reply(const char *text, size_t len, json_object **ret, cl_error **errp)
{
    if (!text)
        return cl_error_set(errp, CL_ERR_AGENT, "agent: empty reply");
    if (len > CL_AGENT_MAX_REPLY)
        return cl_error_set(errp, CL_ERR_AGENT, "agent: reply of %zu bytes is larger than the %u allowed",
                            len, CL_AGENT_MAX_REPLY);
    if (len > INT_MAX)
        return cl_error_set(errp, CL_ERR_AGENT, "agent: reply too large");
    json_tokener *tok = json_tokener_new_ex(64);
    if (!tok)
        return cl_error_set(errp, CL_ERR_NOMEM, "agent: out of memory");
    json_object *obj = json_tokener_parse_ex(tok, text, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t used = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    if (!obj || jerr != json_tokener_success) {
        json_object_put(obj);
        return cl_error_set(errp, CL_ERR_AGENT, "agent: reply is not valid JSON (%s)",
                            jerr == json_tokener_continue ? "cut short" : json_tokener_error_desc(jerr));
    }
    for (size_t i = used; i < len; i++) {
        if (text[i] != ' ' && text[i] != '\n' && text[i] != '\r' && text[i] != '\t' && text[i] != '\0') {
            json_object_put(obj);
            return cl_error_set(errp, CL_ERR_AGENT, "agent: trailing data after the reply at byte %zu", i);
        }
    }
    if (!json_object_is_type(obj, json_type_object)) {
        json_object_put(obj);
        return cl_error_set(errp, CL_ERR_AGENT, "agent: reply is not a JSON object");
    }
    json_object *r = NULL, *e = NULL;
    if (json_object_object_get_ex(obj, "return", &r)) {
        *ret = json_object_get(r);
        json_object_put(obj);
        return true;
    }
    if (json_object_object_get_ex(obj, "error", &e) && json_object_is_type(e, json_type_object)) {
        json_object *cls = NULL, *desc = NULL;
        json_object_object_get_ex(e, "class", &cls);
        json_object_object_get_ex(e, "desc", &desc);
        cl_error_set(errp, CL_ERR_AGENT, "agent: guest reported %.64s: %.400s",
                     json_object_is_type(cls, json_type_string) ? json_object_get_string(cls) : "an error",
                     json_object_is_type(desc, json_type_string) ? json_object_get_string(desc) : "(no description)");
        json_object_put(obj);
        return false;
    }
    json_object_put(obj);
    return cl_error_set(errp, CL_ERR_AGENT, "agent: reply has neither 'return' nor 'error'");
}

static int b64val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

bool cl_base64_decode(const char *in, size_t inlen, size_t max, char **out, size_t *outlen,
                      bool *truncated, cl_error **errp)
{
    size_t cap = inlen / 4 * 3 + 3;
    if (cap > max)
        cap = max;
    char *buf = malloc(cap + 1);
    if (!buf)
        return cl_error_set(errp, CL_ERR_NOMEM, "agent: out of memory decoding %zu bytes", inlen);
    size_t n = 0;
    unsigned acc = 0;
    int bits = 0;
    bool cut = false, pad = false;
    for (size_t i = 0; i < inlen; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c == '=') {
            pad = true;
            continue;
        }
        if (c == '\n' || c == '\r')
            continue;
        int v = b64val(c);
        if (v < 0 || pad) {
            free(buf);
            return cl_error_set(errp, CL_ERR_AGENT, "agent: invalid base64 at byte %zu", i);
        }
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n < cap)
                buf[n++] = (char)((acc >> bits) & 0xff);
            else
                cut = true;
        }
    }
    buf[n] = '\0';
    *out = buf;
    *outlen = n;
    if (truncated)
        *truncated = cut;
    return true;
}

char *cl_base64_encode(const void *data, size_t len)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (len > ((size_t)-1 - 4) / 4 * 3)
        return NULL;
    const unsigned char *p = data;
    char *out = malloc((len + 2) / 3 * 4 + 1), *o = out;
    if (!out)
        return NULL;
    size_t i = 0;
    for (; i + 2 < len; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
        *o++ = tbl[v >> 18];
        *o++ = tbl[(v >> 12) & 63];
        *o++ = tbl[(v >> 6) & 63];
        *o++ = tbl[v & 63];
    }
    if (i < len) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < len ? (unsigned)p[i + 1] << 8 : 0);
        *o++ = tbl[v >> 18];
        *o++ = tbl[(v >> 12) & 63];
        *o++ = i + 1 < len ? tbl[(v >> 6) & 63] : '=';
        *o++ = '=';
    }
    *o = '\0';
    return out;
}

static bool get_bool(json_object *o, const char *key, bool *v)
{
    json_object *x = NULL;
    if (!json_object_object_get_ex(o, key, &x))
        return false;
    if (!json_object_is_type(x, json_type_boolean))
        return false;
    *v = json_object_get_boolean(x);
    return true;
}

static bool get_int(json_object *o, const char *key, int *v, bool *present)
{
    json_object *x = NULL;
    *present = json_object_object_get_ex(o, key, &x);
    if (!*present)
        return true;
    if (!json_object_is_type(x, json_type_int))
        return false;
    int64_t i = json_object_get_int64(x);
    if (i < INT_MIN || i > INT_MAX)
        return false;
    *v = (int)i;
    return true;
}

static bool get_data(json_object *o, const char *key, size_t maxout, char **out, size_t *outlen,
                     bool *truncated, cl_error **errp)
{
    json_object *x = NULL;
    if (!json_object_object_get_ex(o, key, &x)) {
        *out = calloc(1, 1);
        *outlen = 0;
        return *out ? true : cl_error_set(errp, CL_ERR_NOMEM, "agent: out of memory");
    }
    if (!json_object_is_type(x, json_type_string))
        return cl_error_set(errp, CL_ERR_AGENT, "agent: guest-exec-status '%s' is not a string", key);
    bool cut = false;
    if (!cl_base64_decode(json_object_get_string(x), (size_t)json_object_get_string_len(x), maxout,
                          out, outlen, &cut, errp))
        return false;
    *truncated = *truncated || cut;
    return true;
}

void cl_agent_exec_status_clear(cl_agent_exec_status *st)
{
    free(st->out);
    free(st->err);
    memset(st, 0, sizeof(*st));
}

bool cl_agent_parse_exec_status(json_object *ret, size_t maxout, cl_agent_exec_status *st, cl_error **errp)
{
    cl_agent_exec_status s = { 0 };
    if (!json_object_is_type(ret, json_type_object))
        return cl_error_set(errp, CL_ERR_AGENT, "agent: guest-exec-status did not return an object");
    if (!get_bool(ret, "exited", &s.exited))
        return cl_error_set(errp, CL_ERR_AGENT, "agent: guest-exec-status has no boolean 'exited'");
    if (!s.exited) {
        *st = s;
        return true;
    }
    bool has_code = false, has_sig = false;
    if (!get_int(ret, "exitcode", &s.exitcode, &has_code) || !get_int(ret, "signal", &s.signal, &has_sig))
        return cl_error_set(errp, CL_ERR_AGENT, "agent: guest-exec-status exit code or signal is not a small integer");
    s.signaled = has_sig;
    if (!has_code && !has_sig)
        return cl_error_set(errp, CL_ERR_AGENT, "agent: guest-exec-status says exited but gives no exit code or signal");
    get_bool(ret, "out-truncated", &s.out_truncated);
    get_bool(ret, "err-truncated", &s.err_truncated);
    if (!get_data(ret, "out-data", maxout, &s.out, &s.outlen, &s.out_truncated, errp))
        return false;
    if (!get_data(ret, "err-data", maxout, &s.err, &s.errlen, &s.err_truncated, errp)) {
        free(s.out);
        return false;
    }
    *st = s;
    return true;
}

bool cl_agent_parse_file_read(json_object *ret, size_t asked, char **data, size_t *len, bool *eof, cl_error **errp)
{
    json_object *c = NULL, *b = NULL, *e = NULL;
    if (!json_object_is_type(ret, json_type_object) || !json_object_object_get_ex(ret, "count", &c) ||
        !json_object_is_type(c, json_type_int))
        return cl_error_set(errp, CL_ERR_AGENT, "agent: guest-file-read gave no count");
    int64_t count = json_object_get_int64(c);
    if (count < 0 || (uint64_t)count > asked)
        return cl_error_set(errp, CL_ERR_AGENT, "agent: guest-file-read returned %lld bytes, %zu were asked for",
                            (long long)count, asked);
    *eof = json_object_object_get_ex(ret, "eof", &e) && json_object_get_boolean(e);
    const char *text = "";
    size_t tlen = 0;
    if (json_object_object_get_ex(ret, "buf-b64", &b)) {
        if (!json_object_is_type(b, json_type_string))
            return cl_error_set(errp, CL_ERR_AGENT, "agent: guest-file-read data is not a string");
        text = json_object_get_string(b);
        tlen = (size_t)json_object_get_string_len(b);
    }
    bool cut = false;
    if (!cl_base64_decode(text, tlen, asked, data, len, &cut, errp))
        return false;
    if (cut || *len != (size_t)count) {
        free(*data);
        *data = NULL;
        return cl_error_set(errp, CL_ERR_AGENT, "agent: guest-file-read data does not match its count of %lld",
                            (long long)count);
    }
    return true;
}
