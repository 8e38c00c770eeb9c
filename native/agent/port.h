/* The agent's side of the port (port.c): the outgoing frame queue and the
 * send_* helpers handlers reply through, activity accounting for the
 * heartbeat, and blocking port I/O for boot and a snapshot's quiesce. Framing
 * itself is proto.c's, which the host test client shares. */
#ifndef MSB_PORT_H
#define MSB_PORT_H

#include <stddef.h>
#include <stdint.h>

#include "cbor.h"
#include "proto.h"

/* Output queue above this size pauses producers (exec output, fs reads). */
#define OUT_HIGH_WATER (4u << 20)

/* ---- outgoing frames ---- */
extern buf_t g_out;
size_t out_pending(void); /* bytes of g_out not yet written to the port */
int out_write(int fd);    /* writes until the port would block; -1 on a hard error */
void send_msg(uint32_t id, const char *type, const buf_t *payload);
void send_empty(uint32_t id, const char *type); /* payload = empty map */
void send_core_error(uint32_t id, const char *kind, const char *message, const char *offending);

/* ---- activity accounting (reported by the heartbeat) ---- */
void activity_touch(void);
extern uint64_t g_activity_seq;
extern uint64_t g_ctr_host_messages, g_ctr_guest_messages, g_ctr_exec_bytes, g_ctr_fs_bytes;

/* ---- port state and blocking port I/O ---- */
extern int g_port_connected; /* 0 while the host side is closed; SIGIO or a recheck sets it again */
/* Registers the signalfd port_read_frame also waits on, and the function that
 * drains it (main.c's reaper), so port.c need not call back into main.c. */
void port_watch_signals(int sigfd, void (*on_signal)(void));
/* Waits for one complete frame; deadline in CLOCK_MONOTONIC ns. Returns 1 on
 * success, 0 on timeout, -1 on error (err filled). */
int port_read_frame(int fd, buf_t *in, msg_t *m, uint64_t deadline_ns, char *err, size_t errlen);
/* Writes all of g_out, waiting at most until deadline. Returns 0 or -1. */
int port_flush_blocking(int fd, uint64_t deadline_ns);

#endif
