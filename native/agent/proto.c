#include "proto.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *type;
    uint8_t flags;
    int gen;
} TYPES[] = {
    {T_READY, 0, 1},
    {T_INIT_RESOLVED, 0, 1},
    {T_INIT_ACK, 0, 1},
    {T_SHUTDOWN, FLAG_SHUTDOWN, 1},
    {T_RELAY_DISCONNECTED, 0, 1},
    {T_CLOCK_SYNC, 0, 1},
    {T_PING, 0, 6},
    {T_PONG, FLAG_TERMINAL, 6},
    {T_TOUCH, 0, 6},
    {T_TOUCHED, FLAG_TERMINAL, 6},
    {T_ERROR, FLAG_TERMINAL, 5},
    {T_EXEC_REQUEST, FLAG_SESSION_START, 1},
    {T_EXEC_STARTED, 0, 1},
    {T_EXEC_STDIN, 0, 1},
    {T_EXEC_STDIN_ERROR, 0, 1},
    {T_EXEC_STDOUT, 0, 1},
    {T_EXEC_STDERR, 0, 1},
    {T_EXEC_EXITED, FLAG_TERMINAL, 1},
    {T_EXEC_FAILED, FLAG_TERMINAL, 1},
    {T_EXEC_RESIZE, 0, 1},
    {T_EXEC_SIGNAL, 0, 1},
    {T_FS_REQUEST, FLAG_SESSION_START, 2},
    {T_FS_RESPONSE, FLAG_TERMINAL, 2},
    {T_FS_DATA, 0, 2},
    {T_TCP_CONNECT, FLAG_SESSION_START, 4},
    {T_TCP_CONNECTED, 0, 4},
    {T_TCP_DATA, 0, 4},
    {T_TCP_EOF, 0, 4},
    {T_TCP_CLOSE, 0, 4},
    {T_TCP_CLOSED, FLAG_TERMINAL, 4},
    {T_TCP_FAILED, FLAG_TERMINAL, 4},
    {T_BOOTSTRAP, 0, 7},
    {T_SNAPSHOT_PREPARE, 0, 7},
    {T_SNAPSHOT_PREPARED, 0, 7},
    {T_SNAPSHOT_RESUME, 0, 7},
};

uint8_t proto_flags_for(const char *type)
{
    for (size_t i = 0; i < sizeof(TYPES) / sizeof(TYPES[0]); i++)
        if (strcmp(TYPES[i].type, type) == 0)
            return TYPES[i].flags;
    return 0;
}

int proto_type_generation(const char *type)
{
    for (size_t i = 0; i < sizeof(TYPES) / sizeof(TYPES[0]); i++)
        if (strcmp(TYPES[i].type, type) == 0)
            return TYPES[i].gen;
    return 0;
}

static void put_be32(uint8_t *d, uint32_t v)
{
    d[0] = (uint8_t)(v >> 24);
    d[1] = (uint8_t)(v >> 16);
    d[2] = (uint8_t)(v >> 8);
    d[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *d)
{
    return ((uint32_t)d[0] << 24) | ((uint32_t)d[1] << 16) | ((uint32_t)d[2] << 8) | d[3];
}

void proto_frame(buf_t *out, uint32_t id, const char *type, const uint8_t *payload, size_t plen)
{
    /* body = {"v": 7, "t": type, "p": h'payload'} in upstream field order */
    buf_t body;
    buf_init(&body);
    buf_reserve(&body, plen + strlen(type) + 24);
    cb_map(&body, 3);
    cb_text(&body, "v");
    cb_uint(&body, PROTO_VERSION);
    cb_text(&body, "t");
    cb_text(&body, type);
    cb_text(&body, "p");
    cb_bytes(&body, payload, plen);

    uint8_t hdr[9];
    put_be32(hdr, (uint32_t)(FRAME_HEADER_SIZE + body.len));
    put_be32(hdr + 4, id);
    hdr[8] = proto_flags_for(type);
    buf_append(out, hdr, sizeof(hdr));
    buf_append(out, body.data, body.len);
    buf_free(&body);
}

void proto_msg_free(msg_t *m)
{
    cb_free(m->env);
    free(m->raw);
    memset(m, 0, sizeof(*m));
}

int proto_take(buf_t *in, msg_t *m, char *err, size_t errlen)
{
    memset(m, 0, sizeof(*m));
    if (in->len < 4)
        return 0;
    uint32_t len = get_be32(in->data);
    if (len > MAX_FRAME_SIZE) {
        snprintf(err, errlen, "frame too large: %u bytes (max %u)", len, MAX_FRAME_SIZE);
        return -1;
    }
    if (len < FRAME_HEADER_SIZE) {
        /* only an error once the whole (short) frame has arrived, as upstream */
        if (in->len < 4 + (size_t)len)
            return 0;
        snprintf(err, errlen, "frame payload too short: %u bytes (minimum %d)", len, FRAME_HEADER_SIZE);
        return -1;
    }
    if (in->len < 4 + (size_t)len)
        return 0;

    m->id = get_be32(in->data + 4);
    m->flags = in->data[8];
    size_t blen = len - FRAME_HEADER_SIZE;
    m->raw = malloc(blen ? blen : 1);
    if (!m->raw) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    memcpy(m->raw, in->data + 9, blen);
    buf_consume(in, 4 + (size_t)len);

    char cerr[160];
    m->env = cb_decode(m->raw, blen, cerr, sizeof(cerr));
    if (!m->env) {
        snprintf(err, errlen, "decode message envelope: %s", cerr);
        return -2;
    }
    const cb_item *v = cb_get(m->env, "v");
    const cb_item *t = cb_get(m->env, "t");
    const cb_item *p = cb_get(m->env, "p");
    if (!v || v->type != CB_UINT || !t || t->type != CB_TEXT || !p) {
        snprintf(err, errlen, "message envelope needs v (uint), t (text) and p (bytes)");
        return -2;
    }
    m->v = v->u;
    if (t->len >= sizeof(m->type)) {
        snprintf(err, errlen, "message type too long");
        return -2;
    }
    memcpy(m->type, t->ptr, t->len);
    m->type[t->len] = 0;
    if (p->type == CB_BYTES) {
        m->p = p->ptr;
        m->plen = p->len;
    } else if (p->type == CB_ARRAY) {
        /* tolerate a payload serialized as an array of byte values */
        for (uint64_t i = 0; i < p->u; i++)
            if (p->items[i].type != CB_UINT || p->items[i].u > 255) {
                snprintf(err, errlen, "message payload must be a byte string");
                return -2;
            }
        uint8_t *copy = malloc(p->u ? p->u : 1);
        if (!copy) {
            snprintf(err, errlen, "out of memory");
            return -2;
        }
        size_t count = (size_t)p->u;
        for (size_t i = 0; i < count; i++)
            copy[i] = (uint8_t)p->items[i].u;
        /* keep ownership simple: swap the raw body for the flattened payload */
        cb_free(m->env);
        m->env = NULL;
        free(m->raw);
        m->raw = copy;
        m->p = copy;
        m->plen = count;
    } else {
        snprintf(err, errlen, "message payload must be a byte string");
        return -2;
    }
    return 1;
}

cb_item *proto_payload(const msg_t *m, char *err, size_t errlen)
{
    if (m->plen == 0) {
        /* an empty payload means "no fields"; treat it as an empty map */
        cb_item *it = calloc(1, sizeof(*it));
        if (it)
            it->type = CB_MAP;
        return it;
    }
    return cb_decode(m->p, m->plen, err, errlen);
}
