/* saved_test.c - the spare-guest rules of lab/virt/saved.c against libvirt's test driver
 * (test:///default): which paused domain is taken as a spare, that anything else holding
 * the name is destroyed, that a claim rewrites the run in the live metadata, and that drop
 * removes spares only. The save file and the embedded driver's pid file need real QEMU
 * (tests/integration/lab-scenarios.sh runs --spare for real). */
#include <libvirt/libvirt.h>
#include <string.h>

#include "check.h"
#include "virt/domain.h"
#include "virt/domxml.h"
#include "virt/saved.h"

static virDomainPtr define(cl_virt *v, const char *name, const char *id, bool pause)
{
    char xml[1024];
    snprintf(xml, sizeof(xml),
             "<domain type='test'><name>%s</name><memory>1024</memory><os><type>hvm</type></os>"
             "<metadata><crashlab:run xmlns:crashlab='" CL_DOMXML_NS "'><crashlab:id>%s</crashlab:id>"
             "<crashlab:pid>0</crashlab:pid><crashlab:host>h</crashlab:host></crashlab:run></metadata></domain>",
             name, id);
    virDomainPtr d = virDomainCreateXML(cl_virt_conn(v), xml, 0);
    if (d && pause)
        virDomainSuspend(d);
    return d;
}

static bool active(cl_virt *v, const char *name)
{
    virDomainPtr d = virDomainLookupByName(cl_virt_conn(v), name);
    bool a = d && virDomainIsActive(d) == 1;
    if (d)
        virDomainFree(d);
    return a;
}

static void test_take_spare(void)
{
    cl_virt *v = cl_virt_open("test:///default", NULL, NULL);
    CHECK(v != NULL);
    if (!v)
        return;
    virDomainPtr a = define(v, "sp-a", "spare-key1", true);
    virDomainPtr b = define(v, "sp-b", "spare-key1", false);    /* running: a claimed one */
    virDomainPtr c = define(v, "sp-c", "spare-key2", true);     /* another image's */
    virDomainPtr p = define(v, "sp-p", "spare-pending", true);  /* restore not finished */
    CHECK(a && b && c && p);
    /* Paused with the right id: taken, and still there. */
    virDomainPtr t = cl_saved_take_spare(v, "sp-a", "spare-key1");
    CHECK(t != NULL && active(v, "sp-a"));
    /* Running, other key, half-made: not taken, and the name is freed. */
    CHECK(cl_saved_take_spare(v, "sp-b", "spare-key1") == NULL && !active(v, "sp-b"));
    CHECK(cl_saved_take_spare(v, "sp-c", "spare-key1") == NULL && !active(v, "sp-c"));
    CHECK(cl_saved_take_spare(v, "sp-p", "spare-key1") == NULL && !active(v, "sp-p"));
    CHECK(cl_saved_take_spare(v, "no-such", "spare-key1") == NULL);
    /* The claim puts the run into the live metadata: the stale sweep and the daemon's
     * recovery find it by that run's id and pid from now on. */
    CHECK(t && cl_saved_claim(t, "run-<1>", 4242, "host&x", NULL));
    char id[64], pid[16], host[64];
    CHECK(t && cl_domain_meta(t, "id", id, sizeof(id)) && !strcmp(id, "run-&lt;1&gt;"));
    CHECK(t && cl_domain_meta(t, "pid", pid, sizeof(pid)) && !strcmp(pid, "4242"));
    CHECK(t && cl_domain_meta(t, "host", host, sizeof(host)) && !strcmp(host, "host&amp;x"));
    if (t)
        virDomainFree(t);
    virDomainFree(a);
    virDomainFree(b);
    virDomainFree(c);
    virDomainFree(p);
    cl_virt_close(v);
}

static void test_drop(void)
{
    cl_virt *v = cl_virt_open("test:///default", NULL, NULL);
    CHECK(v != NULL);
    if (!v)
        return;
    virDomainPtr d[4] = { define(v, "dr-1", "spare-k1", true), define(v, "dr-2", "spare-k2", true),
                          define(v, "dr-3", "run-7", false), define(v, "dr-4", "spare-k1", true) };
    CHECK(d[0] && d[1] && d[2] && d[3]);
    /* Keep this image's spares, drop the other's; a run's domain is never a spare. */
    CHECK(cl_saved_drop_spares(v, "spare-k1") == 1);
    CHECK(active(v, "dr-1") && !active(v, "dr-2") && active(v, "dr-3") && active(v, "dr-4"));
    CHECK(cl_saved_drop_spares(v, NULL) == 2);
    CHECK(!active(v, "dr-1") && active(v, "dr-3") && !active(v, "dr-4"));
    /* The test driver has no embedded root: no QEMU pid to keep. */
    CHECK(cl_saved_qemu_pid(v, "dr-3") == 0);
    for (int i = 0; i < 4; i++)
        if (d[i])
            virDomainFree(d[i]);
    cl_virt_close(v);
}

int main(void)
{
    RUN_TEST(test_take_spare);
    RUN_TEST(test_drop);
    TEST_EXIT();
}
