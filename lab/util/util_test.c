#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "util/buf.h"
#include "util/fileio.h"
#include "util/interrupt.h"
#include "util/proc.h"

static void test_files(void)
{
    char dir[] = "/tmp/cl-util-test-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char p[300], sub[300];
    snprintf(p, sizeof(p), "%s/a/b/c", dir);
    CHECK(cl_mkdir_p(p, 0755, NULL));
    snprintf(p, sizeof(p), "%s/a/f.txt", dir);
    CHECK(cl_file_write_atomic(p, "hello", 5, NULL));
    char *buf = NULL;
    size_t len = 0;
    CHECK(cl_file_read_all(p, 5, &buf, &len, NULL) && len == 5 && !strcmp(buf, "hello"));
    free(buf);
    cl_error *err = NULL;
    CHECK(!cl_file_read_all(p, 4, &buf, &len, &err));
    CHECK(err && strstr(err->msg, "larger than 4"));
    cl_error_free(err);
    err = NULL;
    CHECK(cl_file_read_tail(p, 3, &buf, &len, NULL) && !strcmp(buf, "llo"));
    free(buf);
    char hex[65];
    uint64_t size = 0;
    CHECK(cl_sha256_file(p, hex, &size, NULL) && size == 5);
    CHECK_STR(hex, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
    cl_sha256_buf("hello", 5, hex);
    CHECK_STR(hex, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
    snprintf(sub, sizeof(sub), "%s/a", dir);
    CHECK(!cl_file_read_all(sub, 100, &buf, &len, &err));
    cl_error_free(err);
    err = NULL;
    /* No temporary file is left behind when the target directory is missing. */
    snprintf(p, sizeof(p), "%s/missing/f", dir);
    CHECK(!cl_file_write_atomic(p, "x", 1, &err));
    cl_error_free(err);
    CHECK(cl_rm_rf(dir, NULL));
    CHECK(access(dir, F_OK) != 0);
    CHECK(cl_rm_rf(dir, NULL));
}

/* Issue 15: a directory another user can write (symlinks planted at the temp name and at
 * the final name), FIFOs and devices given as files, and the modes files are created with. */
static void test_hostile_files(void)
{
    char dir[] = "/tmp/cl-util-hostile-XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char victim[300], p[300], planted[400];
    snprintf(victim, sizeof(victim), "%s/victim", dir);
    CHECK(cl_file_write_atomic(victim, "precious", 8, NULL));
    snprintf(p, sizeof(p), "%s/report.html", dir);
    /* The name the old code used, and the same with every suffix up to 64. */
    snprintf(planted, sizeof(planted), "%s.tmp.%ld", p, (long)getpid());
    CHECK(symlink(victim, planted) == 0);
    for (int i = 0; i < 64; i++) {
        snprintf(planted, sizeof(planted), "%s.tmp.%ld.%d", p, (long)getpid(), i);
        CHECK(symlink(victim, planted) == 0);
    }
    CHECK(cl_file_write_atomic(p, "new", 3, NULL));
    char *buf = NULL;
    size_t len = 0;
    CHECK(cl_file_read_all(victim, 100, &buf, &len, NULL) && !strcmp(buf, "precious"));
    free(buf);
    /* A symlink at the final name is replaced, never written through. */
    unlink(p);
    CHECK(symlink(victim, p) == 0);
    CHECK(cl_file_write_atomic(p, "new", 3, NULL));
    struct stat st;
    CHECK(lstat(p, &st) == 0 && S_ISREG(st.st_mode));
    CHECK(cl_file_read_all(victim, 100, &buf, &len, NULL) && !strcmp(buf, "precious"));
    free(buf);
    /* Mode: the policy's 0640, narrowed by the umask. */
    mode_t um = umask(022);
    CHECK(cl_file_write_atomic(p, "x", 1, NULL) && stat(p, &st) == 0 && (st.st_mode & 0777) == 0640);
    umask(077);
    CHECK(cl_file_write_atomic(p, "x", 1, NULL) && stat(p, &st) == 0 && (st.st_mode & 0777) == 0600);
    umask(um);
    /* A FIFO nobody writes: refused at once, never waited on. */
    char fifo[300];
    snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
    CHECK(mkfifo(fifo, 0600) == 0);
    cl_error *err = NULL;
    CHECK(!cl_file_read_all(fifo, 100, &buf, &len, &err) && err && strstr(err->msg, "is a FIFO"));
    cl_error_free(err);
    err = NULL;
    char hex[65];
    CHECK(!cl_sha256_file(fifo, hex, NULL, &err) && err && strstr(err->msg, "is a FIFO"));
    cl_error_free(err);
    err = NULL;
    CHECK(!cl_sha256_file("/dev/zero", hex, NULL, &err) && err && strstr(err->msg, "character device"));
    cl_error_free(err);
    err = NULL;
    /* Hashing stops when the run is interrupted. */
    volatile int stop = 1;
    cl_interrupt_watch(&stop);
    CHECK(!cl_sha256_file(victim, hex, NULL, &err) && err && err->code == CL_ERR_INTERRUPTED);
    cl_interrupt_watch(NULL);
    cl_error_free(err);
    CHECK(cl_rm_rf(dir, NULL));
}

static void test_buf(void)
{
    cl_buf b = { 0 };
    char *s = cl_buf_finish(&b, NULL);
    CHECK(s && !strcmp(s, ""));
    free(s);
    cl_buf_addf(&b, "%d-%s", 7, "x");
    cl_buf_add_xml(&b, "<&'\">");
    s = cl_buf_finish(&b, NULL);
    CHECK_STR(s, "7-x&lt;&amp;&apos;&quot;&gt;");
    free(s);
    cl_buf c = { .max = 8 };
    cl_buf_adds(&c, "12345");
    cl_buf_adds(&c, "67890");
    cl_buf_adds(&c, "a");
    cl_error *err = NULL;
    CHECK(cl_buf_finish(&c, &err) == NULL);
    CHECK(err != NULL);
    cl_error_free(err);
}

static void test_errors(void)
{
    cl_error *err = NULL;
    CHECK(!cl_error_set(&err, CL_ERR_IO, "first %d", 1));
    cl_error_set(&err, CL_ERR_INVAL, "second");
    CHECK(err && err->code == CL_ERR_IO && !strcmp(err->msg, "first 1"));
    cl_error_prefix(&err, "ctx");
    CHECK_STR(err->msg, "ctx: first 1");
    cl_error_free(err);
    CHECK(!cl_error_set(NULL, CL_ERR_IO, "ignored"));
    CHECK_STR(cl_error_code_to_string(CL_ERR_TIMEOUT), "timeout");
}

static void test_proc(void)
{
    cl_proc_stat st;
    CHECK(cl_proc_stat_read(getpid(), &st));
    CHECK(st.state == 'R' && st.ppid == (long)getppid() && st.start_time > 0);
    CHECK(cl_proc_start_time(getpid()) == st.start_time);
    CHECK(cl_proc_start_time(getppid()) <= st.start_time);
    CHECK(!cl_proc_stat_read(0x3fffffff, &st));
    CHECK(cl_proc_start_time(0x3fffffff) == 0);
}

static void test_path_fmt(void)
{
    char b[16];
    cl_error *err = NULL;
    CHECK(cl_path_fmt(b, sizeof(b), &err, "%s/%s", "abc", "defghijklmn") && !strcmp(b, "abc/defghijklmn"));
    CHECK(!err);
    /* One byte over: refused, named, and nothing half-written left in the buffer. */
    CHECK(!cl_path_fmt(b, sizeof(b), &err, "%s/%s", "abc", "defghijklmno"));
    CHECK(err && err->code == CL_ERR_INVAL && strstr(err->msg, "path too long") && strstr(err->msg, "abc/defghijklm"));
    CHECK(b[0] == '\0');
    cl_error_free(err);
    CHECK(!cl_path_fmt(b, sizeof(b), NULL, "%s", "0123456789abcdefg"));
}

int main(void)
{
    RUN_TEST(test_files);
    RUN_TEST(test_hostile_files);
    RUN_TEST(test_buf);
    RUN_TEST(test_errors);
    RUN_TEST(test_proc);
    RUN_TEST(test_path_fmt);
    TEST_EXIT();
}
