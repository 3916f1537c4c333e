#include <libvirt/libvirt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/virterror.h>

#include "domain.h"
#include "domxml.h"
#include "saved.h"
#include "util/buf.h"

bool cl_saved_write(virDomainPtr dom, const char *path, cl_error **errp)
{
    if (virDomainSaveFlags(dom, path, NULL, VIR_DOMAIN_SAVE_RUNNING) < 0)
        return cl_virt_error(errp, "cannot save the guest to '%s'", path);
    return true;
}

virDomainPtr cl_saved_restore(cl_virt *v, const char *path, const char *xml, bool paused, cl_error **errp)
{
    unsigned flags = paused ? VIR_DOMAIN_SAVE_PAUSED : VIR_DOMAIN_SAVE_RUNNING;
    if (virDomainRestoreFlags(cl_virt_conn(v), path, xml, flags) < 0) {
        cl_virt_error(errp, "cannot restore '%s'", path);
        return NULL;
    }
    /* The restore API gives no handle: the name is the saved one (xml cannot change it). */
    const char *s = strstr(xml, "<name>");
    char name[128] = "";
    if (s)
        sscanf(s + 6, "%127[^<]", name);
    virDomainPtr dom = name[0] ? virDomainLookupByName(cl_virt_conn(v), name) : NULL;
    if (!dom)
        cl_virt_error(errp, "the restored domain '%s' is not there", name);
    return dom;
}

virDomainPtr cl_saved_take_spare(cl_virt *v, const char *name, const char *spare_id)
{
    virDomainPtr dom = virDomainLookupByName(cl_virt_conn(v), name);
    if (!dom) {
        virResetLastError();
        return NULL;
    }
    int state = 0, reason = 0;
    char id[128];
    if (virDomainIsActive(dom) == 1 && virDomainGetState(dom, &state, &reason, 0) == 0 &&
        state == VIR_DOMAIN_PAUSED && (reason == VIR_DOMAIN_PAUSED_USER || reason == VIR_DOMAIN_PAUSED_MIGRATION) &&
        cl_domain_meta(dom, "id", id, sizeof(id)) &&
        !strcmp(id, spare_id))
        return dom;
    /* Not ours to resume: a half-made or claimed one whose run is gone holds the name. */
    cl_domain_destroy(dom);
    return NULL;
}

bool cl_saved_claim(virDomainPtr dom, const char *run_id, long pid, const char *host, cl_error **errp)
{
    cl_buf b = { 0 };
    cl_buf_adds(&b, "<run><id>");
    cl_buf_add_xml(&b, run_id);
    cl_buf_addf(&b, "</id><pid>%ld</pid><host>", pid);
    cl_buf_add_xml(&b, host);
    cl_buf_adds(&b, "</host></run>");
    char *xml = cl_buf_finish(&b, errp);
    if (!xml)
        return false;
    int rc = virDomainSetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, xml, "crashlab", CL_DOMXML_NS,
                                  VIR_DOMAIN_AFFECT_LIVE);
    free(xml);
    if (rc < 0)
        return cl_virt_error(errp, "cannot record the run in the domain's metadata");
    return true;
}

int cl_saved_drop_spares(cl_virt *v, const char *keep)
{
    virDomainPtr *doms = NULL;
    int n = virConnectListAllDomains(cl_virt_conn(v), &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
    if (n < 0) {
        virResetLastError();
        return 0;
    }
    int dropped = 0;
    for (int i = 0; i < n; i++) {
        char id[128];
        /* A destroy racing libvirt's reconnect to the QEMU fails, yet the QEMU is gone. */
        if (cl_domain_meta(doms[i], "id", id, sizeof(id)) && !strncmp(id, "spare-", 6) &&
            !(keep && !strcmp(id, keep)) && (virDomainDestroy(doms[i]) == 0 || virDomainIsActive(doms[i]) != 1))
            dropped++;
        virDomainFree(doms[i]);
    }
    free(doms);
    return dropped;
}

long cl_saved_qemu_pid(cl_virt *v, const char *name)
{
    const char *r = cl_virt_is_embedded(v) ? strstr(cl_virt_uri(v), "root=") : NULL;
    if (!r)
        return 0;
    char path[4096];
    int n = snprintf(path, sizeof(path), "%.*s/run/qemu/%s.pid", (int)strcspn(r + 5, "&"), r + 5, name);
    if (n < 0 || n >= (int)sizeof(path))
        return 0;
    FILE *f = fopen(path, "re");
    long pid = 0;
    if (f) {
        if (fscanf(f, "%ld", &pid) != 1 || pid <= 1)
            pid = 0;
        fclose(f);
    }
    return pid;
}

int cl_saved_list_spares(cl_virt *v, FILE *out)
{
    virDomainPtr *doms = NULL;
    int n = virConnectListAllDomains(cl_virt_conn(v), &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
    if (n < 0)
        return -1;
    int found = 0;
    for (int i = 0; i < n; i++) {
        char id[128];
        if (cl_domain_meta(doms[i], "id", id, sizeof(id)) && !strncmp(id, "spare-", 6)) {
            char state[32], reason[32];
            cl_domain_state(doms[i], state, reason);
            fprintf(out, "%s\t%s\t%s\n", virDomainGetName(doms[i]), id, state);
            found++;
        }
        virDomainFree(doms[i]);
    }
    free(doms);
    return found;
}
