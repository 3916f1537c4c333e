#include "fileio.h"
#include "interrupt.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static bool read_range(int fd, const char *path, off_t off, size_t len, char **out, size_t *outlen,
                       cl_error **errp)
{
    char *buf = malloc(len + 1);
    if (!buf)
        return cl_error_set(errp, CL_ERR_NOMEM, "cannot allocate %zu bytes for '%s'", len + 1, path);
    size_t got = 0;
    while (got < len) {
        ssize_t n = pread(fd, buf + got, len - got, off + (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            free(buf);
            return cl_error_set_errno(errp, CL_ERR_IO, errno, "cannot read '%s'", path);
        }
        if (n == 0)
            break; /* the file shrank while we read it: take what is there */
        got += (size_t)n;
    }
    buf[got] = '\0';
    *out = buf;
    if (outlen)
        *outlen = got;
    return true;
}

static const char *file_type(mode_t m)
{
    return S_ISFIFO(m) ? "a FIFO" : S_ISCHR(m) ? "a character device" : S_ISBLK(m) ? "a block device"
         : S_ISSOCK(m) ? "a socket" : S_ISDIR(m) ? "a directory" : "not a regular file";
}

int cl_file_open_regular(const char *path, struct stat *st, cl_error **errp)
{
    /* O_NONBLOCK: opening a FIFO nobody writes would block for ever, before any fstat
     * could see what it is. The type is checked on the descriptor, not the name, so a
     * file swapped for a FIFO after a check is still caught. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
        return cl_error_set_errno(errp, CL_ERR_IO, errno, "cannot open '%s'", path), -1;
    if (fstat(fd, st) < 0) {
        cl_error_set_errno(errp, CL_ERR_IO, errno, "cannot stat '%s'", path);
        close(fd);
        return -1;
    }
    if (!S_ISREG(st->st_mode)) {
        cl_error_set(errp, CL_ERR_INVAL, "'%s' is %s, not a regular file", path, file_type(st->st_mode));
        close(fd);
        return -1;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    return fd;
}

bool cl_file_read_all(const char *path, size_t maxlen, char **out, size_t *outlen, cl_error **errp)
{
    struct stat st;
    CL_AUTOCLOSE fd = cl_file_open_regular(path, &st, errp);
    if (fd < 0)
        return false;
    if ((uint64_t)st.st_size > maxlen)
        return cl_error_set(errp, CL_ERR_INVAL, "'%s' is larger than %zu bytes", path, maxlen);
    return read_range(fd, path, 0, (size_t)st.st_size, out, outlen, errp);
}

bool cl_file_read_tail(const char *path, size_t maxlen, char **out, size_t *outlen, cl_error **errp)
{
    struct stat st;
    CL_AUTOCLOSE fd = cl_file_open_regular(path, &st, errp);
    if (fd < 0)
        return false;
    uint64_t size = (uint64_t)st.st_size;
    uint64_t off = size > maxlen ? size - maxlen : 0;
    return read_range(fd, path, (off_t)off, (size_t)(size - off), out, outlen, errp);
}

int cl_file_create_temp(const char *path, unsigned mode, char *tmp, size_t tmplen, cl_error **errp)
{
    static unsigned counter;
    for (int tries = 0; tries < 32; tries++) {
        unsigned r = 0;
        if (getrandom(&r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r))
            r = (unsigned)cl_now() * 2654435761u;
        if (snprintf(tmp, tmplen, "%s.tmp.%ld.%u.%08x", path, (long)getpid(), counter++, r) >= (int)tmplen)
            return cl_error_set(errp, CL_ERR_INVAL, "path too long: '%s'", path), -1;
        /* O_EXCL: never an existing file, and (with O_CREAT) never through a symlink planted
         * under this name by whoever else can write the directory. */
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
        if (fd >= 0)
            return fd;
        if (errno != EEXIST)
            return cl_error_set_errno(errp, CL_ERR_IO, errno, "cannot create '%s'", tmp), -1;
    }
    return cl_error_set(errp, CL_ERR_IO, "cannot create a temporary file next to '%s': every name taken", path), -1;
}

bool cl_file_write_atomic(const char *path, const void *data, size_t len, cl_error **errp)
{
    char tmp[PATH_MAX];
    int fd = cl_file_create_temp(path, CL_FILE_MODE, tmp, sizeof(tmp), errp);
    if (fd < 0)
        return false;
    const char *p = data;
    size_t left = len;
    while (left) {
        ssize_t n = write(fd, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            cl_error_set_errno(errp, CL_ERR_IO, errno, "cannot write '%s'", tmp);
            goto fail;
        }
        p += n;
        left -= (size_t)n;
    }
    if (fsync(fd) < 0) {
        cl_error_set_errno(errp, CL_ERR_IO, errno, "cannot sync '%s'", tmp);
        goto fail;
    }
    if (close(fd) < 0) {
        fd = -1;
        cl_error_set_errno(errp, CL_ERR_IO, errno, "cannot close '%s'", tmp);
        goto fail;
    }
    fd = -1;
    /* rename replaces a symlink at path, it never writes through it. */
    if (rename(tmp, path) < 0) {
        cl_error_set_errno(errp, CL_ERR_IO, errno, "cannot rename '%s' to '%s'", tmp, path);
        goto fail;
    }
    return true;
fail:
    cl_force_close(&fd);
    unlink(tmp);
    return false;
}

bool cl_mkdir_p(const char *path, unsigned mode, cl_error **errp)
{
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
        return cl_error_set(errp, CL_ERR_INVAL, "path too long: '%s'", path);
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(buf, mode) < 0 && errno != EEXIST)
                return cl_error_set_errno(errp, CL_ERR_IO, errno, "cannot create directory '%s'", buf);
            *p = c;
            if (!c)
                break;
        }
    }
    return true;
}

static bool rm_rf_at(int parent, const char *name, const char *top, cl_error **errp)
{
    struct stat st;
    if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return errno == ENOENT ? true : cl_error_set_errno(errp, CL_ERR_IO, errno, "cannot stat '%s'", name);
    if (S_ISDIR(st.st_mode)) {
        int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
            return cl_error_set_errno(errp, CL_ERR_IO, errno, "cannot open '%s' under '%s'", name, top);
        DIR *d = fdopendir(fd);
        if (!d) {
            close(fd);
            return cl_error_set_errno(errp, CL_ERR_IO, errno, "cannot read '%s'", name);
        }
        struct dirent *de;
        bool ok = true;
        while (ok && (de = readdir(d))) {
            if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                continue;
            ok = rm_rf_at(dirfd(d), de->d_name, top, errp);
        }
        closedir(d);
        if (!ok)
            return false;
        if (unlinkat(parent, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
            return cl_error_set_errno(errp, CL_ERR_IO, errno, "cannot remove directory '%s' under '%s'", name, top);
        return true;
    }
    if (unlinkat(parent, name, 0) < 0 && errno != ENOENT)
        return cl_error_set_errno(errp, CL_ERR_IO, errno, "cannot remove '%s' under '%s'", name, top);
    return true;
}

bool cl_rm_rf(const char *path, cl_error **errp)
{
    return rm_rf_at(AT_FDCWD, path, path, errp);
}

static void to_hex(const unsigned char *md, char hex[65])
{
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    hex[64] = '\0';
}

bool cl_sha256_file(const char *path, char hex[65], uint64_t *size, cl_error **errp)
{
    struct stat st;
    CL_AUTOCLOSE fd = cl_file_open_regular(path, &st, errp);
    if (fd < 0)
        return false;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL)) {
        EVP_MD_CTX_free(ctx);
        return cl_error_set(errp, CL_ERR_NOMEM, "sha256: cannot initialise digest");
    }
    static __thread unsigned char buf[1 << 20];
    uint64_t total = 0;
    for (;;) {
        if (cl_interrupt_pending()) {
            EVP_MD_CTX_free(ctx);
            return cl_error_set(errp, CL_ERR_INTERRUPTED, "interrupted while hashing '%s'", path);
        }
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            EVP_MD_CTX_free(ctx);
            return cl_error_set_errno(errp, CL_ERR_IO, errno, "cannot read '%s'", path);
        }
        if (n == 0)
            break;
        EVP_DigestUpdate(ctx, buf, (size_t)n);
        total += (uint64_t)n;
    }
    unsigned char md[32];
    unsigned int mdlen = 0;
    EVP_DigestFinal_ex(ctx, md, &mdlen);
    EVP_MD_CTX_free(ctx);
    to_hex(md, hex);
    if (size)
        *size = total;
    return true;
}

void cl_sha256_buf(const void *data, size_t len, char hex[65])
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
    to_hex(md, hex);
}

double cl_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

bool cl_path_world_reachable(const char *path, bool want_read, char *blocker, size_t blockerlen)
{
    char buf[PATH_MAX];
    if (!realpath(path, buf)) {
        snprintf(blocker, blockerlen, "%s", path);
        return false;
    }
    struct stat st;
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            bool last = c == '\0';
            if (stat(buf, &st) < 0 || (S_ISDIR(st.st_mode) && !(st.st_mode & S_IXOTH)) ||
                (last && want_read && !S_ISDIR(st.st_mode) && !(st.st_mode & S_IROTH))) {
                snprintf(blocker, blockerlen, "%s", buf);
                return false;
            }
            *p = c;
            if (last)
                break;
        }
    }
    return true;
}

bool cl_path_fmt(char *buf, size_t len, cl_error **errp, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, len, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < len)
        return true;
    cl_error_set(errp, CL_ERR_INVAL, "path too long (%d bytes, at most %zu): '%.120s...'", n, len ? len - 1 : 0,
                 len ? buf : "");
    if (len)
        buf[0] = '\0';
    return false;
}
