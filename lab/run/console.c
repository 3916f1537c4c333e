#include <stdio.h>
#include <string.h>

#include "console.h"
#include "dump/linux/report.h"

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

void cl_console_parse(const char *text, size_t len, cl_console_report *r)
{
    memset(r, 0, sizeof(*r));
    if (!text || !len)
        return;
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
    cl_linux_report lr;
    if (!cl_linux_report_parse_n(text, len, &lr))
        return;
    r->found = true;
    snprintf(r->kind, sizeof(r->kind), "%s", lr.kind);
    snprintf(r->title, sizeof(r->title), "%s", lr.title);
    snprintf(r->panic_message, sizeof(r->panic_message), "%s", lr.panic_message);
    /* The excerpt starts at the report's line, as the console printed it. */
    const char *first = lr.report_line[0] ? find(text, len, lr.report_line) : NULL;
    if (!first)
        return;
    size_t n = len - (size_t)(first - text);
    if (n >= sizeof(r->report))
        n = sizeof(r->report) - 1;
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (first[i] == '\r')
            continue;
        r->report[o++] = (first[i] == '\n' || (first[i] >= 0x20 && first[i] < 0x7f)) ? first[i] : '?';
    }
    r->report[o] = '\0';
}
