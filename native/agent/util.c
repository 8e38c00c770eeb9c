/* Small helpers shared by the agent's modules: logging, clocks, allocation
 * wrappers and file/fd I/O. Uses nothing from the other agent files. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"

/* ------------------------------------------------------------------ */
/* logging, clocks, allocation                                         */

void logmsg(const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    dprintf(2, "msb-agent: %s\n", line);
}

uint64_t boottime_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_BOOTTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

char *xstrdup(const char *s)
{
    char *d = strdup(s ? s : "");
    if (!d) {
        logmsg("out of memory");
        abort();
    }
    return d;
}

void *xcalloc(size_t n, size_t sz)
{
    void *p = calloc(n ? n : 1, sz ? sz : 1);
    if (!p) {
        logmsg("out of memory");
        abort();
    }
    return p;
}

/* ------------------------------------------------------------------ */
/* files and fds                                                        */

int mkdir_p(const char *path, mode_t mode)
{
    char tmp[4096];
    snprintf(tmp, sizeof(tmp), "%s", path);
    size_t n = strlen(tmp);
    while (n > 1 && tmp[n - 1] == '/')
        tmp[--n] = 0;
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = 0;
            if (mkdir(tmp, mode) < 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    }
    if (mkdir(tmp, mode) < 0 && errno != EEXIST)
        return -1;
    struct stat st;
    if (stat(tmp, &st) < 0)
        return -1;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

int write_all_fd(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len) {
        ssize_t w = write(fd, p, len);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

int write_bytes(const char *path, const void *data, size_t len, mode_t mode, int append)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC | (append ? O_APPEND : O_TRUNC), mode);
    if (fd < 0)
        return -1;
    int r = write_all_fd(fd, data, len);
    int e = errno;
    close(fd);
    errno = e;
    return r;
}

int write_file(const char *path, const char *content, mode_t mode)
{
    if (write_bytes(path, content, strlen(content), mode, 0) < 0)
        return -1;
    return chmod(path, mode);
}

int read_small(const char *path, char *out, size_t n)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t r = read(fd, out, n - 1);
    close(fd);
    if (r < 0)
        return -1;
    out[r] = 0;
    out[strcspn(out, "\r\n")] = 0;
    return 0;
}

/* Calls fn(SRC/name, DST/name) (DST may be NULL) for every entry of directory src but "." and "..";
 * stops at the first failure and returns -1 with its errno. */
static int each_child(const char *src, const char *dst, int (*fn)(const char *, const char *))
{
    DIR *d = opendir(src);
    if (!d)
        return -1;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char from[PATH_MAX + 256], to[PATH_MAX + 256];
        snprintf(from, sizeof(from), "%s/%s", src, e->d_name);
        if (dst)
            snprintf(to, sizeof(to), "%s/%s", dst, e->d_name);
        if (fn(from, dst ? to : NULL) < 0) {
            int err = errno;
            closedir(d);
            errno = err;
            return -1;
        }
    }
    closedir(d);
    return 0;
}

static int remove_child(const char *path, const char *unused)
{
    (void)unused;
    return remove_tree(path);
}

int remove_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return -1;
    if (S_ISDIR(st.st_mode))
        return each_child(path, NULL, remove_child) < 0 ? -1 : rmdir(path);
    return unlink(path);
}

static int move_file(const char *src, const char *dst, const struct stat *st)
{
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return -1;
    int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, st->st_mode & 07777);
    if (out < 0) {
        int e = errno;
        close(in);
        errno = e;
        return -1;
    }
    off_t left = st->st_size;
    int rc = 0;
    while (left > 0) {
        ssize_t n = sendfile(out, in, NULL, (size_t)left);
        if (n <= 0) {
            rc = -1;
            if (n == 0)
                errno = EIO;
            break;
        }
        left -= n;
    }
    if (rc == 0 && (fchown(out, st->st_uid, st->st_gid) < 0 || fchmod(out, st->st_mode & 07777) < 0))
        rc = -1;
    int e = errno;
    close(in);
    close(out);
    errno = e;
    return rc == 0 ? unlink(src) : -1;
}

int move_tree(const char *src, const char *dst)
{
    struct stat st;
    if (lstat(src, &st) < 0)
        return -1;
    if (S_ISLNK(st.st_mode)) {
        char target[PATH_MAX];
        ssize_t n = readlink(src, target, sizeof(target) - 1);
        if (n < 0)
            return -1;
        target[n] = 0;
        if (symlink(target, dst) < 0 || lchown(dst, st.st_uid, st.st_gid) < 0)
            return -1;
        return unlink(src);
    }
    if (!S_ISDIR(st.st_mode))
        return S_ISREG(st.st_mode) ? move_file(src, dst, &st) : (errno = ENOTSUP, -1);
    if (mkdir(dst, st.st_mode & 07777) < 0 && errno != EEXIST)
        return -1;
    if (each_child(src, dst, move_tree) < 0)
        return -1;
    /* mkdir applied the umask: restore the exact mode and owner */
    if (chown(dst, st.st_uid, st.st_gid) < 0 || chmod(dst, st.st_mode & 07777) < 0)
        return -1;
    return rmdir(src);
}

/* PATH value with the runtime scripts directory present exactly once (first
 * when added), as upstream agentd keeps it. Returns a new string. */
char *scripts_path(const char *path)
{
    char *dup = xstrdup(path), *save = NULL;
    int has = 0;
    for (char *seg = strtok_r(dup, ":", &save); seg; seg = strtok_r(NULL, ":", &save))
        if (!strcmp(seg, SCRIPTS_PATH))
            has = 1;
    free(dup);
    size_t n = strlen(path) + strlen(SCRIPTS_PATH) + 2;
    char *out = xcalloc(n, 1);
    if (has)
        snprintf(out, n, "%s", path);
    else
        snprintf(out, n, "%s:%s", SCRIPTS_PATH, path);
    return out;
}
