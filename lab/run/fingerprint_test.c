#include <string.h>

#include "check.h"
#include "run/fingerprint.h"

static json_object *host(void)
{
    cl_domxml_opts dx = { .profile = CL_PROFILE_LINUX, .run_id = "run-1" };
    cl_smbios e;
    cl_smbios given = { .manufacturer = "Xen", .product = "HVM domU" };
    dx.smbios = &given;
    cl_domxml_smbios_effective(&dx, &e);
    return cl_fp_host(&dx, &e, "tcg", "9.0.0", "7.2.0");
}

static json_object *guest(const char *manufacturer, const char *serial)
{
    char text[1024];
    snprintf(text, sizeof(text),
             "{\"smbios\":{\"bios\":{\"vendor\":\"crashlab\",\"version\":\"crashlab-1\"},"
             "\"system\":{\"manufacturer\":\"%s\",\"product\":\"HVM domU\",\"version\":\"1\",\"serial\":\"%s\","
             "\"family\":\"crashlab\",\"sku\":null,\"uuid\":\"x\"}},\"hypervisor\":{\"name\":null}}",
             manufacturer, serial);
    return json_tokener_parse(text);
}

static bool agree(json_object *fp)
{
    json_object *a = NULL;
    return json_object_object_get_ex(fp, "agree", &a) && json_object_get_boolean(a);
}

static void test_agree(void)
{
    json_object *h = host(), *g = guest("Xen", "run-1");
    json_object *fp = cl_fp_compare(h, g);
    CHECK(agree(fp));
    json_object_put(fp);
    json_object_put(h);
    json_object_put(g);
}

static void test_mismatch(void)
{
    json_object *h = host(), *g = guest("QEMU", "other-run");
    json_object *fp = cl_fp_compare(h, g), *m = NULL;
    CHECK(!agree(fp));
    CHECK(json_object_object_get_ex(fp, "mismatches", &m) && json_object_array_length(m) == 2);
    CHECK(strstr(json_object_get_string(json_object_array_get_idx(m, 0)), "manufacturer"));
    CHECK(strstr(json_object_get_string(json_object_array_get_idx(m, 1)), "'other-run'"));
    json_object_put(fp);
    json_object_put(g);
    g = json_tokener_parse("{\"smbios\":null}");
    fp = cl_fp_compare(h, g);
    CHECK(!agree(fp));
    json_object_put(fp);
    json_object_put(g);
    json_object_put(h);
}

static void test_kvm_hypervisor(void)
{
    cl_domxml_opts dx = { .profile = CL_PROFILE_LINUX, .run_id = "r" };
    cl_smbios e;
    cl_domxml_smbios_effective(&dx, &e);
    json_object *h = cl_fp_host(&dx, &e, "kvm", "9", "7");
    json_object *g = json_tokener_parse("{\"smbios\":{\"bios\":{\"vendor\":\"crashlab\",\"version\":\"crashlab-1\"},"
                                        "\"system\":{\"manufacturer\":\"crashlab\",\"product\":\"crashlab virtual test machine\","
                                        "\"version\":\"1\",\"serial\":\"r\",\"family\":\"crashlab\"}},"
                                        "\"hypervisor\":{\"name\":\"Xen HVM\"}}");
    json_object *fp = cl_fp_compare(h, g);
    CHECK(!agree(fp));
    json_object_put(fp);
    json_object_put(g);
    json_object_put(h);
}

int main(void)
{
    RUN_TEST(test_agree);
    RUN_TEST(test_mismatch);
    RUN_TEST(test_kvm_hypervisor);
    TEST_EXIT();
}
