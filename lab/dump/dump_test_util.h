/* dump_test_util.h - helpers shared by the dump readers' unit tests (not part of crashlab). */
#ifndef CL_DUMP_TEST_UTIL_H
#define CL_DUMP_TEST_UTIL_H

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "data/dumps/synth.h"
#include "dump/dump.h"

#define REAL_DUMPS "../shared/testdata/windows-dumps"

/* Writes data to a fresh temporary file; the caller unlinks and frees the path. */
static inline char *tu_write_tmp(const void *data, size_t len)
{
    char *path = strdup("/tmp/crashlab-dumptest.XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0) {
        free(path);
        return NULL;
    }
    const unsigned char *p = data;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n <= 0)
            break;
        p += n;
        len -= (size_t)n;
    }
    close(fd);
    return path;
}

static inline bool tu_crash_matches(const cl_dump_crash *c, json_object *o);

/* Inspects len bytes of data written to a file; returns the exit-style code, *out the object
 * (checked against the typed crash handed back with it). */
static inline int tu_inspect_buf(const void *data, size_t len, json_object **out)
{
    char *path = tu_write_tmp(data, len);
    cl_error *err = NULL;
    *out = NULL;
    cl_dump_crash crash;
    int rc = path ? cl_dump_inspect_crash(path, out, &crash, &err) : -1;
    if (*out)
        CHECK(tu_crash_matches(&crash, *out));
    cl_error_free(err);
    if (path)
        unlink(path);
    free(path);
    return rc;
}

/* Follows a dotted path ("bugcheck.params.1") through objects and arrays. */
static inline json_object *tu_get(json_object *o, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", path);
    for (char *save = NULL, *k = strtok_r(buf, ".", &save); k && o; k = strtok_r(NULL, ".", &save)) {
        if (json_object_is_type(o, json_type_array))
            o = json_object_array_get_idx(o, (size_t)atoi(k));
        else if (!json_object_object_get_ex(o, k, &o))
            o = NULL;
    }
    return o;
}

static inline const char *tu_str(json_object *o, const char *path)
{
    json_object *v = tu_get(o, path);
    return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static inline int64_t tu_int(json_object *o, const char *path)
{
    json_object *v = tu_get(o, path);
    return v ? json_object_get_int64(v) : -1;
}

static inline bool tu_bool(json_object *o, const char *path)
{
    json_object *v = tu_get(o, path);
    return v && json_object_get_boolean(v);
}

/* The typed crash and the inspect object tell the same: title, bug check code and
 * parameters (or none), Linux panic message (or none). */
static inline bool tu_crash_matches(const cl_dump_crash *c, json_object *o)
{
    if (!tu_str(o, "title") || strcmp(c->title, tu_str(o, "title")))
        return false;
    if (!c->bugcheck_known) {
        if (tu_get(o, "bugcheck"))
            return false;
    } else {
        char code[16];
        snprintf(code, sizeof(code), "0x%x", (unsigned)c->bugcheck);
        if (!tu_str(o, "bugcheck.code") || strcmp(code, tu_str(o, "bugcheck.code")))
            return false;
        for (int i = 0; i < 4; i++) {
            char k[32];
            snprintf(k, sizeof(k), "bugcheck.params.%d", i);
            if (!tu_str(o, k) || strtoull(tu_str(o, k), NULL, 16) != c->params[i])
                return false;
        }
    }
    const char *pm = tu_str(o, "linux.panic_message");
    return c->panic_message[0] ? pm && !strcmp(pm, c->panic_message) : !pm;
}

#endif
