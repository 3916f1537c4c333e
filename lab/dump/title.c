#include "dump/title.h"

#include <ctype.h>
#include <stdbool.h>
#include <string.h>

void cl_dump_title_sanitize(const char *raw, char *out, size_t len)
{
    if (!len)
        return;
    size_t k = 0;
    bool space = false;
    size_t cap = len - 1 < CL_TITLE_MAX ? len - 1 : CL_TITLE_MAX;
    for (const unsigned char *p = (const unsigned char *)raw; *p && k < cap; p++) {
        if (isspace(*p)) {
            space = k > 0;
            continue;
        }
        if (*p < 0x20 || *p > 0x7e)
            continue;
        if (space && k + 1 < cap)
            out[k++] = ' ';
        space = false;
        out[k++] = (char)*p;
    }
    out[k] = '\0';
}

static bool is_word(int c)
{
    return isalnum(c) || c == '_';
}

void cl_dump_title_from_text(const char *raw, char *out, size_t len)
{
    char tmp[1024];
    size_t k = 0;
    const char *p = raw;
    while (*p && k + 8 < sizeof(tmp)) {
        /* func+0x12/0x40 -> func */
        if (*p == '+' && p[1] == '0' && p[2] == 'x') {
            const char *q = p + 3;
            while (isxdigit((unsigned char)*q))
                q++;
            if (*q == '/' && q[1] == '0' && q[2] == 'x') {
                q += 3;
                while (isxdigit((unsigned char)*q))
                    q++;
            }
            p = q;
            continue;
        }
        bool start = p == raw || !is_word((unsigned char)p[-1]);
        if (start && p[0] == '0' && (p[1] == 'x' || p[1] == 'X') && isxdigit((unsigned char)p[2])) {
            const char *q = p + 2;
            while (isxdigit((unsigned char)*q))
                q++;
            memcpy(tmp + k, "ADDR", 4);
            k += 4;
            p = q;
            continue;
        }
        if (start && isxdigit((unsigned char)*p)) {
            const char *q = p;
            bool digit = false;
            while (isxdigit((unsigned char)*q)) {
                digit |= isdigit((unsigned char)*q) != 0;
                q++;
            }
            /* long bare hex (addresses in oops lines) or a plain decimal number */
            bool decimal = true;
            for (const char *s = p; s < q; s++)
                decimal &= isdigit((unsigned char)*s) != 0;
            if (!is_word((unsigned char)*q) && digit && (q - p >= 8 || decimal)) {
                const char *rep = decimal && q - p < 8 ? "NUM" : "ADDR";
                memcpy(tmp + k, rep, strlen(rep));
                k += strlen(rep);
                p = q;
                continue;
            }
            size_t n = (size_t)(q - p);
            if (k + n + 8 >= sizeof(tmp))
                break;
            memcpy(tmp + k, p, n);
            k += n;
            p = q;
            continue;
        }
        tmp[k++] = *p++;
    }
    tmp[k] = '\0';
    cl_dump_title_sanitize(tmp, out, len);
}
