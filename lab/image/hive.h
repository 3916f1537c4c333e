/* hive.h - Windows registry hives (SYSTEM, SOFTWARE, the BCD store) through hivex.
 *
 * A hive comes off a guest's disk, so it is hostile: the file's size is capped before it
 * is opened (hivex reads it whole), every value's length is checked before its data is
 * read, and strings are decoded from UTF-16LE into caller-sized buffers. Key paths are
 * backslash-separated, relative to the hive's root, matched without regard to case (as
 * Windows does). Writes are for image prepare only and go to a copy of the hive.
 */
#ifndef CL_IMAGE_HIVE_H
#define CL_IMAGE_HIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/error.h"

#define CL_HIVE_MAX_BYTES (1024ull << 20) /* a real SOFTWARE hive is 50-300 MiB */
#define CL_HIVE_MAX_VALUE (64u << 10)     /* the values the lab reads are a few bytes */
#define CL_HIVE_MAX_DEPTH 16              /* components of a key path */

/* Registry value types (winnt.h), the ones the lab reads and writes. */
#define CL_REG_SZ 1
#define CL_REG_EXPAND_SZ 2
#define CL_REG_BINARY 3
#define CL_REG_DWORD 4
#define CL_REG_MULTI_SZ 7

typedef struct cl_hive cl_hive;

/* Opens a hive file (at most CL_HIVE_MAX_BYTES); write: changes may be committed. */
cl_hive *cl_hive_open(const char *path, bool write, cl_error **errp);
void cl_hive_free(cl_hive *h);
CL_DEFINE_AUTOPTR_FUNC(cl_hive, cl_hive_free)

/* Writes the changed hive to path (a temporary name; the caller renames or uploads it). */
bool cl_hive_commit(cl_hive *h, const char *path, cl_error **errp);

bool cl_hive_key_exists(cl_hive *h, const char *key);

/* Reads a REG_DWORD (also a 4-byte REG_BINARY). false: absent or another type. */
bool cl_hive_dword(cl_hive *h, const char *key, const char *name, uint32_t *out);

/* Reads REG_SZ / REG_EXPAND_SZ as UTF-8 (REG_MULTI_SZ: the strings joined by '\n').
 * false: absent, another type, or longer than CL_HIVE_MAX_VALUE. The text is cut to
 * outlen - 1 bytes. */
bool cl_hive_string(cl_hive *h, const char *key, const char *name, char *out, size_t outlen);

/* Reads a value of any type as raw bytes (at most cap); *len is the value's length. */
bool cl_hive_binary(cl_hive *h, const char *key, const char *name, uint8_t *out, size_t cap, size_t *len);

/* Writers: create the key path when missing, replace the value when present. */
bool cl_hive_set_dword(cl_hive *h, const char *key, const char *name, uint32_t v, cl_error **errp);
bool cl_hive_set_string(cl_hive *h, const char *key, const char *name, int type, const char *utf8, cl_error **errp);
bool cl_hive_set_binary(cl_hive *h, const char *key, const char *name, int type, const void *data, size_t len,
                        cl_error **errp);

/* UTF-16LE (len bytes, stops at a NUL) to UTF-8, always NUL-terminated, cut at a whole
 * character. Unpaired surrogates become U+FFFD. Returns the bytes written. Pure. */
size_t cl_utf16le_to_utf8(const uint8_t *in, size_t len, char *out, size_t outlen);

/* UTF-8 to UTF-16LE with a terminating NUL; returns bytes written, 0 if it does not fit
 * or the input is not UTF-8. Pure. */
size_t cl_utf8_to_utf16le(const char *in, uint8_t *out, size_t outlen);

#endif
