/* Agent protocol framing (generation 7), shared by the guest agent and the
 * host-side test client.
 *
 * Wire: [len u32 BE][id u32 BE][flags u8][CBOR map {"v": gen, "t": type, "p": bytes}]
 * where len counts id + flags + body and "p" holds the CBOR-encoded payload. */
#ifndef MSB_PROTO_H
#define MSB_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "cbor.h"

#define PROTO_VERSION 7
#define FLAG_TERMINAL 0x01
#define FLAG_SESSION_START 0x02
#define FLAG_SHUTDOWN 0x04
#define FRAME_HEADER_SIZE 5
#define MAX_FRAME_SIZE (4u * 1024 * 1024)

/* Relay id ranges: u32::MAX / 128 ids per client (upstream AGENT_RELAY_ID_RANGE_STEP). */
#define RELAY_ID_RANGE_STEP (0xffffffffu / 128u)

/* Wire strings for message types. */
#define T_READY "core.ready"
#define T_INIT_RESOLVED "core.init.resolved"
#define T_INIT_ACK "core.init.ack"
#define T_SHUTDOWN "core.shutdown"
#define T_RELAY_DISCONNECTED "core.relay.client.disconnected"
#define T_CLOCK_SYNC "core.clock.sync"
#define T_PING "core.ping"
#define T_PONG "core.pong"
#define T_TOUCH "core.touch"
#define T_TOUCHED "core.touched"
#define T_ERROR "core.error"
#define T_EXEC_REQUEST "core.exec.request"
#define T_EXEC_STARTED "core.exec.started"
#define T_EXEC_STDIN "core.exec.stdin"
#define T_EXEC_STDIN_ERROR "core.exec.stdin.error"
#define T_EXEC_STDOUT "core.exec.stdout"
#define T_EXEC_STDERR "core.exec.stderr"
#define T_EXEC_EXITED "core.exec.exited"
#define T_EXEC_FAILED "core.exec.failed"
#define T_EXEC_RESIZE "core.exec.resize"
#define T_EXEC_SIGNAL "core.exec.signal"
#define T_FS_REQUEST "core.fs.request"
#define T_FS_RESPONSE "core.fs.response"
#define T_FS_DATA "core.fs.data"
#define T_TCP_CONNECT "core.tcp.connect"
#define T_TCP_CONNECTED "core.tcp.connected"
#define T_TCP_DATA "core.tcp.data"
#define T_TCP_EOF "core.tcp.eof"
#define T_TCP_CLOSE "core.tcp.close"
#define T_TCP_CLOSED "core.tcp.closed"
#define T_TCP_FAILED "core.tcp.failed"
#define T_BOOTSTRAP "core.bootstrap"
/* QEMU-engine extensions (not upstream's): a ready-state snapshot's quiesce and resume (native/CONTRACT.md). */
#define T_SNAPSHOT_PREPARE "msb.snapshot.prepare"
#define T_SNAPSHOT_PREPARED "msb.snapshot.prepared"
#define T_SNAPSHOT_RESUME "msb.snapshot.resume"

/* Flags a message type must carry (upstream MessageType::flags). */
uint8_t proto_flags_for(const char *type);
/* Generation that introduced a message type; 0 when the type is unknown. */
int proto_type_generation(const char *type);

/* A decoded message. Strings point into `raw`, which the message owns. */
typedef struct {
    uint32_t id;
    uint8_t flags;
    uint64_t v;
    char type[64];
    cb_item *env;         /* decoded envelope map */
    const uint8_t *p;     /* payload bytes (inside env's backing storage) */
    size_t plen;
    uint8_t *raw;         /* body copy that env/p point into */
} msg_t;

/* Appends one frame carrying `type` with the given encoded payload. The flags
 * byte is derived from the type. */
void proto_frame(buf_t *out, uint32_t id, const char *type, const uint8_t *payload, size_t plen);

/* Tries to cut one frame off the front of `in`.
 * Returns 1 and fills *m when a frame was decoded, 0 when more bytes are
 * needed, -1 on an unrecoverable framing error (message in err), and -2 when
 * the frame was well-formed but its CBOR envelope was not (the frame is
 * consumed, m->id and m->flags are set, err describes the problem). */
int proto_take(buf_t *in, msg_t *m, char *err, size_t errlen);
void proto_msg_free(msg_t *m);

/* Decodes the payload of m (NULL with err on failure). */
cb_item *proto_payload(const msg_t *m, char *err, size_t errlen);

#endif
