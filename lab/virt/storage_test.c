/* storage_test.c - the remote-host helpers against libvirt's test driver (test:///default):
 * pool checks, the host record, and which URIs count as this machine's files. The dump
 * download itself needs a real libvirtd (tests/integration/fleet-tcp.sh). */
#include <string.h>

#include "check.h"
#include "virt/hostinfo.h"
#include "virt/storage.h"

static void test_uri_is_local(void)
{
    CHECK(cl_virt_uri_is_local(NULL));
    CHECK(cl_virt_uri_is_local("qemu:///system"));
    CHECK(cl_virt_uri_is_local("qemu:///embed?root=/var/lib/x"));
    CHECK(cl_virt_uri_is_local("qemu+unix:///system?socket=/tmp/s"));
    CHECK(!cl_virt_uri_is_local("qemu+tcp://127.0.0.1:16509/system"));
    CHECK(!cl_virt_uri_is_local("qemu+ssh://root@127.0.0.1/system?keyfile=/k"));
    CHECK(!cl_virt_uri_is_local("qemu+tls://rack1/system"));
    CHECK(!cl_virt_uri_is_local("qemu://rack1/system"));
}

static void test_pool_check(void)
{
    cl_error *err = NULL;
    cl_virt *v = cl_virt_open("test:///default", NULL, &err);
    CHECK(v != NULL);
    if (!v) {
        cl_error_free(err);
        return;
    }
    cl_pool_info pi;
    CHECK(cl_pool_check(v, "default-pool", &pi, NULL));
    CHECK_STR(pi.target, "/default-pool");
    CHECK(pi.capacity > 0 && pi.available > 0 && pi.available <= pi.capacity);
    CHECK(!cl_pool_check(v, "no-such-pool", &pi, &err));
    CHECK(err && strstr(err->msg, "'no-such-pool'") && err->code == CL_ERR_VIRT);
    cl_error_free(err);
    err = NULL;
    /* A guest file that is not a volume there is refused by name, not looked for here. */
    CHECK(!cl_vol_exists_at(v, "/default-pool/vmlinuz", &err));
    CHECK(err && strstr(err->msg, "/default-pool/vmlinuz"));
    cl_error_free(err);
    err = NULL;
    /* A volume name with a slash would leave the pool. */
    cl_remote_dump rd;
    CHECK(!cl_domain_dump_to_pool(v, NULL, CL_DUMPFMT_KDUMP_ZLIB, "default-pool", "../x", "/nonexistent/x", 1, &rd, &err));
    CHECK(err && strstr(err->msg, "bad volume name"));
    cl_error_free(err);
    err = NULL;
    CHECK(!cl_domain_dump_to_pool(v, NULL, CL_DUMPFMT_NONE, "default-pool", "x", "/nonexistent/x", 1, &rd, &err));
    CHECK(err && err->code == CL_ERR_INVAL);
    cl_error_free(err);
    cl_virt_close(v);
}

static void test_host_info(void)
{
    cl_virt *v = cl_virt_open("test:///default", NULL, NULL);
    CHECK(v != NULL);
    if (!v)
        return;
    cl_host_info hi;
    CHECK(cl_virt_host_info(v, &hi, NULL));
    CHECK(hi.hostname[0] != '\0');
    CHECK_STR(hi.arch, "i686");   /* the test driver's capabilities */
    CHECK(hi.cpus > 0 && hi.memory_mb > 0 && hi.sockets > 0);
    cl_virt_close(v);
}

int main(void)
{
    RUN_TEST(test_uri_is_local);
    RUN_TEST(test_pool_check);
    RUN_TEST(test_host_info);
    TEST_EXIT();
}
