/* The agent's side of the port: the outgoing frame queue (g_out) and the
 * send_* helpers the handlers reply through, the activity counters the
 * heartbeat reports, and the blocking port I/O used during boot and a
 * snapshot's quiesce. Agent-only (proto.c, which frames the bytes, is shared
 * with the host test client and keeps no agent state). */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"

/* ------------------------------------------------------------------ */
/* outgoing frame queue                                                 */

buf_t g_out;
/* Bytes of g_out already written to the port. Advancing an offset instead of
 * shifting the buffer after every (at most 32 KiB) port write keeps draining a
 * multi-megabyte queue linear. */
static size_t g_out_off;

size_t out_pending(void) { return g_out.len - g_out_off; }

/* Writes queued output until the port would block; returns -1 on a hard error. */
int out_write(int fd)
{
    while (g_out_off < g_out.len) {
        ssize_t w = write(fd, g_out.data + g_out_off, g_out.len - g_out_off);
        if (w > 0) {
            g_out_off += (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno != EAGAIN)
            return -1;
        break;
    }
    if (g_out_off == g_out.len) {
        buf_consume(&g_out, g_out.len);
        g_out_off = 0;
    } else if (g_out_off > (1u << 20) && g_out_off > g_out.len / 2) {
        buf_consume(&g_out, g_out_off);
        g_out_off = 0;
    }
    return 0;
}

/* ------------------------------------------------------------------ */
/* activity accounting and outgoing frames                              */

uint64_t g_activity_seq;
uint64_t g_ctr_host_messages, g_ctr_guest_messages, g_ctr_exec_bytes, g_ctr_fs_bytes;

void activity_touch(void) { g_activity_seq++; }

/* Guest replies that are maintenance traffic do not count as activity. */
static int guest_type_counts(const char *type)
{
    return strcmp(type, T_PONG) != 0 && strcmp(type, T_TOUCHED) != 0 && strcmp(type, T_ERROR) != 0;
}

void send_msg(uint32_t id, const char *type, const buf_t *payload)
{
    proto_frame(&g_out, id, type, payload ? payload->data : NULL, payload ? payload->len : 0);
    if (guest_type_counts(type)) {
        g_ctr_guest_messages++;
        activity_touch();
    }
}

void send_empty(uint32_t id, const char *type)
{
    buf_t p;
    buf_init(&p);
    cb_map(&p, 0);
    send_msg(id, type, &p);
    buf_free(&p);
}

void send_core_error(uint32_t id, const char *kind, const char *message, const char *offending)
{
    buf_t p;
    buf_init(&p);
    cb_map(&p, offending ? 3 : 2);
    cb_text(&p, "kind");
    cb_text(&p, kind);
    cb_text(&p, "message");
    cb_text(&p, message);
    if (offending) {
        cb_text(&p, "offending_type");
        cb_text(&p, offending);
    }
    send_msg(id, T_ERROR, &p);
    buf_free(&p);
}

/* ------------------------------------------------------------------ */
/* port state                                                           */

/* 0 after the host side closed the port (a read returned 0); SIGIO or a
 * recheck sets it again. */
int g_port_connected = 1;
/* The signalfd port_read_frame also waits on, and what drains it (main.c's
 * reaper, registered at startup so this file does not call back into main.c). */
static int g_port_sigfd = -1;
static void (*g_port_on_signal)(void);

void port_watch_signals(int sigfd, void (*on_signal)(void))
{
    g_port_sigfd = sigfd;
    g_port_on_signal = on_signal;
}

/* ------------------------------------------------------------------ */
/* boot-time blocking port I/O                                          */

int port_read_frame(int fd, buf_t *in, msg_t *m, uint64_t deadline_ns, char *err, size_t errlen)
{
    uint8_t tmp[65536];
    for (;;) {
        int r = proto_take(in, m, err, errlen);
        if (r == 1)
            return 1;
        if (r < 0)
            return -1;
        uint64_t now = mono_ns();
        if (now >= deadline_ns)
            return 0;
        int timeout = (int)((deadline_ns - now) / 1000000ull) + 1;
        struct pollfd pfd[2] = {{fd, POLLIN, 0}, {g_port_sigfd, POLLIN, 0}};
        int npfd = 2;
        if (!g_port_connected) {
            /* host side not connected: wait for SIGIO (or recheck every 500 ms) */
            pfd[0].fd = -1;
            if (timeout > 500)
                timeout = 500;
        }
        int pr = poll(pfd, npfd, timeout);
        if (pr < 0 && errno != EINTR) {
            snprintf(err, errlen, "poll: %s", strerror(errno));
            return -1;
        }
        if (pfd[1].revents && g_port_on_signal)
            g_port_on_signal();
        if (!g_port_connected && pfd[0].fd < 0) {
            g_port_connected = 1; /* try again after SIGIO or the recheck delay */
            continue;
        }
        if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
            ssize_t n = read(fd, tmp, sizeof(tmp));
            if (n > 0)
                buf_append(in, tmp, (size_t)n);
            else if (n == 0)
                g_port_connected = 0;
            else if (errno != EAGAIN && errno != EINTR) {
                snprintf(err, errlen, "read agent port: %s", strerror(errno));
                return -1;
            }
        }
    }
}

int port_flush_blocking(int fd, uint64_t deadline_ns)
{
    while (out_pending()) {
        if (out_write(fd) < 0)
            return -1;
        if (!out_pending())
            break;
        uint64_t now = mono_ns();
        if (now >= deadline_ns)
            return -1;
        struct pollfd pfd = {fd, POLLOUT, 0};
        int t = (int)((deadline_ns - now) / 1000000ull) + 1;
        poll(&pfd, 1, t > 200 ? 200 : t);
    }
    return 0;
}
