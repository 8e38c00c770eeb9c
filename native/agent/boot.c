/* core.bootstrap handling: validate the GuestBootstrap payload, assemble
 * the root filesystem, apply patches, report core.init.resolved, mount the
 * user volumes, and set hostname, network and runtime directories. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/random.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"

agent_config_t g_config;

/* ------------------------------------------------------------------ */
/* helpers                                                              */

static char *g_err;
static size_t g_errlen;

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_err, g_errlen, fmt, ap);
    va_end(ap);
    return -1;
}

static char *get_str(const cb_item *m, const char *key) { return cb_strdup(cb_get(m, key)); }

/* Optional text field: NULL when absent/null; error when present but not text. */
static int opt_str(const cb_item *m, const char *key, char **out, const char *label)
{
    const cb_item *it = cb_get(m, key);
    *out = NULL;
    if (cb_is_nil(it))
        return 0;
    *out = cb_strdup(it);
    if (!*out)
        return fail("%s must be a string without NUL", label);
    return 0;
}

static int req_str(const cb_item *m, const char *key, char **out, const char *label)
{
    if (opt_str(m, key, out, label) < 0)
        return -1;
    if (!*out || !**out)
        return fail("%s must be non-empty and must not contain NUL", label);
    return 0;
}

static int req_abs_path(const cb_item *m, const char *key, char **out, const char *label)
{
    if (req_str(m, key, out, label) < 0)
        return -1;
    if ((*out)[0] != '/')
        return fail("%s must be an absolute Linux path: %s", label, *out);
    return 0;
}

static int opt_u32(const cb_item *m, const char *key, int *have, uint32_t *out, const char *label)
{
    const cb_item *it = cb_get(m, key);
    *have = 0;
    if (cb_is_nil(it))
        return 0;
    uint64_t v;
    if (cb_as_u64(it, &v) < 0 || v > 0xffffffffull)
        return fail("%s must be an unsigned 32-bit integer", label);
    *have = 1;
    *out = (uint32_t)v;
    return 0;
}

/* ------------------------------------------------------------------ */
/* bootstrap model                                                      */

typedef struct {
    int readonly, noexec, nosuid, nodev;
} mflags_t;

enum mkind { M_DIR, M_FILE, M_DISK, M_TMPFS };

typedef struct {
    enum mkind kind;
    char *tag;      /* dir/file */
    char *filename; /* file */
    char *id;       /* disk */
    char *fstype;   /* disk, optional */
    char *path;     /* guest path */
    int have_size;
    uint32_t size_mib; /* tmpfs */
    int have_mode;
    uint32_t mode; /* tmpfs */
    mflags_t flags;
    char canon[4096];
    int depth;
} umount_t;

typedef struct {
    char *root_kind; /* NULL, "disk-image", "oci-erofs" */
    char *root_device, *root_fstype;
    char *erofs_lower, *upper_kind, *upper_device, *upper_fstype;
    int upper_have_size;
    uint32_t upper_size_mib;

    umount_t *mounts;
    int nmounts;

    char *hostname, *host_alias;
    int have_net;
    net_config_t net;

    struct {
        int id;
        char *name;
        uint64_t soft, hard;
    } rlimits[32];
    int nrlimits;
} bootstrap_t;

static int parse_flags(const cb_item *m, mflags_t *f, const char *label)
{
    memset(f, 0, sizeof(*f));
    const cb_item *fl = cb_get(m, "flags");
    if (cb_is_nil(fl))
        return 0;
    if (fl->type != CB_MAP)
        return fail("%s flags must be a map", label);
    const char *names[] = {"readonly", "noexec", "nosuid", "nodev"};
    int *dst[] = {&f->readonly, &f->noexec, &f->nosuid, &f->nodev};
    for (int i = 0; i < 4; i++) {
        const cb_item *it = cb_get(fl, names[i]);
        if (cb_is_nil(it))
            continue;
        if (cb_as_bool(it, dst[i]) < 0)
            return fail("%s flag %s must be a boolean", label, names[i]);
    }
    return 0;
}

static const cb_item *opt_array(const cb_item *m, const char *key, int *err, const char *label)
{
    const cb_item *it = cb_get(m, key);
    *err = 0;
    if (cb_is_nil(it))
        return NULL;
    if (it->type != CB_ARRAY) {
        *err = fail("%s must be an array", label);
        return NULL;
    }
    return it;
}

/* IP address as text, as an array of byte values, or as a byte string. */
static int parse_ip(const cb_item *it, uint8_t *out, int n, const char *label)
{
    if (!it)
        return fail("%s is required", label);
    if (it->type == CB_TEXT) {
        char s[64];
        if (it->len >= sizeof(s))
            return fail("%s is not a valid address", label);
        memcpy(s, it->ptr, it->len);
        s[it->len] = 0;
        if (inet_pton(n == 4 ? AF_INET : AF_INET6, s, out) != 1)
            return fail("%s is not a valid address: %s", label, s);
        return 0;
    }
    if (it->type == CB_BYTES && (int)it->len == n) {
        memcpy(out, it->ptr, (size_t)n);
        return 0;
    }
    if (it->type == CB_ARRAY && (int)it->u == n) {
        for (int i = 0; i < n; i++) {
            if (it->items[i].type != CB_UINT || it->items[i].u > 255)
                return fail("%s must hold byte values", label);
            out[i] = (uint8_t)it->items[i].u;
        }
        return 0;
    }
    /* some serializers emit IPv6 as 8 u16 segments */
    if (n == 16 && it->type == CB_ARRAY && it->u == 8) {
        for (int i = 0; i < 8; i++) {
            if (it->items[i].type != CB_UINT || it->items[i].u > 0xffff)
                return fail("%s must hold 16-bit segments", label);
            out[2 * i] = (uint8_t)(it->items[i].u >> 8);
            out[2 * i + 1] = (uint8_t)it->items[i].u;
        }
        return 0;
    }
    return fail("%s has an unsupported encoding", label);
}

static int parse_network(const cb_item *n, net_config_t *c)
{
    memset(c, 0, sizeof(*c));
    if (n->type != CB_MAP)
        return fail("bootstrap network must be a map");
    char *iface;
    if (req_str(n, "interface", &iface, "bootstrap network interface") < 0)
        return -1;
    if (strlen(iface) >= 16) {
        free(iface);
        return fail("bootstrap network interface name too long");
    }
    snprintf(c->iface, sizeof(c->iface), "%s", iface);
    free(iface);
    const cb_item *mac = cb_get(n, "mac");
    if (!cb_is_nil(mac)) {
        if (mac->type == CB_TEXT) {
            char s[32] = {0};
            unsigned b[6];
            if (mac->len < sizeof(s))
                memcpy(s, mac->ptr, mac->len);
            if (sscanf(s, "%x:%x:%x:%x:%x:%x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6)
                return fail("bootstrap network mac is not a MAC address");
            for (int i = 0; i < 6; i++)
                c->mac[i] = (uint8_t)b[i];
        } else if (parse_ip(mac, c->mac, 6, "bootstrap network mac") < 0) {
            return -1;
        }
        c->have_mac = 1;
    }
    uint64_t mtu;
    if (cb_as_u64(cb_get(n, "mtu"), &mtu) == 0)
        c->mtu = (int)mtu;
    const cb_item *v4 = cb_get(n, "ipv4");
    if (!cb_is_nil(v4)) {
        uint64_t pl;
        if (parse_ip(cb_get(v4, "address"), c->v4_addr, 4, "bootstrap IPv4 address") < 0 ||
            parse_ip(cb_get(v4, "gateway"), c->v4_gw, 4, "bootstrap IPv4 gateway") < 0)
            return -1;
        if (cb_as_u64(cb_get(v4, "prefix_len"), &pl) < 0 || pl > 32)
            return fail("bootstrap IPv4 prefix length out of range");
        c->v4_prefix = (int)pl;
        const cb_item *dns = cb_get(v4, "dns");
        if (!cb_is_nil(dns)) {
            if (parse_ip(dns, c->v4_dns, 4, "bootstrap IPv4 dns") < 0)
                return -1;
            c->have_v4_dns = 1;
        }
        c->have_v4 = 1;
    }
    const cb_item *v6 = cb_get(n, "ipv6");
    if (!cb_is_nil(v6)) {
        uint64_t pl;
        if (parse_ip(cb_get(v6, "address"), c->v6_addr, 16, "bootstrap IPv6 address") < 0 ||
            parse_ip(cb_get(v6, "gateway"), c->v6_gw, 16, "bootstrap IPv6 gateway") < 0)
            return -1;
        if (cb_as_u64(cb_get(v6, "prefix_len"), &pl) < 0 || pl > 128)
            return fail("bootstrap IPv6 prefix length out of range");
        c->v6_prefix = (int)pl;
        const cb_item *dns = cb_get(v6, "dns");
        if (!cb_is_nil(dns)) {
            if (parse_ip(dns, c->v6_dns, 16, "bootstrap IPv6 dns") < 0)
                return -1;
            c->have_v6_dns = 1;
        }
        c->have_v6 = 1;
    }
    return 0;
}

/* Normalises an absolute guest path: collapses "//" and ".", rejects "..". */
static int canon_path(const char *in, char *out, size_t outlen, int *depth)
{
    if (in[0] != '/')
        return fail("invalid guest mount path: %s", in);
    size_t o = 0;
    int d = 0;
    const char *p = in;
    while (*p) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        const char *s = p;
        while (*p && *p != '/')
            p++;
        size_t len = (size_t)(p - s);
        if (len == 1 && s[0] == '.')
            continue;
        if (len == 2 && s[0] == '.' && s[1] == '.')
            return fail("guest mount path must not contain '..': %s", in);
        if (o + len + 2 >= outlen)
            return fail("guest mount path too long: %s", in);
        out[o++] = '/';
        memcpy(out + o, s, len);
        o += len;
        d++;
    }
    if (o == 0)
        return fail("cannot mount a volume at guest root /");
    out[o] = 0;
    *depth = d;
    return 0;
}

static int parse_bootstrap(const cb_item *b, bootstrap_t *bs)
{
    memset(bs, 0, sizeof(*bs));
    if (b->type != CB_MAP)
        return fail("bootstrap payload must be a map");
    int aerr;

    /* block_root */
    const cb_item *br = cb_get(b, "block_root");
    if (!cb_is_nil(br)) {
        if (req_str(br, "kind", &bs->root_kind, "bootstrap block-root kind") < 0)
            return -1;
        if (!strcmp(bs->root_kind, "disk-image")) {
            if (req_abs_path(br, "device", &bs->root_device, "bootstrap block-root device") < 0 ||
                opt_str(br, "fstype", &bs->root_fstype, "bootstrap block-root fstype") < 0)
                return -1;
            /* QEMU-engine extension: the disk read-only under a tmpfs overlay, so every guest write lives in guest
             * RAM and a memory snapshot holds the whole writable state (ready-state templates). */
            const cb_item *up = cb_get(br, "upper");
            if (!cb_is_nil(up)) {
                if (up->type != CB_MAP || req_str(up, "kind", &bs->upper_kind, "bootstrap upper kind") < 0)
                    return fail("bootstrap block-root upper must be a map with a kind");
                if (strcmp(bs->upper_kind, "tmpfs") != 0)
                    return fail("bootstrap disk-image upper kind must be tmpfs, got %s", bs->upper_kind);
                if (opt_u32(up, "size_mib", &bs->upper_have_size, &bs->upper_size_mib, "bootstrap upper size_mib") < 0)
                    return -1;
            }
        } else if (!strcmp(bs->root_kind, "oci-erofs")) {
            if (req_abs_path(br, "lower", &bs->erofs_lower, "bootstrap EROFS lower device") < 0)
                return -1;
            const cb_item *up = cb_get(br, "upper");
            if (cb_is_nil(up) || up->type != CB_MAP)
                return fail("bootstrap block-root upper is required for oci-erofs");
            if (req_str(up, "kind", &bs->upper_kind, "bootstrap upper kind") < 0)
                return -1;
            if (!strcmp(bs->upper_kind, "device")) {
                if (req_abs_path(up, "device", &bs->upper_device, "bootstrap upper device") < 0 ||
                    req_str(up, "fstype", &bs->upper_fstype, "bootstrap upper fstype") < 0)
                    return -1;
            } else if (!strcmp(bs->upper_kind, "tmpfs")) {
                if (opt_u32(up, "size_mib", &bs->upper_have_size, &bs->upper_size_mib, "bootstrap upper size_mib") < 0)
                    return -1;
            } else {
                return fail("unknown bootstrap upper kind: %s", bs->upper_kind);
            }
        } else {
            return fail("unknown bootstrap block-root kind: %s", bs->root_kind);
        }
    }

    /* user mounts */
    const cb_item *dm = opt_array(b, "dir_mounts", &aerr, "bootstrap dir_mounts");
    if (aerr) return -1;
    const cb_item *fm = opt_array(b, "file_mounts", &aerr, "bootstrap file_mounts");
    if (aerr) return -1;
    const cb_item *km = opt_array(b, "disk_mounts", &aerr, "bootstrap disk_mounts");
    if (aerr) return -1;
    const cb_item *tm = opt_array(b, "tmpfs_mounts", &aerr, "bootstrap tmpfs_mounts");
    if (aerr) return -1;
    int total = (int)((dm ? dm->u : 0) + (fm ? fm->u : 0) + (km ? km->u : 0) + (tm ? tm->u : 0));
    bs->mounts = xcalloc((size_t)total, sizeof(umount_t));
    for (uint64_t i = 0; dm && i < dm->u; i++) {
        umount_t *u = &bs->mounts[bs->nmounts++];
        u->kind = M_DIR;
        if (req_str(&dm->items[i], "tag", &u->tag, "bootstrap directory mount tag") < 0 ||
            req_abs_path(&dm->items[i], "guest_path", &u->path, "bootstrap directory mount path") < 0 ||
            parse_flags(&dm->items[i], &u->flags, "bootstrap directory mount") < 0)
            return -1;
    }
    for (uint64_t i = 0; fm && i < fm->u; i++) {
        umount_t *u = &bs->mounts[bs->nmounts++];
        u->kind = M_FILE;
        if (req_str(&fm->items[i], "tag", &u->tag, "bootstrap file mount tag") < 0 ||
            req_str(&fm->items[i], "filename", &u->filename, "bootstrap file mount filename") < 0 ||
            req_abs_path(&fm->items[i], "guest_path", &u->path, "bootstrap file mount path") < 0 ||
            parse_flags(&fm->items[i], &u->flags, "bootstrap file mount") < 0)
            return -1;
    }
    for (uint64_t i = 0; km && i < km->u; i++) {
        umount_t *u = &bs->mounts[bs->nmounts++];
        u->kind = M_DISK;
        if (req_str(&km->items[i], "id", &u->id, "bootstrap disk mount id") < 0 ||
            req_abs_path(&km->items[i], "guest_path", &u->path, "bootstrap disk mount path") < 0 ||
            opt_str(&km->items[i], "fstype", &u->fstype, "bootstrap disk mount fstype") < 0 ||
            parse_flags(&km->items[i], &u->flags, "bootstrap disk mount") < 0)
            return -1;
    }
    for (uint64_t i = 0; tm && i < tm->u; i++) {
        umount_t *u = &bs->mounts[bs->nmounts++];
        u->kind = M_TMPFS;
        if (req_abs_path(&tm->items[i], "path", &u->path, "bootstrap tmpfs path") < 0 ||
            opt_u32(&tm->items[i], "size_mib", &u->have_size, &u->size_mib, "bootstrap tmpfs size_mib") < 0 ||
            opt_u32(&tm->items[i], "mode", &u->have_mode, &u->mode, "bootstrap tmpfs mode") < 0 ||
            parse_flags(&tm->items[i], &u->flags, "bootstrap tmpfs") < 0)
            return -1;
    }
    for (int i = 0; i < bs->nmounts; i++)
        if (canon_path(bs->mounts[i].path, bs->mounts[i].canon, sizeof(bs->mounts[i].canon), &bs->mounts[i].depth) < 0)
            return -1;

    if (opt_str(b, "hostname", &bs->hostname, "bootstrap hostname") < 0 ||
        opt_str(b, "host_alias", &bs->host_alias, "bootstrap host alias") < 0)
        return -1;
    if (bs->hostname && !bs->hostname[0])
        return fail("bootstrap hostname must be non-empty and must not contain NUL");

    const cb_item *net = cb_get(b, "network");
    if (!cb_is_nil(net)) {
        if (parse_network(net, &bs->net) < 0)
            return -1;
        bs->have_net = 1;
    }

    const cb_item *rl = opt_array(b, "rlimits", &aerr, "bootstrap rlimits");
    if (aerr) return -1;
    for (uint64_t i = 0; rl && i < rl->u; i++) {
        if (bs->nrlimits >= 32)
            return fail("bootstrap rlimits has too many entries");
        const cb_item *r = &rl->items[i];
        char *name = get_str(r, "resource");
        if (!name)
            return fail("bootstrap rlimit resource must be a string");
        int id = rlimit_resource_id(name);
        if (id < 0)
            return fail("bootstrap rlimits contains unknown resource: %s", name);
        uint64_t soft, hard;
        if (cb_as_u64(cb_get(r, "soft"), &soft) < 0 || cb_as_u64(cb_get(r, "hard"), &hard) < 0)
            return fail("bootstrap rlimit %s needs unsigned soft and hard limits", name);
        if (soft > hard)
            return fail("bootstrap rlimit %s has soft limit above hard limit", name);
        for (int j = 0; j < bs->nrlimits; j++)
            if (bs->rlimits[j].id == id)
                return fail("bootstrap rlimits contains duplicate resource: %s", name);
        bs->rlimits[bs->nrlimits].id = id;
        bs->rlimits[bs->nrlimits].name = name;
        bs->rlimits[bs->nrlimits].soft = soft;
        bs->rlimits[bs->nrlimits].hard = hard;
        bs->nrlimits++;
    }

    if (opt_str(b, "user", &g_config.user, "bootstrap user") < 0 ||
        opt_str(b, "default_cwd", &g_config.default_cwd, "bootstrap default cwd") < 0)
        return -1;
    if (g_config.user && !g_config.user[0])
        return fail("bootstrap user must be non-empty and must not contain NUL");
    if (g_config.default_cwd && !g_config.default_cwd[0])
        return fail("bootstrap default cwd must be non-empty and must not contain NUL");

    const cb_item *env = opt_array(b, "default_env", &aerr, "bootstrap default_env");
    if (aerr) return -1;
    for (uint64_t i = 0; env && i < env->u; i++) {
        char *k = get_str(&env->items[i], "key");
        char *v = get_str(&env->items[i], "value");
        if (!k || !k[0])
            return fail("bootstrap default env contains an empty key");
        if (!v)
            return fail("bootstrap default env value for \"%s\" must be a string without NUL", k);
        if (strchr(k, '='))
            return fail("bootstrap default env key \"%s\" must not contain '=' or NUL", k);
        free(k);
        free(v);
    }

    const cb_item *sp = cb_get(b, "security_profile");
    if (!cb_is_nil(sp)) {
        if (cb_text_eq(sp, "restricted"))
            g_config.restricted = 1;
        else if (!cb_text_eq(sp, "default"))
            return fail("bootstrap security_profile must be \"default\" or \"restricted\"");
    }

    if (!cb_is_nil(cb_get(b, "handoff_init")))
        return fail("handoff_init is not supported by the QEMU guest agent (it stays PID 1)");
    return 0;
}

/* QEMU-engine extensions for a guest restored from a snapshot (a template saved
 * while it waited for this bootstrap): every clone starts with the template's
 * wall clock and the template's kernel RNG state, so the bootstrap may carry
 * "unix_time_nanos" (set CLOCK_REALTIME first, so files written while booting
 * get current times) and "entropy" (host random bytes, credited to the input
 * pool, then the CRNG is reseeded so clones stop sharing one random stream). */
static int apply_restore_fields(const cb_item *b)
{
    const cb_item *t = cb_get(b, "unix_time_nanos");
    if (!cb_is_nil(t)) {
        uint64_t ns;
        if (cb_as_u64(t, &ns) < 0)
            return fail("bootstrap unix_time_nanos must be an unsigned integer");
        struct timespec ts = {(time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull)};
        if (clock_settime(CLOCK_REALTIME, &ts) < 0)
            return fail("failed to set the clock from unix_time_nanos: %s", strerror(errno));
    }
    const cb_item *e = cb_get(b, "entropy");
    if (cb_is_nil(e))
        return 0;
    uint8_t bytes[512];
    size_t n = 0;
    if (e->type == CB_BYTES && e->len <= sizeof(bytes)) {
        memcpy(bytes, e->ptr, e->len);
        n = e->len;
    } else if (e->type == CB_ARRAY && e->u <= sizeof(bytes)) {
        for (; n < e->u; n++) {
            if (e->items[n].type != CB_UINT || e->items[n].u > 255)
                return fail("bootstrap entropy must hold byte values");
            bytes[n] = (uint8_t)e->items[n].u;
        }
    } else {
        return fail("bootstrap entropy must be at most %zu bytes", sizeof(bytes));
    }
    if (n == 0)
        return 0;
    struct {
        struct rand_pool_info info;
        uint8_t data[sizeof(bytes)];
    } req;
    req.info.entropy_count = (int)(n * 8);
    req.info.buf_size = (int)n;
    memcpy(req.data, bytes, n);
    int fd = open("/dev/urandom", O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return fail("open /dev/urandom: %s", strerror(errno));
    int rc = 0;
    if (ioctl(fd, RNDADDENTROPY, &req.info) < 0 || ioctl(fd, RNDRESEEDCRNG) < 0)
        rc = fail("failed to add the bootstrap entropy: %s", strerror(errno));
    close(fd);
    explicit_bzero(&req, sizeof(req));
    explicit_bzero(bytes, sizeof(bytes));
    return rc;
}

/* Installs default_env into the agent's own environment (inherited by execs),
 * with PATH always containing the runtime scripts directory once. */
static void install_default_env(const cb_item *b)
{
    const cb_item *env = cb_get(b, "default_env");
    const char *path = NULL;
    char *pathcopy = NULL;
    clearenv();
    for (uint64_t i = 0; env && env->type == CB_ARRAY && i < env->u; i++) {
        char *k = get_str(&env->items[i], "key");
        char *v = get_str(&env->items[i], "value");
        if (k && v) {
            setenv(k, v, 1);
            if (!strcmp(k, "PATH")) {
                free(pathcopy);
                pathcopy = xstrdup(v);
                path = pathcopy;
            }
        }
        free(k);
        free(v);
    }
    char *full = scripts_path(path ? path : DEFAULT_GUEST_PATH);
    setenv("PATH", full, 1);
    free(full);
    free(pathcopy);
}

/* ------------------------------------------------------------------ */
/* devices and filesystems                                              */

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Finds /dev/vdX whose virtio-blk serial equals id. */
static int scan_block_serial(const char *id, char *out, size_t outlen)
{
    DIR *d = opendir("/sys/block");
    if (!d)
        return -1;
    struct dirent *e;
    int found = -1;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, "vd", 2) != 0)
            continue;
        char p[300], serial[128];
        snprintf(p, sizeof(p), "/sys/block/%s/serial", e->d_name);
        if (read_small(p, serial, sizeof(serial)) < 0)
            continue;
        if (!strcmp(serial, id)) {
            snprintf(out, outlen, "/dev/%s", e->d_name);
            found = 0;
            break;
        }
    }
    closedir(d);
    return found;
}

/* Resolves a block device path. "/dev/disk/by-id/virtio-<serial>" is looked up
 * through sysfs (there is no udev); other paths must appear under /dev. */
static int resolve_block(const char *device, char *out, size_t outlen)
{
    const char *prefix = "/dev/disk/by-id/virtio-";
    for (int i = 0; i < 200; i++) {
        if (!strncmp(device, prefix, strlen(prefix))) {
            if (scan_block_serial(device + strlen(prefix), out, outlen) == 0)
                return 0;
        } else if (access(device, F_OK) == 0) {
            snprintf(out, outlen, "%s", device);
            return 0;
        }
        sleep_ms(10);
    }
    return fail("block device not found: %s", device);
}

static int resolve_disk_id(const char *id, char *out, size_t outlen)
{
    for (int i = 0; i < 200; i++) {
        if (scan_block_serial(id, out, outlen) == 0)
            return 0;
        sleep_ms(10);
    }
    return fail("disk mount: no block device found for id '%s' (checked /sys/block/*/serial)", id);
}

static int list_fstypes(char types[][32], int max)
{
    FILE *f = fopen("/proc/filesystems", "r");
    if (!f)
        return 0;
    char line[128];
    int n = 0;
    while (n < max && fgets(line, sizeof(line), f)) {
        if (!strncmp(line, "nodev", 5))
            continue;
        char *t = line;
        while (*t == ' ' || *t == '\t')
            t++;
        t[strcspn(t, "\r\n")] = 0;
        if (*t)
            snprintf(types[n++], 32, "%s", t);
    }
    fclose(f);
    return n;
}

static int mount_block(const char *dev, const char *target, const char *fstype, unsigned long flags, int readonly)
{
    modules_load_for_fstype(fstype);
    if (fstype) {
        const char *data = (readonly && !strcmp(fstype, "ext4")) ? "noload" : NULL;
        if (mount(dev, target, fstype, flags, data) == 0)
            return 0;
        int e = errno;
        if ((e == EACCES || e == EROFS) && !(flags & MS_RDONLY)) {
            /* a read-only device (readonly=on): mount it read-only instead */
            data = !strcmp(fstype, "ext4") ? "noload" : NULL;
            if (mount(dev, target, fstype, flags | MS_RDONLY, data) == 0) {
                logmsg("%s is read-only; mounted %s read-only", dev, target);
                return 0;
            }
            e = errno;
        }
        return fail("failed to mount %s at %s as %s: %s%s", dev, target, fstype, strerror(e),
                    e == EINVAL ? " (the device does not hold a valid filesystem of that type)" : "");
    }
    char types[32][32];
    int n = list_fstypes(types, 32);
    for (int i = 0; i < n; i++) {
        const char *data = (readonly && !strcmp(types[i], "ext4")) ? "noload" : NULL;
        if (mount(dev, target, types[i], flags, data) == 0)
            return 0;
    }
    return fail("failed to mount %s at %s: no supported filesystem found", dev, target);
}

/* Is there a virtio-9p device exporting this mount tag? */
static int have_9p_tag(const char *tag)
{
    const char *dirs[] = {"/sys/bus/virtio/drivers/9pnet_virtio", NULL};
    for (int k = 0; dirs[k]; k++) {
        DIR *d = opendir(dirs[k]);
        if (!d)
            continue;
        struct dirent *e;
        int found = 0;
        while ((e = readdir(d))) {
            if (strncmp(e->d_name, "virtio", 6) != 0)
                continue;
            char p[512], t[256];
            snprintf(p, sizeof(p), "%s/%s/mount_tag", dirs[k], e->d_name);
            if (read_small(p, t, sizeof(t)) == 0 && !strcmp(t, tag)) {
                found = 1;
                break;
            }
        }
        closedir(d);
        if (found)
            return 1;
    }
    return 0;
}

static int mount_9p(const char *tag, const char *target, unsigned long flags, const char *extra)
{
    char opts[256];
    snprintf(opts, sizeof(opts), "%s%s%s", NINEP_OPTS, extra ? "," : "", extra ? extra : "");
    if (mount(tag, target, "9p", flags, opts) < 0)
        return fail("failed to mount 9p tag '%s' at %s: %s", tag, target, strerror(errno));
    return 0;
}

void mount_dev_proc_sys(void)
{
    mkdir("/dev", 0755);
    if (mount("devtmpfs", "/dev", "devtmpfs", MS_RELATIME, NULL) < 0 && errno != EBUSY)
        logmsg("mount /dev: %s", strerror(errno));
    mkdir("/proc", 0555);
    if (mount("proc", "/proc", "proc", MS_NODEV | MS_NOEXEC | MS_NOSUID | MS_RELATIME, NULL) < 0 && errno != EBUSY)
        logmsg("mount /proc: %s", strerror(errno));
    mkdir("/sys", 0555);
    if (mount("sysfs", "/sys", "sysfs", MS_NODEV | MS_NOEXEC | MS_NOSUID | MS_RELATIME, NULL) < 0 && errno != EBUSY)
        logmsg("mount /sys: %s", strerror(errno));
}

static void mount_api_filesystems(void)
{
    mount_dev_proc_sys();
    mkdir("/sys/fs/cgroup", 0755);
    mount("cgroup2", "/sys/fs/cgroup", "cgroup2", MS_NODEV | MS_NOEXEC | MS_NOSUID | MS_RELATIME, NULL);
    mkdir("/dev/pts", 0755);
    if (mount("devpts", "/dev/pts", "devpts", MS_NOEXEC | MS_NOSUID | MS_RELATIME, "mode=620,ptmxmode=666") < 0 &&
        errno != EBUSY)
        logmsg("mount /dev/pts: %s", strerror(errno));
    mkdir("/dev/shm", 01777);
    mount("tmpfs", "/dev/shm", "tmpfs", MS_NOEXEC | MS_NOSUID | MS_NODEV | MS_RELATIME, "mode=1777");
    if (access("/dev/fd", F_OK) < 0)
        symlink("/proc/self/fd", "/dev/fd");
    if (access("/dev/stdin", F_OK) < 0)
        symlink("/proc/self/fd/0", "/dev/stdin");
    if (access("/dev/stdout", F_OK) < 0)
        symlink("/proc/self/fd/1", "/dev/stdout");
    if (access("/dev/stderr", F_OK) < 0)
        symlink("/proc/self/fd/2", "/dev/stderr");
}

static int is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Set by boot_prepare_initramfs_root: /newroot already holds the built-in image, or why moving it there failed. */
static int g_root_prepared;
static char g_root_prepare_error[256];

void boot_prepare_initramfs_root(void)
{
    /* Before the port opens, so a snapshot template is saved with the move already done and every clone skips it
     * (it is the largest part of the bootstrap under emulation). A 9p root share, when present, takes precedence as
     * in mount_root; a bootstrap that names another root detaches this tmpfs again. */
    if (!is_dir(INITRAMFS_ROOT) || have_9p_tag(ROOT_FS_TAG))
        return;
    mkdir("/newroot", 0755);
    if (mount("tmpfs", "/newroot", "tmpfs", MS_RELATIME, "mode=755") < 0) {
        snprintf(g_root_prepare_error, sizeof(g_root_prepare_error), "mount tmpfs root: %s", strerror(errno));
        return;
    }
    g_root_prepared = 1;
    if (move_tree(INITRAMFS_ROOT, "/newroot") < 0)
        snprintf(g_root_prepare_error, sizeof(g_root_prepare_error), "move %s into the tmpfs root: %s",
                 INITRAMFS_ROOT, strerror(errno));
}

/* Assembles the guest root at /newroot and moves it over /. */
static int mount_root(const bootstrap_t *bs)
{
    mkdir("/newroot", 0755);
    char dev[300];
    int other_root = bs->root_kind && (!strcmp(bs->root_kind, "disk-image") || !strcmp(bs->root_kind, "oci-erofs"));
    if (g_root_prepared && other_root) {
        if (umount2("/newroot", MNT_DETACH) < 0)
            return fail("detach the prepared initramfs root: %s", strerror(errno));
        g_root_prepared = 0;
    }
    if (g_root_prepared && g_root_prepare_error[0])
        return fail("%s", g_root_prepare_error);
    if (bs->root_kind && !strcmp(bs->root_kind, "disk-image") && !bs->upper_kind) {
        if (resolve_block(bs->root_device, dev, sizeof(dev)) < 0 ||
            mount_block(dev, "/newroot", bs->root_fstype, 0, 0) < 0)
            return -1;
    } else if (bs->root_kind && (!strcmp(bs->root_kind, "oci-erofs") || !strcmp(bs->root_kind, "disk-image"))) {
        mkdir_p("/run/msb-rootfs/lower", 0755);
        mkdir_p("/run/msb-rootfs/upperfs", 0755);
        if (!strcmp(bs->root_kind, "disk-image")) {
            if (resolve_block(bs->root_device, dev, sizeof(dev)) < 0 ||
                mount_block(dev, "/run/msb-rootfs/lower", bs->root_fstype, MS_RDONLY, 1) < 0)
                return -1;
            modules_load_group("overlay");
        } else {
            if (resolve_block(bs->erofs_lower, dev, sizeof(dev)) < 0)
                return -1;
            modules_load_group("erofs");
            modules_load_group("overlay");
            if (mount(dev, "/run/msb-rootfs/lower", "erofs", MS_RDONLY, NULL) < 0)
                return fail("mount %s at /run/msb-rootfs/lower: %s", dev, strerror(errno));
        }
        if (!strcmp(bs->upper_kind, "device")) {
            char udev[300];
            if (resolve_block(bs->upper_device, udev, sizeof(udev)) < 0)
                return -1;
            modules_load_for_fstype(bs->upper_fstype);
            if (mount(udev, "/run/msb-rootfs/upperfs", bs->upper_fstype, 0, NULL) < 0)
                return fail("mount %s at /run/msb-rootfs/upperfs: %s", udev, strerror(errno));
        } else {
            char data[64] = "mode=755";
            if (bs->upper_have_size)
                snprintf(data, sizeof(data), "size=%llu,mode=755",
                         (unsigned long long)bs->upper_size_mib * 1024ull * 1024ull);
            if (mount("tmpfs", "/run/msb-rootfs/upperfs", "tmpfs", MS_RELATIME, data) < 0)
                return fail("mount tmpfs upper: %s", strerror(errno));
        }
        if (mkdir_p("/run/msb-rootfs/upperfs/upper", 0755) < 0 || mkdir_p("/run/msb-rootfs/upperfs/work", 0755) < 0)
            return fail("create overlay upper/work dirs: %s", strerror(errno));
        if (mount("overlay", "/newroot", "overlay", 0,
                  "lowerdir=/run/msb-rootfs/lower,upperdir=/run/msb-rootfs/upperfs/upper,"
                  "workdir=/run/msb-rootfs/upperfs/work") < 0)
            return fail("mount overlay at /newroot: %s", strerror(errno));
    } else if (have_9p_tag(ROOT_FS_TAG)) {
        if (mount_9p(ROOT_FS_TAG, "/newroot", 0, "cache=mmap") < 0)
            return -1;
    } else if (g_root_prepared) {
        /* the built-in image was moved into its tmpfs before the port opened */
    } else if (is_dir(INITRAMFS_ROOT)) {
        /* The built-in image rides in the initramfs (a second cpio appended by the host): no disk, no filesystem
         * module. It moves into a tmpfs of its own rather than being bound in place, because tools (busybox df)
         * ignore a mount whose source is the kernel's "rootfs"; moving frees the initramfs copy as it goes. */
        if (mount("tmpfs", "/newroot", "tmpfs", MS_RELATIME, "mode=755") < 0)
            return fail("mount tmpfs root: %s", strerror(errno));
        if (move_tree(INITRAMFS_ROOT, "/newroot") < 0)
            return fail("move %s into the tmpfs root: %s", INITRAMFS_ROOT, strerror(errno));
    } else {
        return fail("no root filesystem: bootstrap has no block_root, there is no virtio-9p share tagged '%s' "
                    "and the initramfs carries no %s",
                    ROOT_FS_TAG, INITRAMFS_ROOT);
    }

    /* runtime share (heartbeat, scripts) when the host exports one */
    if (have_9p_tag(RUNTIME_FS_TAG)) {
        if (mkdir_p("/newroot" RUNTIME_MOUNT_POINT, 0755) < 0 ||
            mount_9p(RUNTIME_FS_TAG, "/newroot" RUNTIME_MOUNT_POINT, 0, NULL) < 0)
            logmsg("runtime share '%s' not mounted: %s", RUNTIME_FS_TAG, g_err[0] ? g_err : strerror(errno));
        g_err[0] = 0;
    }

    mkdir("/newroot/dev", 0755);
    mkdir("/newroot/proc", 0555);
    mkdir("/newroot/sys", 0555);
    if (chdir("/newroot") < 0)
        return fail("chdir /newroot: %s", strerror(errno));
    if (mount(".", "/", NULL, MS_MOVE, NULL) < 0)
        return fail("failed to MS_MOVE /newroot to /: %s", strerror(errno));
    if (chroot(".") < 0)
        return fail("failed to chroot: %s", strerror(errno));
    if (chdir("/") < 0)
        return fail("chdir / after chroot: %s", strerror(errno));
    mount_api_filesystems();
    return 0;
}

/* ------------------------------------------------------------------ */
/* patches (QEMU-engine extension: upstream bakes them host-side)        */

static int ensure_parent(const char *path)
{
    char parent[4096];
    snprintf(parent, sizeof(parent), "%s", path);
    char *slash = strrchr(parent, '/');
    if (!slash || slash == parent)
        return 0;
    *slash = 0;
    return mkdir_p(parent, 0755);
}

static int check_replace(const char *path, int replace)
{
    struct stat st;
    if (lstat(path, &st) == 0) {
        if (!replace)
            return fail("patch target already exists in the rootfs: %s (set replace to overwrite)", path);
        if (S_ISDIR(st.st_mode))
            return fail("patch target is a directory: %s", path);
        unlink(path);
    }
    return 0;
}

static int apply_patches(const cb_item *b)
{
    const cb_item *ps = cb_get(b, "patches");
    if (cb_is_nil(ps))
        return 0;
    if (ps->type != CB_ARRAY)
        return fail("bootstrap patches must be an array");
    for (uint64_t i = 0; i < ps->u; i++) {
        const cb_item *p = &ps->items[i];
        if (p->type != CB_MAP || p->u != 1)
            return fail("patch #%llu must be a one-entry map {Kind: fields}", (unsigned long long)i);
        const cb_item *k = &p->items[0], *f = &p->items[1];
        int have_mode = 0, replace = 0;
        uint32_t mode = 0;
        char *path = NULL;
        if (opt_u32(f, "mode", &have_mode, &mode, "patch mode") < 0)
            return -1;
        const cb_item *rep = cb_get(f, "replace");
        if (!cb_is_nil(rep) && cb_as_bool(rep, &replace) < 0)
            return fail("patch replace must be a boolean");

        if (cb_text_eq(k, "Text") || cb_text_eq(k, "File")) {
            if (req_abs_path(f, "path", &path, "patch path") < 0)
                return -1;
            const cb_item *c = cb_get(f, "content");
            const uint8_t *data = NULL;
            size_t len = 0;
            uint8_t *tmp = NULL;
            if (c && (c->type == CB_TEXT || c->type == CB_BYTES)) {
                data = c->ptr;
                len = c->len;
            } else if (c && c->type == CB_ARRAY) {
                tmp = xcalloc((size_t)c->u, 1);
                for (uint64_t j = 0; j < c->u; j++) {
                    if (c->items[j].type != CB_UINT || c->items[j].u > 255) {
                        free(tmp);
                        return fail("patch %s content must hold byte values", path);
                    }
                    tmp[j] = (uint8_t)c->items[j].u;
                }
                data = tmp;
                len = (size_t)c->u;
            } else {
                return fail("patch %s needs content", path);
            }
            mode_t m = have_mode ? (mode_t)(mode & 07777) : 0644;
            if (check_replace(path, replace) < 0 || ensure_parent(path) < 0 ||
                write_bytes(path, data, len, m, 0) < 0 || chmod(path, m) < 0) {
                free(tmp);
                return g_err[0] ? -1 : fail("patch write %s: %s", path, strerror(errno));
            }
            free(tmp);
        } else if (cb_text_eq(k, "Append")) {
            if (req_abs_path(f, "path", &path, "patch path") < 0)
                return -1;
            const cb_item *c = cb_get(f, "content");
            if (!c || c->type != CB_TEXT)
                return fail("append patch %s needs text content", path);
            if (ensure_parent(path) < 0 || write_bytes(path, c->ptr, c->len, 0644, 1) < 0)
                return fail("patch append %s: %s", path, strerror(errno));
        } else if (cb_text_eq(k, "Symlink")) {
            char *target = NULL;
            if (req_str(f, "target", &target, "patch symlink target") < 0 ||
                req_abs_path(f, "link", &path, "patch symlink link") < 0)
                return -1;
            if (check_replace(path, replace) < 0 || ensure_parent(path) < 0)
                return g_err[0] ? -1 : fail("patch symlink %s: %s", path, strerror(errno));
            if (symlink(target, path) < 0)
                return fail("patch symlink %s: %s", path, strerror(errno));
            free(target);
        } else if (cb_text_eq(k, "Mkdir")) {
            if (req_abs_path(f, "path", &path, "patch path") < 0)
                return -1;
            if (mkdir_p(path, 0755) < 0 || (have_mode && chmod(path, (mode_t)(mode & 07777)) < 0))
                return fail("patch mkdir %s: %s", path, strerror(errno));
        } else if (cb_text_eq(k, "Remove")) {
            if (req_abs_path(f, "path", &path, "patch path") < 0)
                return -1;
            if (remove_tree(path) < 0 && errno != ENOENT)
                return fail("patch remove %s: %s", path, strerror(errno));
        } else if (cb_text_eq(k, "CopyFile") || cb_text_eq(k, "CopyDir")) {
            return fail("patch #%llu: CopyFile/CopyDir read host paths; expand them host-side into File/Mkdir/Symlink patches",
                        (unsigned long long)i);
        } else {
            return fail("patch #%llu has an unknown kind", (unsigned long long)i);
        }
        free(path);
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* user mounts                                                          */

static int cmp_mount(const void *a, const void *b)
{
    const umount_t *x = a, *y = b;
    if (x->depth != y->depth)
        return x->depth - y->depth;
    return strcmp(x->canon, y->canon);
}

static unsigned long vfs_flags(const mflags_t *f)
{
    unsigned long fl = MS_RELATIME;
    if (f->nosuid) fl |= MS_NOSUID;
    if (f->nodev) fl |= MS_NODEV;
    if (f->noexec) fl |= MS_NOEXEC;
    if (f->readonly) fl |= MS_RDONLY;
    return fl;
}

static int path_is_under(const char *child, const char *parent)
{
    size_t n = strlen(parent);
    return strncmp(child, parent, n) == 0 && child[n] == '/';
}

static int apply_user_mounts(bootstrap_t *bs)
{
    qsort(bs->mounts, (size_t)bs->nmounts, sizeof(umount_t), cmp_mount);
    for (int i = 1; i < bs->nmounts; i++)
        if (!strcmp(bs->mounts[i - 1].canon, bs->mounts[i].canon))
            return fail("multiple volumes cannot mount the same guest path: %s", bs->mounts[i].canon);
    for (int i = 0; i < bs->nmounts; i++) {
        if (bs->mounts[i].kind != M_FILE)
            continue;
        for (int j = 0; j < bs->nmounts; j++)
            if (bs->mounts[j].depth > bs->mounts[i].depth && path_is_under(bs->mounts[j].canon, bs->mounts[i].canon))
                return fail("file mount cannot contain another mount: %s is an ancestor of %s",
                            bs->mounts[i].canon, bs->mounts[j].canon);
    }

    for (int i = 0; i < bs->nmounts; i++) {
        umount_t *u = &bs->mounts[i];
        if (g_config.restricted) {
            u->flags.nosuid = 1;
            u->flags.nodev = 1;
        }
        unsigned long fl = vfs_flags(&u->flags);
        const char *path = u->canon;
        switch (u->kind) {
        case M_DIR:
            if (mkdir_p(path, 0755) < 0)
                return fail("failed to create directory %s: %s", path, strerror(errno));
            if (mount_9p(u->tag, path, fl, NULL) < 0)
                return -1;
            break;
        case M_DISK: {
            char dev[300];
            if (mkdir_p(path, 0755) < 0)
                return fail("disk mount: create dir %s: %s", path, strerror(errno));
            if (resolve_disk_id(u->id, dev, sizeof(dev)) < 0 ||
                mount_block(dev, path, u->fstype, fl, u->flags.readonly) < 0)
                return -1;
            break;
        }
        case M_TMPFS: {
            uint32_t mode = u->have_mode ? u->mode
                                         : ((!strcmp(path, "/tmp") || !strcmp(path, "/var/tmp")) ? 01777 : 0755);
            char data[96];
            if (u->have_size)
                snprintf(data, sizeof(data), "size=%llu,mode=%o",
                         (unsigned long long)u->size_mib * 1024ull * 1024ull, mode);
            else
                snprintf(data, sizeof(data), "mode=%o", mode);
            if (mkdir_p(path, 0755) < 0)
                return fail("failed to create directory %s: %s", path, strerror(errno));
            if (mount("tmpfs", path, "tmpfs", fl, data) < 0)
                return fail("failed to mount tmpfs at %s: %s", path, strerror(errno));
            break;
        }
        case M_FILE: {
            char staging[4096], src[4096];
            snprintf(staging, sizeof(staging), RUNTIME_MOUNT_POINT "/file-mounts/%s", u->tag);
            if (mkdir_p(staging, 0755) < 0)
                return fail("failed to create staging dir %s: %s", staging, strerror(errno));
            if (mount_9p(u->tag, staging, fl & ~(unsigned long)MS_RDONLY, NULL) < 0)
                return -1;
            snprintf(src, sizeof(src), "%s/%s", staging, u->filename);
            int rc = 0;
            if (ensure_parent(path) < 0)
                rc = fail("failed to create parent dirs for %s: %s", path, strerror(errno));
            if (!rc) {
                int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
                if (fd < 0)
                    rc = fail("failed to create bind target %s: %s", path, strerror(errno));
                else
                    close(fd);
            }
            if (!rc && mount(src, path, NULL, MS_BIND, NULL) < 0)
                rc = fail("failed to bind mount %s to %s: %s", src, path, strerror(errno));
            if (!rc && mount(NULL, path, NULL, MS_BIND | MS_REMOUNT | fl, NULL) < 0)
                rc = fail("failed to remount %s with volume flags: %s", path, strerror(errno));
            umount2(staging, MNT_DETACH);
            rmdir(staging);
            if (rc)
                return -1;
            break;
        }
        }
    }
    rmdir(RUNTIME_MOUNT_POINT "/file-mounts");
    return 0;
}

/* ------------------------------------------------------------------ */
/* hostname, hosts, tmp, profile                                        */

/* What /etc/hosts was written from, kept so a guest resumed from a ready-state template can take a new name. */
static char *g_hosts_alias;
static int g_hosts_have_net;
static net_config_t g_hosts_net;

static int apply_hostname(const bootstrap_t *bs)
{
    char hosts[2048];
    const char *h = bs->hostname;
    if (bs->host_alias != g_hosts_alias) {
        free(g_hosts_alias);
        g_hosts_alias = bs->host_alias ? xstrdup(bs->host_alias) : NULL;
    }
    g_hosts_have_net = bs->have_net;
    if (&bs->net != &g_hosts_net)
        g_hosts_net = bs->net;
    size_t o = 0;
    if (h)
        o += (size_t)snprintf(hosts + o, sizeof(hosts) - o,
                              "127.0.0.1\tlocalhost %s\n::1\tlocalhost ip6-localhost ip6-loopback %s\n", h, h);
    else
        o += (size_t)snprintf(hosts + o, sizeof(hosts) - o,
                              "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
    if (bs->host_alias && bs->have_net) {
        char a[64];
        if (bs->net.have_v4) {
            inet_ntop(AF_INET, bs->net.v4_gw, a, sizeof(a));
            o += (size_t)snprintf(hosts + o, sizeof(hosts) - o, "%s\t%s\n", a, bs->host_alias);
        }
        if (bs->net.have_v6) {
            inet_ntop(AF_INET6, bs->net.v6_gw, a, sizeof(a));
            o += (size_t)snprintf(hosts + o, sizeof(hosts) - o, "%s\t%s\n", a, bs->host_alias);
        }
    }
    snprintf(hosts + o, sizeof(hosts) - o,
             "fe00::\tip6-localnet\nff00::\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n");
    mkdir_p("/etc", 0755);
    if (write_file("/etc/hosts", hosts, 0644) < 0) {
        if (errno != EROFS)
            return fail("failed to write /etc/hosts: %s", strerror(errno));
        logmsg("read-only root: /etc/hosts left as it is");
    }
    if (h) {
        if (sethostname(h, strlen(h)) < 0)
            return fail("sethostname(%s): %s", h, strerror(errno));
        char line[300];
        snprintf(line, sizeof(line), "%s\n", h);
        if (write_file("/etc/hostname", line, 0644) < 0 && errno != EROFS)
            return fail("failed to write /etc/hostname: %s", strerror(errno));
    }
    return 0;
}

static int ensure_dir_mode(const char *path, mode_t mode)
{
    struct stat cur;
    if (stat(path, &cur) == 0 && S_ISDIR(cur.st_mode) && (cur.st_mode & 07777) == mode)
        return 0;
    if (mkdir_p(path, 0755) < 0 && errno == EROFS)
        return 0; /* read-only root without it: nothing to fix */
    if (mkdir_p(path, 0755) < 0)
        return fail("failed to create directory %s: %s", path, strerror(errno));
    struct stat st;
    if (stat(path, &st) < 0)
        return fail("failed to stat %s: %s", path, strerror(errno));
    if ((st.st_mode & 07777) != mode && chmod(path, mode) < 0 && errno != EROFS)
        return fail("failed to chmod %s to %o: %s", path, mode, strerror(errno));
    return 0;
}

static void ensure_scripts_profile(void)
{
    const char *start = "# >>> microsandbox scripts path >>>";
    const char *block = "# >>> microsandbox scripts path >>>\ncase \":$PATH:\" in\n  *:/.msb/scripts:*) ;;\n"
                        "  *) export PATH=\"/.msb/scripts:$PATH\" ;;\nesac\n# <<< microsandbox scripts path <<<\n";
    char buf[65536];
    size_t len = 0;
    int fd = open("/etc/profile", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        ssize_t r;
        while (len < sizeof(buf) - 1 && (r = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
            len += (size_t)r;
        close(fd);
    }
    buf[len] = 0;
    if (strstr(buf, start))
        return;
    int wfd = open("/etc/profile", O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (wfd < 0)
        return;
    if (len && buf[len - 1] != '\n')
        write_all_fd(wfd, "\n", 1);
    write_all_fd(wfd, block, strlen(block));
    close(wfd);
}

/* ------------------------------------------------------------------ */
/* the bootstrap sequence                                               */

static int report_init_context(int port_fd, buf_t *in)
{
    uid_t uid = 0;
    gid_t gid = 0;
    if (g_config.user) {
        resolved_user_t ru;
        if (resolve_user(g_config.user, &ru, g_err, g_errlen) < 0)
            return -1;
        uid = ru.uid;
        gid = ru.gid;
    }
    buf_t p;
    buf_init(&p);
    cb_map(&p, 1);
    cb_text(&p, "default_user");
    cb_map(&p, 2);
    cb_text(&p, "uid");
    cb_uint(&p, uid);
    cb_text(&p, "gid");
    cb_uint(&p, gid);
    send_msg(0, T_INIT_RESOLVED, &p);
    buf_free(&p);
    uint64_t deadline = mono_ns() + 60ull * 1000000000ull;
    if (port_flush_blocking(port_fd, deadline) < 0)
        return fail("timed out sending core.init.resolved");
    msg_t m;
    int r = port_read_frame(port_fd, in, &m, deadline, g_err, g_errlen);
    if (r == 0)
        return fail("timed out waiting for init ack");
    if (r < 0)
        return -1;
    if (strcmp(m.type, T_INIT_ACK) != 0) {
        fail("expected core.init.ack, got %s", m.type);
        proto_msg_free(&m);
        return -1;
    }
    proto_msg_free(&m);
    return 0;
}

int boot_run(int port_fd, buf_t *in, char *err, size_t errlen)
{
    g_err = err;
    g_errlen = errlen;
    err[0] = 0;

    msg_t m;
    int r = port_read_frame(port_fd, in, &m, mono_ns() + 60ull * 1000000000ull, err, errlen);
    if (r == 0)
        return fail("timed out waiting for guest bootstrap (no core.bootstrap within 60 s)");
    if (r < 0)
        return -1;
    if (m.id != 0 || m.flags != 0) {
        fail("guest bootstrap requires id=0 and flags=0, got id=%u flags=%u", m.id, m.flags);
        proto_msg_free(&m);
        return -1;
    }
    if (strcmp(m.type, T_BOOTSTRAP) != 0) {
        fail("expected core.bootstrap as first console frame, got %s", m.type);
        proto_msg_free(&m);
        return -1;
    }
    if (m.v < 7) {
        fail("guest bootstrap requires protocol generation 7 or newer, got %llu", (unsigned long long)m.v);
        proto_msg_free(&m);
        return -1;
    }
    char cerr[200];
    cb_item *b = proto_payload(&m, cerr, sizeof(cerr));
    if (!b) {
        fail("decode guest bootstrap payload: %s", cerr);
        proto_msg_free(&m);
        return -1;
    }

    bootstrap_t bs;
    int rc = -1;
    if (parse_bootstrap(b, &bs) < 0)
        goto out;
    if (apply_restore_fields(b) < 0)
        goto out;
    install_default_env(b);

    for (int i = 0; i < bs.nrlimits; i++) {
        struct rlimit rl = {bs.rlimits[i].soft, bs.rlimits[i].hard};
        if (setrlimit(bs.rlimits[i].id, &rl) < 0) {
            fail("failed to apply rlimit %s=%llu:%llu: %s", bs.rlimits[i].name,
                 (unsigned long long)bs.rlimits[i].soft, (unsigned long long)bs.rlimits[i].hard, strerror(errno));
            goto out;
        }
    }

    if (mount_root(&bs) < 0)
        goto out;
    if (apply_patches(b) < 0)
        goto out;
    if (report_init_context(port_fd, in) < 0)
        goto out;
    if (apply_user_mounts(&bs) < 0)
        goto out;
    if (apply_hostname(&bs) < 0)
        goto out;
    if (ensure_dir_mode("/tmp", 01777) < 0 || ensure_dir_mode("/var/tmp", 01777) < 0)
        goto out;
    if (net_loopback_up(err, errlen) < 0)
        goto out;
    if (bs.have_net && net_configure(&bs.net, err, errlen) < 0)
        goto out;
    ensure_scripts_profile();
    mkdir("/run", 0755);
    mkdir("/run/microsandbox", 0755);
    if (g_config.default_cwd && g_config.default_cwd[0] == '/')
        mkdir_p(g_config.default_cwd, 0755);
    rc = 0;
out:
    cb_free(b);
    proto_msg_free(&m);
    return rc;
}

/* msb.snapshot.resume: the guest was restored from a ready-state template (saved after its main process became
 * ready). It takes the clone's identity: wall clock, fresh entropy (as a restored bootstrap does) and its own
 * hostname, with /etc/hosts rewritten as the bootstrap wrote it. */
int boot_resume(const cb_item *p, char *err, size_t errlen)
{
    g_err = err;
    g_errlen = errlen;
    err[0] = 0;
    if (apply_restore_fields(p) < 0)
        return -1;
    const cb_item *h = cb_get(p, "hostname");
    if (cb_is_nil(h))
        return 0;
    bootstrap_t bs;
    memset(&bs, 0, sizeof(bs));
    if (opt_str(p, "hostname", &bs.hostname, "resume hostname") < 0)
        return -1;
    if (!bs.hostname || !bs.hostname[0]) {
        free(bs.hostname);
        return fail("resume hostname must be non-empty");
    }
    bs.host_alias = g_hosts_alias;
    bs.have_net = g_hosts_have_net;
    bs.net = g_hosts_net;
    int rc = apply_hostname(&bs);
    free(bs.hostname);
    return rc;
}
