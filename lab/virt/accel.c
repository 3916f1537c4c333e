#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "accel.h"
#include "util/buf.h"
#include "util/fileio.h"

#define CACHE_SECONDS (24 * 3600)

static void set(cl_accel_choice *c, bool kvm, const char *why)
{
    snprintf(c->domain_type, sizeof(c->domain_type), "%s", kvm ? "kvm" : "qemu");
    snprintf(c->accel, sizeof(c->accel), "%s", kvm ? "kvm" : "tcg");
    snprintf(c->why, sizeof(c->why), "%s", why);
}

static bool kvm_capable(cl_virt *v)
{
    char *caps = virConnectGetDomainCapabilities(cl_virt_conn(v), NULL, "x86_64", NULL, "kvm", 0);
    if (!caps)
        return false;
    free(caps);
    return true;
}

/* Boots the kernel alone under KVM and waits for its panic. */
static int probe_boot(cl_virt *v, const char *kernel, double timeout, char *why, size_t whylen)
{
    char name[64];
    snprintf(name, sizeof(name), "cl-kvmprobe-%ld", (long)getpid());
    cl_buf b = { .max = 8192 };
    cl_buf_addf(&b,
                "<domain type='kvm'><name>%s</name><memory unit='MiB'>128</memory><vcpu>1</vcpu>"
                "<os><type arch='x86_64' machine='pc'>hvm</type><kernel>",
                name);
    cl_buf_add_xml(&b, kernel);
    cl_buf_adds(&b, "</kernel><cmdline>console=ttyS0 panic=0 root=/dev/cl-none rootwait=0</cmdline></os>"
                    "<on_crash>destroy</on_crash><devices><panic model='isa'><address type='isa' iobase='0x505'/></panic>"
                    "<video><model type='none'/></video><memballoon model='none'/></devices></domain>");
    CL_AUTOFREE char *xml = cl_buf_finish(&b, NULL);
    if (!xml)
        return -1;
    virDomainPtr dom = virDomainCreateXML(cl_virt_conn(v), xml, cl_virt_is_embedded(v) ? 0 : VIR_DOMAIN_START_AUTODESTROY);
    if (!dom) {
        virErrorPtr e = virGetLastError();
        snprintf(why, whylen, "KVM probe domain did not start: %s", e && e->message ? e->message : "unknown error");
        return 0;
    }
    double t0 = cl_now();
    cl_virt_event ev;
    bool got = cl_virt_wait_event(v, name, 1u << CL_VEV_CRASHED | 1u << CL_VEV_STOPPED, t0 + timeout, &ev);
    int ok = got && ev.kind == CL_VEV_CRASHED;
    if (ok)
        snprintf(why, whylen, "KVM probe kernel reached its panic in %.1f s", ev.when - t0);
    else if (got)
        snprintf(why, whylen, "KVM probe guest stopped (%s) without reaching its panic", ev.detail_str);
    else
        snprintf(why, whylen, "KVM probe kernel gave no sign of life within %.0f s (broken nested virtualization?)", timeout);
    virDomainDestroy(dom);
    virDomainFree(dom);
    cl_virt_forget(v, name);
    return ok;
}

static void cache_path(const char *state_dir, const char *uri, char *out, size_t outlen)
{
    char hex[65];
    cl_sha256_buf(uri, strlen(uri), hex);
    snprintf(out, outlen, "%s/accel-%.16s.json", state_dir, hex);
}

static bool cache_read(const char *path, const char *kernel, cl_accel_choice *out)
{
    CL_AUTOFREE char *text = NULL;
    size_t len = 0;
    if (!cl_file_read_all(path, 4096, &text, &len, NULL))
        return false;
    json_object *o = json_tokener_parse(text), *k, *when, *acc, *why;
    bool ok = o && json_object_object_get_ex(o, "kernel", &k) && json_object_object_get_ex(o, "when", &when) &&
              json_object_object_get_ex(o, "accel", &acc) && json_object_object_get_ex(o, "why", &why) &&
              (!kernel || !strcmp(json_object_get_string(k), kernel)) &&
              time(NULL) - json_object_get_int64(when) < CACHE_SECONDS &&
              time(NULL) >= json_object_get_int64(when);
    if (ok) {
        set(out, !strcmp(json_object_get_string(acc), "kvm"), json_object_get_string(why));
        out->cached = true;
    }
    json_object_put(o);
    return ok;
}

static void cache_write(const char *path, const char *kernel, const cl_accel_choice *c)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "kernel", json_object_new_string(kernel));
    json_object_object_add(o, "when", json_object_new_int64(time(NULL)));
    json_object_object_add(o, "accel", json_object_new_string(c->accel));
    json_object_object_add(o, "why", json_object_new_string(c->why));
    const char *s = json_object_to_json_string(o);
    cl_file_write_atomic(path, s, strlen(s), NULL);
    json_object_put(o);
}

bool cl_accel_choose(cl_virt *v, const char *want, const char *kernel, const char *state_dir,
                     double probe_timeout, cl_accel_choice *out, cl_error **errp)
{
    memset(out, 0, sizeof(*out));
    if (!want || !strcmp(want, "auto")) {
        /* fall through to the probe */
    } else if (!strcmp(want, "tcg")) {
        set(out, false, "TCG asked for with --accel tcg");
        return true;
    } else if (!strcmp(want, "kvm")) {
        if (!kvm_capable(v))
            return cl_error_set(errp, CL_ERR_VIRT, "accel: --accel kvm, but '%s' offers no KVM domains", cl_virt_uri(v));
        set(out, true, "KVM asked for with --accel kvm");
        return true;
    } else {
        return cl_error_set(errp, CL_ERR_INVAL, "accel: '%s' is not one of auto, kvm, tcg", want);
    }
    if (!kvm_capable(v)) {
        set(out, false, "TCG: the host offers no KVM (no usable /dev/kvm)");
        return true;
    }
    char path[PATH_MAX];
    cache_path(state_dir, cl_virt_uri(v), path, sizeof(path));
    if (cache_read(path, kernel ? kernel : NULL, out))
        return true;
    if (!kernel || !*kernel) {
        set(out, false, "TCG: KVM is offered but was not probed (nothing may be started, or no kernel to probe with)");
        return true;
    }
    char why[200];
    int r = probe_boot(v, kernel, probe_timeout, why, sizeof(why));
    if (r < 0)
        return cl_error_set(errp, CL_ERR_NOMEM, "accel: out of memory");
    char full[256];
    snprintf(full, sizeof(full), "%s: %s", r ? "KVM" : "TCG", why);
    set(out, r == 1, full);
    cache_write(path, kernel, out);
    return true;
}
