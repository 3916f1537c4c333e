/* dump_report_test.c - crash titles from kernel logs, against golden files in
 * tests/data/dumps/reports/: a header (TITLE:, FUNCTION:, MODULE:, PANIC:, SOURCE:), a blank
 * line, then the log. The logs are the real consoles of the lab's Linux guest. UPDATE=1
 * rewrites the headers from what the parser says now (review the diff before keeping it). */
#include <dirent.h>

#include "check.h"
#include "dump/linux/report.h"
#include "dump/title.h"
#include "util/fileio.h"

#define DIR_REPORTS "tests/data/dumps/reports"

static void header(const char *text, const char *key, char *out, size_t len)
{
    out[0] = '\0';
    size_t kl = strlen(key);
    for (const char *p = text; p && *p && *p != '\n';) {
        const char *eol = strchr(p, '\n');
        if (!strncmp(p, key, kl) && p[kl] == ':' && p[kl + 1] == ' ') {
            size_t n = (size_t)(eol - p) - kl - 2;
            snprintf(out, len, "%.*s", (int)n, p + kl + 2);
            return;
        }
        p = eol ? eol + 1 : NULL;
    }
}

static void check_file(const char *name, bool update)
{
    char path[512], *text = NULL;
    size_t len = 0;
    snprintf(path, sizeof(path), "%s/%s", DIR_REPORTS, name);
    CHECK(cl_file_read_all(path, 4u << 20, &text, &len, NULL));
    if (!text)
        return;
    const char *log = strstr(text, "\n\n");
    CHECK(log != NULL);
    if (!log) {
        free(text);
        return;
    }
    log += 2;
    cl_linux_report r;
    bool found = cl_linux_report_parse(log, &r);
    char title[256], fn[256], mod[256], panic[256], source[512];
    header(text, "TITLE", title, sizeof(title));
    header(text, "FUNCTION", fn, sizeof(fn));
    header(text, "MODULE", mod, sizeof(mod));
    header(text, "PANIC", panic, sizeof(panic));
    header(text, "SOURCE", source, sizeof(source));
    if (update) {
        FILE *f = fopen(path, "w");
        if (f) {
            fprintf(f, "TITLE: %s\nFUNCTION: %s\nMODULE: %s\nPANIC: %s\nSOURCE: %s\n\n%s", found ? r.title : "",
                    r.function, r.module, r.panic_message, source, log);
            fclose(f);
        }
    } else {
        if (strcmp(title, found ? r.title : "") || strcmp(fn, r.function) || strcmp(mod, r.module) ||
            strcmp(panic, r.panic_message))
            printf("# %s: got title '%s' function '%s' module '%s' panic '%s'\n", name, r.title, r.function,
                   r.module, r.panic_message);
        CHECK(found);
        CHECK_STR(r.title, title);
        CHECK_STR(r.function, fn);
        CHECK_STR(r.module, mod);
        CHECK_STR(r.panic_message, panic);
        /* a title never carries an address or a run-specific number */
        CHECK(!strstr(r.title, "0x") && !strstr(r.title, "ffff"));
        CHECK(strlen(r.title) <= CL_TITLE_MAX);
    }
    free(text);
}

static void test_golden_reports(void)
{
    bool update = getenv("UPDATE") && !strcmp(getenv("UPDATE"), "1");
    DIR *d = opendir(DIR_REPORTS);
    CHECK(d != NULL);
    if (!d)
        return;
    struct dirent *de;
    int n = 0;
    while ((de = readdir(d))) {
        if (!strstr(de->d_name, ".txt"))
            continue;
        check_file(de->d_name, update);
        n++;
    }
    closedir(d);
    CHECK(n >= 5);
}

static void test_title_normalisation(void)
{
    char t[CL_TITLE_MAX + 1];
    cl_dump_title_from_text("Kernel panic - not syncing: lf: stuck at 0xffffffffc0123456 after 42 tries", t, sizeof(t));
    CHECK_STR(t, "Kernel panic - not syncing: lf: stuck at ADDR after NUM tries");
    cl_dump_title_from_text("BUG: unable to handle page fault for address: ffff8880deadbeef", t, sizeof(t));
    CHECK_STR(t, "BUG: unable to handle page fault for address: ADDR");
    cl_dump_title_from_text("WARNING in ext4_fill_super+0x1f/0x300 on  cpu\t3", t, sizeof(t));
    CHECK_STR(t, "WARNING in ext4_fill_super on cpu NUM");
    char longs[400];
    memset(longs, 'a', sizeof(longs) - 1);
    longs[sizeof(longs) - 1] = '\0';
    cl_dump_title_from_text(longs, t, sizeof(t));
    CHECK(strlen(t) == CL_TITLE_MAX);
    cl_dump_title_sanitize("x\x01\x7f\xff y", t, sizeof(t));
    CHECK_STR(t, "x y");
}

static void test_reports_from_text(void)
{
    cl_linux_report r;
    CHECK(!cl_linux_report_parse("[    1.000000] nothing to see\n", &r));
    CHECK(cl_linux_report_parse("[ 1.0] BUG: KASAN: use-after-free in lf_uaf+0x12/0x40 [labfault]\n"
                                "[ 1.1] Kernel panic - not syncing: KASAN: panic_on_warn set ...\n", &r));
    CHECK_STR(r.title, "KASAN: use-after-free in lf_uaf");
    CHECK(cl_linux_report_parse("[ 1.0] kernel BUG at mm/slub.c:379!\n[ 1.1] invalid opcode: 0000 [#1] SMP\n"
                                "[ 1.2] RIP: 0010:lf_check+0x2cb/0x3f0 [labfault]\n", &r));
    CHECK_STR(r.title, "kernel BUG in lf_check");
    CHECK(cl_linux_report_parse("[ 2.0] general protection fault, probably for non-canonical address 0xdead000000000100: 0000 [#1]\n"
                                "[ 2.1] RIP: 0010:lf_trash.isra.0+0x10/0x20 [labfault]\n", &r));
    CHECK_STR(r.title, "general protection fault in lf_trash");
    CHECK_STR(r.module, "labfault");
}

int main(void)
{
    RUN_TEST(test_title_normalisation);
    RUN_TEST(test_reports_from_text);
    RUN_TEST(test_golden_reports);
    TEST_EXIT();
}
