/* yget.h - typed reads of ytree nodes with errors that name the field (private to
 * lab/scenario). Every reader reports "FILE:LINE:COLUMN: PATH: what is wrong" at the
 * offending node and returns false; out-params are written only on success.
 *
 * Typing follows the YAML 1.2 core schema: a plain scalar is null (empty, ~, null),
 * a boolean (true/false), an integer (decimal, 0x hex, 0o octal) or a float by its
 * spelling; a quoted scalar is always a string. A string field takes any non-null scalar
 * as the text written, so `version: 1.0` is the string "1.0".
 */
#ifndef CL_SCENARIO_YGET_H
#define CL_SCENARIO_YGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "scenario/ytree.h"

typedef struct {
    const char *file;
    cl_error **errp;
} yctx;

/* String checks for y_string. */
enum {
    Y_NONEMPTY = 1 << 0,   /* "" is an error */
    Y_MULTILINE = 1 << 1,  /* newlines and tabs allowed (commands, descriptions) */
    Y_ASCII = 1 << 2,      /* printable ASCII only (kernel command line, SMBIOS) */
};

bool y_fail(const yctx *c, const yt_node *n, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

bool y_is_null(const yt_node *n);
/* "'lots'", "the quoted string '256'", "null", "a mapping", "a sequence". */
void y_describe(const yt_node *n, char *buf, size_t len);

/* The value under key in a mapping, or NULL; *keyp (optional) gets the key node. */
const yt_node *y_map_get(const yt_node *map, const char *key, const yt_node **keyp);
/* Every key of map must be in known (NULL-terminated). where: "guest", "top level", ... */
bool y_check_keys(const yctx *c, const yt_node *map, const char *where, const char *const *known);
/* "missing required field" at the place the mapping was introduced. */
bool y_require(const yctx *c, const yt_node *map, const yt_node *at, const char *path, const char *key,
               const yt_node **out);

bool y_expect_map(const yctx *c, const yt_node *n, const char *path);
bool y_expect_seq(const yctx *c, const yt_node *n, const char *path);

bool y_uint(const yctx *c, const yt_node *n, const char *path, uint64_t min, uint64_t max, uint64_t *out);
/* Seconds: a plain integer or decimal number in (0, CL_SCENARIO_MAX_SECONDS]. */
bool y_seconds(const yctx *c, const yt_node *n, const char *path, double *out);
bool y_bool(const yctx *c, const yt_node *n, const char *path, bool *out);
bool y_string(const yctx *c, const yt_node *n, const char *path, size_t maxlen, unsigned flags, char **out);
/* One of names[0..count); *out is the index. */
bool y_enum(const yctx *c, const yt_node *n, const char *path, const char *const *names, int count, int *out);

/* The scalar's text as a fault parameter value (plain or quoted); NULL with an error for
 * null and collections. */
const char *y_scalar_text(const yctx *c, const yt_node *n, const char *path);

/* A YAML 1.2 core integer (decimal, 0x hex, 0o octal, optional sign). Returns 0 ok,
 * 1 not an integer, 2 too large for 64 bits, 3 negative. */
int y_parse_uint(const char *text, uint64_t *out);

/* The closest of known to word within edit distance 2, or NULL. */
const char *y_suggest(const char *word, const char *const *known);

#endif
