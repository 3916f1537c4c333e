#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "console.h"

/* Report openers, most specific first; the first one in the log names the crash. */
static const struct {
    const char *needle;
    const char *kind;
} openers[] = {
    { "BUG: soft lockup", "soft-lockup" },
    { "Watchdog detected hard LOCKUP", "hard-lockup" },
    { "rcu: INFO: rcu_preempt detected stalls", "rcu-stall" },
    { "rcu_sched detected stalls", "rcu-stall" },
    { "blocked for more than", "hung-task" },
    { "BUG: kernel NULL pointer dereference", "oops" },
    { "general protection fault", "oops" },
    { "BUG: unable to handle page fault", "oops" },
    { "BUG: unable to handle kernel", "oops" },
    { "kernel stack overflow", "stack-overflow" },
    { "stack guard page was hit", "stack-overflow" },
    { "stack-protector: Kernel stack is corrupted", "stack-overflow" },
    { "BUG: scheduling while atomic", "bug" },
    { "BUG: sleeping function called from invalid context", "bug" },
    { "Redzone overwritten", "slab-corruption" },
    { "Object padding overwritten", "slab-corruption" },
    { "Poison overwritten", "slab-corruption" },
    { "Object already free", "slab-corruption" },
    { "double free", "slab-corruption" },
    { "BUG kmalloc", "slab-corruption" },
    { "kernel BUG at", "bug" },
    { "Oops:", "oops" },
    { "WARNING: CPU:", "warning" },
    { "Kernel panic - not syncing", "panic" },
};

static bool is_hex(char c)
{
    return isxdigit((unsigned char)c);
}

void cl_title_sanitize(const char *in, char *out, size_t outlen)
{
    if (outlen > 121)
        outlen = 121;
    size_t o = 0;
    for (size_t i = 0; in[i] && o + 1 < outlen;) {
        unsigned char c = (unsigned char)in[i];
        if (c == '0' && (in[i + 1] == 'x' || in[i + 1] == 'X')) {
            /* func+0x12/0x40 -> func (drop the offset); other hex -> ADDR */
            size_t j = i + 2;
            while (is_hex(in[j]))
                j++;
            if (o > 0 && out[o - 1] == '+') {
                o--;
                if (in[j] == '/' && in[j + 1] == '0' && in[j + 2] == 'x') {
                    j += 3;
                    while (is_hex(in[j]))
                        j++;
                }
            } else {
                const char *a = "ADDR";
                for (; *a && o + 1 < outlen; a++)
                    out[o++] = *a;
            }
            i = j;
            continue;
        }
        if (isdigit(c) && (o == 0 || !isalnum((unsigned char)out[o - 1]))) {
            size_t j = i;
            while (isdigit((unsigned char)in[j]) || (is_hex(in[j]) && j > i))
                j++;
            if (isalpha((unsigned char)in[j]) || in[j] == '_') {
                /* part of an identifier such as "9p": keep */
                out[o++] = (char)c;
                i++;
                continue;
            }
            const char *a = "NUM";
            for (; *a && o + 1 < outlen; a++)
                out[o++] = *a;
            i = j;
            continue;
        }
        if (c >= 0x20 && c < 0x7f)
            out[o++] = (char)c;
        i++;
    }
    while (o > 0 && out[o - 1] == ' ')
        o--;
    out[o] = '\0';
}

/* Copies the line containing p (without the "[  12.345678] " time stamp). */
static void line_at(const char *text, size_t len, const char *p, char *out, size_t outlen)
{
    const char *s = p;
    while (s > text && s[-1] != '\n')
        s--;
    const char *e = memchr(p, '\n', len - (size_t)(p - text));
    if (!e)
        e = text + len;
    if (*s == '[') {
        const char *r = memchr(s, ']', (size_t)(e - s));
        if (r && r - s < 20)
            s = r + 1;
        while (s < e && *s == ' ')
            s++;
    }
    size_t n = (size_t)(e - s);
    while (n && (s[n - 1] == '\r' || s[n - 1] == ' '))
        n--;
    if (n >= outlen)
        n = outlen - 1;
    memcpy(out, s, n);
    out[n] = '\0';
}

static const char *find(const char *text, size_t len, const char *needle)
{
    return memmem(text, len, needle, strlen(needle));
}

static void title_for(const char *kind, const char *line, const char *text, size_t len, char *out, size_t outlen)
{
    char raw[256];
    const char *p;
    if (!strcmp(kind, "soft-lockup") && (p = strstr(line, "stuck for"))) {
        /* "watchdog: BUG: soft lockup - CPU#0 stuck for 3s! [labagent:123]": the function
         * comes from the RIP line that follows. */
        const char *rip = find(text, len, "RIP: 0010:");
        char fn[96] = "";
        if (rip) {
            line_at(text, len, rip, raw, sizeof(raw));
            const char *f = strstr(raw, "RIP: 0010:");
            if (f) {
                f += 10;
                size_t n = strcspn(f, "+ ");
                snprintf(fn, sizeof(fn), "%.*s", (int)(n < 90 ? n : 90), f);
            }
        }
        snprintf(raw, sizeof(raw), "BUG: soft lockup in %s", fn[0] ? fn : "unknown");
    } else if (!strcmp(kind, "hung-task")) {
        snprintf(raw, sizeof(raw), "INFO: task hung");
        const char *t = strstr(line, "task ");
        if (t) {
            size_t n = strcspn(t + 5, ":");
            snprintf(raw, sizeof(raw), "INFO: task %.*s blocked", (int)(n < 64 ? n : 64), t + 5);
        }
    } else {
        /* Drop a leading "watchdog: " style prefix only for known forms. */
        snprintf(raw, sizeof(raw), "%s", line);
    }
    char clean[128];
    cl_title_sanitize(raw, clean, sizeof(clean));
    snprintf(out, outlen, "%s", clean);
}

void cl_console_parse(const char *text, size_t len, cl_console_report *r)
{
    memset(r, 0, sizeof(*r));
    if (!text || !len)
        return;
    const char *first = NULL;
    const char *kind = NULL;
    for (size_t i = 0; i < sizeof(openers) / sizeof(openers[0]); i++) {
        const char *p = find(text, len, openers[i].needle);
        if (p && (!first || p < first)) {
            first = p;
            kind = openers[i].kind;
        }
    }
    const char *gt = NULL;
    for (const char *p = text; (p = find(p, len - (size_t)(p - text), "labfault: ground-truth ")); p++)
        gt = p;
    if (gt) {
        char line[1100];
        line_at(text, len, gt, line, sizeof(line));
        const char *j = strchr(line, '{');
        if (j)
            snprintf(r->ground_truth, sizeof(r->ground_truth), "%s", j);
    }
    const char *panic = find(text, len, "Kernel panic - not syncing: ");
    if (panic) {
        char line[sizeof(r->panic_message)];
        line_at(text, len, panic, line, sizeof(line));
        const char *m = strstr(line, "not syncing: ");
        snprintf(r->panic_message, sizeof(r->panic_message), "%s", m ? m + 13 : line);
    }
    if (!first)
        return;
    r->found = true;
    snprintf(r->kind, sizeof(r->kind), "%s", kind);
    char line[256];
    line_at(text, len, first, line, sizeof(line));
    title_for(kind, line, text, len, r->title, sizeof(r->title));
    const char *s = first;
    while (s > text && s[-1] != '\n')
        s--;
    size_t n = len - (size_t)(s - text);
    if (n >= sizeof(r->report))
        n = sizeof(r->report) - 1;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\r')
            continue;
        r->report[o++] = (s[i] == '\n' || (s[i] >= 0x20 && s[i] < 0x7f)) ? s[i] : '?';
    }
    r->report[o] = '\0';
}
