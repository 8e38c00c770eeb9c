/* agentctl: a small host-side client for the guest agent, for smoke tests.
 *
 * It connects to QEMU's virtio-serial chardev socket, sends core.bootstrap
 * built from the options, answers core.init.resolved with core.init.ack,
 * waits for core.ready and then runs the listed actions in order, failing
 * (exit 1) on the first unexpected result.
 *
 *   agentctl --socket PATH [bootstrap options] ACTION...
 *
 * Bootstrap options:
 *   --root-disk DEV[:FSTYPE]   block_root disk-image (else the 9p root tag)
 *   --root-erofs DEV           block_root oci-erofs, 64 MiB tmpfs upper
 *   --hostname NAME  --user SPEC  --cwd DIR  --env KEY=VALUE
 *   --dir TAG:GUEST_PATH[:ro]  --file TAG:FILENAME:GUEST_PATH[:ro]
 *   --disk ID:GUEST_PATH[:FSTYPE[:ro]]  --tmpfs PATH[:SIZE_MIB]
 *   --rlimit RES=SOFT:HARD  --restricted  --net-slirp  --patch-text PATH=CONTENT
 *   --bad-bootstrap            send a malformed bootstrap (failure-path test)
 *   --early-ack                send core.init.ack right behind the bootstrap
 *   --restored                 add unix_time_nanos and 32 bytes of entropy (a guest
 *                              restored from a snapshot)
 *   --no-wait                  do not wait for core.ready (use with expect-error)
 *   --timeout SECONDS          per wait (default 120)
 *   --print-bootstrap          print the bootstrap frame as hex and exit
 *   --attach                   skip the bootstrap (the guest is already serving)
 *   --listen PATH              listen on PATH and serve QEMU's connection instead of
 *                              connecting (the production chardev form, server=off);
 *                              start agentctl first, then QEMU
 * Actions:
 *   ping
 *   run CODE STDOUT CMD [ARG...] ';'          STDOUT '*' skips the check, '#len=N' checks the length
 *   stdin INPUT CODE STDOUT CMD [ARG...] ';'
 *   tty CODE STDOUT CMD [ARG...] ';'          exec with a PTY (output has \r\n)
 *   ttyin INPUT CODE STDOUT CMD [ARG...] ';'  PTY exec fed INPUT (echoed by the terminal)
 *   kill SIG CODE STDOUT CMD [ARG...] ';'     send SIG once started
 *   fail KIND CMD [ARG...] ';'                expect core.exec.failed of KIND
 *   as USER                                   following execs run as USER
 *   cd DIR                                    following execs run in DIR ('-': the default)
 *   rtt N                                     N echo round-trips; prints min/median/max ms
 *   mark                                      print ms since agentctl started (stdout)
 *   clock                                     core.clock.sync with the host's wall clock
 *   sh 'SCRIPT'                               print output of /bin/sh -c SCRIPT
 *   write PATH CONTENT | read PATH CONTENT | big PATH MIB
 *   stat PATH | ls PATH NAME | mkdir PATH | rm PATH | mv SRC DST
 *   expect-error                              expect core.error (bootstrap failure)
 *   shutdown
 * STDOUT/INPUT/CONTENT understand \n and \t escapes. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cbor.h"
#include "proto.h"

static int g_fd = -1;
static buf_t g_in;
static int g_timeout_ms = 120000;
static uint32_t g_next_id = 1;
static double g_start;

static void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "agentctl: FAIL: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(1);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *unescape(const char *s)
{
    char *o = malloc(strlen(s) + 1), *p = o;
    for (; *s; s++) {
        if (*s == '\\' && s[1] == 'n') { *p++ = '\n'; s++; }
        else if (*s == '\\' && s[1] == 't') { *p++ = '\t'; s++; }
        else if (*s == '\\' && s[1] == 'r') { *p++ = '\r'; s++; }
        else if (*s == '\\' && s[1] == '\\') { *p++ = '\\'; s++; }
        else *p++ = *s;
    }
    *p = 0;
    return o;
}

static void send_frame(uint32_t id, const char *type, const buf_t *payload)
{
    buf_t out;
    buf_init(&out);
    proto_frame(&out, id, type, payload ? payload->data : NULL, payload ? payload->len : 0);
    size_t off = 0;
    while (off < out.len) {
        ssize_t w = write(g_fd, out.data + off, out.len - off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            die("write: %s", strerror(errno));
        }
        off += (size_t)w;
    }
    buf_free(&out);
}

/* Returns the next message; dies on timeout or EOF unless eof_ok (then 0). */
static int next_msg(msg_t *m, int eof_ok)
{
    char err[256];
    double deadline = now_s() + g_timeout_ms / 1000.0;
    for (;;) {
        int r = proto_take(&g_in, m, err, sizeof(err));
        if (r == 1)
            return 1;
        if (r < 0)
            die("bad frame from guest: %s", err);
        double left = deadline - now_s();
        if (left <= 0)
            die("timed out waiting for the guest");
        struct pollfd p = {g_fd, POLLIN, 0};
        if (poll(&p, 1, (int)(left * 1000) + 1) <= 0)
            continue;
        uint8_t tmp[65536];
        ssize_t n = read(g_fd, tmp, sizeof(tmp));
        if (n == 0) {
            if (eof_ok)
                return 0;
            die("guest closed the connection");
        }
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (eof_ok && errno == ECONNRESET)
                return 0;
            die("read: %s", strerror(errno));
        }
        buf_append(&g_in, tmp, (size_t)n);
    }
}

static cb_item *payload_of(const msg_t *m)
{
    char err[200];
    cb_item *p = proto_payload(m, err, sizeof(err));
    if (!p)
        die("bad payload in %s: %s", m->type, err);
    return p;
}

static void die_core_error(const msg_t *m)
{
    cb_item *p = payload_of(m);
    char *msg = cb_strdup(cb_get(p, "message"));
    char *kind = cb_strdup(cb_get(p, "kind"));
    die("core.error (%s) for id %u: %s", kind ? kind : "?", m->id, msg ? msg : "?");
}

/* ---------------- bootstrap ---------------- */

typedef struct {
    buf_t entries;
    int n;
} mapb_t;

static void mb_key(mapb_t *mb, const char *k)
{
    cb_text(&mb->entries, k);
    mb->n++;
}

static void mb_finish(mapb_t *mb, buf_t *out)
{
    cb_map(out, (uint64_t)mb->n);
    buf_append(out, mb->entries.data, mb->entries.len);
    buf_free(&mb->entries);
}

static void flags_map(buf_t *b, int ro)
{
    cb_map(b, 4);
    cb_text(b, "readonly");
    cb_bool(b, ro);
    cb_text(b, "noexec");
    cb_bool(b, 0);
    cb_text(b, "nosuid");
    cb_bool(b, 0);
    cb_text(b, "nodev");
    cb_bool(b, 0);
}

/* splits s on ':' into at most max parts (in place) */
static int split(char *s, char **parts, int max)
{
    int n = 0;
    parts[n++] = s;
    for (char *c = s; *c && n < max; c++)
        if (*c == ':') {
            *c = 0;
            parts[n++] = c + 1;
        }
    return n;
}

typedef struct {
    char *root_disk, *root_erofs;
    char *hostname, *user, *cwd;
    char *env[64]; int nenv;
    char *dirs[16]; int ndirs;
    char *files[16]; int nfiles;
    char *disks[16]; int ndisks;
    char *tmpfs[16]; int ntmpfs;
    char *rlimits[16]; int nrlimits;
    char *patches[16]; int npatches;
    int restricted, net, bad, early_ack, no_wait, restored;
} opts_t;

static void build_bootstrap(const opts_t *o, buf_t *out)
{
    mapb_t mb = {{0}, 0};
    buf_t *b = &mb.entries;
    if (o->root_erofs) {
        mb_key(&mb, "block_root");
        cb_map(b, 3);
        cb_text(b, "kind");
        cb_text(b, "oci-erofs");
        cb_text(b, "lower");
        cb_text(b, o->root_erofs);
        cb_text(b, "upper");
        cb_map(b, 2);
        cb_text(b, "kind");
        cb_text(b, "tmpfs");
        cb_text(b, "size_mib");
        cb_uint(b, 64);
    } else if (o->root_disk) {
        char *dup = strdup(o->root_disk), *p[2];
        int n = split(dup, p, 2);
        mb_key(&mb, "block_root");
        cb_map(b, n == 2 ? 3 : 2);
        cb_text(b, "kind");
        cb_text(b, "disk-image");
        cb_text(b, "device");
        cb_text(b, p[0]);
        if (n == 2) {
            cb_text(b, "fstype");
            cb_text(b, p[1]);
        }
        free(dup);
    }
    if (o->ndirs) {
        mb_key(&mb, "dir_mounts");
        cb_array(b, (uint64_t)o->ndirs);
        for (int i = 0; i < o->ndirs; i++) {
            char *dup = strdup(o->dirs[i]), *p[3];
            int n = split(dup, p, 3);
            if (n < 2) die("--dir needs TAG:GUEST_PATH");
            cb_map(b, 3);
            cb_text(b, "tag"); cb_text(b, p[0]);
            cb_text(b, "guest_path"); cb_text(b, p[1]);
            cb_text(b, "flags"); flags_map(b, n == 3 && !strcmp(p[2], "ro"));
            free(dup);
        }
    }
    if (o->nfiles) {
        mb_key(&mb, "file_mounts");
        cb_array(b, (uint64_t)o->nfiles);
        for (int i = 0; i < o->nfiles; i++) {
            char *dup = strdup(o->files[i]), *p[4];
            int n = split(dup, p, 4);
            if (n < 3) die("--file needs TAG:FILENAME:GUEST_PATH");
            cb_map(b, 4);
            cb_text(b, "tag"); cb_text(b, p[0]);
            cb_text(b, "filename"); cb_text(b, p[1]);
            cb_text(b, "guest_path"); cb_text(b, p[2]);
            cb_text(b, "flags"); flags_map(b, n == 4 && !strcmp(p[3], "ro"));
            free(dup);
        }
    }
    if (o->ndisks) {
        mb_key(&mb, "disk_mounts");
        cb_array(b, (uint64_t)o->ndisks);
        for (int i = 0; i < o->ndisks; i++) {
            char *dup = strdup(o->disks[i]), *p[4];
            int n = split(dup, p, 4);
            if (n < 2) die("--disk needs ID:GUEST_PATH");
            int has_fs = n >= 3 && p[2][0];
            cb_map(b, has_fs ? 4 : 3);
            cb_text(b, "id"); cb_text(b, p[0]);
            cb_text(b, "guest_path"); cb_text(b, p[1]);
            if (has_fs) { cb_text(b, "fstype"); cb_text(b, p[2]); }
            cb_text(b, "flags"); flags_map(b, n == 4 && !strcmp(p[3], "ro"));
            free(dup);
        }
    }
    if (o->ntmpfs) {
        mb_key(&mb, "tmpfs_mounts");
        cb_array(b, (uint64_t)o->ntmpfs);
        for (int i = 0; i < o->ntmpfs; i++) {
            char *dup = strdup(o->tmpfs[i]), *p[2];
            int n = split(dup, p, 2);
            cb_map(b, n == 2 ? 2 : 1);
            cb_text(b, "path"); cb_text(b, p[0]);
            if (n == 2) { cb_text(b, "size_mib"); cb_uint(b, strtoull(p[1], NULL, 10)); }
            free(dup);
        }
    }
    if (o->hostname) { mb_key(&mb, "hostname"); cb_text(b, o->hostname); }
    if (o->net) {
        static const uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
        mb_key(&mb, "network");
        cb_map(b, 4);
        cb_text(b, "interface"); cb_text(b, "eth0");
        cb_text(b, "mac");
        cb_array(b, 6);
        for (int i = 0; i < 6; i++) cb_uint(b, mac[i]);
        cb_text(b, "mtu"); cb_uint(b, 1500);
        cb_text(b, "ipv4");
        cb_map(b, 4);
        cb_text(b, "address"); cb_text(b, "10.0.2.15");
        cb_text(b, "prefix_len"); cb_uint(b, 24);
        cb_text(b, "gateway"); cb_text(b, "10.0.2.2");
        cb_text(b, "dns"); cb_text(b, "10.0.2.3");
    }
    if (o->nrlimits) {
        mb_key(&mb, "rlimits");
        cb_array(b, (uint64_t)o->nrlimits);
        for (int i = 0; i < o->nrlimits; i++) {
            char res[64];
            unsigned long long soft, hard;
            if (sscanf(o->rlimits[i], "%63[^=]=%llu:%llu", res, &soft, &hard) != 3)
                die("--rlimit needs RES=SOFT:HARD");
            cb_map(b, 3);
            cb_text(b, "resource"); cb_text(b, res);
            cb_text(b, "soft"); cb_uint(b, soft);
            cb_text(b, "hard"); cb_uint(b, hard);
        }
    }
    if (o->user) { mb_key(&mb, "user"); cb_text(b, o->user); }
    if (o->cwd) { mb_key(&mb, "default_cwd"); cb_text(b, o->cwd); }
    if (o->nenv) {
        mb_key(&mb, "default_env");
        cb_array(b, (uint64_t)o->nenv);
        for (int i = 0; i < o->nenv; i++) {
            char *eq = strchr(o->env[i], '=');
            if (!eq) die("--env needs KEY=VALUE");
            cb_map(b, 2);
            cb_text(b, "key"); cb_textn(b, o->env[i], (size_t)(eq - o->env[i]));
            cb_text(b, "value"); cb_text(b, eq + 1);
        }
    }
    mb_key(&mb, "security_profile");
    cb_text(b, o->restricted ? "restricted" : "default");
    if (o->npatches) {
        mb_key(&mb, "patches");
        cb_array(b, (uint64_t)o->npatches);
        for (int i = 0; i < o->npatches; i++) {
            char *eq = strchr(o->patches[i], '=');
            if (!eq) die("--patch-text needs PATH=CONTENT");
            char *content = unescape(eq + 1);
            cb_map(b, 1);
            cb_text(b, "Text");
            cb_map(b, 4);
            cb_text(b, "path"); cb_textn(b, o->patches[i], (size_t)(eq - o->patches[i]));
            cb_text(b, "content"); cb_text(b, content);
            cb_text(b, "mode"); cb_null(b);
            cb_text(b, "replace"); cb_bool(b, 1);
            free(content);
        }
    }
    if (o->restored) {
        /* a guest restored from a snapshot: current wall clock and fresh entropy */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        mb_key(&mb, "unix_time_nanos");
        cb_uint(b, (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec);
        uint8_t seed[32];
        if (getrandom(seed, sizeof(seed), 0) != (ssize_t)sizeof(seed))
            die("getrandom: %s", strerror(errno));
        mb_key(&mb, "entropy");
        cb_bytes(b, seed, sizeof(seed));
    }
    mb_finish(&mb, out);
}

static void boot(const opts_t *o)
{
    buf_t p;
    buf_init(&p);
    if (o->bad) {
        cb_map(&p, 1);
        cb_text(&p, "tmpfs_mounts");
        cb_text(&p, "not-an-array");
    } else {
        build_bootstrap(o, &p);
    }
    double t0 = now_s();
    send_frame(0, T_BOOTSTRAP, &p);
    buf_free(&p);
    if (o->bad || o->no_wait)
        return;
    if (o->early_ack) {
        /* the ack may travel right behind the bootstrap */
        buf_t e;
        buf_init(&e);
        cb_map(&e, 0);
        send_frame(0, T_INIT_ACK, &e);
        buf_free(&e);
    }
    for (;;) {
        msg_t m;
        next_msg(&m, 0);
        if (!strcmp(m.type, T_INIT_RESOLVED) && !o->early_ack) {
            buf_t e;
            buf_init(&e);
            cb_map(&e, 0);
            send_frame(0, T_INIT_ACK, &e);
            buf_free(&e);
        } else if (!strcmp(m.type, T_ERROR)) {
            die_core_error(&m);
        } else if (!strcmp(m.type, T_READY)) {
            cb_item *r = payload_of(&m);
            uint64_t bt = 0, it = 0, rt = 0;
            cb_as_u64(cb_get(r, "boot_time_ns"), &bt);
            cb_as_u64(cb_get(r, "init_time_ns"), &it);
            cb_as_u64(cb_get(r, "ready_time_ns"), &rt);
            fprintf(stderr, "agentctl: ready (gen %llu): kernel %.3fs, init %.3fs, ready at %.3fs; %.3fs after bootstrap\n",
                    (unsigned long long)m.v, bt / 1e9, it / 1e9, rt / 1e9, now_s() - t0);
            cb_free(r);
            proto_msg_free(&m);
            return;
        }
        proto_msg_free(&m);
    }
}

/* ---------------- exec ---------------- */

typedef struct {
    buf_t out, err;
    int code;
    int failed;
    char fail_kind[64];
    char fail_msg[512];
} exec_result_t;

static int g_exec_tty;    /* next exec asks for a PTY */
static const char *g_exec_user; /* user for the following execs (NULL: the default) */
static const char *g_exec_cwd;  /* cwd for the following execs (NULL: the default) */
static int g_exec_signal; /* next exec gets this signal once started */

static void do_exec(char **argv, int argc, const char *input, exec_result_t *res)
{
    memset(res, 0, sizeof(*res));
    uint32_t id = g_next_id++;
    buf_t p;
    buf_init(&p);
    cb_map(&p, (g_exec_tty ? 6 : 3) + (g_exec_user ? 1 : 0) + (g_exec_cwd ? 1 : 0));
    if (g_exec_cwd) {
        cb_text(&p, "cwd");
        cb_text(&p, g_exec_cwd);
    }
    if (g_exec_user) {
        cb_text(&p, "user");
        cb_text(&p, g_exec_user);
    }
    if (g_exec_tty) {
        cb_text(&p, "tty");
        cb_bool(&p, 1);
        cb_text(&p, "rows");
        cb_uint(&p, 30);
        cb_text(&p, "cols");
        cb_uint(&p, 100);
    }
    cb_text(&p, "cmd");
    cb_text(&p, argv[0]);
    cb_text(&p, "args");
    cb_array(&p, (uint64_t)(argc - 1));
    for (int i = 1; i < argc; i++)
        cb_text(&p, argv[i]);
    cb_text(&p, "env");
    cb_array(&p, 0);
    send_frame(id, T_EXEC_REQUEST, &p);
    buf_free(&p);
    for (;;) {
        msg_t m;
        next_msg(&m, 0);
        if (m.id != id) {
            proto_msg_free(&m);
            continue;
        }
        cb_item *pl = payload_of(&m);
        if (!strcmp(m.type, T_EXEC_STARTED)) {
            if (g_exec_signal) {
                buf_t s;
                buf_init(&s);
                cb_map(&s, 1);
                cb_text(&s, "signal");
                cb_int(&s, g_exec_signal);
                send_frame(id, T_EXEC_SIGNAL, &s);
                buf_free(&s);
            }
            if (input) {
                buf_t s;
                buf_init(&s);
                cb_map(&s, 1);
                cb_text(&s, "data");
                cb_bytes(&s, input, strlen(input));
                send_frame(id, T_EXEC_STDIN, &s);
                buf_free(&s);
                buf_init(&s);
                cb_map(&s, 1);
                cb_text(&s, "data");
                cb_bytes(&s, "", 0);
                send_frame(id, T_EXEC_STDIN, &s);
                buf_free(&s);
            }
        } else if (!strcmp(m.type, T_EXEC_STDOUT) || !strcmp(m.type, T_EXEC_STDERR)) {
            const cb_item *d = cb_get(pl, "data");
            if (d && d->type == CB_BYTES)
                buf_append(!strcmp(m.type, T_EXEC_STDOUT) ? &res->out : &res->err, d->ptr, d->len);
        } else if (!strcmp(m.type, T_EXEC_EXITED)) {
            int64_t c = 0;
            cb_as_i64(cb_get(pl, "code"), &c);
            res->code = (int)c;
            cb_free(pl);
            proto_msg_free(&m);
            return;
        } else if (!strcmp(m.type, T_EXEC_FAILED)) {
            char *k = cb_strdup(cb_get(pl, "kind")), *msg = cb_strdup(cb_get(pl, "message"));
            res->failed = 1;
            snprintf(res->fail_kind, sizeof(res->fail_kind), "%s", k ? k : "?");
            snprintf(res->fail_msg, sizeof(res->fail_msg), "%s", msg ? msg : "?");
            free(k);
            free(msg);
            cb_free(pl);
            proto_msg_free(&m);
            return;
        } else if (!strcmp(m.type, T_ERROR)) {
            die_core_error(&m);
        }
        cb_free(pl);
        proto_msg_free(&m);
    }
}

static void show(const char *label, const buf_t *b)
{
    fprintf(stderr, "  %s: %.*s%s", label, (int)(b->len > 2000 ? 2000 : b->len), b->data ? (char *)b->data : "",
            (b->len && b->data[b->len - 1] == '\n') ? "" : "\n");
}

/* ---------------- fs ---------------- */

static cb_item *fs_simple(const char *op, const char *k1, const char *v1, const char *k2, const char *v2,
                          msg_t *keep)
{
    uint32_t id = g_next_id++;
    buf_t p;
    buf_init(&p);
    cb_map(&p, 1);
    cb_text(&p, "op");
    cb_map(&p, 1);
    cb_text(&p, op);
    cb_map(&p, k2 ? 2 : 1);
    cb_text(&p, k1);
    cb_text(&p, v1);
    if (k2) {
        cb_text(&p, k2);
        if (!strcmp(k2, "follow_symlink"))
            cb_bool(&p, 1);
        else if (!strcmp(k2, "mode"))
            cb_null(&p);
        else
            cb_text(&p, v2);
    }
    send_frame(id, T_FS_REQUEST, &p);
    buf_free(&p);
    for (;;) {
        next_msg(keep, 0);
        if (keep->id == id && !strcmp(keep->type, T_FS_RESPONSE))
            return payload_of(keep);
        if (keep->id == id && !strcmp(keep->type, T_ERROR))
            die_core_error(keep);
        proto_msg_free(keep);
    }
}

static void expect_ok(cb_item *r, const char *what)
{
    int ok = 0;
    cb_as_bool(cb_get(r, "ok"), &ok);
    if (!ok) {
        char *e = cb_strdup(cb_get(r, "error"));
        die("%s: %s", what, e ? e : "?");
    }
}

static uint64_t open_file(const char *path, int write)
{
    uint32_t id = g_next_id++;
    buf_t p;
    buf_init(&p);
    cb_map(&p, 1);
    cb_text(&p, "op");
    cb_map(&p, 1);
    cb_text(&p, "OpenFile");
    cb_map(&p, 2);
    cb_text(&p, "path");
    cb_text(&p, path);
    cb_text(&p, "options");
    cb_map(&p, 7);
    cb_text(&p, "read"); cb_bool(&p, !write);
    cb_text(&p, "write"); cb_bool(&p, write);
    cb_text(&p, "append"); cb_bool(&p, 0);
    cb_text(&p, "create"); cb_bool(&p, write);
    cb_text(&p, "truncate"); cb_bool(&p, write);
    cb_text(&p, "create_new"); cb_bool(&p, 0);
    cb_text(&p, "mode"); cb_null(&p);
    send_frame(id, T_FS_REQUEST, &p);
    buf_free(&p);
    for (;;) {
        msg_t m;
        next_msg(&m, 0);
        if (m.id == id && !strcmp(m.type, T_FS_RESPONSE)) {
            cb_item *r = payload_of(&m);
            expect_ok(r, "open");
            uint64_t h;
            if (cb_as_u64(cb_get(cb_get(r, "data"), "Handle"), &h) < 0)
                die("open: no handle in response");
            cb_free(r);
            proto_msg_free(&m);
            return h;
        }
        proto_msg_free(&m);
    }
}

static void handle_op(const char *op, uint64_t h, int with_len, uint64_t len, uint32_t id)
{
    buf_t p;
    buf_init(&p);
    cb_map(&p, 1);
    cb_text(&p, "op");
    cb_map(&p, 1);
    cb_text(&p, op);
    if (!strcmp(op, "CloseHandle")) {
        cb_map(&p, 1);
        cb_text(&p, "handle"); cb_uint(&p, h);
    } else {
        cb_map(&p, 3);
        cb_text(&p, "handle"); cb_uint(&p, h);
        cb_text(&p, "offset"); cb_uint(&p, 0);
        cb_text(&p, "len");
        if (with_len) cb_uint(&p, len); else cb_null(&p);
    }
    send_frame(id, T_FS_REQUEST, &p);
    buf_free(&p);
}

static void wait_fs_ok(uint32_t id, buf_t *collect, const char *what)
{
    for (;;) {
        msg_t m;
        next_msg(&m, 0);
        if (m.id != id) {
            proto_msg_free(&m);
            continue;
        }
        cb_item *r = payload_of(&m);
        if (!strcmp(m.type, T_FS_DATA)) {
            const cb_item *d = cb_get(r, "data");
            if (collect && d && d->type == CB_BYTES)
                buf_append(collect, d->ptr, d->len);
        } else if (!strcmp(m.type, T_FS_RESPONSE)) {
            expect_ok(r, what);
            cb_free(r);
            proto_msg_free(&m);
            return;
        } else if (!strcmp(m.type, T_ERROR)) {
            die_core_error(&m);
        }
        cb_free(r);
        proto_msg_free(&m);
    }
}

static void fs_write(const char *path, const uint8_t *data, size_t len)
{
    uint64_t h = open_file(path, 1);
    uint32_t id = g_next_id++;
    handle_op("Write", h, 1, len, id);
    size_t off = 0;
    do {
        size_t n = len - off > (1u << 20) ? (1u << 20) : len - off;
        buf_t p;
        buf_init(&p);
        cb_map(&p, 1);
        cb_text(&p, "data");
        cb_bytes(&p, data + off, n);
        send_frame(id, T_FS_DATA, &p);
        buf_free(&p);
        off += n;
    } while (off < len);
    buf_t p;
    buf_init(&p);
    cb_map(&p, 1);
    cb_text(&p, "data");
    cb_bytes(&p, "", 0);
    send_frame(id, T_FS_DATA, &p);
    buf_free(&p);
    wait_fs_ok(id, NULL, "write");
    uint32_t cid = g_next_id++;
    handle_op("CloseHandle", h, 0, 0, cid);
    wait_fs_ok(cid, NULL, "close");
}

static void fs_read(const char *path, buf_t *out)
{
    uint64_t h = open_file(path, 0);
    uint32_t id = g_next_id++;
    handle_op("Read", h, 0, 0, id);
    wait_fs_ok(id, out, "read");
    uint32_t cid = g_next_id++;
    handle_op("CloseHandle", h, 0, 0, cid);
    wait_fs_ok(cid, NULL, "close");
}

/* ---------------- main ---------------- */

/* The sandbox process's side of a server=off chardev: bind, listen, take QEMU's
 * one connection. */
static int listen_socket(const char *path)
{
    int srv = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un a;
    memset(&a, 0, sizeof(a));
    a.sun_family = AF_UNIX;
    snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
    unlink(path);
    if (srv < 0 || bind(srv, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(srv, 1) < 0)
        die("cannot listen on %s: %s", path, strerror(errno));
    struct pollfd p = {srv, POLLIN, 0};
    if (poll(&p, 1, 30000) <= 0)
        die("QEMU did not connect to %s within 30 s", path);
    int fd = accept4(srv, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0)
        die("accept %s: %s", path, strerror(errno));
    close(srv);
    unlink(path);
    return fd;
}

static int connect_socket(const char *path)
{
    double deadline = now_s() + 30;
    for (;;) {
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_un a;
        memset(&a, 0, sizeof(a));
        a.sun_family = AF_UNIX;
        snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
        if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
            return fd;
        close(fd);
        if (now_s() > deadline)
            die("cannot connect to %s: %s", path, strerror(errno));
        usleep(20000);
    }
}

static int collect_argv(int argc, char **argv, int i, char ***out)
{
    int start = i;
    while (i < argc && strcmp(argv[i], ";"))
        i++;
    if (i >= argc)
        die("exec action needs a terminating ';'");
    *out = &argv[start];
    return i - start;
}

int main(int argc, char **argv)
{
    opts_t o;
    memset(&o, 0, sizeof(o));
    const char *sock = NULL;
    int print_only = 0, attach = 0, listen_mode = 0;
    int i = 1;
    for (; i < argc && !strncmp(argv[i], "--", 2); i++) {
        const char *a = argv[i];
#define ARG() (i + 1 < argc ? argv[++i] : (die("%s needs a value", a), (char *)0))
        if (!strcmp(a, "--socket")) sock = ARG();
        else if (!strcmp(a, "--listen")) { sock = ARG(); listen_mode = 1; }
        else if (!strcmp(a, "--timeout")) g_timeout_ms = atoi(ARG()) * 1000;
        else if (!strcmp(a, "--root-disk")) o.root_disk = ARG();
        else if (!strcmp(a, "--root-erofs")) o.root_erofs = ARG();
        else if (!strcmp(a, "--hostname")) o.hostname = ARG();
        else if (!strcmp(a, "--user")) o.user = ARG();
        else if (!strcmp(a, "--cwd")) o.cwd = ARG();
        else if (!strcmp(a, "--env") && o.nenv < 64) o.env[o.nenv++] = ARG();
        else if (!strcmp(a, "--dir") && o.ndirs < 16) o.dirs[o.ndirs++] = ARG();
        else if (!strcmp(a, "--file") && o.nfiles < 16) o.files[o.nfiles++] = ARG();
        else if (!strcmp(a, "--disk") && o.ndisks < 16) o.disks[o.ndisks++] = ARG();
        else if (!strcmp(a, "--tmpfs") && o.ntmpfs < 16) o.tmpfs[o.ntmpfs++] = ARG();
        else if (!strcmp(a, "--rlimit") && o.nrlimits < 16) o.rlimits[o.nrlimits++] = ARG();
        else if (!strcmp(a, "--patch-text") && o.npatches < 16) o.patches[o.npatches++] = ARG();
        else if (!strcmp(a, "--restricted")) o.restricted = 1;
        else if (!strcmp(a, "--net-slirp")) o.net = 1;
        else if (!strcmp(a, "--bad-bootstrap")) o.bad = 1;
        else if (!strcmp(a, "--early-ack")) o.early_ack = 1;
        else if (!strcmp(a, "--restored")) o.restored = 1;
        else if (!strcmp(a, "--no-wait")) o.no_wait = 1;
        else if (!strcmp(a, "--print-bootstrap")) print_only = 1;
        else if (!strcmp(a, "--attach")) attach = 1;
        else die("unknown option %s", a);
    }
    if (print_only) {
        /* hex of the complete core.bootstrap frame, for documentation and tests */
        buf_t p, f;
        buf_init(&p);
        buf_init(&f);
        build_bootstrap(&o, &p);
        proto_frame(&f, 0, T_BOOTSTRAP, p.data, p.len);
        for (size_t k = 0; k < f.len; k++)
            printf("%02x", f.data[k]);
        printf("\n");
        return 0;
    }
    if (!sock)
        die("--socket or --listen is required");
    buf_init(&g_in);
    g_start = now_s();
    g_fd = listen_mode ? listen_socket(sock) : connect_socket(sock);
    if (attach)
        g_next_id = 1000; /* a later client: keep ids apart from the first one */
    else
        boot(&o);

    while (i < argc) {
        const char *act = argv[i++];
#define NEED(n) do { if (i + (n) > argc) die("%s needs %d argument(s)", act, n); } while (0)
        if (!strcmp(act, "ping")) {
            uint32_t id = g_next_id++;
            buf_t p;
            buf_init(&p);
            cb_map(&p, 0);
            double t0 = now_s();
            send_frame(id, T_PING, &p);
            buf_free(&p);
            msg_t m;
            do {
                next_msg(&m, 0);
            } while (m.id != id && (proto_msg_free(&m), 1));
            if (strcmp(m.type, T_PONG))
                die("ping: expected core.pong, got %s", m.type);
            fprintf(stderr, "agentctl: ok: ping (%.1f ms)\n", (now_s() - t0) * 1000);
            proto_msg_free(&m);
        } else if (!strcmp(act, "run") || !strcmp(act, "stdin") || !strcmp(act, "tty") || !strcmp(act, "ttyin") ||
                   !strcmp(act, "kill")) {
            char *input = NULL;
            g_exec_tty = !strcmp(act, "tty") || !strcmp(act, "ttyin");
            g_exec_signal = 0;
            if (!strcmp(act, "kill")) {
                NEED(1);
                g_exec_signal = atoi(argv[i++]);
            }
            if (!strcmp(act, "stdin") || !strcmp(act, "ttyin")) {
                NEED(1);
                input = unescape(argv[i++]);
            }
            NEED(3);
            int code = atoi(argv[i++]);
            char *expect = unescape(argv[i++]);
            char **cmd;
            int n = collect_argv(argc, argv, i, &cmd);
            i += n + 1;
            exec_result_t r;
            double t0 = now_s();
            do_exec(cmd, n, input, &r);
            if (r.failed)
                die("%s %s: exec failed (%s): %s", act, cmd[0], r.fail_kind, r.fail_msg);
            int out_ok = !strcmp(expect, "*") ||
                         (!strncmp(expect, "#len=", 5) && r.out.len == strtoull(expect + 5, NULL, 10)) ||
                         (r.out.len == strlen(expect) && !memcmp(r.out.data ? (char *)r.out.data : "", expect, r.out.len));
            if (r.code != code || !out_ok) {
                show("stdout", &r.out);
                show("stderr", &r.err);
                die("%s %s: exit %d (want %d), stdout %s", act, cmd[0], r.code, code, out_ok ? "ok" : "differs");
            }
            fprintf(stderr, "agentctl: ok: %s %s -> %d, %zu bytes out (%.1f ms)\n", act, cmd[0], r.code, r.out.len,
                    (now_s() - t0) * 1000);
            buf_free(&r.out);
            buf_free(&r.err);
            free(expect);
            free(input);
        } else if (!strcmp(act, "clock")) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            buf_t p;
            buf_init(&p);
            cb_map(&p, 1);
            cb_text(&p, "unix_time_nanos");
            cb_uint(&p, (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec);
            send_frame(g_next_id++, T_CLOCK_SYNC, &p);
            buf_free(&p);
        } else if (!strcmp(act, "mark")) {
            printf("since_start_ms=%.0f ", (now_s() - g_start) * 1000);
            fflush(stdout);
        } else if (!strcmp(act, "rtt")) {
            /* echo round-trips: prints min/median/max in ms */
            NEED(1);
            int n = atoi(argv[i++]);
            if (n < 1 || n > 10000)
                die("rtt needs a count between 1 and 10000");
            double *ms = calloc((size_t)n, sizeof(double));
            char *cmd[2] = {"echo", "x"};
            for (int k = 0; k < n; k++) {
                exec_result_t r;
                double t0 = now_s();
                do_exec(cmd, 2, NULL, &r);
                ms[k] = (now_s() - t0) * 1000;
                if (r.failed || r.code != 0)
                    die("rtt: echo failed");
                buf_free(&r.out);
                buf_free(&r.err);
            }
            for (int a = 0; a < n; a++)
                for (int b2 = a + 1; b2 < n; b2++)
                    if (ms[b2] < ms[a]) {
                        double t = ms[a];
                        ms[a] = ms[b2];
                        ms[b2] = t;
                    }
            printf("exec_rtt_ms min=%.2f median=%.2f max=%.2f n=%d\n", ms[0], ms[n / 2], ms[n - 1], n);
            fflush(stdout);
            free(ms);
        } else if (!strcmp(act, "as")) {
            NEED(1);
            g_exec_user = argv[i++];
        } else if (!strcmp(act, "cd")) {
            NEED(1);
            g_exec_cwd = strcmp(argv[i], "-") ? argv[i] : NULL;
            i++;
        } else if (!strcmp(act, "fail")) {
            NEED(2);
            const char *kind = argv[i++];
            char **cmd;
            int n = collect_argv(argc, argv, i, &cmd);
            i += n + 1;
            exec_result_t r;
            do_exec(cmd, n, NULL, &r);
            if (!r.failed || strcmp(r.fail_kind, kind))
                die("fail %s: expected exec.failed(%s), got %s", cmd[0], kind,
                    r.failed ? r.fail_kind : "a started process");
            fprintf(stderr, "agentctl: ok: fail %s -> %s: %s\n", cmd[0], r.fail_kind, r.fail_msg);
        } else if (!strcmp(act, "sh")) {
            NEED(1);
            char *cmd[3] = {"/bin/sh", "-c", argv[i++]};
            exec_result_t r;
            do_exec(cmd, 3, NULL, &r);
            if (r.failed)
                die("sh: exec failed (%s): %s", r.fail_kind, r.fail_msg);
            fwrite(r.out.data ? (char *)r.out.data : "", 1, r.out.len, stdout);
            fwrite(r.err.data ? (char *)r.err.data : "", 1, r.err.len, stderr);
            fprintf(stderr, "agentctl: sh exit %d\n", r.code);
        } else if (!strcmp(act, "write")) {
            NEED(2);
            const char *path = argv[i++];
            char *content = unescape(argv[i++]);
            fs_write(path, (const uint8_t *)content, strlen(content));
            fprintf(stderr, "agentctl: ok: write %s\n", path);
            free(content);
        } else if (!strcmp(act, "read")) {
            NEED(2);
            const char *path = argv[i++];
            char *content = unescape(argv[i++]);
            buf_t got;
            buf_init(&got);
            fs_read(path, &got);
            if (got.len != strlen(content) || memcmp(got.data ? (char *)got.data : "", content, got.len))
                die("read %s: content differs (%zu bytes)", path, got.len);
            fprintf(stderr, "agentctl: ok: read %s\n", path);
            buf_free(&got);
            free(content);
        } else if (!strcmp(act, "big")) {
            NEED(2);
            const char *path = argv[i++];
            size_t len = (size_t)atoi(argv[i++]) << 20;
            uint8_t *data = malloc(len);
            uint32_t x = 2463534242u;
            for (size_t k = 0; k < len; k++) {
                x ^= x << 13; x ^= x >> 17; x ^= x << 5;
                data[k] = (uint8_t)x;
            }
            double t0 = now_s();
            fs_write(path, data, len);
            double t1 = now_s();
            buf_t got;
            buf_init(&got);
            fs_read(path, &got);
            if (got.len != len || memcmp(got.data, data, len))
                die("big %s: read back %zu bytes, differs", path, got.len);
            fprintf(stderr, "agentctl: ok: big %s %zu MiB (write %.2fs, read %.2fs)\n", path, len >> 20, t1 - t0,
                    now_s() - t1);
            free(data);
            buf_free(&got);
        } else if (!strcmp(act, "stat")) {
            NEED(1);
            msg_t m;
            cb_item *r = fs_simple("Stat", "path", argv[i], "follow_symlink", NULL, &m);
            expect_ok(r, "stat");
            const cb_item *st = cb_get(cb_get(r, "data"), "Stat");
            uint64_t size = 0;
            cb_as_u64(cb_get(st, "size"), &size);
            char *kind = cb_strdup(cb_get(st, "kind"));
            fprintf(stderr, "agentctl: ok: stat %s: %s, %llu bytes\n", argv[i], kind ? kind : "?",
                    (unsigned long long)size);
            free(kind);
            cb_free(r);
            proto_msg_free(&m);
            i++;
        } else if (!strcmp(act, "ls")) {
            NEED(2);
            msg_t m;
            cb_item *r = fs_simple("List", "path", argv[i], NULL, NULL, &m);
            expect_ok(r, "list");
            const cb_item *l = cb_get(cb_get(r, "data"), "List");
            char want[4096];
            snprintf(want, sizeof(want), "%s/%s", argv[i], argv[i + 1]);
            int found = 0;
            for (uint64_t k = 0; l && k < l->u; k++)
                if (cb_text_eq(cb_get(&l->items[k], "path"), want))
                    found = 1;
            if (!found)
                die("ls %s: %s not listed", argv[i], want);
            fprintf(stderr, "agentctl: ok: ls %s (%llu entries)\n", argv[i], (unsigned long long)(l ? l->u : 0));
            cb_free(r);
            proto_msg_free(&m);
            i += 2;
        } else if (!strcmp(act, "mkdir") || !strcmp(act, "rm")) {
            NEED(1);
            msg_t m;
            cb_item *r = !strcmp(act, "mkdir") ? fs_simple("Mkdir", "path", argv[i], "mode", NULL, &m)
                                               : fs_simple("Remove", "path", argv[i], NULL, NULL, &m);
            expect_ok(r, act);
            fprintf(stderr, "agentctl: ok: %s %s\n", act, argv[i]);
            cb_free(r);
            proto_msg_free(&m);
            i++;
        } else if (!strcmp(act, "mv")) {
            NEED(2);
            msg_t m;
            cb_item *r = fs_simple("Rename", "src", argv[i], "dst", argv[i + 1], &m);
            expect_ok(r, "rename");
            fprintf(stderr, "agentctl: ok: mv %s %s\n", argv[i], argv[i + 1]);
            cb_free(r);
            proto_msg_free(&m);
            i += 2;
        } else if (!strcmp(act, "expect-error")) {
            msg_t m;
            if (!next_msg(&m, 1))
                die("expected core.error, got EOF");
            if (strcmp(m.type, T_ERROR))
                die("expected core.error, got %s", m.type);
            cb_item *r = payload_of(&m);
            char *msg = cb_strdup(cb_get(r, "message"));
            fprintf(stderr, "agentctl: ok: core.error: %s\n", msg ? msg : "?");
            free(msg);
            cb_free(r);
            proto_msg_free(&m);
            /* the guest powers off after a failed bootstrap */
            while (next_msg(&m, 1))
                proto_msg_free(&m);
            fprintf(stderr, "agentctl: ok: guest closed the connection\n");
        } else if (!strcmp(act, "shutdown")) {
            buf_t p;
            buf_init(&p);
            cb_null(&p); /* upstream's host sends the unit payload () as CBOR null */
            double t0 = now_s();
            send_frame(g_next_id++, T_SHUTDOWN, &p);
            buf_free(&p);
            msg_t m;
            while (next_msg(&m, 1))
                proto_msg_free(&m);
            fprintf(stderr, "agentctl: ok: shutdown (%.2fs)\n", now_s() - t0);
        } else {
            die("unknown action %s", act);
        }
    }
    return 0;
}
