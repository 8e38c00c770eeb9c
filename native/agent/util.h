/* Small helpers shared by the agent's files (util.c): logging, clocks,
 * allocation wrappers, file and fd I/O. They use nothing from the other agent
 * files, so every file can depend on them. */
#ifndef MSB_UTIL_H
#define MSB_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* ---- logging, clocks, allocation ---- */
void logmsg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
uint64_t boottime_ns(void);
uint64_t mono_ns(void);
char *xstrdup(const char *s);
void *xcalloc(size_t n, size_t sz);

/* ---- files and fds ---- */
int mkdir_p(const char *path, mode_t mode);
int write_all_fd(int fd, const void *data, size_t len);
int write_bytes(const char *path, const void *data, size_t len, mode_t mode, int append);
int write_file(const char *path, const char *content, mode_t mode);
int read_small(const char *path, char *out, size_t n); /* first line, newline stripped */
int remove_tree(const char *path);                     /* like rm -r; -1 with errno */
int move_tree(const char *src, const char *dst);        /* copy with modes/owners, removing src as it goes */
char *scripts_path(const char *path);

#endif
