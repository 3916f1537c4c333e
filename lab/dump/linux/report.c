#include "dump/linux/report.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *match;   /* substring of the report line */
    const char *title;   /* printf format taking the function; NULL: see code */
    const char *type;
    const char *kind;
} pattern;

static const pattern patterns[] = {
    { "BUG: kernel NULL pointer dereference", "BUG: kernel NULL pointer dereference in %s", "oops", "oops" },
    { "BUG: unable to handle page fault", "BUG: unable to handle page fault in %s", "oops", "oops" },
    { "BUG: unable to handle kernel", "BUG: unable to handle kernel paging request in %s", "oops", "oops" },
    { "general protection fault", "general protection fault in %s", "oops", "oops" },
    { "BUG: soft lockup", "BUG: soft lockup in %s", "lockup", "soft-lockup" },
    { "Watchdog detected hard LOCKUP", "BUG: hard lockup in %s", "lockup", "hard-lockup" },
    { "self-detected stall on CPU", "INFO: rcu detected stall in %s", "lockup", "rcu-stall" },
    { "rcu_preempt detected stalls", "INFO: rcu detected stall in %s", "lockup", "rcu-stall" },
    { "rcu_sched detected stalls", "INFO: rcu detected stall in %s", "lockup", "rcu-stall" },
    { "blocked for more than", "INFO: task hung in %s", "hang", "hung-task" },
    { "kernel BUG at ", "kernel BUG in %s", "bug", "bug" },
    { "BUG: KASAN: ", NULL, "bug", "bug" },
    { "BUG: scheduling while atomic", "BUG: scheduling while atomic in %s", "bug", "bug" },
    { "BUG: sleeping function called from invalid context", "BUG: sleeping function called from invalid context in %s", "bug", "bug" },
    { "list_add corruption", "BUG: corrupted list in %s", "bug", "bug" },
    { "list_del corruption", "BUG: corrupted list in %s", "bug", "bug" },
    { "Kernel stack is corrupted in:", "kernel stack is corrupted in %s", "bug", "stack-overflow" },
    { "stack guard page was hit", "kernel stack overflow in %s", "oops", "stack-overflow" },
    { "kernel stack overflow", "kernel stack overflow in %s", "oops", "stack-overflow" },
    { "divide error: ", "divide error in %s", "oops", "oops" },
    { "invalid opcode: ", "invalid opcode in %s", "oops", "oops" },
    { "Oops: ", "Oops in %s", "oops", "oops" },
    { "WARNING: CPU: ", "WARNING in %s", "warning", "warning" },
};

static const pattern slub_pattern = { "BUG ", NULL, "bug", "slab-corruption" };

/* Frames that say how a task waits or how the kernel reports, not what went wrong. */
static const char *skip_frames[] = {
    "__schedule", "schedule", "io_schedule", "preempt_schedule", "__mutex_lock", "mutex_lock", "rwsem_down",
    "down_", "__down", "wait_for_completion", "__wait", "do_wait", "msleep", "usleep", "_raw_spin", "queued_spin",
    "rt_mutex", "__cond_resched", "dump_stack", "panic", "show_stack", "__warn", "warn_slowpath", "report_bug",
    "handle_bug", "exc_", "asm_exc_", "watchdog_timer_fn", "__hrtimer", "hrtimer_", "__sysvec", "sysvec_",
    "asm_sysvec", "__irq_exit", "irq_exit", "do_syscall", "entry_SYSCALL", "kthread", "ret_from_fork",
    "worker_thread", "process_one_work", "rcu_", "nmi_", "do_nmi", "default_do_nmi", "cpu_startup_entry",
    "do_idle", "start_secondary", "secondary_startup", "delay_tsc", "delay_halt", "__delay", "__const_udelay",
    "__udelay", "udelay", "mdelay", "native_safe_halt", "default_idle", "arch_cpu_idle", "cpu_idle",
    "call_timer_fn", "__run_timers", "run_timer_softirq", "handle_softirqs", "__do_softirq",
    "lock_acquire", "lock_release", "native_queued_spin", "do_raw_spin_lock", "check_panic_on_warn",
    /* slab debugging's own frames */
    "object_err", "free_to_partial_list", "print_trailer", "free_debug_processing", "__slab_free", "slab_free",
    "kfree", "kmem_cache_free", "__kmem_cache_free", "slab_err", "check_bytes_and_report", "check_object",
    "on_freelist", "alloc_debug_processing", "___slab_alloc", "__slab_alloc", "__kmalloc", "kmalloc",
    "kmem_cache_alloc", "slab_pad_check", "check_slab", "get_partial", "__kmem_cache_alloc",
};

/* Strips the "[   12.345678] " prefix the log reader puts on every line. */
static const char *body(const char *line)
{
    if (*line != '[')
        return line;
    const char *e = strchr(line, ']');
    if (!e)
        return line;
    e++;
    return *e == ' ' ? e + 1 : e;
}

static bool skipped(const char *fn)
{
    for (size_t i = 0; i < sizeof(skip_frames) / sizeof(skip_frames[0]); i++)
        if (!strncmp(fn, skip_frames[i], strlen(skip_frames[i])))
            return true;
    return false;
}

/* Copies a function name ending at '+', ' ' or end of line. */
static bool take_func(const char *p, char *out, size_t len)
{
    size_t k = 0;
    /* compiler clones (".cold", ".isra.0", ".constprop.0") end at the first dot: the same
     * function keeps its title whatever the optimiser split off */
    while (*p && *p != '+' && *p != ' ' && *p != '\n' && *p != '.' && k + 1 < len)
        out[k++] = *p++;
    out[k] = '\0';
    return k > 0 && !(out[0] == '0' && out[1] == 'x') && (isalpha((unsigned char)out[0]) || out[0] == '_');
}

/* The function a report is about: the RIP line of x86 oopses, else the first call-trace
 * frame that is not scheduling, locking or reporting machinery. */
/* " [labfault]" after a symbol: the module it lives in. */
static void take_module(const char *line, char *out, size_t len)
{
    const char *o = strrchr(line, '[');
    const char *c = o ? strchr(o, ']') : NULL;
    out[0] = '\0';
    if (!o || !c || o == line || o[-1] != ' ' || c[1] != '\0' || (size_t)(c - o - 1) >= len)
        return;
    for (const char *q = o + 1; q < c; q++)
        if (!isalnum((unsigned char)*q) && *q != '_' && *q != '-')
            return;
    memcpy(out, o + 1, (size_t)(c - o - 1));
    out[c - o - 1] = '\0';
}

static void find_function(const char *from, bool trace_only, char *out, size_t len, char *mod, size_t modlen)
{
    const char *p = from;
    char frame[128] = "", frame_mod[64] = "";
    bool in_trace = false;
    for (int lines = 0; p && *p && lines < 200; lines++) {
        const char *eol = strchr(p, '\n');
        char line[512];
        size_t n = eol ? (size_t)(eol - p) : strlen(p);
        if (n >= sizeof(line))
            n = sizeof(line) - 1;
        memcpy(line, p, n);
        line[n] = '\0';
        const char *b = body(line);
        /* once a call-trace frame is chosen, later RIP lines belong to interrupted contexts */
        const char *rip = trace_only || frame[0] ? NULL : strstr(b, "RIP: ");
        if (rip) {
            const char *q = strchr(rip, ':'); /* "RIP: 0010:func+0x..": the second colon */
            q = q ? strchr(q + 1, ':') : NULL;
            if (q && take_func(q + 1, out, len) && !skipped(out)) {
                take_module(b, mod, modlen);
                return;
            }
            out[0] = '\0';
        }
        if (strstr(b, "Call Trace:")) {
            in_trace = true;
        } else if (in_trace && !frame[0]) {
            const char *f = b;
            while (*f == ' ')
                f++;
            if (*f == '<' || *f == '?') {
                /* "<TASK>", "<IRQ>" markers and unreliable "? func" frames */
            } else if (strchr(f, '+') && take_func(f, frame, sizeof(frame))) {
                if (skipped(frame))
                    frame[0] = '\0';
                else
                    take_module(f, frame_mod, sizeof(frame_mod));
            }
        }
        if (p != from && strstr(b, "---[ end trace"))
            break;
        p = eol ? eol + 1 : NULL;
    }
    snprintf(out, len, "%s", frame);
    snprintf(mod, modlen, "%s", frame_mod);
}

static void line_at(const char *p, char *out, size_t len)
{
    const char *eol = strchr(p, '\n');
    size_t n = eol ? (size_t)(eol - p) : strlen(p);
    if (n >= len)
        n = len - 1;
    memcpy(out, p, n);
    out[n] = '\0';
}

static bool parse(const char *log, cl_linux_report *out);

bool cl_linux_report_parse(const char *log, cl_linux_report *out)
{
    return cl_linux_report_parse_n(log, log ? strlen(log) : 0, out);
}

bool cl_linux_report_parse_n(const char *log, size_t n, cl_linux_report *out)
{
    memset(out, 0, sizeof(*out));
    if (!log)
        return false;
    /* serial consoles end lines with CR LF, the ring buffer does not; a NUL from a hostile
     * guest must not hide what follows it */
    char *copy = malloc(n + 1);
    if (!copy)
        return false;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (log[i] != '\r')
            copy[k++] = log[i] ? log[i] : ' ';
    copy[k] = '\0';
    bool found = parse(copy, out);
    free(copy);
    return found;
}

static bool parse(const char *log, cl_linux_report *out)
{
    const char *panic = strstr(log, "Kernel panic - not syncing: ");
    if (panic) {
        line_at(panic + strlen("Kernel panic - not syncing: "), out->panic_message, sizeof(out->panic_message));
        char *end = strstr(out->panic_message, " ]---");
        if (end)
            *end = '\0';
    }
    const char *first = NULL;
    const pattern *pat = NULL;
    for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
        const char *at = strstr(log, patterns[i].match);
        if (at && (!first || at < first)) {
            first = at;
            pat = &patterns[i];
        }
    }
    /* SLUB debugging: "BUG kmalloc-64 (Tainted: G  OE ): Object already free" */
    char slub_reason[128] = "";
    for (const char *at = strstr(log, "BUG "); at; at = strstr(at + 4, "BUG ")) {
        const char *c = at + 4, *eol = strchr(at, '\n');
        while (isalnum((unsigned char)*c) || *c == '-' || *c == '_' || *c == ':')
            c++;
        const char *close = c[0] == ' ' && c[1] == '(' ? strstr(c, "): ") : NULL;
        if (c == at + 4 || !close || (eol && close > eol))
            continue;
        if (!first || at < first) {
            first = at;
            pat = &slub_pattern;
            line_at(close + 3, slub_reason, sizeof(slub_reason));
        }
        break;
    }
    char raw[512];
    if (pat == &slub_pattern) {
        const char *ls = first;
        while (ls > log && ls[-1] != '\n')
            ls--;
        line_at(ls, out->report_line, sizeof(out->report_line));
        find_function(ls, true, out->function, sizeof(out->function), out->module, sizeof(out->module));
        out->type = pat->type;
        out->kind = pat->kind;
        if (out->function[0])
            snprintf(raw, sizeof(raw), "slab: %s in %s", slub_reason, out->function);
        else
            snprintf(raw, sizeof(raw), "slab: %s", slub_reason);
    } else if (pat) {
        const char *ls = first;
        while (ls > log && ls[-1] != '\n')
            ls--;
        line_at(ls, out->report_line, sizeof(out->report_line));
        find_function(ls, !strcmp(pat->type, "hang"), out->function, sizeof(out->function), out->module,
                      sizeof(out->module));
        out->type = pat->type;
        out->kind = pat->kind;
        if (!pat->title) { /* "BUG: KASAN: use-after-free in func+0x../0x.." */
            line_at(first + strlen("BUG: KASAN: "), raw + 8, sizeof(raw) - 8);
            memcpy(raw, "KASAN: ", 7);
            raw[7] = ' ';
            char *mod = strstr(raw, " [");
            if (mod)
                *mod = '\0';
        } else if (out->function[0]) {
            snprintf(raw, sizeof(raw), pat->title, out->function);
        } else {
            /* no function: keep the report's own words up to " in %s" */
            snprintf(raw, sizeof(raw), "%.*s", (int)(strstr(pat->title, " in %s") - pat->title), pat->title);
        }
    } else if (panic) {
        const char *ls = panic;
        while (ls > log && ls[-1] != '\n')
            ls--;
        line_at(ls, out->report_line, sizeof(out->report_line));
        snprintf(raw, sizeof(raw), "Kernel panic - not syncing: %s", out->panic_message);
        out->type = out->kind = "panic";
        find_function(ls, true, out->function, sizeof(out->function), out->module, sizeof(out->module));
    } else {
        return false;
    }
    cl_dump_title_from_text(raw, out->title, sizeof(out->title));
    return true;
}
