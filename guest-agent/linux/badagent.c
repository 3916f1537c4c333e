/* badagent.c - a deliberately misbehaving stand-in for qemu-ga, for tests/reliability.
 *
 * The guest's /init runs `badagent MODE PORT` on the agent channel instead of qemu-ga
 * when the kernel command line says crashlab.badagent=MODE. It speaks just enough of the
 * qemu-ga protocol (one JSON object a line, guest-sync echoes its id) for libvirt to get
 * to the part where the guest lies. The host side must time out, bound its memory and
 * refuse what it is told; it must never hang or crash.
 *
 * Modes that break the protocol (guest-sync is answered, every later command is not):
 *   oversized     a 64 MiB {"return": "AAAA..."} reply to every command
 *   invalid-json  replies that are not JSON
 *   wrong-id      guest-sync answered with another id; commands with a stale reply
 *   endless       a reply that never ends: bytes without a newline, forever
 *   silent        reads everything, answers nothing (not even guest-sync)
 * Modes that keep the protocol but lie about files (a well-formed agent with a hostile
 * guest behind it); guest-exec runs nothing and guest-exec-status says the command
 * succeeded and printed a JSON object naming a dump:
 *   lie-path      the dump is at "../../etc/passwd" (and guest-file-read serves it)
 *   lie-size      the dump is 100 GB (guest-file-read keeps returning data)
 *   lie-grow      the file grows while it is read: guest-file-read never reports eof
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LINE_MAX_BYTES (1u << 20)   /* longer requests are cut; ours are never that long */

static int port_fd = -1;

static void nap(long ms)
{
    struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static void put(const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(port_fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            /* The host side went away: wait for the next connection, drop the rest. */
            nap(100);
            return;
        }
        buf += n;
        len -= (size_t)n;
    }
}

static void puts_port(const char *s)
{
    put(s, strlen(s));
}

/* The value of "key": in a request, as a number or a bare word; "" if absent. */
static void field(const char *line, const char *key, char *out, size_t outlen)
{
    char pat[64];
    snprintf(pat, sizeof(pat), "\"%s\"", key);
    out[0] = '\0';
    const char *p = strstr(line, pat);
    if (!p)
        return;
    p += strlen(pat);
    while (*p == ' ' || *p == ':' || *p == '"')
        p++;
    size_t i = 0;
    while (p[i] && p[i] != '"' && p[i] != ',' && p[i] != '}' && p[i] != ' ' && i + 1 < outlen) {
        out[i] = p[i];
        i++;
    }
    out[i] = '\0';
}

static void reply(const char *json_value)
{
    char buf[4096];
    snprintf(buf, sizeof(buf), "{\"return\": %s}\n", json_value);
    puts_port(buf);
}

static void oversized(void)
{
    static char chunk[65536];
    memset(chunk, 'A', sizeof(chunk));
    puts_port("{\"return\": \"");
    for (int i = 0; i < 1024; i++)
        put(chunk, sizeof(chunk));
    puts_port("\"}\n");
}

static void endless(void)
{
    static char chunk[65536];
    memset(chunk, '7', sizeof(chunk));
    puts_port("{\"return\": [");
    for (;;)
        put(chunk, sizeof(chunk));
}

/* What `labagent` would print if it had written a dump, per lying mode. */
static void lie_exec_status(const char *mode)
{
    char out[512], b64[1024];
    if (!strcmp(mode, "lie-path"))
        snprintf(out, sizeof(out), "{\"ok\":true,\"command\":\"collect\",\"dump\":\"../../etc/passwd\",\"bytes\":1024}\n");
    else
        snprintf(out, sizeof(out), "{\"ok\":true,\"command\":\"collect\",\"dump\":\"/var/crash/dump.bin\",\"bytes\":%s}\n",
                 !strcmp(mode, "lie-size") ? "107374182400" : "4096");
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t n = strlen(out), j = 0;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned char)out[i] << 16;
        if (i + 1 < n)
            v |= (unsigned char)out[i + 1] << 8;
        if (i + 2 < n)
            v |= (unsigned char)out[i + 2];
        b64[j++] = tbl[v >> 18 & 63];
        b64[j++] = tbl[v >> 12 & 63];
        b64[j++] = i + 1 < n ? tbl[v >> 6 & 63] : '=';
        b64[j++] = i + 2 < n ? tbl[v & 63] : '=';
    }
    b64[j] = '\0';
    char r[1200];
    snprintf(r, sizeof(r), "{\"exited\": true, \"exitcode\": 0, \"out-data\": \"%s\"}", b64);
    reply(r);
}

static void lie_file_read(const char *mode)
{
    /* 48 KiB of "A" per read, base64 "QUFB"; eof only for lie-path after one chunk. */
    static char b64[65537];
    if (!b64[0])
        for (size_t i = 0; i + 4 <= 65536; i += 4)
            memcpy(b64 + i, "QUFB", 4);
    char head[128];
    snprintf(head, sizeof(head), "{\"return\": {\"count\": 49152, \"eof\": %s, \"buf-b64\": \"",
             !strcmp(mode, "lie-path") ? "true" : "false");
    puts_port(head);
    put(b64, 65536);
    puts_port("\"}}\n");
}

static void serve_line(const char *mode, const char *line, unsigned long *served)
{
    char exec[64], id[32];
    field(line, "execute", exec, sizeof(exec));
    field(line, "id", id, sizeof(id));
    bool lying = !strncmp(mode, "lie-", 4);
    if (!exec[0])
        return;
    if (!strcmp(mode, "silent"))
        return;
    if (!strcmp(exec, "guest-sync") || !strcmp(exec, "guest-sync-delimited")) {
        if (!strcmp(mode, "wrong-id")) {
            char r[64];
            snprintf(r, sizeof(r), "%llu", strtoull(id, NULL, 10) + 1);
            reply(r);
        } else {
            reply(id[0] ? id : "0");
        }
        return;
    }
    (*served)++;
    if (!strcmp(mode, "oversized")) {
        oversized();
    } else if (!strcmp(mode, "invalid-json")) {
        puts_port((*served & 1) ? "{\"return\": {\"pid\": 12,, ]]\n" : "\x01\x02 not json at all \xff\xfe\n");
    } else if (!strcmp(mode, "wrong-id")) {
        puts_port("{\"return\": {}, \"id\": \"stale-reply-from-before\"}\n");
    } else if (!strcmp(mode, "endless")) {
        endless();
    } else if (lying) {
        if (!strcmp(exec, "guest-exec"))
            reply("{\"pid\": 4242}");
        else if (!strcmp(exec, "guest-exec-status"))
            lie_exec_status(mode);
        else if (!strcmp(exec, "guest-file-open"))
            reply("1000");
        else if (!strcmp(exec, "guest-file-read"))
            lie_file_read(mode);
        else if (!strcmp(exec, "guest-file-write"))
            reply("{\"count\": 49152, \"eof\": false}");
        else
            reply("{}");
    } else {
        reply("{}");
    }
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: badagent MODE PORT\n");
        return 2;
    }
    const char *mode = argv[1];
    static const char *const modes[] = { "oversized", "invalid-json", "wrong-id", "endless", "silent",
                                         "lie-path", "lie-size", "lie-grow", NULL };
    bool known = false;
    for (int i = 0; modes[i]; i++)
        known = known || !strcmp(mode, modes[i]);
    if (!known) {
        fprintf(stderr, "badagent: unknown mode '%s'\n", mode);
        return 2;
    }
    port_fd = open(argv[2], O_RDWR | O_CLOEXEC);
    if (port_fd < 0) {
        fprintf(stderr, "badagent: %s: %s\n", argv[2], strerror(errno));
        return 1;
    }
    fprintf(stderr, "crashlab-guest: badagent %s on %s\n", mode, argv[2]);
    char *line = malloc(LINE_MAX_BYTES + 1);
    if (!line)
        return 1;
    size_t len = 0;
    unsigned long served = 0;
    char buf[65536];
    for (;;) {
        ssize_t n = read(port_fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            nap(100);   /* no host connected yet */
            continue;
        }
        for (ssize_t i = 0; i < n; i++) {
            if (buf[i] == '\n' || buf[i] == '\r' || (unsigned char)buf[i] == 0xff) {
                line[len] = '\0';
                if (len)
                    serve_line(mode, line, &served);
                len = 0;
            } else if (len < LINE_MAX_BYTES) {
                line[len++] = buf[i];
            }
        }
        /* libvirt ends a request with a newline only sometimes: a complete object counts. */
        if (len && line[len - 1] == '}') {
            line[len] = '\0';
            serve_line(mode, line, &served);
            len = 0;
        }
    }
}
