/* names.c - the one name grammar (names.h). */
#include "names.h"

#include <stdio.h>
#include <string.h>

/* The name as it can be shown on a terminal: printable ASCII kept, every other byte \xNN,
 * cut with "..." so a 1 MB name does not become a 4 MB message. */
static void shown(const char *name, char *out, size_t outlen)
{
    size_t o = 0;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        if (o + 8 >= outlen) {
            snprintf(out + o, outlen - o, "...");
            return;
        }
        if (*p >= 0x20 && *p < 0x7f && *p != '\\')
            out[o++] = (char)*p;
        else
            o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", *p);
    }
    out[o] = '\0';
}

static bool name_char(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
           ch == '_' || ch == '-';
}

static bool check_n(const char *what, const char *name, size_t len, cl_error **errp)
{
    char show[160];
    shown(name, show, sizeof(show));
    if (len == 0)
        return cl_error_set(errp, CL_ERR_INVAL, "%s '%s' is empty (names are " CL_NAME_GRAMMAR ")", what, show);
    if (len > CL_NAME_MAX)
        return cl_error_set(errp, CL_ERR_INVAL, "%s '%s' is longer than %d characters (names are " CL_NAME_GRAMMAR ")",
                            what, show, CL_NAME_MAX);
    const unsigned char *p = (const unsigned char *)name;
    if (!((p[0] >= 'a' && p[0] <= 'z') || (p[0] >= 'A' && p[0] <= 'Z') || (p[0] >= '0' && p[0] <= '9')))
        return cl_error_set(errp, CL_ERR_INVAL, "%s '%s' must start with a letter or digit (names are " CL_NAME_GRAMMAR ")",
                            what, show);
    for (size_t i = 0; i < len; i++)
        if (!name_char(p[i]))
            return cl_error_set(errp, CL_ERR_INVAL,
                                "%s '%s': character %zu (\\x%02x) is not allowed (names are " CL_NAME_GRAMMAR ")", what,
                                show, i + 1, p[i]);
    return true;
}

bool cl_name_check(const char *what, const char *name, cl_error **errp)
{
    if (!name)
        return cl_error_set(errp, CL_ERR_INVAL, "%s is missing", what);
    return check_n(what, name, strlen(name), errp);
}
