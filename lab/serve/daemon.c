/* daemon.c - `crashlab serve`: the control socket, the requests, the main loop. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cmd.h"
#include "daemon_priv.h"
#include "proto.h"
#include "run/run.h"
#include "scenario/scenario.h"
#include "util/fileio.h"

static volatile sig_atomic_t got_stop, got_chld;
static int wake_pipe[2] = { -1, -1 };

static void on_signal(int sig)
{
    int saved = errno;
    if (sig == SIGCHLD)
        got_chld = 1;
    else
        got_stop = 1;
    if (wake_pipe[1] >= 0) {
        ssize_t r = write(wake_pipe[1], "x", 1);
        (void)r;
    }
    errno = saved;
}

void cl_daemon_log(cl_daemon *d, const char *fmt, ...)
{
    if (d->quiet)
        return;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    fprintf(stderr, "%02d:%02d:%02d crashlab serve: %s\n", tm.tm_hour, tm.tm_min, tm.tm_sec, msg);
}


static void conn_close(cl_daemon_conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    free(c->buf);
    free(c->out);
    *c = (cl_daemon_conn){ .fd = -1 };
}

/* Sends what the socket takes now; closes the connection once the reply is out. */
static void conn_write(cl_daemon_conn *c)
{
    while (c->out_off < c->out_len) {
        ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            return;   /* the rest when poll says the client reads again */
        if (n <= 0)
            break;
        c->out_off += (size_t)n;
    }
    conn_close(c);
}

/* Queues the reply; the main loop sends it as the client reads, never waiting for it. */
static void conn_reply(cl_daemon *d, cl_daemon_conn *c, json_object *r)
{
    const char *text = json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
    size_t len = strlen(text);
    if (len >= CL_SERVE_MAX_LINE) {
        cl_daemon_log(d, "a reply is longer than %u bytes; dropped", CL_SERVE_MAX_LINE);
        json_object_put(r);
        conn_close(c);
        return;
    }
    free(c->buf);
    c->buf = NULL;
    c->len = c->cap = 0;
    c->out = malloc(len + 1);
    if (!c->out) {
        json_object_put(r);
        conn_close(c);
        return;
    }
    memcpy(c->out, text, len);
    c->out[len] = '\n';
    c->out_len = len + 1;
    c->out_off = 0;
    json_object_put(r);
    conn_write(c);
}

static void conn_read(cl_daemon *d, cl_daemon_conn *c)
{
    if (c->cap - c->len < 4096) {
        size_t ncap = c->cap ? c->cap * 2 : 8192;
        if (ncap > CL_SERVE_MAX_LINE + 8192) {
            conn_reply(d, c, cl_daemon_reply_error(CL_REPLY_BAD_INPUT, "the request is longer than %u bytes", CL_SERVE_MAX_LINE));
            return;
        }
        char *nb = realloc(c->buf, ncap);
        if (!nb) {
            conn_close(c);
            return;
        }
        c->buf = nb;
        c->cap = ncap;
    }
    ssize_t n = read(c->fd, c->buf + c->len, c->cap - c->len - 1);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        conn_close(c);
        return;
    }
    char *nl = memchr(c->buf + c->len, '\n', (size_t)n);
    c->len += (size_t)n;
    c->buf[c->len] = '\0';
    if (nl) {
        *nl = '\0';
        conn_reply(d, c, cl_daemon_handle(d, c->buf));
    }
}

static bool listen_on(cl_daemon *d, cl_error **errp)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (!cl_serve_sock_path(d->state, sa.sun_path, errp))
        return false;
    unlink(sa.sun_path);   /* the lock says no other daemon owns it */
    d->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (d->lfd < 0)
        return cl_error_set_errno(errp, CL_ERR_IO, errno, "serve: socket");
    /* Owner-only from the first moment: bind under a umask, then make sure. */
    mode_t old = umask(0177);
    int rc = bind(d->lfd, (struct sockaddr *)&sa, sizeof(sa));
    umask(old);
    if (rc < 0 || chmod(sa.sun_path, 0600) < 0 || listen(d->lfd, 64) < 0)
        return cl_error_set_errno(errp, CL_ERR_IO, errno, "serve: cannot listen on '%s'", sa.sun_path);
    return true;
}

/* The spares of the embedded slots hold a paused QEMU each: a stopping daemon gives that
 * memory back (`crashlab spare drop` per slot, 30 s at most each). */
static void drop_spares(cl_daemon *d)
{
    for (size_t i = 0; d->spare && i < d->hosts.n; i++) {
        if (d->hosts.v[i].uri)
            continue;
        for (int s = 0; s < d->hosts.v[i].slots; s++) {
            char dir[PATH_MAX];
            cl_sched_slot_dir(d, d->hosts.v[i].name, s, dir, sizeof(dir));
            if (access(dir, F_OK) < 0)
                continue;
            pid_t pid = fork();
            if (pid == 0) {
                int null = open("/dev/null", O_RDWR);
                if (null >= 0) {
                    dup2(null, 1);
                    dup2(null, 2);
                }
                alarm(30);
                execl(d->self, d->self, "spare", "drop", "--state", dir, (char *)NULL);
                _exit(127);
            }
            while (pid > 0 && waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                ;
        }
    }
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: crashlab serve [options]\n"
            "  --state DIR        state directory: jobs.db, serve.sock, logs, slots\n"
            "                     (default $CRASHLAB_STATE, else /var/lib/crashlab as root, else ~/.cache/crashlab)\n"
            "  --slots N          runs at once (default 1, or the sum of the hosts' slots)\n"
            "  --hosts FILE       libvirt hosts to schedule over (default: the embedded driver here)\n"
            "  --results DIR      where finished runs land (default <state>/results)\n"
            "  --max-attempts N   attempts per job before an infrastructure error is final (default 3)\n"
            "  --backoff SECONDS  wait before the first retry; doubles each retry (default 10)\n"
            "  --watchdog-margin SECONDS  stop a run this long past its scenario's run timeout (default 600)\n"
            "  --spare            warm runs keep the next run's guest restored and paused per slot (run --spare);\n"
            "                     dropped when the daemon stops\n"
            "  --quiet            no log lines\n"
            "Runs in the foreground until SIGTERM/SIGINT; running jobs are stopped and queued again.\n");
}

static bool setup(cl_daemon *d, const char *state_opt, const char *hosts_file, const char *results, int slots, cl_error **errp)
{
    CL_AUTOFREE char *state = cl_run_state_dir(state_opt);
    if (!state)
        return cl_error_set(errp, CL_ERR_NOMEM, "serve: out of memory");
    if (!cl_mkdir_p(state, 0711, errp))
        return false;
    if (!realpath(state, d->state))
        return cl_error_set_errno(errp, CL_ERR_IO, errno, "serve: '%s'", state);
    /* QEMU runs as another user and must pass through to each slot's root (search
     * permission only: nobody else can list or read the state). */
    struct stat st;
    if (stat(d->state, &st) == 0 && (st.st_mode & 0011) != 0011)
        chmod(d->state, (st.st_mode & 07777) | 0011);
    if (results) {
        if (!cl_mkdir_p(results, CL_DIR_MODE_PASS, errp) || !realpath(results, d->results))
            return cl_error_set(errp, CL_ERR_IO, "serve: cannot use results directory '%s'", results);
    } else {
        if (!cl_path_fmt(d->results, sizeof(d->results), errp, "%s/results", d->state))
            return false;
    }
    /* Slots, logs and run directories live under these: leave room for their names. */
    if (strlen(d->state) > PATH_MAX - 256 || strlen(d->results) > PATH_MAX - 256)
        return cl_error_set(errp, CL_ERR_INVAL, "serve: state or results directory path too long (at most %d bytes)",
                            PATH_MAX - 256);
    if (!cl_path_fmt(d->attempts_dir, sizeof(d->attempts_dir), errp, "%s/.attempts", d->results))
        return false;
    char logs[PATH_MAX + 8];
    snprintf(logs, sizeof(logs), "%s/logs", d->state);
    if (!cl_mkdir_p(d->attempts_dir, CL_DIR_MODE_PASS, errp) || !cl_mkdir_p(logs, 0700, errp))
        return false;
    ssize_t n = readlink("/proc/self/exe", d->self, sizeof(d->self) - 1);
    if (n <= 0)
        return cl_error_set_errno(errp, CL_ERR_IO, errno, "serve: cannot find this program");
    d->self[n] = '\0';
    char host[256] = "", seed[PATH_MAX + 300], hex[65];
    gethostname(host, sizeof(host) - 1);
    snprintf(seed, sizeof(seed), "%s:%s", host, d->state);
    cl_sha256_buf(seed, strlen(seed), hex);
    snprintf(d->tag, sizeof(d->tag), "%.6s", hex);
    if (hosts_file) {
        if (!cl_hosts_load(hosts_file, &d->hosts, errp))
            return false;
    } else if (!cl_hosts_default(slots > 0 ? slots : 1, &d->hosts, errp)) {
        return false;
    }
    int total = 0;
    bool embedded = false;
    for (size_t i = 0; i < d->hosts.n; i++) {
        total += d->hosts.v[i].slots;
        embedded |= !d->hosts.v[i].uri;
    }
    /* Refuse now rather than fail every job later: the embedded driver's QEMU (another
     * user) must reach each slot's root under the state directory. */
    char blocker[PATH_MAX];
    if (embedded && geteuid() == 0 && !cl_path_world_reachable(d->state, false, blocker, sizeof(blocker)))
        return cl_error_set(errp, CL_ERR_INVAL,
                            "serve: QEMU runs as another user and cannot enter '%s' on the way to the state directory '%s' (chmod o+x it)",
                            blocker, d->state);
    d->max_running = slots > 0 && slots < total ? slots : total;
    if (d->max_running > CL_DAEMON_MAX_RUNNING)
        d->max_running = CL_DAEMON_MAX_RUNNING;
    return true;
}

/* The options into d and the named directories; -1 to go on, else the exit code. */
static int parse_opts(cl_daemon *d, int argc, char **argv, const char **state, const char **hosts,
                      const char **results, int *slots)
{
    static const struct option longopts[] = {
        { "state", required_argument, NULL, 's' },   { "slots", required_argument, NULL, 'n' },
        { "hosts", required_argument, NULL, 'H' },   { "results", required_argument, NULL, 'r' },
        { "max-attempts", required_argument, NULL, 'm' }, { "backoff", required_argument, NULL, 'b' },
        { "watchdog-margin", required_argument, NULL, 'W' },
        { "quiet", no_argument, NULL, 'q' },         { "help", no_argument, NULL, 'h' },
        { "spare", no_argument, NULL, 'S' },
        { 0 },
    };
    optind = 1;
    int ch;
    char *end;
    while ((ch = getopt_long(argc, argv, "s:n:H:r:m:b:W:qh", longopts, NULL)) != -1) {
        switch (ch) {
        case 's': *state = optarg; break;
        case 'H': *hosts = optarg; break;
        case 'r': *results = optarg; break;
        case 'q': d->quiet = true; break;
        case 'S': d->spare = true; break;
        case 'n':
            *slots = (int)strtol(optarg, &end, 10);
            if (*end || *slots < 1 || *slots > CL_DAEMON_MAX_RUNNING) {
                fprintf(stderr, "crashlab serve: --slots must be 1..%d\n", CL_DAEMON_MAX_RUNNING);
                return 2;
            }
            break;
        case 'm':
            d->max_attempts = (int)strtol(optarg, &end, 10);
            if (*end || d->max_attempts < 1 || d->max_attempts > 20) {
                fprintf(stderr, "crashlab serve: --max-attempts must be 1..20\n");
                return 2;
            }
            break;
        case 'b':
            d->backoff = strtod(optarg, &end);
            if (*end || !(d->backoff >= 0 && d->backoff <= 86400)) {
                fprintf(stderr, "crashlab serve: --backoff must be 0..86400 seconds\n");
                return 2;
            }
            break;
        case 'W':
            d->margin = strtod(optarg, &end);
            if (*end || !(d->margin >= 1 && d->margin <= 86400)) {
                fprintf(stderr, "crashlab serve: --watchdog-margin must be 1..86400 seconds\n");
                return 2;
            }
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }
    return -1;
}

/* One daemon per state directory: an flock on serve.lock, which holds the owner's pid for
 * the message a second daemon prints. -1 with *lockfd open, else the exit code. */
static int take_lock(cl_daemon *d, int *lockfd)
{
    char lockpath[PATH_MAX + 16];
    snprintf(lockpath, sizeof(lockpath), "%s/serve.lock", d->state);
    *lockfd = open(lockpath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (*lockfd < 0) {
        /* Not "another daemon": say what is wrong with the state directory. */
        fprintf(stderr, "crashlab serve: cannot open the lock file '%s': %s\n", lockpath, strerror(errno));
        return 2;
    }
    if (flock(*lockfd, LOCK_EX | LOCK_NB) < 0) {
        int e = errno;
        char pidtext[32] = "";
        ssize_t n = pread(*lockfd, pidtext, sizeof(pidtext) - 1, 0);
        pidtext[n > 0 ? n : 0] = '\0';
        pidtext[strcspn(pidtext, "\n")] = '\0';
        if (e == EWOULDBLOCK && pidtext[0])
            fprintf(stderr, "crashlab serve: another daemon (pid %s) owns '%s'\n", pidtext, d->state);
        else if (e == EWOULDBLOCK)
            fprintf(stderr, "crashlab serve: another daemon owns '%s'\n", d->state);
        else
            fprintf(stderr, "crashlab serve: cannot lock '%s': %s\n", lockpath, strerror(e));
        return 3;
    }
    char pidtext[32];
    int n = snprintf(pidtext, sizeof(pidtext), "%ld\n", (long)getpid());
    if (ftruncate(*lockfd, 0) == 0 && pwrite(*lockfd, pidtext, (size_t)n, 0) < 0)
        cl_daemon_log(d, "cannot write the pid into '%s': %s", lockpath, strerror(errno));
    return -1;
}

static void accept_clients(cl_daemon *d)
{
    int cfd;
    while ((cfd = accept4(d->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
        int slot = -1;
        for (int k = 0; k < CL_DAEMON_MAX_CONNS && slot < 0; k++)
            if (d->conns[k].fd < 0)
                slot = k;
        if (slot < 0) {
            close(cfd);   /* too many clients at once: they retry */
            continue;
        }
        d->conns[slot] = (cl_daemon_conn){ .fd = cfd, .deadline = cl_now() + CL_DAEMON_CONN_TIMEOUT };
    }
}

/* One turn of the loop: signals, the scheduler, then at most 500 ms of waiting for the
 * wake pipe, the listening socket and the clients. False when poll itself fails. */
static bool serve_once(cl_daemon *d)
{
    if (got_chld) {
        got_chld = 0;
        cl_sched_reap(d);
    }
    if (got_stop && !d->stopping) {
        d->stopping = true;
        cl_daemon_log(d, "stopping: %d run(s) to interrupt", d->nkids);
        for (int i = 0; i < d->nkids; i++)
            if (!d->kids[i].cleaning)   /* a domain cleanup helper finishes its work */
                kill(d->kids[i].pid, SIGTERM);
    }
    if (d->stopping && d->nkids == 0)
        return true;
    cl_sched_watchdog(d);
    cl_sched_tick(d, cl_now());

    struct pollfd pfd[CL_DAEMON_MAX_CONNS + 2];
    int map[CL_DAEMON_MAX_CONNS + 2];
    int np = 0;
    pfd[np] = (struct pollfd){ .fd = wake_pipe[0], .events = POLLIN };
    map[np++] = -2;
    if (!d->stopping) {
        pfd[np] = (struct pollfd){ .fd = d->lfd, .events = POLLIN };
        map[np++] = -1;
    }
    double now = cl_now();
    for (int i = 0; i < CL_DAEMON_MAX_CONNS; i++) {
        if (d->conns[i].fd >= 0 && now > d->conns[i].deadline)
            conn_close(&d->conns[i]);   /* a client that neither asks nor reads holds no slot for long */
        if (d->conns[i].fd >= 0) {
            pfd[np] = (struct pollfd){ .fd = d->conns[i].fd, .events = d->conns[i].out ? POLLOUT : POLLIN };
            map[np++] = i;
        }
    }
    int r = poll(pfd, (nfds_t)np, 500);
    if (r < 0 && errno != EINTR)
        return false;
    for (int i = 0; r > 0 && i < np; i++) {
        if (!pfd[i].revents)
            continue;
        if (map[i] == -2) {
            char buf[64];
            while (read(wake_pipe[0], buf, sizeof(buf)) > 0)
                ;
        } else if (map[i] == -1) {
            accept_clients(d);
        } else if (d->conns[map[i]].out) {
            conn_write(&d->conns[map[i]]);
        } else {
            conn_read(d, &d->conns[map[i]]);
        }
    }
    return true;
}

int cl_cmd_serve(int argc, char **argv)
{
    static cl_daemon d;
    memset(&d, 0, sizeof(d));
    d.lfd = -1;
    d.max_attempts = 3;
    d.backoff = 10;
    d.margin = 600;
    for (int i = 0; i < CL_DAEMON_MAX_CONNS; i++)
        d.conns[i].fd = -1;
    const char *state = NULL, *hosts = NULL, *results = NULL;
    int slots = 0;
    int rc = parse_opts(&d, argc, argv, &state, &hosts, &results, &slots);
    if (rc >= 0)
        return rc;
    CL_AUTOPTR(cl_error) err = NULL;
    if (!setup(&d, state, hosts, results, slots, &err)) {
        fprintf(stderr, "crashlab serve: %s\n", err->msg);
        cl_hosts_clear(&d.hosts);
        return 2;
    }
    CL_AUTOCLOSE lockfd = -1;
    if ((rc = take_lock(&d, &lockfd)) >= 0) {
        cl_hosts_clear(&d.hosts);
        return rc;
    }
    rc = 0;
    char sock[sizeof(((struct sockaddr_un *)0)->sun_path)], dbpath[PATH_MAX + 16];
    if (cl_serve_sock_path(d.state, sock, NULL))
        unlink(sock);   /* a killed predecessor's: nobody answers there until we do */
    snprintf(dbpath, sizeof(dbpath), "%s/jobs.db", d.state);
    mode_t old_umask = umask(0077);   /* the database and its WAL are the owner's only */
    d.q = cl_queue_open(dbpath, &err);
    umask(old_umask);
    if (pipe2(wake_pipe, O_CLOEXEC | O_NONBLOCK) < 0 || !d.q) {
        fprintf(stderr, "crashlab serve: %s\n", err ? err->msg : strerror(errno));
        cl_hosts_clear(&d.hosts);
        return 3;
    }
    struct sigaction sa = { .sa_handler = on_signal };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGCHLD, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    got_stop = got_chld = 0;

    if (!cl_recover(&d, &err) || !cl_guest_sync_hosts(&d, &err) || !cl_dump_pool_check_hosts(&d, &err) ||
        !listen_on(&d, &err)) {
        fprintf(stderr, "crashlab serve: %s\n", err->msg);
        rc = 3;
        goto out;
    }
    cl_daemon_log(&d, "pid %ld, state %s, results %s, %zu host(s), %d slot(s)", (long)getpid(), d.state, d.results,
                  d.hosts.n, d.max_running);
    while (!(d.stopping && d.nkids == 0) && serve_once(&d))
        ;
    drop_spares(&d);
    cl_daemon_log(&d, "stopped");
out:
    for (int i = 0; i < CL_DAEMON_MAX_CONNS; i++)
        conn_close(&d.conns[i]);
    if (d.lfd >= 0) {
        if (cl_serve_sock_path(d.state, sock, NULL))
            unlink(sock);
        close(d.lfd);
    }
    cl_queue_close(d.q);
    cl_hosts_clear(&d.hosts);
    close(wake_pipe[0]);
    close(wake_pipe[1]);
    wake_pipe[0] = wake_pipe[1] = -1;
    return rc;
}
