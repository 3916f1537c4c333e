/* jout.c - a bounded JSON writer for labagent's single output object. */
#include "jout.h"

#include <windows.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define JOUT_MAX (256 * 1024)
#define JOUT_DEPTH 16

static char out[JOUT_MAX];
static size_t len;
static bool overflow;
static bool need_comma[JOUT_DEPTH];
static int depth;

static void put(const char *s, size_t n)
{
    if (overflow || n > JOUT_MAX - 1 - len) {
        overflow = true;
        return;
    }
    memcpy(out + len, s, n);
    len += n;
    out[len] = 0;
}

static void puts_(const char *s)
{
    put(s, strlen(s));
}

static void put_escaped(const char *s)
{
    put("\"", 1);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)c;
            put(esc, 2);
        } else if (c < 0x20 || c >= 0x7f) {
            /* Bytes outside ASCII are escaped one by one: the agent only prints ANSI
             * paths and driver strings, and the host must get valid JSON regardless. */
            snprintf(esc, sizeof(esc), "\\u%04x", c);
            puts_(esc);
        } else {
            put((const char *)&c, 1);
        }
    }
    put("\"", 1);
}

static void key(const char *k)
{
    if (need_comma[depth])
        put(",", 1);
    need_comma[depth] = true;
    if (k) {
        put_escaped(k);
        put(":", 1);
    }
}

static void open_(const char *k, const char *brace)
{
    key(k);
    puts_(brace);
    if (depth < JOUT_DEPTH - 1)
        depth++;
    need_comma[depth] = false;
}

void jout_begin(const char *command)
{
    len = 0;
    overflow = false;
    depth = 0;
    need_comma[0] = false;
    open_(NULL, "{");
    jout_bool("ok", true);
    jout_str("command", command);
}

void jout_str(const char *k, const char *v)
{
    key(k);
    put_escaped(v ? v : "");
}

void jout_u64(const char *k, uint64_t v)
{
    char b[32];
    snprintf(b, sizeof(b), "%llu", (unsigned long long)v);
    key(k);
    puts_(b);
}

void jout_hex(const char *k, uint64_t v)
{
    char b[32];
    snprintf(b, sizeof(b), "\"0x%llx\"", (unsigned long long)v);
    key(k);
    puts_(b);
}

void jout_bool(const char *k, bool v)
{
    key(k);
    puts_(v ? "true" : "false");
}

void jout_obj(const char *k)
{
    open_(k, "{");
}

void jout_arr(const char *k)
{
    open_(k, "[");
}

void jout_obj_end(void)
{
    if (depth > 0)
        depth--;
    puts_("}");
}

void jout_arr_end(void)
{
    if (depth > 0)
        depth--;
    puts_("]");
}

static const char *state_name(uint32_t s)
{
    switch (s) {
    case LABFAULT_STATE_IDLE: return "idle";
    case LABFAULT_STATE_ARMED: return "armed";
    case LABFAULT_STATE_FIRED: return "fired";
    case LABFAULT_STATE_DONE: return "done";
    }
    return "unknown";
}

void jout_ground_truth(const struct labfault_ground_truth *gt)
{
    uint32_t n = gt->count <= LABFAULT_MAX_ITEMS ? gt->count : LABFAULT_MAX_ITEMS;

    jout_str("state", state_name(gt->state));
    jout_obj("ground_truth");
    for (uint32_t i = 0; i < n; i++) {
        char name[sizeof(gt->item[i].name) + 1];
        memcpy(name, gt->item[i].name, sizeof(gt->item[i].name));
        name[sizeof(gt->item[i].name)] = 0;     /* the driver's NUL is not trusted */
        jout_hex(name[0] ? name : "unnamed", gt->item[i].value);
    }
    jout_obj_end();
}

void jout_print(void)
{
    while (depth > 0)
        jout_obj_end();
    if (overflow) {
        /* Never print half an object. */
        fputs("{\"ok\":false,\"error\":\"output too large\"}\n", stdout);
    } else {
        fputs(out, stdout);
        fputs("\n", stdout);
    }
    fflush(stdout);
}

int jout_fail(const char *command, int code, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    len = 0;
    overflow = false;
    depth = 0;
    need_comma[0] = false;
    open_(NULL, "{");
    jout_bool("ok", false);
    if (command)
        jout_str("command", command);
    jout_str("error", msg);
    jout_print();
    return code;
}

const char *jout_winerr(unsigned long err)
{
    static char buf[512];
    int n = snprintf(buf, sizeof(buf), "Windows error %lu", err);
    char text[400];
    DWORD m = FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL, err, 0,
                             text, sizeof(text), NULL);
    while (m > 0 && (text[m - 1] == '\n' || text[m - 1] == '\r' || text[m - 1] == ' '))
        text[--m] = 0;
    if (m > 0 && n > 0 && (size_t)n < sizeof(buf))
        snprintf(buf + n, sizeof(buf) - (size_t)n, ": %s", text);
    return buf;
}
