/* ytree.c - libyaml events -> bounded node tree; see ytree.h for why events. */
#include "ytree.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "scenario/scenario.h"

#define YT_STR_TAG "tag:yaml.org,2002:str"

bool yt_error_at(cl_error **errp, const char *file, int line, int col, const char *fmt, ...)
{
    char msg[1024];
    int n = snprintf(msg, sizeof(msg), "%s:%d:%d: ", file, line, col);
    if (n < 0 || (size_t)n >= sizeof(msg))
        n = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg + n, sizeof(msg) - (size_t)n, fmt, ap);
    va_end(ap);
    /* Values quoted in messages come from the file ("1\n2", a %0A in a tag): keep the
     * error one line whatever they hold. */
    for (char *p = msg; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    return cl_error_set(errp, CL_ERR_INVAL, "%s", msg);
}

/* libyaml breaks lines at \n, \r\n and a lone \r, and counts columns in characters. */
void yt_offset_position(const char *data, size_t len, size_t off, int *line, int *col)
{
    int l = 1, c = 1;
    if (off > len)
        off = len;
    for (size_t i = 0; i < off; i++) {
        unsigned char b = (unsigned char)data[i];
        if (b == '\n' || (b == '\r' && (i + 1 >= len || data[i + 1] != '\n'))) {
            l++;
            c = 1;
        } else if (b != '\r' && (b & 0xC0) != 0x80) {
            c++;
        }
    }
    *line = l;
    *col = c;
}

/* Offset of the first NUL or invalid UTF-8 sequence (overlong, surrogate, > U+10FFFF,
 * truncated), or len when the buffer is clean. libyaml would also refuse these, but with
 * a byte offset instead of a position and a message a user cannot act on. */
static size_t bad_byte(const unsigned char *p, size_t len, const char **why)
{
    size_t i = 0;
    while (i < len) {
        unsigned char b = p[i];
        if (b == 0) {
            *why = "NUL byte";
            return i;
        }
        if (b < 0x80) {
            i++;
            continue;
        }
        size_t need;
        uint32_t cp, min;
        if ((b & 0xE0) == 0xC0) {
            need = 1, cp = b & 0x1F, min = 0x80;
        } else if ((b & 0xF0) == 0xE0) {
            need = 2, cp = b & 0x0F, min = 0x800;
        } else if ((b & 0xF8) == 0xF0) {
            need = 3, cp = b & 0x07, min = 0x10000;
        } else {
            *why = "invalid UTF-8 byte";
            return i;
        }
        if (need > len - i - 1) {
            *why = "truncated UTF-8 sequence";
            return i;
        }
        for (size_t k = 1; k <= need; k++) {
            if ((p[i + k] & 0xC0) != 0x80) {
                *why = "invalid UTF-8 sequence";
                return i;
            }
            cp = (cp << 6) | (p[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
            *why = "invalid UTF-8 sequence";
            return i;
        }
        i += need + 1;
    }
    return len;
}

void yt_free(yt_node *n)
{
    if (!n)
        return;
    size_t slots = n->type == YT_MAP ? 2 * n->n : n->n;
    /* A mapping may hold an odd key whose value never arrived (error path). */
    if (n->type == YT_MAP && slots < n->cap && n->items && n->items[slots])
        slots++;
    for (size_t i = 0; i < slots && n->items; i++)
        yt_free(n->items[i]);
    free(n->items);
    free(n->text);
    free(n);
}

typedef struct {
    const char *file;
    cl_error **errp;
    yt_node *root;
    yt_node *stack[CL_SCENARIO_MAX_DEPTH];
    int depth;
    size_t nodes;
    int docs;
} builder;

static bool __attribute__((format(printf, 3, 4))) fail_at(builder *b, const yaml_mark_t *m, const char *fmt, ...)
{
    char msg[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return yt_error_at(b->errp, b->file, (int)m->line + 1, (int)m->column + 1, "%s", msg);
}

/* Anchors are refused along with aliases: without aliases they do nothing, and a file
 * that has them was written for a loader that expands them. */
static bool check_props(builder *b, const yaml_event_t *ev, const yaml_char_t *anchor,
                        const yaml_char_t *tag, bool scalar)
{
    if (anchor)
        return fail_at(b, &ev->start_mark,
                       "anchor '&%.100s' not allowed: scenarios do not use anchors or aliases", (const char *)anchor);
    if (tag && !(scalar && !strcmp((const char *)tag, YT_STR_TAG)))
        return fail_at(b, &ev->start_mark, "tag '%.100s' not allowed (only !!str is)", (const char *)tag);
    return true;
}

static bool attach(builder *b, yt_node *n, const yaml_mark_t *m)
{
    if (b->depth == 0) {
        b->root = n;
        return true;
    }
    yt_node *parent = b->stack[b->depth - 1];
    /* A mapping's key waits in items[2n] until its value arrives and n counts the pair. */
    bool pending_key = parent->type == YT_MAP && 2 * parent->n < parent->cap && parent->items[2 * parent->n];
    size_t slot = parent->type == YT_MAP ? 2 * parent->n + (pending_key ? 1 : 0) : parent->n;
    bool is_key = parent->type == YT_MAP && !pending_key;
    if (is_key && n->type != YT_SCALAR) {
        const char *what = n->type == YT_MAP ? "mapping" : "sequence";
        yt_free(n);
        return fail_at(b, m, "a mapping key must be a plain string, got a %s", what);
    }
    if (is_key) {
        for (size_t i = 0; i < parent->n; i++) {
            const yt_node *k = parent->items[2 * i];
            if (k->len == n->len && !memcmp(k->text, n->text, n->len)) {
                char key[104];
                snprintf(key, sizeof(key), "%.100s", n->text);
                yt_free(n);
                return fail_at(b, m, "duplicate key '%s' (first at %d:%d)", key, k->line, k->col);
            }
        }
    }
    if (slot + 1 >= parent->cap) {
        size_t cap = parent->cap ? parent->cap * 2 : 8;
        yt_node **items = realloc(parent->items, cap * sizeof(*items));
        if (!items) {
            yt_free(n);
            return cl_error_set(b->errp, CL_ERR_NOMEM, "%s: out of memory", b->file);
        }
        memset(items + parent->cap, 0, (cap - parent->cap) * sizeof(*items));
        parent->items = items;
        parent->cap = cap;
    }
    parent->items[slot] = n;
    if (!is_key)
        parent->n++;
    return true;
}

static yt_node *new_node(builder *b, yt_type type, const yaml_mark_t *m)
{
    if (++b->nodes > CL_SCENARIO_MAX_NODES) {
        fail_at(b, m, "more than %d YAML nodes", CL_SCENARIO_MAX_NODES);
        return NULL;
    }
    yt_node *n = calloc(1, sizeof(*n));
    if (!n) {
        cl_error_set(b->errp, CL_ERR_NOMEM, "%s: out of memory", b->file);
        return NULL;
    }
    n->type = type;
    n->line = (int)m->line + 1;
    n->col = (int)m->column + 1;
    return n;
}

static bool on_scalar(builder *b, const yaml_event_t *ev)
{
    if (!check_props(b, ev, ev->data.scalar.anchor, ev->data.scalar.tag, true))
        return false;
    const char *v = (const char *)ev->data.scalar.value;
    size_t len = ev->data.scalar.length;
    if (memchr(v, '\0', len))
        return fail_at(b, &ev->start_mark, "a NUL character is not allowed in a value");
    yt_node *n = new_node(b, YT_SCALAR, &ev->start_mark);
    if (!n)
        return false;
    n->text = malloc(len + 1);
    if (!n->text) {
        yt_free(n);
        return cl_error_set(b->errp, CL_ERR_NOMEM, "%s: out of memory", b->file);
    }
    memcpy(n->text, v, len);
    n->text[len] = '\0';
    n->len = len;
    n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && !ev->data.scalar.tag;
    return attach(b, n, &ev->start_mark);
}

static bool on_collection(builder *b, const yaml_event_t *ev, yt_type type)
{
    const yaml_char_t *anchor = type == YT_MAP ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor;
    const yaml_char_t *tag = type == YT_MAP ? ev->data.mapping_start.tag : ev->data.sequence_start.tag;
    if (!check_props(b, ev, anchor, tag, false))
        return false;
    if (b->depth >= CL_SCENARIO_MAX_DEPTH) {
        return fail_at(b, &ev->start_mark, "nesting deeper than %d levels", CL_SCENARIO_MAX_DEPTH);
    }
    yt_node *n = new_node(b, type, &ev->start_mark);
    if (!n || !attach(b, n, &ev->start_mark))
        return false;
    b->stack[b->depth++] = n;
    return true;
}

static bool syntax_error(builder *b, const yaml_parser_t *p, const char *data, size_t len)
{
    int line, col;
    if (p->error == YAML_MEMORY_ERROR)
        return cl_error_set(b->errp, CL_ERR_NOMEM, "%s: out of memory while parsing YAML", b->file);
    if (p->error == YAML_READER_ERROR) {
        yt_offset_position(data, len, p->problem_offset, &line, &col);
    } else {
        line = (int)p->problem_mark.line + 1;
        col = (int)p->problem_mark.column + 1;
    }
    const char *problem = p->problem ? p->problem : "cannot parse";
    if (p->context && p->error != YAML_READER_ERROR)
        return yt_error_at(b->errp, b->file, line, col, "YAML syntax error: %s (%s at %d:%d)", problem,
                           p->context, (int)p->context_mark.line + 1, (int)p->context_mark.column + 1);
    return yt_error_at(b->errp, b->file, line, col, "YAML syntax error: %s", problem);
}

static bool build(builder *b, yaml_parser_t *parser, const char *data, size_t len)
{
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(parser, &ev))
            return syntax_error(b, parser, data, len);
        bool ok = true, done = false;
        switch (ev.type) {
        case YAML_DOCUMENT_START_EVENT:
            if (b->docs++)
                ok = fail_at(b, &ev.start_mark, "a scenario file holds one YAML document, found a second");
            break;
        case YAML_SCALAR_EVENT:
            ok = on_scalar(b, &ev);
            break;
        case YAML_SEQUENCE_START_EVENT:
            ok = on_collection(b, &ev, YT_SEQ);
            break;
        case YAML_MAPPING_START_EVENT:
            ok = on_collection(b, &ev, YT_MAP);
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            if (b->depth > 0)
                b->depth--;
            break;
        case YAML_ALIAS_EVENT:
            ok = fail_at(b, &ev.start_mark, "alias '*%.100s' not allowed: scenarios do not use anchors or aliases",
                         (const char *)ev.data.alias.anchor);
            break;
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
        if (!ok || done)
            return ok;
    }
}

yt_node *yt_parse(const char *file, const char *data, size_t len, cl_error **errp)
{
    const char *why = NULL;
    size_t bad = bad_byte((const unsigned char *)data, len, &why);
    if (bad < len) {
        int line, col;
        yt_offset_position(data, len, bad, &line, &col);
        yt_error_at(errp, file, line, col, "%s at byte %zu: a scenario is UTF-8 text", why, bad);
        return NULL;
    }

    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        cl_error_set(errp, CL_ERR_NOMEM, "%s: cannot initialise the YAML parser", file);
        return NULL;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
    builder b = { .file = file, .errp = errp };
    bool ok = build(&b, &parser, data, len);
    yaml_parser_delete(&parser);
    if (!ok) {
        yt_free(b.root);
        return NULL;
    }
    if (!b.root) {
        yt_error_at(errp, file, 1, 1, "empty scenario: expected a mapping with guest, steps and expect");
        return NULL;
    }
    return b.root;
}
