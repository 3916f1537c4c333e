/* facts.c - what a Windows disk holds, read offline: the hives are copied out (size
 * capped) into a private temporary directory and read with hivex; files and free space
 * come from libguestfs. Nothing here judges; check.c does. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "image/disk.h"
#include "image/hive.h"
#include "image/image.h"
#include "image/image_priv.h"
#include "util/fileio.h"

#define FIRSTBOOT_MAX (64u << 10)
#define CERT_MAX (64u << 10)
#define BOOTMGR "{9dea862c-5cdd-4e70-acc1-f32b344d4795}"

static void rd_i64(cl_hive *h, const char *key, const char *name, int64_t *out)
{
    uint32_t v;
    if (cl_hive_dword(h, key, name, &v))
        *out = v;
}

bool cl_image_tmpdir(char *out, size_t outlen, cl_error **errp)
{
    const char *t = getenv("TMPDIR");
    snprintf(out, outlen, "%s/crashlab-image.XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(out))
        return cl_error_set_errno(errp, CL_ERR_IO, errno, "image: cannot create a temporary directory under '%s'",
                                  t && *t ? t : "/tmp");
    return true;
}

bool cl_image_fetch_hive(cl_disk *d, const char *root, const char *winpath, const char *local, cl_error **errp)
{
    char p[512];
    if (!cl_disk_resolve(d, root, winpath, p, sizeof(p)))
        return cl_error_set(errp, CL_ERR_FORMAT, "image: no %s on the image", winpath);
    return cl_disk_download(d, p, local, CL_HIVE_MAX_BYTES, false, NULL, errp);
}

void cl_image_control_set(cl_hive *sys, char *out, size_t outlen)
{
    uint32_t cur = 1;
    /* Select\Current names the set Windows boots with; anything odd falls back to 001. */
    if (!cl_hive_dword(sys, "Select", "Current", &cur) || cur == 0 || cur > 999)
        cur = 1;
    snprintf(out, outlen, "ControlSet%03u", cur);
}

static void read_system(cl_hive *h, cl_image_facts *f)
{
    cl_image_control_set(h, f->control_set, sizeof(f->control_set));
    char k[160];
    snprintf(k, sizeof(k), "%s\\Control\\CrashControl", f->control_set);
    rd_i64(h, k, "CrashDumpEnabled", &f->crash_dump_enabled);
    rd_i64(h, k, "FilterPages", &f->filter_pages);
    rd_i64(h, k, "AutoReboot", &f->auto_reboot);
    rd_i64(h, k, "AlwaysKeepMemoryDump", &f->always_keep);
    rd_i64(h, k, "NMICrashDump", &f->nmi_crash_dump);
    rd_i64(h, k, "Overwrite", &f->overwrite);
    rd_i64(h, k, "DumpFileSize", &f->dump_file_size_mb);
    cl_hive_string(h, k, "DumpFile", f->dump_file, sizeof(f->dump_file));
    cl_hive_string(h, k, "DedicatedDumpFile", f->dedicated_dump_file, sizeof(f->dedicated_dump_file));
    snprintf(k, sizeof(k), "%s\\Control\\Session Manager\\Memory Management", f->control_set);
    f->paging_files_set = cl_hive_string(h, k, "PagingFiles", f->paging_files, sizeof(f->paging_files));
    cl_hive_string(h, k, "VerifyDrivers", f->verify_drivers, sizeof(f->verify_drivers));
    rd_i64(h, k, "VerifyDriverLevel", &f->verify_level);
    rd_i64(h, k, "PoolTag", &f->pool_tag);
    for (int s = 0; s < CL_SVC_LAST; s++) {
        snprintf(k, sizeof(k), "%s\\Services\\%s", f->control_set, cl_image_svc_to_string((cl_image_svc)s));
        if (cl_hive_key_exists(h, k)) {
            uint32_t v;
            /* A service key without Start is treated as demand-start. */
            f->svc_start[s] = cl_hive_dword(h, k, "Start", &v) ? (int64_t)v : 3;
        }
    }
}

static void read_software(cl_hive *h, const char *thumb, cl_image_facts *f)
{
    const char *k = "Microsoft\\Windows NT\\CurrentVersion";
    char build[32] = "";
    cl_hive_string(h, k, "ProductName", f->product, sizeof(f->product));
    if (!cl_hive_string(h, k, "DisplayVersion", f->display_version, sizeof(f->display_version)))
        cl_hive_string(h, k, "ReleaseId", f->display_version, sizeof(f->display_version));
    if (cl_hive_string(h, k, "CurrentBuildNumber", build, sizeof(build)) ||
        cl_hive_string(h, k, "CurrentBuild", build, sizeof(build)))
        f->build = (uint32_t)strtoul(build, NULL, 10);
    if (thumb) {
        char key[160];
        f->cert_checked = true;
        snprintf(key, sizeof(key), "Microsoft\\SystemCertificates\\ROOT\\Certificates\\%s", thumb);
        f->cert_root = cl_hive_key_exists(h, key);
        snprintf(key, sizeof(key), "Microsoft\\SystemCertificates\\TrustedPublisher\\Certificates\\%s", thumb);
        f->cert_trusted = cl_hive_key_exists(h, key);
    }
}

bool cl_image_bcd_default(cl_hive *h, char *guid, size_t len)
{
    char k[160];
    snprintf(k, sizeof(k), "Objects\\%s\\Elements\\23000003", BOOTMGR);
    if (!cl_hive_string(h, k, "Element", guid, len))
        return false;
    /* A GUID in braces, nothing else: it becomes part of a key path. */
    if (strlen(guid) != 38 || guid[0] != '{' || guid[37] != '}')
        return false;
    for (int i = 1; i < 37; i++)
        if (!isxdigit((unsigned char)guid[i]) && guid[i] != '-')
            return false;
    return true;
}

static void read_bcd(cl_hive *h, cl_image_facts *f)
{
    char guid[64], k[200];
    if (!cl_image_bcd_default(h, guid, sizeof(guid)))
        return;
    snprintf(k, sizeof(k), "Objects\\%s\\Elements\\16000049", guid);
    uint8_t b[8];
    size_t len = 0;
    if (cl_hive_binary(h, k, "Element", b, sizeof(b), &len) && len >= 1)
        f->testsigning = b[0] ? 1 : 0;
}

unsigned cl_image_firstboot_parse(const char *text, size_t len)
{
    unsigned bits = 0;
    const char *tag = "rem crashlab-step: ";
    for (const char *p = text; p && (size_t)(p - text) < len;) {
        const char *q = memmem(p, len - (size_t)(p - text), tag, strlen(tag));
        if (!q)
            break;
        q += strlen(tag);
        for (int i = 0; i < CL_FB_LAST; i++) {
            const char *n = cl_image_fb_to_string((cl_image_fb)i);
            size_t nl = strlen(n);
            if ((size_t)(q - text) + nl <= len && !strncmp(q, n, nl) &&
                ((size_t)(q - text) + nl == len || q[nl] == '\r' || q[nl] == '\n'))
                bits |= 1u << i;
        }
        p = q;
    }
    return bits;
}

bool cl_image_cert_thumbprint(const char *path, char hex[41], cl_error **errp)
{
    CL_AUTOFREE char *data = NULL;
    size_t len = 0;
    if (!cl_file_read_all(path, CERT_MAX, &data, &len, errp))
        return false;
    unsigned char der[CERT_MAX];
    size_t dlen = 0;
    const char *b = strstr(data, "-----BEGIN CERTIFICATE-----");
    if (b) {
        b += strlen("-----BEGIN CERTIFICATE-----");
        const char *e = strstr(b, "-----END CERTIFICATE-----");
        if (!e)
            return cl_error_set(errp, CL_ERR_FORMAT, "image: '%s': PEM without an END line", path);
        char b64[CERT_MAX];
        size_t n = 0;
        for (const char *c = b; c < e && n < sizeof(b64) - 1; c++)
            if (!isspace((unsigned char)*c))
                b64[n++] = *c;
        int got = EVP_DecodeBlock(der, (const unsigned char *)b64, (int)n);
        if (got < 0)
            return cl_error_set(errp, CL_ERR_FORMAT, "image: '%s': bad base64", path);
        dlen = (size_t)got;
        while (n > 0 && b64[n - 1] == '=' && dlen > 0) {
            dlen--;
            n--;
        }
    } else {
        memcpy(der, data, len);
        dlen = len;
    }
    if (dlen < 16 || der[0] != 0x30)
        return cl_error_set(errp, CL_ERR_FORMAT, "image: '%s' is not a DER or PEM certificate", path);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    if (!EVP_Digest(der, dlen, md, &mdlen, EVP_sha1(), NULL) || mdlen != 20)
        return cl_error_set(errp, CL_ERR_IO, "image: SHA-1 failed");
    for (int i = 0; i < 20; i++)
        snprintf(hex + 2 * i, 3, "%02X", md[i]);
    return true;
}

bool cl_image_facts_from_disk(cl_disk *d, const char *cert_sha1, cl_image_facts *f, cl_error **errp)
{
    cl_image_facts_init(f);
    f->launch_seconds = cl_disk_launch_seconds(d);
    if (!cl_disk_has_windows(d))
        return true;
    f->windows = true;
    snprintf(f->windows_fs, sizeof(f->windows_fs), "%s", cl_disk_windows_fs(d));
    char tmp[PATH_MAX];
    if (!cl_image_tmpdir(tmp, sizeof(tmp), errp))
        return false;
    char sys[PATH_MAX + 16], soft[PATH_MAX + 16], bcd[PATH_MAX + 16];
    snprintf(sys, sizeof(sys), "%s/SYSTEM", tmp);
    snprintf(soft, sizeof(soft), "%s/SOFTWARE", tmp);
    snprintf(bcd, sizeof(bcd), "%s/BCD", tmp);
    bool ok = false;
    {
        if (!cl_image_fetch_hive(d, "/c", "Windows\\System32\\config\\SYSTEM", sys, errp))
            goto out;
        CL_AUTOPTR(cl_hive) h = cl_hive_open(sys, false, errp);
        if (!h) {
            cl_error_prefix(errp, "SYSTEM hive");
            goto out;
        }
        read_system(h, f);
    }
    {
        /* A disk without SOFTWARE still says a lot: its findings show as unknown. */
        CL_AUTOPTR(cl_error) e = NULL;
        if (cl_image_fetch_hive(d, "/c", "Windows\\System32\\config\\SOFTWARE", soft, &e)) {
            CL_AUTOPTR(cl_hive) h = cl_hive_open(soft, false, &e);
            if (h)
                read_software(h, cert_sha1, f);
        }
    }
    if (cl_disk_bcd(d)) {
        CL_AUTOPTR(cl_error) e = NULL;
        if (cl_disk_download(d, cl_disk_bcd(d), bcd, CL_HIVE_MAX_BYTES, false, NULL, &e)) {
            CL_AUTOPTR(cl_hive) h = cl_hive_open(bcd, false, &e);
            if (h) {
                f->bcd_found = true;
                snprintf(f->bcd_path, sizeof(f->bcd_path), "%s on %s", strchr(cl_disk_bcd(d) + 1, '/'), cl_disk_bcd_fs(d));
                read_bcd(h, f);
            }
        }
    }
    char p[512];
    if (cl_disk_resolve(d, "/c", "crashlab\\labagent.exe", p, sizeof(p))) {
        int64_t n = cl_disk_file_size(d, p);
        f->labagent = n >= 0;
        f->labagent_bytes = n > 0 ? (uint64_t)n : 0;
    }
    if (cl_disk_resolve(d, "/c", "crashlab\\firstboot.cmd", p, sizeof(p))) {
        char buf[FIRSTBOOT_MAX];
        int64_t n = cl_disk_read_head(d, p, buf, sizeof(buf));
        if (n > 0)
            f->firstboot = cl_image_firstboot_parse(buf, (size_t)n);
    }
    if (cl_disk_resolve(d, "/c", "pagefile.sys", p, sizeof(p))) {
        int64_t n = cl_disk_file_size(d, p);
        f->pagefile_bytes = n > 0 ? (uint64_t)n : 0;
    }
    f->free_known = cl_disk_free_bytes(d, "/c", &f->free_bytes);
    ok = true;
out:
    cl_rm_rf(tmp, NULL);
    return ok;
}

bool cl_image_read_facts(const char *image, const char *cert_sha1, cl_image_facts *f, cl_error **errp)
{
    CL_AUTOPTR(cl_disk) d = cl_disk_open(image, NULL, false, errp);
    if (!d)
        return false;
    return cl_image_facts_from_disk(d, cert_sha1, f, errp);
}
