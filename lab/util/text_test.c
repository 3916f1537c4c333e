/* text_test.c - guest text per sink: UTF-8 cuts, JSON cleaning, XML and terminal escapes. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "util/buf.h"
#include "util/text.h"

static bool valid_utf8(const char *s)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t len = strlen(s);
    for (size_t i = 0; i < len;) {
        unsigned cp;
        size_t l = cl_text_utf8_seq(u + i, len - i, &cp);
        if (!l)
            return false;
        i += l;
    }
    return true;
}

static void test_utf8_cut(void)
{
    /* The case: a 3-byte character across the 4096-byte cap. */
    char buf[5000];
    memset(buf, 'a', sizeof(buf));
    memcpy(buf + 4095, "\xe2\x82\xac", 3); /* U+20AC at 4095..4097 */
    CHECK(cl_text_utf8_cut(buf, sizeof(buf), 4096) == 4095);
    CHECK(cl_text_utf8_cut(buf, sizeof(buf), 4098) == 4098);
    CHECK(cl_text_utf8_cut(buf, sizeof(buf), 4097) == 4095);
    CHECK(cl_text_utf8_cut(buf, 10, 4096) == 10);
    /* 4-byte character, every cut inside it. */
    const char *e = "x\xf0\x9f\x98\x80y";
    for (size_t m = 2; m <= 4; m++)
        CHECK(cl_text_utf8_cut(e, 6, m) == 1);
    CHECK(cl_text_utf8_cut(e, 6, 5) == 5);
}

static void test_utf8_clean(void)
{
    char *c = cl_text_utf8_clean("ok\xff\xc0\xafz\xed\xa0\x80", 10);
    CHECK(c && valid_utf8(c) && !strncmp(c, "ok\xef\xbf\xbd", 5) && strchr(c, 'z'));
    free(c);
    c = cl_text_utf8_clean("a\0b", 3);
    CHECK_STR(c, "a\xef\xbf\xbd" "b");
    free(c);
    json_object *o = json_object_new_object();
    json_object *arr = json_object_new_array();
    json_object_array_add(arr, json_object_new_string_len("cut\xe2\x82", 5));
    json_object_object_add(o, "steps", arr);
    json_object_object_add(o, "k\xfe", json_object_new_string("fine"));
    json_object_object_add(o, "good", json_object_new_string("caf\xc3\xa9"));
    CHECK(cl_text_json_clean(o) == 2);
    const char *text = json_object_to_json_string(o);
    CHECK(valid_utf8(text) && strstr(text, "caf\xc3\xa9") && strstr(text, "k\xef\xbf\xbd"));
    json_object_put(o);
}

static void test_xml_escape(void)
{
    cl_buf b = { 0 };
    cl_buf_add_xml(&b, "\x1b[31mred\x1b[0m <&> \x01\x7f ok\ttab \xc3\xa9 \xff");
    char *s = cl_buf_finish(&b, NULL);
    CHECK(s && !strchr(s, 0x1b) && !strchr(s, 0x01) && valid_utf8(s));
    CHECK(s && strstr(s, "&lt;&amp;&gt;") && strstr(s, "\ttab") && strstr(s, "\xc3\xa9"));
    free(s);
}

static void test_terminal(void)
{
    char out[64];
    cl_text_terminal("BUG: \x1b]0;pwned\x07 \xc2\x9b" "2J caf\xc3\xa9", out, sizeof(out));
    CHECK(!strchr(out, 0x1b) && !strchr(out, 0x07) && !strstr(out, "\xc2\x9b"));
    CHECK(strstr(out, "\\x1b]0;pwned\\x07") && strstr(out, "\\xc2\\x9b2J") && strstr(out, "caf\xc3\xa9"));
    char big[1000];
    memset(big, 0x1b, sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    cl_text_terminal(big, out, sizeof(out));
    CHECK(strlen(out) < sizeof(out) && strstr(out, "..."));
}

static void test_put_lines(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    cl_text_put_lines(m, "title: \x1b[2Jgone\npanic: caf\xc3\xa9 \xff\n");
    fclose(m);
    CHECK_STR(text, "title: \\x1b[2Jgone\npanic: caf\xc3\xa9 \\xff\n");
    free(text);
}

int main(void)
{
    RUN_TEST(test_utf8_cut);
    RUN_TEST(test_utf8_clean);
    RUN_TEST(test_xml_escape);
    RUN_TEST(test_terminal);
    RUN_TEST(test_put_lines);
    TEST_EXIT();
}
