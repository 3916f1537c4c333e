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
 * Modes that keep the protocol and lie about files: a working agent (guest-exec runs the
 * command, guest-file-* work on real files, so a scenario installs and fires its fault for
 * real) except that `labagent collect`, asked after the crash, names a dump that is not
 * what it claims (listed with kind "file", as the real labagent lists a Linux dump):
 *   lie-path      the dump is at "../../etc/passwd" (guest-file-read serves that file)
 *   lie-size      the dump is 100 GB
 *   lie-grow      the dump is 4096 bytes, but guest-file-read never reaches eof
 * The lab must refuse or bound each, and no guest-chosen name may become a host path.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
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

static const char b64tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Base64 of len bytes into out (room for 4 * ((len + 2) / 3) + 1). */
static void b64_encode(const unsigned char *in, size_t len, char *out)
{
    size_t j = 0;
    for (size_t i = 0; i < len; i += 3) {
        unsigned v = (unsigned)in[i] << 16;
        if (i + 1 < len)
            v |= (unsigned)in[i + 1] << 8;
        if (i + 2 < len)
            v |= in[i + 2];
        out[j++] = b64tbl[v >> 18 & 63];
        out[j++] = b64tbl[v >> 12 & 63];
        out[j++] = i + 1 < len ? b64tbl[v >> 6 & 63] : '=';
        out[j++] = i + 2 < len ? b64tbl[v & 63] : '=';
    }
    out[j] = '\0';
}

/* Decodes in place; returns the length. Stops at the first character that is not base64. */
static size_t b64_decode(char *s)
{
    size_t n = 0;
    unsigned v = 0;
    int bits = 0;
    for (char *p = s; *p && *p != '"'; p++) {
        const char *k = strchr(b64tbl, *p);
        if (*p == '=' || !k)
            break;
        v = v << 6 | (unsigned)(k - b64tbl);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            s[n++] = (char)(v >> bits & 0xff);
        }
    }
    return n;
}

/* The JSON string value of "key" (simple escapes only), or NULL. */
static char *jstr(const char *line, const char *key, size_t max)
{
    char pat[64];
    snprintf(pat, sizeof(pat), "\"%s\"", key);
    const char *p = strstr(line, pat);
    if (!p)
        return NULL;
    p = strchr(p + strlen(pat), '"');
    if (!p)
        return NULL;
    char *out = malloc(max + 1);
    size_t n = 0;
    for (p++; *p && *p != '"' && n < max; p++) {
        if (*p == '\\' && p[1])
            p++;
        out[n++] = *p;
    }
    out[n] = '\0';
    return out;
}

static long long jint(const char *line, const char *key)
{
    char v[32];
    field(line, key, v, sizeof(v));
    return strtoll(v, NULL, 10);
}

#define MAX_FILES 16
#define MAX_PROCS 16
#define OUT_MAX (64u << 10)
static int files[MAX_FILES];                 /* handle 1000 + i -> fd, -1 free */
static bool lied_file[MAX_FILES];            /* opened as the lied-about dump */
struct proc { pid_t pid; int fd; char *out; size_t len; };
static struct proc procs[MAX_PROCS];

static void reply_error(const char *desc)
{
    char buf[512];
    snprintf(buf, sizeof(buf), "{\"error\": {\"class\": \"GenericError\", \"desc\": \"%s\"}}\n", desc);
    puts_port(buf);
}

/* What `labagent collect` prints in this guest: one dump, as the mode lies about it. */
static void collect_lie(const char *mode, char *out, size_t outlen)
{
    const char *sha = "0000000000000000000000000000000000000000000000000000000000000000";
    if (!strcmp(mode, "lie-path"))
        snprintf(out, outlen, "{\"ok\":true,\"command\":\"collect\",\"dumps\":[{\"kind\":\"file\",\"path\":\"../../etc/passwd\",\"size\":64,\"sha256\":\"%s\"}]}\n", sha);
    else if (!strcmp(mode, "lie-size"))
        snprintf(out, outlen, "{\"ok\":true,\"command\":\"collect\",\"dumps\":[{\"kind\":\"file\",\"path\":\"/var/crash/dump.bin\",\"size\":107374182400,\"sha256\":\"%s\"}]}\n", sha);
    else
        snprintf(out, outlen, "{\"ok\":true,\"command\":\"collect\",\"dumps\":[{\"kind\":\"file\",\"path\":\"/var/crash/dump.bin\",\"size\":4096,\"sha256\":\"%s\"}]}\n", sha);
}

static void do_exec(const char *mode, const char *line)
{
    char *path = jstr(line, "path", 4096);
    if (!path) {
        reply_error("guest-exec: no path");
        return;
    }
    char *argv[34] = { path };
    int argc = 1;
    const char *a = strstr(line, "\"arg\"");
    if (a && (a = strchr(a, '['))) {
        const char *end = strchr(a, ']');
        for (const char *p = a; argc < 33;) {
            p = strchr(p + 1, '"');
            if (!p || (end && p > end))
                break;
            const char *q = p + 1;
            while (*q && *q != '"')
                q += *q == '\\' && q[1] ? 2 : 1;
            size_t n = (size_t)(q - p - 1);
            argv[argc] = malloc(n + 1);
            memcpy(argv[argc], p + 1, n);
            argv[argc][n] = '\0';
            argc++;
            p = q;
        }
    }
    argv[argc] = NULL;
    int slot = -1;
    for (int i = 0; i < MAX_PROCS && slot < 0; i++)
        if (!procs[i].pid)
            slot = i;
    int fds[2];
    if (slot < 0 || pipe(fds) < 0) {
        reply_error("guest-exec: no room");
        goto out;
    }
    /* `labagent collect` is where the guest lies: its output is made up, nothing runs. */
    bool lie = argc > 1 && !strcmp(argv[1], "collect");
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        if (lie) {
            char text[512];
            collect_lie(mode, text, sizeof(text));
            if (write(fds[1], text, strlen(text)) < 0)
                _exit(1);
            _exit(0);
        }
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        close(port_fd);
        execv(path, argv);
        _exit(127);
    }
    close(fds[1]);
    if (pid < 0) {
        close(fds[0]);
        reply_error("guest-exec: fork failed");
        goto out;
    }
    fcntl(fds[0], F_SETFL, O_NONBLOCK);
    procs[slot].pid = pid;
    procs[slot].fd = fds[0];
    procs[slot].out = malloc(OUT_MAX);
    procs[slot].len = 0;
    char r[64];
    snprintf(r, sizeof(r), "{\"pid\": %d}", (int)pid);
    reply(r);
out:
    for (int i = 0; i < argc; i++)
        free(argv[i]);
}

/* Takes what the child has written so far, keeping at most OUT_MAX bytes. */
static void drain(struct proc *p)
{
    for (;;) {
        char buf[4096];
        ssize_t n = read(p->fd, buf, sizeof(buf));
        if (n <= 0)
            break;
        size_t room = OUT_MAX - p->len, take = (size_t)n < room ? (size_t)n : room;
        memcpy(p->out + p->len, buf, take);
        p->len += take;
    }
}

static void do_exec_status(const char *line)
{
    pid_t pid = (pid_t)jint(line, "pid");
    int i = 0;
    while (i < MAX_PROCS && (procs[i].pid != pid || !pid))
        i++;
    if (i == MAX_PROCS) {
        reply_error("guest-exec-status: no such pid");
        return;
    }
    drain(&procs[i]);
    int st = 0;
    if (waitpid(pid, &st, WNOHANG) != pid) {
        reply("{\"exited\": false}");
        return;
    }
    drain(&procs[i]);
    char *b64 = malloc(4 * (procs[i].len / 3 + 1) + 1);
    b64_encode((unsigned char *)procs[i].out, procs[i].len, b64);
    char *r = malloc(strlen(b64) + 128);
    sprintf(r, "{\"return\": {\"exited\": true, \"exitcode\": %d, \"out-data\": \"%s\"}}\n",
            WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), b64);
    puts_port(r);
    free(r);
    free(b64);
    close(procs[i].fd);
    free(procs[i].out);
    procs[i].pid = 0;
}

static int handle_slot(const char *line)
{
    long long h = jint(line, "handle") - 1000;
    return h >= 0 && h < MAX_FILES && files[h] >= 0 ? (int)h : -1;
}

static void do_file(const char *mode, const char *exec, char *line)
{
    if (!strcmp(exec, "guest-file-open")) {
        char *path = jstr(line, "path", 4096), *m = jstr(line, "mode", 8);
        int i = 0;
        while (i < MAX_FILES && files[i] >= 0)
            i++;
        bool writing = m && (m[0] == 'w' || m[0] == 'a');
        int fd = path && i < MAX_FILES ? open(path, writing ? O_WRONLY | O_CREAT | O_TRUNC : O_RDONLY, 0644) : -1;
        /* The dump that collect made up opens fine whatever it is. */
        bool lied = path && !writing && (!strcmp(path, "/var/crash/dump.bin") || !strcmp(path, "../../etc/passwd"));
        if (fd < 0 && lied)
            fd = open("/dev/zero", O_RDONLY);
        if (fd < 0) {
            reply_error("guest-file-open: cannot open");
        } else {
            files[i] = fd;
            lied_file[i] = lied;
            char r[32];
            snprintf(r, sizeof(r), "%d", 1000 + i);
            reply(r);
        }
        free(path);
        free(m);
        return;
    }
    int i = handle_slot(line);
    if (i < 0) {
        reply_error("no such handle");
        return;
    }
    if (!strcmp(exec, "guest-file-close")) {
        close(files[i]);
        files[i] = -1;
        reply("{}");
    } else if (!strcmp(exec, "guest-file-write")) {
        char *b = strstr(line, "\"buf-b64\"");
        b = b ? strchr(b + 9, '"') : NULL;
        size_t n = b ? b64_decode(b + 1) : 0;
        ssize_t w = b ? write(files[i], b + 1, n) : -1;
        char r[64];
        snprintf(r, sizeof(r), "{\"count\": %zd, \"eof\": false}", w);
        reply(r);
    } else if (!strcmp(exec, "guest-file-read")) {
        long long want = jint(line, "count");
        if (want <= 0 || want > (1 << 20))
            want = 4096;
        char *buf = malloc((size_t)want);
        ssize_t n = read(files[i], buf, (size_t)want);
        if (n < 0)
            n = 0;
        /* lie-grow: the file never ends, whatever size collect announced. */
        bool eof = lied_file[i] && !strcmp(mode, "lie-grow") ? false : n < want;
        char *b64 = malloc(4 * ((size_t)n / 3 + 1) + 1);
        b64_encode((unsigned char *)buf, (size_t)n, b64);
        char *r = malloc(strlen(b64) + 128);
        sprintf(r, "{\"return\": {\"count\": %zd, \"eof\": %s, \"buf-b64\": \"%s\"}}\n", n, eof ? "true" : "false", b64);
        puts_port(r);
        free(r);
        free(b64);
        free(buf);
    } else {
        reply("{}");
    }
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
            do_exec(mode, line);
        else if (!strcmp(exec, "guest-exec-status"))
            do_exec_status(line);
        else if (!strncmp(exec, "guest-file-", 11))
            do_file(mode, exec, (char *)line);
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
    for (int i = 0; i < MAX_FILES; i++)
        files[i] = -1;
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
