/* truth.c - the fired ground-truth line, found and normalized (truth.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "truth.h"

#define MARK "labfault: ground-truth "

bool cl_truth_fired_line(const char *text, size_t len, char *out, size_t outlen)
{
    bool found = false;
    if (!text || !outlen)
        return false;
    const char *end = text + len;
    for (const char *p = text; p < end && (p = memmem(p, (size_t)(end - p), MARK, strlen(MARK))); p++) {
        const char *j = p + strlen(MARK);
        const char *e = memchr(j, '\n', (size_t)(end - j));
        if (!e)
            e = end;
        size_t n = (size_t)(e - j);
        while (n && (j[n - 1] == '\r' || j[n - 1] == ' '))
            n--;
        /* A line cut short (the guest died mid-print) is not a candidate. */
        if (n < 2 || j[0] != '{' || j[n - 1] != '}' || n >= outlen || n >= CL_TRUTH_LINE_MAX)
            continue;
        if (!memmem(j, n, "\"state\":\"fired\"", 15))
            continue;
        memcpy(out, j, n);
        out[n] = '\0';
        found = true;
    }
    return found;
}

static bool is_number_key(const char *k)
{
    return !strcmp(k, "pid") || !strcmp(k, "cpu") || !strncmp(k, "pid_", 4);
}

/* "0x1f" or "31" -> 31; false on anything else or past INT64_MAX. */
static bool parse_uint(const char *s, int64_t *out)
{
    if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
        return false;
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 0);
    if (errno || !end || *end || v > INT64_MAX)
        return false;
    *out = (int64_t)v;
    return true;
}

json_object *cl_truth_parse(const char *line, const char *source, char *why, size_t whylen)
{
    json_tokener *tok = json_tokener_new_ex(4);
    if (!tok) {
        snprintf(why, whylen, "out of memory");
        return NULL;
    }
    size_t len = strnlen(line, CL_TRUTH_LINE_MAX);
    json_object *in = json_tokener_parse_ex(tok, line, (int)len);
    bool whole = in && json_tokener_get_error(tok) == json_tokener_success && tok->char_offset == (int)len;
    json_tokener_free(tok);
    if (!whole || !json_object_is_type(in, json_type_object)) {
        json_object_put(in);
        snprintf(why, whylen, "the ground-truth line is not one JSON object");
        return NULL;
    }
    json_object *out = json_object_new_object();
    int n = 0;
    json_object_object_foreach(in, k, v)
    {
        if (++n > CL_TRUTH_MAX_ITEMS || strlen(k) > 32 || !json_object_is_type(v, json_type_string) ||
            json_object_get_string_len(v) > 64) {
            snprintf(why, whylen, "ground-truth item '%.32s' is not a short string (or there are more than %d)", k,
                     CL_TRUTH_MAX_ITEMS);
            json_object_put(in);
            json_object_put(out);
            return NULL;
        }
        int64_t num;
        if (is_number_key(k)) {
            if (!parse_uint(json_object_get_string(v), &num)) {
                snprintf(why, whylen, "ground-truth item '%s' is not a number: '%.64s'", k, json_object_get_string(v));
                json_object_put(in);
                json_object_put(out);
                return NULL;
            }
            json_object_object_add(out, k, json_object_new_int64(num));
        } else {
            json_object_object_add(out, k, json_object_get(v));
        }
    }
    json_object_put(in);
    json_object_object_add(out, "source", json_object_new_string(source));
    return out;
}

json_object *cl_truth_from_arm(json_object *arm, bool keep_task)
{
    static const char *const firing[] = { "task", "pid", "cpu", "stack", "comm", "thread" };
    if (!arm || !json_object_is_type(arm, json_type_object))
        return NULL;
    json_object *out = json_object_new_object();
    json_object_object_foreach(arm, k, v)
    {
        bool drop = false;
        for (size_t i = 0; !keep_task && i < sizeof(firing) / sizeof(firing[0]); i++)
            drop |= !strcmp(k, firing[i]);
        if (drop)
            continue;
        int64_t num;
        if (is_number_key(k) && json_object_is_type(v, json_type_string) && parse_uint(json_object_get_string(v), &num))
            json_object_object_add(out, k, json_object_new_int64(num));
        else
            json_object_object_add(out, k, json_object_get(v));
    }
    json_object_object_add(out, "source", json_object_new_string("agent-arm"));
    return out;
}
