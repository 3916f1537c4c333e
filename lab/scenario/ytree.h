/* ytree.h - a scenario's YAML as a small, bounded node tree (private to lab/scenario).
 *
 * Built from libyaml events rather than libyaml's document API because the document API
 * resolves aliases silently (an alias bomb becomes a DAG that a walker expands) and keeps
 * no position for an alias. Here every limit is enforced while the events arrive: aliases
 * and anchors are refused where they are written, nesting is capped, the number of nodes
 * is capped, keys are scalars and unique. Everything downstream can walk the tree
 * recursively without a second thought.
 */
#ifndef CL_SCENARIO_YTREE_H
#define CL_SCENARIO_YTREE_H

#include <stdbool.h>
#include <stddef.h>

#include "util/error.h"

typedef enum { YT_SCALAR, YT_SEQ, YT_MAP } yt_type;

typedef struct yt_node yt_node;
struct yt_node {
    yt_type type;
    int line, col;        /* 1-based, in characters, as libyaml counts them */
    /* YT_SCALAR */
    char *text;           /* NUL-terminated; never contains a NUL (refused) */
    size_t len;
    bool plain;           /* plain style and no !!str tag: the value is typed by its spelling */
    /* YT_SEQ: items[0..n); YT_MAP: items[2i] key (a scalar), items[2i + 1] value */
    yt_node **items;
    size_t n;             /* entries: items in a sequence, pairs in a mapping */
    size_t cap;           /* allocated slots in items */
};

/* Parses one YAML document into a tree. Syntax errors, an empty stream, several documents,
 * aliases, anchors, tags other than !!str, NUL bytes, invalid UTF-8, nesting deeper than
 * CL_SCENARIO_MAX_DEPTH and more than CL_SCENARIO_MAX_NODES nodes are errors
 * "FILE:LINE:COLUMN: message". data need not be NUL-terminated. */
yt_node *yt_parse(const char *file, const char *data, size_t len, cl_error **errp);

void yt_free(yt_node *n);
CL_DEFINE_AUTOPTR_FUNC(yt_node, yt_free)

/* Sets "FILE:LINE:COLUMN: message" (CL_ERR_INVAL) and returns false. */
bool yt_error_at(cl_error **errp, const char *file, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Line and column (1-based) of byte offset off in data, counted the way libyaml does. */
void yt_offset_position(const char *data, size_t len, size_t off, int *line, int *col);

#endif
