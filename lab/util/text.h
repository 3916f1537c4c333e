/* text.h - guest text made safe for each place it is written to.
 *
 * Anything from the guest (exec output, the console, titles from a dump, agent errors) is
 * arbitrary bytes. Each sink has its own rule, applied where the sink is written:
 *  - JSON (result.json): valid UTF-8; every invalid byte becomes U+FFFD, a cap never cuts
 *    a character in half (cl_text_utf8_cut, cl_text_json_clean).
 *  - XML (junit.xml, domain XML): characters XML 1.0 forbids (C0 controls but tab, newline
 *    and carriage return; invalid UTF-8) become U+FFFD (cl_buf_add_xml does this).
 *  - a terminal: no control character reaches it; ESC, C1 controls and the like are
 *    shown as \xNN (cl_text_terminal). */
#ifndef CL_UTIL_TEXT_H
#define CL_UTIL_TEXT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* Length of the valid UTF-8 sequence starting at s (at most len bytes), 0 if invalid
 * (overlong forms, surrogates and code points past U+10FFFF are invalid). *cp gets it. */
size_t cl_text_utf8_seq(const unsigned char *s, size_t len, unsigned *cp);

/* The largest n <= max (and <= len) that does not end inside a UTF-8 sequence. */
size_t cl_text_utf8_cut(const char *s, size_t len, size_t max);

/* A NUL-terminated copy of s[0..len) with every invalid byte (and NUL) as U+FFFD; NULL when
 * out of memory. Caller frees. */
char *cl_text_utf8_clean(const char *s, size_t len);

/* Walks a JSON tree and replaces every string (value or key) that is not valid UTF-8, or
 * holds a NUL, with its cleaned copy. Returns how many were replaced. */
size_t cl_text_json_clean(json_object *o);

/* Copies s into out (outlen > 0) for a terminal: printable characters and valid UTF-8
 * above U+009F kept, tab kept, every other byte or control shown as \xNN; cut with
 * "..." when it does not fit. */
void cl_text_terminal(const char *s, char *out, size_t outlen);

/* Writes s to f for a terminal, line by line: like cl_text_terminal, but newlines are kept
 * and nothing is cut. For the human output of commands that print what a dump holds. */
void cl_text_put_lines(FILE *f, const char *s);

#endif
