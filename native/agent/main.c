/* microsandbox QEMU guest agent: PID 1 of the initramfs.
 *
 * Boot: mount /dev /proc /sys, load the kernel modules listed in
 * /etc/msb/modules, open the virtio-serial port named "agent", take
 * core.bootstrap (boot.c), send core.ready, then serve the agent protocol
 * with one poll loop until core.shutdown powers the VM off.
 *
 * This file holds only startup and the dispatch loop: the helpers the handlers
 * call (logging, allocation, sending frames, port I/O) live in util.c and
 * port.c, so the dependency runs main.c -> handlers -> helpers. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"

static int g_sigfd = -1;
static int g_port = -1;
static int g_runtime_mounted;
static uint64_t g_boot_ns, g_init_ns;

/* ------------------------------------------------------------------ */
/* early init                                                           */

/* The kernel gives init /dev/console as fds 0-2 only when the node exists in
 * the initramfs; make sure we have them either way. */
static void ensure_console_fds(void)
{
    if (fcntl(2, F_GETFD) >= 0 && fcntl(1, F_GETFD) >= 0 && fcntl(0, F_GETFD) >= 0)
        return;
    int fd = open("/dev/console", O_RDWR | O_NOCTTY);
    if (fd < 0)
        fd = open("/dev/null", O_RDWR);
    if (fd < 0)
        return;
    for (int i = 0; i < 3; i++)
        if (fcntl(i, F_GETFD) < 0)
            dup2(fd, i);
    if (fd > 2)
        close(fd);
}

static int find_port(char *path, size_t pathlen)
{
    DIR *d = opendir("/sys/class/virtio-ports");
    if (!d)
        return -1;
    struct dirent *e;
    int found = -1;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char p[512], name[128];
        snprintf(p, sizeof(p), "/sys/class/virtio-ports/%s/name", e->d_name);
        if (read_small(p, name, sizeof(name)) < 0)
            continue;
        if (strcmp(name, AGENT_PORT_NAME) == 0) {
            snprintf(path, pathlen, "/dev/%s", e->d_name);
            found = 0;
            break;
        }
    }
    closedir(d);
    return found;
}

static int open_port(void)
{
    char path[300];
    /* the port appears once virtio_console has probed; give it a bounded wait */
    for (int i = 0; i < 500; i++) {
        if (find_port(path, sizeof(path)) == 0) {
            for (int j = 0; j < 100; j++) {
                int fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
                if (fd >= 0)
                    return fd;
                if (errno != ENOENT)
                    break;
                struct timespec ts = {0, 10 * 1000 * 1000};
                nanosleep(&ts, NULL);
            }
            logmsg("open %s: %s", path, strerror(errno));
            return -1;
        }
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    logmsg("no virtio-serial port named '%s' (is -device virtserialport,name=%s present?)",
           AGENT_PORT_NAME, AGENT_PORT_NAME);
    return -1;
}

static void setup_signals(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigaddset(&set, SIGIO);
    sigprocmask(SIG_BLOCK, &set, NULL);
    g_sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    signal(SIGPIPE, SIG_IGN);
}

/* Drains the signalfd: reaps children, notes SIGIO (host (re)connected). */
static void handle_signals(void)
{
    struct signalfd_siginfo si;
    while (read(g_sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
        if (si.ssi_signo == SIGIO)
            g_port_connected = 1;
    }
    int st;
    pid_t pid;
    while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
        exec_on_child_exit(pid, st);
}

/* ------------------------------------------------------------------ */
/* poweroff                                                             */

static void reap_for(int ms)
{
    uint64_t end = mono_ns() + (uint64_t)ms * 1000000ull;
    while (mono_ns() < end) {
        int st;
        pid_t p = waitpid(-1, &st, WNOHANG);
        if (p < 0 && errno == ECHILD)
            return;
        if (p <= 0) {
            struct timespec ts = {0, 5 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
    }
}

/* Stops every process, detaches filesystems so block devices are clean, and
 * powers the VM off. Never returns. */
static void __attribute__((noreturn)) poweroff_now(void)
{
    kill(-1, SIGTERM);
    reap_for(300);
    kill(-1, SIGKILL);
    reap_for(100);
    sync();

    /* unmount in reverse order of /proc/mounts, keeping the API filesystems */
    char *paths[256];
    int n = 0;
    FILE *f = fopen("/proc/mounts", "r");
    if (f) {
        char dev[512], mnt[512], type[64];
        while (n < 256 && fscanf(f, "%511s %511s %63s %*s %*d %*d", dev, mnt, type) == 3) {
            if (strcmp(mnt, "/") == 0 || strcmp(mnt, "/proc") == 0 || strcmp(mnt, "/sys") == 0 ||
                strcmp(mnt, "/dev") == 0)
                continue;
            paths[n++] = xstrdup(mnt);
        }
        fclose(f);
    }
    for (int i = n - 1; i >= 0; i--)
        if (umount2(paths[i], 0) < 0)
            umount2(paths[i], MNT_DETACH);
    mount(NULL, "/", NULL, MS_REMOUNT | MS_RDONLY, NULL);
    sync();
    reboot(RB_POWER_OFF);
    /* no power-off method: a reset ends QEMU when it runs with -no-reboot */
    reboot(RB_AUTOBOOT);
    for (;;)
        pause();
}

static void __attribute__((noreturn)) fail_boot(const char *message)
{
    logmsg("bootstrap failed: %s", message);
    if (g_port >= 0) {
        char full[1200];
        snprintf(full, sizeof(full), "guest bootstrap failed: %s", message);
        send_core_error(0, "invalid_payload", full, T_BOOTSTRAP);
        port_flush_blocking(g_port, mono_ns() + 3000000000ull);
    }
    logmsg("powering off");
    poweroff_now();
}

/* ------------------------------------------------------------------ */
/* heartbeat                                                            */

static void format_time(char *out, size_t n, const struct timespec *ts)
{
    struct tm tm;
    gmtime_r(&ts->tv_sec, &tm);
    char base[40];
    strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, n, "%s.%09ldZ", base, ts->tv_nsec);
}

static void write_heartbeat(void)
{
    static uint64_t seq, last_seen_activity = (uint64_t)-1;
    static struct timespec last_activity;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    if (g_activity_seq != last_seen_activity) {
        last_seen_activity = g_activity_seq;
        last_activity = now;
    }
    seq++;
    char ts[64], la[64];
    format_time(ts, sizeof(ts), &now);
    format_time(la, sizeof(la), &last_activity);
    char json[1024];
    int len = snprintf(json, sizeof(json),
                       "{\"heartbeat_seq\":%llu,\"activity_seq\":%llu,\"timestamp\":\"%s\","
                       "\"last_activity\":\"%s\",\"active_exec_sessions\":%d,"
                       "\"active_fs_streams\":%d,\"active_tcp_streams\":0,"
                       "\"activity_counters\":{\"host_messages\":%llu,\"guest_messages\":%llu,"
                       "\"exec_output_bytes\":%llu,\"fs_bytes\":%llu,\"tcp_bytes\":0}}",
                       (unsigned long long)seq, (unsigned long long)g_activity_seq, ts, la,
                       exec_active_count(), fs_active_streams(),
                       (unsigned long long)g_ctr_host_messages,
                       (unsigned long long)g_ctr_guest_messages,
                       (unsigned long long)g_ctr_exec_bytes, (unsigned long long)g_ctr_fs_bytes);
    if (write_bytes(RUNTIME_MOUNT_POINT "/heartbeat.tmp", json, (size_t)len, 0644, 0) == 0)
        rename(RUNTIME_MOUNT_POINT "/heartbeat.tmp", RUNTIME_MOUNT_POINT "/heartbeat.json");
}

/* ------------------------------------------------------------------ */
/* message dispatch                                                     */

static int refreshes_idle(const char *type)
{
    return strcmp(type, T_CLOCK_SYNC) != 0 && strcmp(type, T_PING) != 0 && strcmp(type, T_TOUCH) != 0;
}

static void handle_clock_sync(const cb_item *p)
{
    uint64_t ns;
    if (cb_as_u64(cb_get(p, "unix_time_nanos"), &ns) < 0)
        return;
    struct timespec ts = {(time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull)};
    if (clock_settime(CLOCK_REALTIME, &ts) < 0)
        logmsg("clock sync: %s", strerror(errno));
}

static void dispatch(msg_t *m);
static void send_ready(void);

/* The serve loop's input buffer: a snapshot's quiesce reads its resume frame into it. */
static buf_t *g_in;

/* msb.snapshot.prepare (QEMU engine, native/CONTRACT.md): the host is about to save this guest as a ready-state
 * template. Everything queued for the host is flushed, msb.snapshot.prepared is the last frame written, and nothing
 * else is read from or written to the port (exec output waits in its pipes) until msb.snapshot.resume. In a restored
 * clone that frame comes from the clone's own host, so both directions restart on a frame boundary. */
static void handle_snapshot_prepare(uint32_t id)
{
    port_flush_blocking(g_port, mono_ns() + 5000000000ull);
    send_empty(id, T_SNAPSHOT_PREPARED);
    if (port_flush_blocking(g_port, mono_ns() + 5000000000ull) < 0)
        logmsg("snapshot: could not flush msb.snapshot.prepared");
    for (;;) {
        msg_t m;
        char err[256];
        int r = port_read_frame(g_port, g_in, &m, mono_ns() + 3600ull * 1000000000ull, err, sizeof(err));
        if (r == 0)
            continue;
        if (r < 0) {
            logmsg("snapshot: %s; dropping buffered input", err);
            g_in->len = 0;
            continue;
        }
        if (!strcmp(m.type, T_SHUTDOWN)) {
            dispatch(&m); /* powers off */
        } else if (!strcmp(m.type, T_SNAPSHOT_RESUME)) {
            char cerr[200], rerr[300];
            cb_item *p = proto_payload(&m, cerr, sizeof(cerr));
            int ok = p && p->type == CB_MAP && boot_resume(p, rerr, sizeof(rerr)) == 0;
            if (!ok) {
                send_core_error(m.id, "invalid_payload", p ? rerr : cerr, T_SNAPSHOT_RESUME);
                port_flush_blocking(g_port, mono_ns() + 1000000000ull);
            }
            cb_free(p);
            proto_msg_free(&m);
            if (ok) {
                send_ready();
                return;
            }
            continue;
        } else {
            logmsg("snapshot: %s received while waiting for msb.snapshot.resume; dropped", m.type);
        }
        proto_msg_free(&m);
    }
}

static void dispatch(msg_t *m)
{
    int gen = proto_type_generation(m->type);
    if (gen == 0) {
        char msg[160];
        snprintf(msg, sizeof(msg), "unknown message type: %s", m->type);
        send_core_error(m->id, "unsupported_message_type", msg, m->type);
        return;
    }
    if (m->flags != proto_flags_for(m->type)) {
        char msg[200];
        snprintf(msg, sizeof(msg), "invalid flags for %s: got %u, expected %u", m->type, m->flags,
                 proto_flags_for(m->type));
        send_core_error(m->id, "invalid_flags", msg, m->type);
        return;
    }
    if (refreshes_idle(m->type)) {
        g_ctr_host_messages++;
        activity_touch();
    }
    /* Upstream hosts send core.shutdown with a unit payload (CBOR null), and agentd
     * never decodes it: shut down whatever the payload is. */
    if (!strcmp(m->type, T_SHUTDOWN)) {
        logmsg("shutdown requested");
        exec_terminate_all(SIGTERM);
        fs_clear();
        port_flush_blocking(g_port, mono_ns() + 500000000ull);
        poweroff_now();
    }
    char err[200];
    cb_item *p = proto_payload(m, err, sizeof(err));
    if (p && (p->type == CB_NULL || p->type == CB_UNDEF))
        p->type = CB_MAP; /* a unit payload carries no fields: read it as {} */
    if (!p || p->type != CB_MAP) {
        char msg[300];
        snprintf(msg, sizeof(msg), "decode payload for %s: %s", m->type, p ? "payload is not a map" : err);
        send_core_error(m->id, "invalid_payload", msg, m->type);
        cb_free(p);
        return;
    }

    const char *t = m->type;
    if (!strcmp(t, T_PING)) {
        send_empty(m->id, T_PONG);
    } else if (!strcmp(t, T_TOUCH)) {
        activity_touch();
        g_ctr_host_messages++;
        buf_t b;
        buf_init(&b);
        cb_map(&b, 1);
        cb_text(&b, "activity_seq");
        cb_uint(&b, g_activity_seq);
        send_msg(m->id, T_TOUCHED, &b);
        buf_free(&b);
    } else if (!strcmp(t, T_EXEC_REQUEST)) {
        exec_handle_request(m, p);
    } else if (!strcmp(t, T_EXEC_STDIN)) {
        exec_handle_stdin(m, p);
    } else if (!strcmp(t, T_EXEC_SIGNAL)) {
        exec_handle_signal(m, p);
    } else if (!strcmp(t, T_EXEC_RESIZE)) {
        exec_handle_resize(m, p);
    } else if (!strcmp(t, T_FS_REQUEST)) {
        fs_handle_request(m, p);
    } else if (!strcmp(t, T_FS_DATA)) {
        fs_handle_data(m, p);
    } else if (!strcmp(t, T_CLOCK_SYNC)) {
        handle_clock_sync(p);
    } else if (!strcmp(t, T_RELAY_DISCONNECTED)) {
        uint64_t a, b;
        if (cb_as_u64(cb_get(p, "id_start"), &a) == 0 && cb_as_u64(cb_get(p, "id_end_exclusive"), &b) == 0)
            fs_close_owner_range((uint32_t)a, (uint32_t)b);
    } else if (!strcmp(t, T_SNAPSHOT_PREPARE)) {
        handle_snapshot_prepare(m->id);
    } else if (!strcmp(t, T_TCP_CONNECT)) {
        buf_t b;
        buf_init(&b);
        cb_map(&b, 1);
        cb_text(&b, "error");
        cb_text(&b, "TCP forwarding is not supported by the QEMU guest agent");
        send_msg(m->id, T_TCP_FAILED, &b);
        buf_free(&b);
    } else {
        /* guest-to-host types and stray control frames: ignore, as upstream */
    }
    cb_free(p);
}

/* ------------------------------------------------------------------ */
/* main loop                                                            */

static void send_ready(void)
{
    buf_t b;
    buf_init(&b);
    cb_map(&b, 4);
    cb_text(&b, "boot_time_ns");
    cb_uint(&b, g_boot_ns);
    cb_text(&b, "init_time_ns");
    cb_uint(&b, g_init_ns);
    cb_text(&b, "ready_time_ns");
    cb_uint(&b, boottime_ns());
    cb_text(&b, "agent_version");
    cb_text(&b, AGENT_VERSION);
    send_msg(0, T_READY, &b);
    buf_free(&b);
}

static int is_mountpoint(const char *path)
{
    struct stat a, b;
    char parent[512];
    snprintf(parent, sizeof(parent), "%s/..", path);
    if (stat(path, &a) < 0 || stat(parent, &b) < 0)
        return 0;
    return a.st_dev != b.st_dev;
}

static void serve(buf_t *in)
{
    g_in = in;
    uint8_t tmp[65536];
    uint64_t next_hb = mono_ns() + 1000000000ull;
    uint64_t recheck_at = 0;
    struct pollfd pfds[512];

    for (;;) {
        /* frames already buffered (e.g. coalesced with init.ack) */
        for (;;) {
            msg_t m;
            char err[256];
            int r = proto_take(in, &m, err, sizeof(err));
            if (r == 0)
                break;
            if (r == -1) {
                /* the stream is desynchronised: nothing after this can be trusted */
                logmsg("protocol error: %s; dropping buffered input", err);
                in->len = 0;
                break;
            }
            if (r == -2) {
                send_core_error(m.id, "malformed_message", err, NULL);
                proto_msg_free(&m);
                continue;
            }
            dispatch(&m);
            proto_msg_free(&m);
        }

        exec_finish_ready();
        if (out_pending() < OUT_HIGH_WATER)
            fs_pump_reads();

        int n = 0;
        pfds[n++] = (struct pollfd){g_sigfd, POLLIN, 0};
        short pev = 0;
        if (g_port_connected) {
            if (in->len < MAX_FRAME_SIZE + 4)
                pev |= POLLIN;
            if (out_pending())
                pev |= POLLOUT;
        }
        pfds[n++] = (struct pollfd){g_port_connected ? g_port : -1, pev, 0};
        int exec_base = n;
        n += exec_poll_fill(pfds + n, (int)(sizeof(pfds) / sizeof(pfds[0])) - n, out_pending() < OUT_HIGH_WATER);

        int timeout = -1;
        uint64_t now = mono_ns();
        if (g_runtime_mounted) {
            timeout = now >= next_hb ? 0 : (int)((next_hb - now) / 1000000ull) + 1;
        }
        if (!g_port_connected && (timeout < 0 || timeout > 2000))
            timeout = 2000; /* recheck the port even if a SIGIO was missed */
        if (fs_pending_reads() && out_pending() < OUT_HIGH_WATER && g_port_connected)
            timeout = 0;

        int pr = poll(pfds, (nfds_t)n, timeout);
        if (pr < 0 && errno != EINTR) {
            logmsg("poll: %s", strerror(errno));
            continue;
        }

        if (pfds[0].revents)
            handle_signals();

        short rev = pfds[1].revents;
        if (rev & POLLOUT) {
            if (out_write(g_port) < 0)
                logmsg("write agent port: %s", strerror(errno));
        }
        if (rev & (POLLIN | POLLHUP | POLLERR)) {
            for (;;) {
                ssize_t r = read(g_port, tmp, sizeof(tmp));
                if (r > 0) {
                    buf_append(in, tmp, (size_t)r);
                    if (in->len > MAX_FRAME_SIZE + 4)
                        break;
                    continue;
                }
                if (r == 0) {
                    /* host side closed: stop polling the port until SIGIO says it is back */
                    g_port_connected = 0;
                } else if (errno != EAGAIN && errno != EINTR) {
                    logmsg("read agent port: %s", strerror(errno));
                    g_port_connected = 0;
                }
                break;
            }
        }
        if (!g_port_connected) {
            /* recheck the port every 2 s even without SIGIO */
            if (!recheck_at)
                recheck_at = mono_ns() + 2000000000ull;
            else if (mono_ns() >= recheck_at) {
                g_port_connected = 1;
                recheck_at = 0;
            }
        } else {
            recheck_at = 0;
        }

        exec_poll_handle(pfds + exec_base, n - exec_base);

        if (g_runtime_mounted && mono_ns() >= next_hb) {
            write_heartbeat();
            next_hb = mono_ns() + 1000000000ull;
        }
    }
}

/* Kernel command line switches: "msb.debug" turns on boot timing messages;
 * "msb.preload=GROUP[,GROUP...]" loads those module groups before the agent
 * waits for core.bootstrap. A VM that is snapshotted while it waits (a template
 * for restored clones) then carries them already loaded, e.g. erofs,overlay for
 * the oci-erofs root, and each clone skips that work. */
static void read_cmdline_switches(int *debug, char *preload, size_t preload_len)
{
    char cmd[4096] = {0};
    *debug = 0;
    preload[0] = 0;
    int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    ssize_t n = read(fd, cmd, sizeof(cmd) - 1);
    close(fd);
    if (n <= 0)
        return;
    for (char *tok = strtok(cmd, " \n"); tok; tok = strtok(NULL, " \n")) {
        if (!strcmp(tok, "msb.debug"))
            *debug = 1;
        else if (!strncmp(tok, "msb.preload=", 12))
            snprintf(preload, preload_len, "%s", tok + 12);
    }
}

static void preload_module_groups(char *groups)
{
    char *save = NULL;
    for (char *g = strtok_r(groups, ",", &save); g; g = strtok_r(NULL, ",", &save))
        if (*g)
            modules_load_group(g);
}

int main(void)
{
    g_boot_ns = boottime_ns();
    buf_init(&g_out);
    umask(022);
    mount_dev_proc_sys();
    ensure_console_fds();
    int debug;
    char preload[256];
    read_cmdline_switches(&debug, preload, sizeof(preload));
    g_module_debug = debug;
    setup_signals();
    port_watch_signals(g_sigfd, handle_signals);
    modules_init();
    modules_load_group("boot");
    modules_load_for_devices();
    preload_module_groups(preload);
    if (debug)
        logmsg("modules loaded at %.3fs", boottime_ns() / 1e9);

    boot_prepare_initramfs_root();
    if (debug)
        logmsg("root prepared at %.3fs", boottime_ns() / 1e9);
    g_port = open_port();
    if (debug)
        logmsg("agent port open at %.3fs", boottime_ns() / 1e9);
    if (g_port < 0) {
        logmsg("cannot continue without the agent port; powering off");
        poweroff_now();
    }
    fcntl(g_port, F_SETOWN, getpid());
    fcntl(g_port, F_SETFL, fcntl(g_port, F_GETFL) | O_ASYNC | O_NONBLOCK);

    buf_t in;
    buf_init(&in);
    char err[1024];
    uint64_t init_start = boottime_ns();
    if (boot_run(g_port, &in, err, sizeof(err)) < 0)
        fail_boot(err);
    g_init_ns = boottime_ns() - init_start;
    g_runtime_mounted = is_mountpoint(RUNTIME_MOUNT_POINT);
    if (debug)
        logmsg("bootstrap applied at %.3fs (took %.3fs)", boottime_ns() / 1e9, g_init_ns / 1e9);

    send_ready();
    port_flush_blocking(g_port, mono_ns() + 100000000ull);
    serve(&in);
    return 0;
}
