/* Minimal CBOR (RFC 8949) encoder and decoder for the agent protocol.
 *
 * Only what the protocol uses: unsigned/negative integers, byte and text
 * strings, arrays, maps, booleans, null/undefined and floats (decoded only).
 * Definite lengths only, which is what ciborium and System.Formats.Cbor emit. */
#ifndef MSB_CBOR_H
#define MSB_CBOR_H

#include <stddef.h>
#include <stdint.h>

/* ---- growable byte buffer ---- */

typedef struct {
    uint8_t *data;
    size_t len;
    size_t cap;
} buf_t;

void buf_init(buf_t *b);
void buf_free(buf_t *b);
void buf_reserve(buf_t *b, size_t extra);
void buf_append(buf_t *b, const void *p, size_t n);
void buf_consume(buf_t *b, size_t n); /* drop n bytes from the front */

/* ---- encoder ---- */

void cb_uint(buf_t *b, uint64_t v);
void cb_int(buf_t *b, int64_t v);
void cb_bytes(buf_t *b, const void *p, size_t n);
void cb_text(buf_t *b, const char *s);
void cb_textn(buf_t *b, const char *s, size_t n);
void cb_array(buf_t *b, uint64_t n);
void cb_map(buf_t *b, uint64_t n);
void cb_bool(buf_t *b, int v);
void cb_null(buf_t *b);
/* Encodes the header of a byte string of length n; the caller appends n bytes. */
void cb_bytes_header(buf_t *b, size_t n);

/* ---- decoder ---- */

enum cb_type {
    CB_UINT,
    CB_NINT, /* value is -1 - u */
    CB_BYTES,
    CB_TEXT,
    CB_ARRAY,
    CB_MAP,
    CB_BOOL,
    CB_NULL,
    CB_UNDEF,
    CB_FLOAT,
};

typedef struct cb_item {
    enum cb_type type;
    uint64_t u;            /* integer value, bool value, or element count */
    double f;              /* float value */
    const uint8_t *ptr;    /* bytes/text: points into the decoded input */
    size_t len;            /* bytes/text length */
    struct cb_item *items; /* array: u items; map: 2*u items (key, value, ...) */
} cb_item;

/* Decodes exactly one item spanning all of [p, p+n). Returns NULL on error and
 * writes a message into err (if non-NULL). Free with cb_free. */
cb_item *cb_decode(const uint8_t *p, size_t n, char *err, size_t errlen);
void cb_free(cb_item *it);

/* Map lookup by text key; NULL when absent or when m is not a map. */
const cb_item *cb_get(const cb_item *m, const char *key);
/* True when the item is absent, null or undefined. */
int cb_is_nil(const cb_item *it);
/* Copies a text item into a new NUL-terminated string; NULL when not text or
 * when it contains a NUL byte. */
char *cb_strdup(const cb_item *it);
/* Integer accessors; return 0 on success, -1 when the type does not fit. */
int cb_as_u64(const cb_item *it, uint64_t *out);
int cb_as_i64(const cb_item *it, int64_t *out);
int cb_as_bool(const cb_item *it, int *out);
/* Text compare. */
int cb_text_eq(const cb_item *it, const char *s);

#endif
