/* hosts.c - the hosts file. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hosts.h"
#include "util/fileio.h"

static unsigned host_memory_mb(void)
{
    long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
    if (pages <= 0 || psz <= 0)
        return 1024;
    /* Half the RAM: the host and its page cache need the rest. */
    return (unsigned)((unsigned long long)pages * (unsigned long long)psz / 2 / (1024 * 1024));
}

static unsigned host_vcpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1;
}

static void host_defaults(cl_host *h, const char *name)
{
    memset(h, 0, sizeof(*h));
    snprintf(h->name, sizeof(h->name), "%s", name);
    h->slots = 1;
    h->memory_mb = host_memory_mb();
    h->vcpus = host_vcpus();
}

void cl_hosts_clear(cl_hosts *h)
{
    for (size_t i = 0; i < h->n; i++) {
        free(h->v[i].uri);
        free(h->v[i].guest_pool);
        free(h->v[i].dump_pool);
        free(h->v[i].guest_dir);
        free(h->v[i].disabled);
    }
    free(h->v);
    h->v = NULL;
    h->n = 0;
}

bool cl_hosts_default(int slots, cl_hosts *out, cl_error **errp)
{
    if (slots < 1 || slots > CL_HOST_MAX_SLOTS)
        return cl_error_set(errp, CL_ERR_INVAL, "hosts: --slots %d is not within 1..%d", slots, CL_HOST_MAX_SLOTS);
    out->v = calloc(1, sizeof(cl_host));
    if (!out->v)
        return cl_error_set(errp, CL_ERR_NOMEM, "hosts: out of memory");
    out->n = 1;
    host_defaults(&out->v[0], "local");
    out->v[0].slots = slots;
    return true;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

static bool parse_uint(const char *v, unsigned lo, unsigned hi, unsigned *out)
{
    char *end;
    unsigned long x = strtoul(v, &end, 10);
    if (!*v || *end || x < lo || x > hi)
        return false;
    *out = (unsigned)x;
    return true;
}

bool cl_hosts_parse(const char *name, const char *text, cl_hosts *out, cl_error **errp)
{
    cl_hosts h = { 0 };
    CL_AUTOFREE char *copy = strdup(text);
    if (!copy)
        return cl_error_set(errp, CL_ERR_NOMEM, "hosts: out of memory");
    int lineno = 0;
    for (char *line = copy, *next; line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        lineno++;
        char *s = trim(line);
        if (!*s || *s == '#')
            continue;
        if (*s == '[') {
            char *e = strchr(s, ']');
            if (!e || e[1] || e == s + 1 || (size_t)(e - s - 1) >= sizeof(h.v[0].name)) {
                cl_error_set(errp, CL_ERR_INVAL, "%s:%d: a section is '[name]' with a name of 1..63 characters", name, lineno);
                goto fail;
            }
            *e = '\0';
            for (const char *p = s + 1; *p; p++)
                if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.') {
                    cl_error_set(errp, CL_ERR_INVAL, "%s:%d: host name '%s': use letters, digits, '-', '_', '.'", name, lineno, s + 1);
                    goto fail;
                }
            if (h.n == CL_HOSTS_MAX) {
                cl_error_set(errp, CL_ERR_INVAL, "%s:%d: more than %d hosts", name, lineno, CL_HOSTS_MAX);
                goto fail;
            }
            if (cl_hosts_find(&h, s + 1)) {
                cl_error_set(errp, CL_ERR_INVAL, "%s:%d: host '%s' is defined twice", name, lineno, s + 1);
                goto fail;
            }
            cl_host *nv = realloc(h.v, (h.n + 1) * sizeof(*nv));
            if (!nv) {
                cl_error_set(errp, CL_ERR_NOMEM, "hosts: out of memory");
                goto fail;
            }
            h.v = nv;
            host_defaults(&h.v[h.n++], s + 1);
            continue;
        }
        char *eq = strchr(s, '=');
        if (!eq) {
            cl_error_set(errp, CL_ERR_INVAL, "%s:%d: expected 'key = value' or '[host]'", name, lineno);
            goto fail;
        }
        *eq = '\0';
        char *k = trim(s), *v = trim(eq + 1);
        if (!h.n) {
            cl_error_set(errp, CL_ERR_INVAL, "%s:%d: '%s' before the first [host] section", name, lineno, k);
            goto fail;
        }
        cl_host *cur = &h.v[h.n - 1];
        unsigned u;
        if (!strcmp(k, "uri")) {
            free(cur->uri);
            cur->uri = !strcmp(v, "embedded") ? NULL : strdup(v);
        } else if (!strcmp(k, "slots")) {
            if (!parse_uint(v, 1, CL_HOST_MAX_SLOTS, &u)) {
                cl_error_set(errp, CL_ERR_INVAL, "%s:%d: slots must be 1..%d", name, lineno, CL_HOST_MAX_SLOTS);
                goto fail;
            }
            cur->slots = (int)u;
        } else if (!strcmp(k, "memory_mb") || !strcmp(k, "vcpus")) {
            if (!parse_uint(v, 1, 1u << 24, &u)) {
                cl_error_set(errp, CL_ERR_INVAL, "%s:%d: %s must be a positive number", name, lineno, k);
                goto fail;
            }
            *(k[0] == 'm' ? &cur->memory_mb : &cur->vcpus) = u;
        } else if (!strcmp(k, "guest_pool")) {
            free(cur->guest_pool);
            cur->guest_pool = strdup(v);
        } else if (!strcmp(k, "dump_pool")) {
            free(cur->dump_pool);
            cur->dump_pool = strdup(v);
        } else {
            cl_error_set(errp, CL_ERR_INVAL, "%s:%d: unknown key '%s' (uri, slots, memory_mb, vcpus, guest_pool, dump_pool)", name, lineno, k);
            goto fail;
        }
    }
    if (!h.n) {
        cl_error_set(errp, CL_ERR_INVAL, "%s: no [host] section", name);
        goto fail;
    }
    for (size_t i = 0; i < h.n; i++)
        if (h.v[i].uri && strstr(h.v[i].uri, "/embed") && h.v[i].slots > 1) {
            /* Two processes on one embedded root confuse each other. */
            cl_error_set(errp, CL_ERR_INVAL, "%s: host '%s': an explicit embedded root holds one run at a time; "
                         "use 'uri = embedded' (a root per slot) or slots = 1", name, h.v[i].name);
            goto fail;
        }
    *out = h;
    return true;
fail:
    cl_hosts_clear(&h);
    return false;
}

bool cl_hosts_load(const char *path, cl_hosts *out, cl_error **errp)
{
    CL_AUTOFREE char *text = NULL;
    size_t len = 0;
    if (!cl_file_read_all(path, 1 << 20, &text, &len, errp))
        return false;
    return cl_hosts_parse(path, text, out, errp);
}

cl_host *cl_hosts_find(cl_hosts *h, const char *name)
{
    for (size_t i = 0; i < h->n; i++)
        if (!strcmp(h->v[i].name, name))
            return &h->v[i];
    return NULL;
}

bool cl_host_fits_ever(const cl_host *h, unsigned mem, unsigned vcpus)
{
    return mem <= h->memory_mb && vcpus <= h->vcpus;
}

bool cl_host_fits_now(const cl_host *h, unsigned mem, unsigned vcpus)
{
    return !h->disabled && h->used < h->slots && h->mem_used + mem <= h->memory_mb && h->vcpu_used + vcpus <= h->vcpus;
}
