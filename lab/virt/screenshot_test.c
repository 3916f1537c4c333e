#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "check.h"
#include "virt/screenshot.h"

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void test_png(void)
{
    /* A 3x2 image: the PNG must carry the same pixels after inflating its IDAT. */
    const char hdr[] = "P6\n# a comment\n3 2\n255\n";
    unsigned char ppm[sizeof(hdr) - 1 + 18];
    memcpy(ppm, hdr, sizeof(hdr) - 1);
    for (int i = 0; i < 18; i++)
        ppm[sizeof(hdr) - 1 + i] = (unsigned char)(i * 13);
    unsigned char *png = NULL;
    size_t len = 0;
    CHECK(cl_ppm_to_png(ppm, sizeof(ppm), &png, &len, NULL));
    if (!png)
        return;
    CHECK(len > 8 + 25 + 12 + 12 && !memcmp(png, "\x89PNG\r\n\x1a\n", 8));
    CHECK(!memcmp(png + 12, "IHDR", 4) && be32(png + 16) == 3 && be32(png + 20) == 2);
    CHECK(be32(png + 29) == (uint32_t)crc32(0, png + 12, 17));
    uint32_t idat = be32(png + 33);
    CHECK(!memcmp(png + 37, "IDAT", 4));
    unsigned char raw[64];
    uLongf rawlen = sizeof(raw);
    CHECK(uncompress(raw, &rawlen, png + 41, idat) == Z_OK && rawlen == 2 * (1 + 9));
    CHECK(raw[0] == 0 && raw[10] == 0 && !memcmp(raw + 1, ppm + sizeof(hdr) - 1, 9) &&
          !memcmp(raw + 11, ppm + sizeof(hdr) - 1 + 9, 9));
    CHECK(!memcmp(png + len - 8, "IEND", 4));
    free(png);
}

static void test_hostile(void)
{
    unsigned char *png = NULL;
    size_t len = 0;
    cl_error *err = NULL;
    const char *bad[] = { "P5\n1 1\n255\nx", "P6\n1 1\n65535\nxxxxxx", "P6\n99999999 2\n255\n", "P6\n", "",
                          "P6\n2 2\n255\nabc" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        CHECK(!cl_ppm_to_png((const unsigned char *)bad[i], strlen(bad[i]), &png, &len, &err));
        CHECK(err != NULL);
        cl_error_free(err);
        err = NULL;
    }
}

int main(void)
{
    RUN_TEST(test_png);
    RUN_TEST(test_hostile);
    TEST_EXIT();
}
