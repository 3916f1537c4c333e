/* domain_test.c - finding a run's domains by their crashlab metadata, against libvirt's
 * test driver (test:///default): destroy by run id (serve's recovery) matches the whole id
 * field only, and the stale sweep takes only this host's domains whose process is gone.
 * Starting real guests needs QEMU (tests/integration/serve.sh kills a run for real). */
#include <libvirt/libvirt.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "virt/domain.h"
#include "virt/domxml.h"

static virDomainPtr start(cl_virt *v, const char *name, const char *id, long pid, const char *host)
{
    char xml[1024];
    snprintf(xml, sizeof(xml),
             "<domain type='test'><name>%s</name><memory>1024</memory><os><type>hvm</type></os>"
             "<metadata><crashlab:run xmlns:crashlab='" CL_DOMXML_NS "'><crashlab:id>%s</crashlab:id>"
             "<crashlab:pid>%ld</crashlab:pid><crashlab:host>%s</crashlab:host></crashlab:run></metadata></domain>",
             name, id, pid, host);
    return virDomainCreateXML(cl_virt_conn(v), xml, 0);
}

static bool active(cl_virt *v, const char *name)
{
    virDomainPtr d = virDomainLookupByName(cl_virt_conn(v), name);
    bool a = d && virDomainIsActive(d) == 1;
    if (d)
        virDomainFree(d);
    return a;
}

static void test_destroy_run(void)
{
    cl_virt *v = cl_virt_open("test:///default", NULL, NULL);
    CHECK(v != NULL);
    if (!v)
        return;
    long me = (long)getpid();
    virDomainPtr d[4] = { start(v, "dr-a", "run-1", me, "h"), start(v, "dr-b", "run-10", me, "h"),
                          start(v, "dr-c", "run-1", me, "h"),
                          /* its pid field reads 4242: a substring match of "id>4242<" took it */
                          start(v, "dr-d", "run-x", 4242, "h") };
    CHECK(d[0] && d[1] && d[2] && d[3]);
    CHECK(cl_domain_meta(d[0], "id", (char[16]){ 0 }, 16));
    CHECK(cl_virt_destroy_run(v, "run-1", NULL, NULL) == 2);
    CHECK(!active(v, "dr-a") && active(v, "dr-b") && !active(v, "dr-c") && active(v, "dr-d"));
    CHECK(cl_virt_destroy_run(v, "4242", NULL, NULL) == 0 && active(v, "dr-d"));
    CHECK(cl_virt_destroy_run(v, "run-", NULL, NULL) == 0 && active(v, "dr-b"));
    CHECK(cl_virt_destroy_run(v, "run-10", NULL, NULL) == 1 && !active(v, "dr-b"));
    CHECK(cl_virt_destroy_run(v, "run-x", NULL, NULL) == 1 && !active(v, "dr-d"));
    for (int i = 0; i < 4; i++)
        if (d[i])
            virDomainFree(d[i]);
    cl_virt_close(v);
}

static void test_cleanup_stale(void)
{
    cl_virt *v = cl_virt_open("test:///default", NULL, NULL);
    CHECK(v != NULL);
    if (!v)
        return;
    char host[256] = "";
    gethostname(host, sizeof(host) - 1);
    pid_t gone = fork();    /* a pid that surely belonged to a process now gone */
    if (gone == 0)
        _exit(0);
    waitpid(gone, NULL, 0);
    virDomainPtr d[3] = { start(v, "st-gone", "run-g", (long)gone, host),
                          start(v, "st-live", "run-l", (long)getpid(), host),
                          start(v, "st-other", "run-o", (long)gone, "another-host") };
    CHECK(d[0] && d[1] && d[2]);
    CHECK(cl_virt_cleanup_stale(v, true, NULL) == 1);
    CHECK(!active(v, "st-gone") && active(v, "st-live") && active(v, "st-other"));
    CHECK(cl_virt_destroy_run(v, "run-l", NULL, NULL) == 1 && cl_virt_destroy_run(v, "run-o", NULL, NULL) == 1);
    for (int i = 0; i < 3; i++)
        if (d[i])
            virDomainFree(d[i]);
    cl_virt_close(v);
}

int main(void)
{
    RUN_TEST(test_destroy_run);
    RUN_TEST(test_cleanup_stale);
    TEST_EXIT();
}
