/* core.fs.* operations: path operations answered at once, handle-based
 * open/read/write/readdir with streamed core.fs.data chunks. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "agent.h"

#define MAX_HANDLES 4096
#define MAX_HANDLES_PER_OWNER 1024
#define MAX_STREAMS 256
#define FS_CHUNK (512u * 1024u)
#define DEFAULT_READ_DIR_LIMIT 128

typedef struct {
    int used;
    uint64_t handle;
    uint32_t owner;
    int fd;
    DIR *dir;
    int read, write, append;
    char *path;
} fs_handle_t;

typedef struct {
    int used;
    int is_write;
    uint32_t id;
    uint32_t owner;
    int fd; /* private dup of the handle's descriptor */
    uint64_t offset;
    int has_len;
    uint64_t remaining; /* read: bytes left; write: expected total */
    uint64_t written;
    int append;
} fs_stream_t;

static fs_handle_t g_handles[MAX_HANDLES];
static fs_stream_t g_streams[MAX_STREAMS];
static uint64_t g_next_handle;

/* ---- ownership by relay id range ---- */

static int64_t relay_slot(uint32_t id) { return id == 0 ? -1 : (int64_t)((id - 1) / RELAY_ID_RANGE_STEP); }

static int same_client(uint32_t a, uint32_t b)
{
    return relay_slot(a) >= 0 && relay_slot(a) == relay_slot(b);
}

/* ---- response encoding ---- */

static void os_error(char *out, size_t n, const char *op, int e)
{
    snprintf(out, n, "%s: %s (os error %d)", op, strerror(e), e);
}

static void send_response(uint32_t id, int ok, const char *error, const buf_t *data)
{
    buf_t b;
    buf_init(&b);
    cb_map(&b, 3);
    cb_text(&b, "ok");
    cb_bool(&b, ok);
    cb_text(&b, "error");
    if (error)
        cb_text(&b, error);
    else
        cb_null(&b);
    cb_text(&b, "data");
    if (data)
        buf_append(&b, data->data, data->len);
    else
        cb_null(&b);
    send_msg(id, T_FS_RESPONSE, &b);
    buf_free(&b);
}

static void send_ok(uint32_t id) { send_response(id, 1, NULL, NULL); }

static void send_err(uint32_t id, const char *op, int e)
{
    char msg[600];
    os_error(msg, sizeof(msg), op, e);
    send_response(id, 0, msg, NULL);
}

static void send_errmsg(uint32_t id, const char *msg) { send_response(id, 0, msg, NULL); }

static const char *kind_of(mode_t m)
{
    if (S_ISREG(m)) return "file";
    if (S_ISDIR(m)) return "dir";
    if (S_ISLNK(m)) return "symlink";
    return "other";
}

static void enc_entry(buf_t *b, const char *path, const struct stat *st)
{
    cb_map(b, 9);
    cb_text(b, "path");
    cb_text(b, path);
    cb_text(b, "kind");
    cb_text(b, st ? kind_of(st->st_mode) : "other");
    cb_text(b, "size");
    cb_uint(b, st ? (uint64_t)st->st_size : 0);
    cb_text(b, "mode");
    cb_uint(b, st ? st->st_mode : 0);
    cb_text(b, "modified");
    if (st) cb_int(b, st->st_mtime); else cb_null(b);
    cb_text(b, "uid");
    cb_uint(b, st ? st->st_uid : 0);
    cb_text(b, "gid");
    cb_uint(b, st ? st->st_gid : 0);
    cb_text(b, "atime");
    if (st) cb_int(b, st->st_atime); else cb_null(b);
    cb_text(b, "mtime");
    if (st) cb_int(b, st->st_mtime); else cb_null(b);
}

static void send_stat(uint32_t id, const char *path, const struct stat *st)
{
    buf_t d;
    buf_init(&d);
    cb_map(&d, 1);
    cb_text(&d, "Stat");
    enc_entry(&d, path, st);
    send_response(id, 1, NULL, &d);
    buf_free(&d);
}

static void send_path(uint32_t id, const char *path)
{
    buf_t d;
    buf_init(&d);
    cb_map(&d, 1);
    cb_text(&d, "Path");
    cb_text(&d, path);
    send_response(id, 1, NULL, &d);
    buf_free(&d);
}

static void join_path(char *out, size_t n, const char *dir, const char *name)
{
    size_t l = strlen(dir);
    if (l && dir[l - 1] == '/')
        snprintf(out, n, "%s%s", dir, name);
    else
        snprintf(out, n, "%s/%s", dir, name);
}

/* Appends up to `limit` entries of d (limit < 0: all) as a CBOR array. */
static int list_entries(DIR *d, const char *dirpath, long limit, buf_t *out)
{
    buf_t items;
    buf_init(&items);
    uint64_t count = 0;
    struct dirent *e;
    while ((limit < 0 || (long)count < limit) && (errno = 0, e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char full[PATH_MAX + 256];
        join_path(full, sizeof(full), dirpath, e->d_name);
        struct stat st;
        if (lstat(full, &st) == 0)
            enc_entry(&items, full, &st);
        else
            enc_entry(&items, full, NULL);
        count++;
    }
    int rc = errno ? -1 : 0;
    cb_map(out, 1);
    cb_text(out, "List");
    cb_array(out, count);
    buf_append(out, items.data, items.len);
    buf_free(&items);
    return rc;
}

/* ---- handles ---- */

static fs_handle_t *get_handle(uint64_t h)
{
    for (int i = 0; i < MAX_HANDLES; i++)
        if (g_handles[i].used && g_handles[i].handle == h)
            return &g_handles[i];
    return NULL;
}

static void close_handle_entry(fs_handle_t *h)
{
    if (h->dir)
        closedir(h->dir);
    else if (h->fd >= 0)
        close(h->fd);
    free(h->path);
    memset(h, 0, sizeof(*h));
}

static fs_handle_t *alloc_handle(uint32_t owner, char *err, size_t errlen)
{
    int count = 0;
    fs_handle_t *slot = NULL;
    for (int i = 0; i < MAX_HANDLES; i++) {
        if (g_handles[i].used && same_client(g_handles[i].owner, owner))
            count++;
        if (!g_handles[i].used && !slot)
            slot = &g_handles[i];
    }
    if (count >= MAX_HANDLES_PER_OWNER) {
        snprintf(err, errlen, "too many open filesystem handles for relay client: %d", count);
        return NULL;
    }
    if (!slot) {
        snprintf(err, errlen, "too many open filesystem handles");
        return NULL;
    }
    do
        g_next_handle = g_next_handle + 1 ? g_next_handle + 1 : 1;
    while (get_handle(g_next_handle));
    memset(slot, 0, sizeof(*slot));
    slot->used = 1;
    slot->handle = g_next_handle;
    slot->owner = owner;
    slot->fd = -1;
    return slot;
}

/* Looks up a handle for caller; on failure writes "<op>: <reason>" to err. */
static fs_handle_t *owned_handle(uint32_t caller, uint64_t h, const char *op, char *err, size_t n)
{
    fs_handle_t *e = get_handle(h);
    if (!e) {
        snprintf(err, n, "%s: invalid handle: %llu", op, (unsigned long long)h);
        return NULL;
    }
    if (!same_client(e->owner, caller)) {
        snprintf(err, n, "%s: handle %llu is owned by a different relay client", op, (unsigned long long)h);
        return NULL;
    }
    return e;
}

/* ---- attributes ---- */

static int opt_u64(const cb_item *m, const char *k, uint64_t *out)
{
    const cb_item *it = cb_get(m, k);
    return cb_is_nil(it) ? 0 : (cb_as_u64(it, out) == 0 ? 1 : -1);
}

static int opt_i64(const cb_item *m, const char *k, int64_t *out)
{
    const cb_item *it = cb_get(m, k);
    return cb_is_nil(it) ? 0 : (cb_as_i64(it, out) == 0 ? 1 : -1);
}

/* Applies FsSetAttrs to a path (fd < 0) or an open descriptor. */
static int apply_attrs(const char *path, int fd, int follow, const cb_item *attrs, char *err, size_t n)
{
    uint64_t mode = 0, uid = 0, gid = 0, size = 0;
    int64_t atime = 0, mtime = 0;
    int hm = opt_u64(attrs, "mode", &mode), hu = opt_u64(attrs, "uid", &uid), hg = opt_u64(attrs, "gid", &gid),
        hs = opt_u64(attrs, "size", &size), ha = opt_i64(attrs, "atime", &atime),
        ht = opt_i64(attrs, "mtime", &mtime);
    if (hm < 0 || hu < 0 || hg < 0 || hs < 0 || ha < 0 || ht < 0) {
        snprintf(err, n, "invalid attribute value");
        return -1;
    }
    if (hs) {
        if ((fd >= 0 ? ftruncate(fd, (off_t)size) : truncate(path, (off_t)size)) < 0) {
            os_error(err, n, "set_len", errno);
            return -1;
        }
    }
    if (hm) {
        if (fd < 0 && !follow) {
            struct stat st;
            if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode)) {
                snprintf(err, n, "chmod on symlink without following is not supported");
                return -1;
            }
        }
        if ((fd >= 0 ? fchmod(fd, (mode_t)mode) : chmod(path, (mode_t)mode)) < 0) {
            os_error(err, n, "chmod", errno);
            return -1;
        }
    }
    if (hu || hg) {
        uid_t u = hu ? (uid_t)uid : (uid_t)-1;
        gid_t g = hg ? (gid_t)gid : (gid_t)-1;
        int r = fd >= 0 ? fchown(fd, u, g) : (follow ? chown(path, u, g) : lchown(path, u, g));
        if (r < 0) {
            os_error(err, n, "chown", errno);
            return -1;
        }
    }
    if (ha || ht) {
        struct stat st;
        int r = fd >= 0 ? fstat(fd, &st) : (follow ? stat(path, &st) : lstat(path, &st));
        if (r < 0) {
            os_error(err, n, "stat before utimensat", errno);
            return -1;
        }
        struct timespec ts[2] = {{ha ? atime : st.st_atime, 0}, {ht ? mtime : st.st_mtime, 0}};
        r = fd >= 0 ? futimens(fd, ts) : utimensat(AT_FDCWD, path, ts, follow ? 0 : AT_SYMLINK_NOFOLLOW);
        if (r < 0) {
            os_error(err, n, "utimensat", errno);
            return -1;
        }
    }
    return 0;
}

/* ---- recursive helpers ---- */

static int mkdir_all(const char *path)
{
    return mkdir_p(path, 0777);
}

static int copy_file(const char *src, const char *dst)
{
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return -1;
    struct stat st;
    if (fstat(in, &st) < 0) {
        close(in);
        return -1;
    }
    int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, st.st_mode & 07777);
    if (out < 0) {
        int e = errno;
        close(in);
        errno = e;
        return -1;
    }
    static char chunk[65536];
    ssize_t r;
    int rc = 0;
    while ((r = read(in, chunk, sizeof(chunk))) > 0) {
        char *p = chunk;
        while (r > 0) {
            ssize_t w = write(out, p, (size_t)r);
            if (w < 0) {
                rc = -1;
                break;
            }
            p += w;
            r -= w;
        }
        if (rc)
            break;
    }
    if (r < 0)
        rc = -1;
    int e = errno;
    fchmod(out, st.st_mode & 07777);
    close(in);
    close(out);
    errno = e;
    return rc;
}

/* ---- streams ---- */

static fs_stream_t *new_stream(void)
{
    for (int i = 0; i < MAX_STREAMS; i++)
        if (!g_streams[i].used) {
            memset(&g_streams[i], 0, sizeof(g_streams[i]));
            g_streams[i].used = 1;
            return &g_streams[i];
        }
    return NULL;
}

static fs_stream_t *find_stream(uint32_t id, int is_write)
{
    for (int i = 0; i < MAX_STREAMS; i++)
        if (g_streams[i].used && g_streams[i].id == id && g_streams[i].is_write == is_write)
            return &g_streams[i];
    return NULL;
}

static void end_stream(fs_stream_t *s)
{
    if (s->fd >= 0)
        close(s->fd);
    memset(s, 0, sizeof(*s));
}

int fs_pending_reads(void)
{
    for (int i = 0; i < MAX_STREAMS; i++)
        if (g_streams[i].used && !g_streams[i].is_write)
            return 1;
    return 0;
}

int fs_active_streams(void)
{
    int n = 0;
    for (int i = 0; i < MAX_STREAMS; i++)
        n += g_streams[i].used;
    return n;
}

void fs_pump_reads(void)
{
    static uint8_t *chunk;
    if (!chunk)
        chunk = xcalloc(FS_CHUNK, 1);
    for (int i = 0; i < MAX_STREAMS && g_out.len < OUT_HIGH_WATER; i++) {
        fs_stream_t *s = &g_streams[i];
        if (!s->used || s->is_write)
            continue;
        size_t want = FS_CHUNK;
        if (s->has_len && s->remaining < want)
            want = (size_t)s->remaining;
        if (want == 0) {
            send_ok(s->id);
            end_stream(s);
            continue;
        }
        ssize_t r = pread(s->fd, chunk, want, (off_t)s->offset);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            send_err(s->id, "read", errno);
            end_stream(s);
            continue;
        }
        if (r == 0) {
            send_ok(s->id);
            end_stream(s);
            continue;
        }
        buf_t b;
        buf_init(&b);
        buf_reserve(&b, (size_t)r + 16);
        cb_map(&b, 1);
        cb_text(&b, "data");
        cb_bytes(&b, chunk, (size_t)r);
        send_msg(s->id, T_FS_DATA, &b);
        buf_free(&b);
        g_ctr_fs_bytes += (uint64_t)r;
        s->offset += (uint64_t)r;
        if (s->has_len)
            s->remaining -= (uint64_t)r;
    }
}

void fs_handle_data(const msg_t *m, const cb_item *p)
{
    fs_stream_t *s = find_stream(m->id, 1);
    if (!s) {
        char msg[64];
        snprintf(msg, sizeof(msg), "unknown write session: %u", m->id);
        send_errmsg(m->id, msg);
        return;
    }
    const cb_item *d = cb_get(p, "data");
    if (!d || d->type != CB_BYTES) {
        send_errmsg(m->id, "write: data must be a byte string");
        end_stream(s);
        return;
    }
    if (d->len == 0) {
        if (s->has_len && s->written != s->remaining) {
            char msg[160];
            snprintf(msg, sizeof(msg), "write length mismatch: expected %llu, wrote %llu",
                     (unsigned long long)s->remaining, (unsigned long long)s->written);
            send_errmsg(m->id, msg);
        } else {
            send_ok(m->id);
        }
        end_stream(s);
        return;
    }
    if (s->has_len && s->written + d->len > s->remaining) {
        char msg[160];
        snprintf(msg, sizeof(msg), "write length mismatch: expected %llu, received at least %llu",
                 (unsigned long long)s->remaining, (unsigned long long)(s->written + d->len));
        send_errmsg(m->id, msg);
        end_stream(s);
        return;
    }
    const uint8_t *ptr = d->ptr;
    size_t left = d->len;
    while (left) {
        ssize_t w = s->append ? write(s->fd, ptr, left) : pwrite(s->fd, ptr, left, (off_t)s->offset);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            send_err(m->id, "write", errno);
            end_stream(s);
            return;
        }
        ptr += w;
        left -= (size_t)w;
        s->offset += (uint64_t)w;
    }
    s->written += d->len;
    g_ctr_fs_bytes += d->len;
}

void fs_close_owner_range(uint32_t start, uint32_t end)
{
    for (int i = 0; i < MAX_HANDLES; i++)
        if (g_handles[i].used && g_handles[i].owner >= start && g_handles[i].owner < end)
            close_handle_entry(&g_handles[i]);
    for (int i = 0; i < MAX_STREAMS; i++)
        if (g_streams[i].used && g_streams[i].owner >= start && g_streams[i].owner < end)
            end_stream(&g_streams[i]);
}

void fs_clear(void)
{
    for (int i = 0; i < MAX_HANDLES; i++)
        if (g_handles[i].used)
            close_handle_entry(&g_handles[i]);
    for (int i = 0; i < MAX_STREAMS; i++)
        if (g_streams[i].used)
            end_stream(&g_streams[i]);
}

/* ---- request dispatch ---- */

static char *str_field(const cb_item *f, const char *k) { return cb_strdup(cb_get(f, k)); }

static int bool_field(const cb_item *f, const char *k)
{
    int v = 0;
    cb_as_bool(cb_get(f, k), &v);
    return v;
}

void fs_handle_request(const msg_t *m, const cb_item *p)
{
    uint32_t id = m->id;
    const cb_item *op = cb_get(p, "op");
    if (!op || op->type != CB_MAP || op->u != 1 || op->items[0].type != CB_TEXT) {
        send_core_error(id, "invalid_payload", "decode payload for core.fs.request: op must be {Variant: fields}",
                        T_FS_REQUEST);
        return;
    }
    const cb_item *k = &op->items[0], *f = &op->items[1];
    char err[700];
    char *path = str_field(f, "path");

#define NEED_PATH()                                                                                                    \
    do {                                                                                                               \
        if (!path) {                                                                                                   \
            send_core_error(id, "invalid_payload", "decode payload for core.fs.request: path must be a string",       \
                            T_FS_REQUEST);                                                                             \
            goto done;                                                                                                 \
        }                                                                                                              \
    } while (0)

    if (cb_text_eq(k, "Stat")) {
        NEED_PATH();
        struct stat st;
        int follow = bool_field(f, "follow_symlink");
        if ((follow ? stat(path, &st) : lstat(path, &st)) < 0)
            send_err(id, "stat", errno);
        else
            send_stat(id, path, &st);
    } else if (cb_text_eq(k, "List")) {
        NEED_PATH();
        DIR *d = opendir(path);
        if (!d) {
            char inner[600];
            os_error(inner, sizeof(inner), "opendir", errno);
            snprintf(err, sizeof(err), "readdir: %s", inner);
            send_errmsg(id, err);
        } else {
            buf_t data;
            buf_init(&data);
            if (list_entries(d, path, -1, &data) < 0)
                send_err(id, "readdir", errno);
            else
                send_response(id, 1, NULL, &data);
            buf_free(&data);
            closedir(d);
        }
    } else if (cb_text_eq(k, "RealPath")) {
        NEED_PATH();
        char out[PATH_MAX];
        if (realpath(path, out)) {
            send_path(id, out);
        } else {
            int e = errno;
            char parent[PATH_MAX], *slash;
            snprintf(parent, sizeof(parent), "%s", path);
            slash = strrchr(parent, '/');
            char resolved[PATH_MAX + 256];
            if (slash && slash[1]) {
                const char *name = path + (slash - parent) + 1;
                if (slash == parent)
                    strcpy(parent, "/");
                else
                    *slash = 0;
                if (realpath(parent, out)) {
                    join_path(resolved, sizeof(resolved), out, name);
                    send_path(id, resolved);
                    goto done;
                }
            }
            send_err(id, "realpath", e);
        }
    } else if (cb_text_eq(k, "ReadLink")) {
        NEED_PATH();
        char out[PATH_MAX];
        ssize_t r = readlink(path, out, sizeof(out) - 1);
        if (r < 0)
            send_err(id, "readlink", errno);
        else {
            out[r] = 0;
            send_path(id, out);
        }
    } else if (cb_text_eq(k, "Symlink")) {
        char *target = str_field(f, "target"), *link = str_field(f, "link_path");
        if (!target || !link)
            send_core_error(id, "invalid_payload", "Symlink needs target and link_path", T_FS_REQUEST);
        else if (symlink(target, link) < 0)
            send_err(id, "symlink", errno);
        else
            send_ok(id);
        free(target);
        free(link);
    } else if (cb_text_eq(k, "Mkdir")) {
        NEED_PATH();
        uint64_t mode;
        int hm = opt_u64(f, "mode", &mode);
        if (mkdir_all(path) < 0)
            send_err(id, "mkdir", errno);
        else if (hm > 0 && chmod(path, (mode_t)mode) < 0)
            send_err(id, "chmod", errno);
        else
            send_ok(id);
    } else if (cb_text_eq(k, "Remove")) {
        NEED_PATH();
        if (unlink(path) < 0)
            send_err(id, "remove", errno);
        else
            send_ok(id);
    } else if (cb_text_eq(k, "RemoveDir")) {
        NEED_PATH();
        int r = bool_field(f, "recursive") ? remove_tree(path) : rmdir(path);
        if (r < 0)
            send_err(id, "remove_dir", errno);
        else
            send_ok(id);
    } else if (cb_text_eq(k, "Copy") || cb_text_eq(k, "Rename")) {
        char *src = str_field(f, "src"), *dst = str_field(f, "dst");
        int is_copy = cb_text_eq(k, "Copy");
        if (!src || !dst)
            send_core_error(id, "invalid_payload", "src and dst must be strings", T_FS_REQUEST);
        else if ((is_copy ? copy_file(src, dst) : rename(src, dst)) < 0)
            send_err(id, is_copy ? "copy" : "rename", errno);
        else
            send_ok(id);
        free(src);
        free(dst);
    } else if (cb_text_eq(k, "SetStat")) {
        NEED_PATH();
        const cb_item *attrs = cb_get(f, "attrs");
        if (apply_attrs(path, -1, bool_field(f, "follow_symlink"), attrs, err, sizeof(err) - 16) < 0) {
            char full[760];
            snprintf(full, sizeof(full), "setstat: %s", err);
            send_errmsg(id, full);
        } else {
            send_ok(id);
        }
    } else if (cb_text_eq(k, "OpenFile")) {
        NEED_PATH();
        const cb_item *o = cb_get(f, "options");
        int rd = bool_field(o, "read"), wr = bool_field(o, "write"), ap = bool_field(o, "append"),
            cr = bool_field(o, "create"), tr = bool_field(o, "truncate"), cn = bool_field(o, "create_new");
        uint64_t mode = 0666;
        opt_u64(o, "mode", &mode);
        int flags = O_CLOEXEC;
        int w = wr || ap;
        flags |= rd && w ? O_RDWR : w ? O_WRONLY : O_RDONLY;
        if (ap) flags |= O_APPEND;
        if (cn) flags |= O_CREAT | O_EXCL;
        else if (cr) flags |= O_CREAT;
        if (tr) flags |= O_TRUNC;
        if ((cr || cn || tr) && !w) {
            send_err(id, "open", EINVAL);
            goto done;
        }
        fs_handle_t *h = alloc_handle(id, err, sizeof(err));
        if (!h) {
            char full[760];
            snprintf(full, sizeof(full), "open: %s", err);
            send_errmsg(id, full);
            goto done;
        }
        int fd = open(path, flags, (mode_t)mode);
        if (fd < 0) {
            int e = errno;
            memset(h, 0, sizeof(*h));
            send_err(id, "open", e);
            goto done;
        }
        struct stat st;
        if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode) && w) {
            close(fd);
            memset(h, 0, sizeof(*h));
            send_err(id, "open", EISDIR);
            goto done;
        }
        h->fd = fd;
        h->read = rd;
        h->write = wr;
        h->append = ap;
        h->path = xstrdup(path);
        buf_t d;
        buf_init(&d);
        cb_map(&d, 1);
        cb_text(&d, "Handle");
        cb_uint(&d, h->handle);
        send_response(id, 1, NULL, &d);
        buf_free(&d);
    } else if (cb_text_eq(k, "OpenDir")) {
        NEED_PATH();
        fs_handle_t *h = alloc_handle(id, err, sizeof(err));
        if (!h) {
            char full[760];
            snprintf(full, sizeof(full), "opendir: %s", err);
            send_errmsg(id, full);
            goto done;
        }
        DIR *dir = opendir(path);
        if (!dir) {
            int e = errno;
            memset(h, 0, sizeof(*h));
            send_err(id, "opendir", e);
            goto done;
        }
        h->dir = dir;
        h->path = xstrdup(path);
        buf_t d;
        buf_init(&d);
        cb_map(&d, 1);
        cb_text(&d, "Handle");
        cb_uint(&d, h->handle);
        send_response(id, 1, NULL, &d);
        buf_free(&d);
    } else if (cb_text_eq(k, "CloseHandle") || cb_text_eq(k, "Read") || cb_text_eq(k, "Write") ||
               cb_text_eq(k, "ReadDir") || cb_text_eq(k, "FStat") || cb_text_eq(k, "FSetStat")) {
        uint64_t hid;
        char opname[16];
        if (cb_text_eq(k, "CloseHandle")) strcpy(opname, "close");
        else if (cb_text_eq(k, "Read")) strcpy(opname, "read");
        else if (cb_text_eq(k, "Write")) strcpy(opname, "write");
        else if (cb_text_eq(k, "ReadDir")) strcpy(opname, "readdir");
        else if (cb_text_eq(k, "FStat")) strcpy(opname, "fstat");
        else strcpy(opname, "fsetstat");
        if (cb_as_u64(cb_get(f, "handle"), &hid) < 0) {
            send_core_error(id, "invalid_payload", "handle must be an unsigned integer", T_FS_REQUEST);
            goto done;
        }
        fs_handle_t *h = owned_handle(id, hid, opname, err, sizeof(err));
        if (!h) {
            send_errmsg(id, err);
            goto done;
        }
        if (!strcmp(opname, "close")) {
            close_handle_entry(h);
            send_ok(id);
        } else if (!strcmp(opname, "read") || !strcmp(opname, "write")) {
            int is_write = opname[0] == 'w';
            if (h->dir) {
                snprintf(err, sizeof(err), "%s: handle %llu is a directory", opname, (unsigned long long)hid);
                send_errmsg(id, err);
                goto done;
            }
            if (is_write ? !(h->write || h->append) : !h->read) {
                snprintf(err, sizeof(err), "%s: handle %llu is not open for %s", opname, (unsigned long long)hid,
                         is_write ? "writing" : "reading");
                send_errmsg(id, err);
                goto done;
            }
            fs_stream_t *s = find_stream(id, is_write) ? NULL : new_stream();
            if (!s) {
                snprintf(err, sizeof(err), "%s: too many concurrent streams", opname);
                send_errmsg(id, err);
                goto done;
            }
            uint64_t off = 0, len = 0;
            cb_as_u64(cb_get(f, "offset"), &off);
            s->has_len = opt_u64(f, "len", &len) > 0;
            s->is_write = is_write;
            s->id = id;
            s->owner = id;
            s->fd = fcntl(h->fd, F_DUPFD_CLOEXEC, 3);
            s->offset = off;
            s->remaining = len;
            s->append = h->append;
            if (s->fd < 0) {
                int e = errno;
                memset(s, 0, sizeof(*s));
                send_err(id, opname, e);
            }
            /* reads stream from fs_pump_reads; writes wait for core.fs.data */
        } else if (!strcmp(opname, "readdir")) {
            if (!h->dir) {
                snprintf(err, sizeof(err), "readdir: handle %llu is a file", (unsigned long long)hid);
                send_errmsg(id, err);
                goto done;
            }
            uint64_t limit = DEFAULT_READ_DIR_LIMIT;
            if (opt_u64(f, "limit", &limit) <= 0)
                limit = DEFAULT_READ_DIR_LIMIT;
            if (limit == 0)
                limit = 1;
            buf_t data;
            buf_init(&data);
            if (list_entries(h->dir, h->path, (long)limit, &data) < 0) {
                char inner[600];
                os_error(inner, sizeof(inner), h->path, errno);
                snprintf(err, sizeof(err), "readdir %s", inner);
                send_errmsg(id, err);
            } else {
                send_response(id, 1, NULL, &data);
            }
            buf_free(&data);
        } else if (!strcmp(opname, "fstat")) {
            struct stat st;
            int r = h->dir ? stat(h->path, &st) : fstat(h->fd, &st);
            if (r < 0)
                send_err(id, "fstat", errno);
            else
                send_stat(id, h->path, &st);
        } else {
            if (h->dir) {
                snprintf(err, sizeof(err), "fsetstat: handle %llu is a directory", (unsigned long long)hid);
                send_errmsg(id, err);
                goto done;
            }
            if (apply_attrs(h->path, h->fd, 1, cb_get(f, "attrs"), err, sizeof(err) - 16) < 0) {
                char full[760];
                snprintf(full, sizeof(full), "fsetstat: %s", err);
                send_errmsg(id, full);
            } else {
                send_ok(id);
            }
        }
    } else {
        char msg[200];
        snprintf(msg, sizeof(msg), "decode payload for core.fs.request: unknown fs op %.*s", (int)k->len,
                 (const char *)k->ptr);
        send_core_error(id, "invalid_payload", msg, T_FS_REQUEST);
    }
done:
    free(path);
}
