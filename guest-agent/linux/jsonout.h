/* jsonout.h - the one JSON object every labagent command prints on stdout.
 *
 * A tiny writer on purpose: the guest has no json-c, and what we print is flat (strings,
 * integers, one nested object). Strings are escaped byte by byte, so whatever the kernel
 * or the command line hands us cannot break the object. */
#ifndef LABAGENT_JSONOUT_H
#define LABAGENT_JSONOUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

typedef struct {
    FILE *out;
    int depth;
    bool need_comma[8];
} lj_writer;

void lj_begin(lj_writer *w, FILE *out);
void lj_str(lj_writer *w, const char *key, const char *value);
/* A string of at most len bytes that need not be NUL-terminated (kernel buffers). */
void lj_strn(lj_writer *w, const char *key, const char *value, size_t len);
void lj_bool(lj_writer *w, const char *key, bool value);
void lj_int(lj_writer *w, const char *key, long long value);
/* 64-bit values as "0x..." strings: JSON numbers lose precision above 2^53. */
void lj_hex(lj_writer *w, const char *key, uint64_t value);
void lj_object_begin(lj_writer *w, const char *key);
void lj_array_begin(lj_writer *w, const char *key);
void lj_close_object(lj_writer *w);
void lj_close_array(lj_writer *w);
/* Closes the top-level object, prints a newline and flushes: a fault may follow. */
void lj_end(lj_writer *w);

#endif
