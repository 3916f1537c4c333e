/* yget.c - typed reads of ytree nodes; see yget.h. */
#include "yget.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario/scenario.h"

bool y_fail(const yctx *c, const yt_node *n, const char *path, const char *fmt, ...)
{
    char msg[800];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    int line = n ? n->line : 1, col = n ? n->col : 1;
    if (path && *path)
        return yt_error_at(c->errp, c->file, line, col, "%s: %s", path, msg);
    return yt_error_at(c->errp, c->file, line, col, "%s", msg);
}

bool y_is_null(const yt_node *n)
{
    if (!n || n->type != YT_SCALAR || !n->plain)
        return false;
    const char *t = n->text;
    return !*t || !strcmp(t, "~") || !strcmp(t, "null") || !strcmp(t, "Null") || !strcmp(t, "NULL");
}

/* Shows at most 40 characters of a value, with anything unprintable as '?', so that an
 * error line stays one line whatever the file holds. */
static void excerpt(const char *s, char *buf, size_t len)
{
    size_t o = 0, i = 0;
    for (; s[i] && i < 40 && o + 1 < len; i++)
        buf[o++] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
    if (s[i] && o + 4 < len) {
        memcpy(buf + o, "...", 3);
        o += 3;
    }
    buf[o] = '\0';
}

void y_describe(const yt_node *n, char *buf, size_t len)
{
    if (n->type == YT_MAP) {
        snprintf(buf, len, "a mapping");
    } else if (n->type == YT_SEQ) {
        snprintf(buf, len, "a sequence");
    } else if (y_is_null(n)) {
        snprintf(buf, len, "null");
    } else {
        char ex[64];
        excerpt(n->text, ex, sizeof(ex));
        snprintf(buf, len, "%s'%s'", n->plain ? "" : "the quoted string ", ex);
    }
}

const yt_node *y_map_get(const yt_node *map, const char *key, const yt_node **keyp)
{
    if (!map || map->type != YT_MAP)
        return NULL;
    for (size_t i = 0; i < map->n; i++) {
        if (!strcmp(map->items[2 * i]->text, key)) {
            if (keyp)
                *keyp = map->items[2 * i];
            return map->items[2 * i + 1];
        }
    }
    return NULL;
}

static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 32 || lb > 32)
        return 99;
    size_t prev[33], cur[33];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, sizeof(prev));
    }
    return prev[lb];
}

const char *y_suggest(const char *word, const char *const *known)
{
    const char *best = NULL;
    size_t bestd = 3;
    for (size_t i = 0; known[i]; i++) {
        size_t d = edit_distance(word, known[i]);
        if (d < bestd) {
            bestd = d;
            best = known[i];
        }
    }
    return best;
}

bool y_check_keys(const yctx *c, const yt_node *map, const char *where, const char *const *known)
{
    for (size_t i = 0; i < map->n; i++) {
        const yt_node *k = map->items[2 * i];
        bool found = false;
        for (size_t j = 0; known[j] && !found; j++)
            found = !strcmp(k->text, known[j]);
        if (found)
            continue;
        char list[400];
        size_t o = 0;
        list[0] = '\0';
        for (size_t j = 0; known[j] && o < sizeof(list); j++) {
            int w = snprintf(list + o, sizeof(list) - o, "%s%s", j ? ", " : "", known[j]);
            if (w < 0)
                break;
            o += (size_t)w;
        }
        char ex[64];
        excerpt(k->text, ex, sizeof(ex));
        const char *hint = y_suggest(k->text, known);
        if (hint)
            return y_fail(c, k, NULL, "unknown key '%s' in %s (did you mean '%s'? known: %s)", ex, where, hint, list);
        return y_fail(c, k, NULL, "unknown key '%s' in %s (known: %s)", ex, where, list);
    }
    return true;
}

bool y_require(const yctx *c, const yt_node *map, const yt_node *at, const char *path, const char *key,
               const yt_node **out)
{
    const yt_node *v = y_map_get(map, key, NULL);
    if (!v)
        return y_fail(c, at ? at : map, path, "missing required field '%s'", key);
    *out = v;
    return true;
}

bool y_expect_map(const yctx *c, const yt_node *n, const char *path)
{
    if (n->type == YT_MAP)
        return true;
    char got[96];
    y_describe(n, got, sizeof(got));
    return y_fail(c, n, path, "expected a mapping, got %s", got);
}

bool y_expect_seq(const yctx *c, const yt_node *n, const char *path)
{
    if (n->type == YT_SEQ)
        return true;
    char got[96];
    y_describe(n, got, sizeof(got));
    return y_fail(c, n, path, "expected a sequence, got %s", got);
}

static int digit_value(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return 99;
}

/* YAML 1.2 core integers, parsed by hand: strtoull would take leading blanks, a sign on
 * an unsigned value and C's 0-prefixed octal. */
int y_parse_uint(const char *t, uint64_t *out)
{
    int neg = 0;
    if (*t == '-' || *t == '+')
        neg = *t++ == '-';
    unsigned base = 10;
    if (t[0] == '0' && (t[1] == 'x' || t[1] == 'X'))
        base = 16, t += 2;
    else if (t[0] == '0' && t[1] == 'o')
        base = 8, t += 2;
    if (!*t)
        return 1;
    uint64_t v = 0;
    bool overflow = false;
    for (; *t; t++) {
        int d = digit_value(*t);
        if (d >= (int)base)
            return 1;
        if (v > (UINT64_MAX - (uint64_t)d) / base)
            overflow = true;
        else
            v = v * base + (uint64_t)d;
    }
    if (neg && (v || overflow))
        return 3;
    if (overflow)
        return 2;
    *out = v;
    return 0;
}

bool y_uint(const yctx *c, const yt_node *n, const char *path, uint64_t min, uint64_t max, uint64_t *out)
{
    char got[96];
    y_describe(n, got, sizeof(got));
    if (n->type != YT_SCALAR || !n->plain || y_is_null(n))
        return y_fail(c, n, path, "expected an integer, got %s", got);
    uint64_t v = 0;
    int r = y_parse_uint(n->text, &v);
    if (r == 1)
        return y_fail(c, n, path, "expected an integer, got %s", got);
    if (r != 0 || v < min || v > max)
        return y_fail(c, n, path, "%s is out of range [%" PRIu64 ", %" PRIu64 "]", got, min, max);
    *out = v;
    return true;
}

static bool looks_decimal(const char *t)
{
    bool digits = false;
    if (*t == '+' || *t == '-')
        t++;
    for (; (*t >= '0' && *t <= '9') || *t == '.'; t++)
        digits |= *t != '.';
    if (digits && (*t == 'e' || *t == 'E')) {
        t++;
        if (*t == '+' || *t == '-')
            t++;
        if (!(*t >= '0' && *t <= '9'))
            return false;
        while (*t >= '0' && *t <= '9')
            t++;
    }
    return digits && !*t;
}

bool y_seconds(const yctx *c, const yt_node *n, const char *path, double *out)
{
    char got[96];
    y_describe(n, got, sizeof(got));
    if (n->type != YT_SCALAR || !n->plain || y_is_null(n) || !looks_decimal(n->text))
        return y_fail(c, n, path, "expected a number of seconds, got %s", got);
    errno = 0;
    char *end = NULL;
    double v = strtod(n->text, &end);
    if (!end || *end)
        return y_fail(c, n, path, "expected a number of seconds, got %s", got);
    if (!isfinite(v) || v <= 0 || v > CL_SCENARIO_MAX_SECONDS)
        return y_fail(c, n, path, "%s is out of range: seconds must be > 0 and <= %.0f", got, CL_SCENARIO_MAX_SECONDS);
    *out = v;
    return true;
}

bool y_bool(const yctx *c, const yt_node *n, const char *path, bool *out)
{
    if (n->type == YT_SCALAR && n->plain) {
        const char *t = n->text;
        if (!strcmp(t, "true") || !strcmp(t, "True") || !strcmp(t, "TRUE")) {
            *out = true;
            return true;
        }
        if (!strcmp(t, "false") || !strcmp(t, "False") || !strcmp(t, "FALSE")) {
            *out = false;
            return true;
        }
    }
    char got[96];
    y_describe(n, got, sizeof(got));
    return y_fail(c, n, path, "expected true or false, got %s", got);
}

bool y_string(const yctx *c, const yt_node *n, const char *path, size_t maxlen, unsigned flags, char **out)
{
    char got[96];
    y_describe(n, got, sizeof(got));
    if (n->type != YT_SCALAR || y_is_null(n))
        return y_fail(c, n, path, "expected a string, got %s", got);
    if ((flags & Y_NONEMPTY) && !n->len)
        return y_fail(c, n, path, "must not be empty");
    if (n->len > maxlen)
        return y_fail(c, n, path, "longer than %zu bytes", maxlen);
    for (size_t i = 0; i < n->len; i++) {
        unsigned char ch = (unsigned char)n->text[i];
        bool ctl = ch < 0x20 || ch == 0x7f;
        if (ctl && (flags & Y_MULTILINE) && (ch == '\n' || ch == '\t'))
            continue;
        if (ctl)
            return y_fail(c, n, path, "control character 0x%02x at offset %zu is not allowed here", ch, i);
        if ((flags & Y_ASCII) && ch > 0x7e)
            return y_fail(c, n, path, "only printable ASCII is allowed here (byte 0x%02x at offset %zu)", ch, i);
    }
    char *s = strdup(n->text);
    if (!s)
        return cl_error_set(c->errp, CL_ERR_NOMEM, "%s: out of memory", c->file);
    *out = s;
    return true;
}

bool y_enum(const yctx *c, const yt_node *n, const char *path, const char *const *names, int count, int *out)
{
    if (n->type == YT_SCALAR && !y_is_null(n)) {
        for (int i = 0; i < count; i++) {
            if (!strcmp(n->text, names[i])) {
                *out = i;
                return true;
            }
        }
    }
    char got[96], list[300];
    size_t o = 0;
    list[0] = '\0';
    for (int i = 0; i < count && o < sizeof(list); i++) {
        int w = snprintf(list + o, sizeof(list) - o, "%s%s", i ? ", " : "", names[i]);
        if (w < 0)
            break;
        o += (size_t)w;
    }
    y_describe(n, got, sizeof(got));
    return y_fail(c, n, path, "expected one of %s, got %s", list, got);
}

const char *y_scalar_text(const yctx *c, const yt_node *n, const char *path)
{
    if (n->type == YT_SCALAR && !y_is_null(n))
        return n->text;
    char got[96];
    y_describe(n, got, sizeof(got));
    y_fail(c, n, path, "expected a value, got %s", got);
    return NULL;
}
