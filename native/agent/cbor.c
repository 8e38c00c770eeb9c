#include "cbor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- buffer ---- */

void buf_init(buf_t *b) { memset(b, 0, sizeof(*b)); }

void buf_free(buf_t *b)
{
    free(b->data);
    memset(b, 0, sizeof(*b));
}

void buf_reserve(buf_t *b, size_t extra)
{
    if (b->len + extra <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra)
        cap *= 2;
    uint8_t *d = realloc(b->data, cap);
    if (!d) {
        fprintf(stderr, "msb-agent: out of memory\n");
        abort();
    }
    b->data = d;
    b->cap = cap;
}

void buf_append(buf_t *b, const void *p, size_t n)
{
    if (!n)
        return;
    buf_reserve(b, n);
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

void buf_consume(buf_t *b, size_t n)
{
    if (n >= b->len) {
        b->len = 0;
        /* release large buffers once drained so a burst does not pin memory */
        if (b->cap > (8u << 20)) {
            free(b->data);
            b->data = NULL;
            b->cap = 0;
        }
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
}

/* ---- encoder ---- */

static void cb_head(buf_t *b, uint8_t major, uint64_t v)
{
    uint8_t h[9];
    size_t n;
    major <<= 5;
    if (v < 24) {
        h[0] = major | (uint8_t)v;
        n = 1;
    } else if (v <= 0xff) {
        h[0] = major | 24;
        h[1] = (uint8_t)v;
        n = 2;
    } else if (v <= 0xffff) {
        h[0] = major | 25;
        h[1] = (uint8_t)(v >> 8);
        h[2] = (uint8_t)v;
        n = 3;
    } else if (v <= 0xffffffffu) {
        h[0] = major | 26;
        for (int i = 0; i < 4; i++)
            h[1 + i] = (uint8_t)(v >> (24 - 8 * i));
        n = 5;
    } else {
        h[0] = major | 27;
        for (int i = 0; i < 8; i++)
            h[1 + i] = (uint8_t)(v >> (56 - 8 * i));
        n = 9;
    }
    buf_append(b, h, n);
}

void cb_uint(buf_t *b, uint64_t v) { cb_head(b, 0, v); }

void cb_int(buf_t *b, int64_t v)
{
    if (v >= 0)
        cb_head(b, 0, (uint64_t)v);
    else
        cb_head(b, 1, (uint64_t)(-1 - v));
}

void cb_bytes_header(buf_t *b, size_t n) { cb_head(b, 2, n); }

void cb_bytes(buf_t *b, const void *p, size_t n)
{
    cb_head(b, 2, n);
    buf_append(b, p, n);
}

void cb_textn(buf_t *b, const char *s, size_t n)
{
    cb_head(b, 3, n);
    buf_append(b, s, n);
}

void cb_text(buf_t *b, const char *s) { cb_textn(b, s, strlen(s)); }
void cb_array(buf_t *b, uint64_t n) { cb_head(b, 4, n); }
void cb_map(buf_t *b, uint64_t n) { cb_head(b, 5, n); }

void cb_bool(buf_t *b, int v)
{
    uint8_t c = v ? 0xf5 : 0xf4;
    buf_append(b, &c, 1);
}

void cb_null(buf_t *b)
{
    uint8_t c = 0xf6;
    buf_append(b, &c, 1);
}

/* ---- decoder ---- */

typedef struct {
    const uint8_t *p;
    size_t n;
    size_t pos;
    char *err;
    size_t errlen;
    int depth;
} dec_t;

static int dec_fail(dec_t *d, const char *msg)
{
    if (d->err && d->errlen)
        snprintf(d->err, d->errlen, "cbor: %s at offset %zu", msg, d->pos);
    return -1;
}

static int dec_arg(dec_t *d, uint8_t info, uint64_t *out)
{
    if (info < 24) {
        *out = info;
        return 0;
    }
    size_t w;
    switch (info) {
    case 24: w = 1; break;
    case 25: w = 2; break;
    case 26: w = 4; break;
    case 27: w = 8; break;
    case 31: return dec_fail(d, "indefinite length is not supported");
    default: return dec_fail(d, "reserved additional info");
    }
    if (d->n - d->pos < w)
        return dec_fail(d, "truncated argument");
    uint64_t v = 0;
    for (size_t i = 0; i < w; i++)
        v = (v << 8) | d->p[d->pos + i];
    d->pos += w;
    *out = v;
    return 0;
}

static double half_to_double(uint16_t h)
{
    int e = (h >> 10) & 0x1f;
    int m = h & 0x3ff;
    double v;
    if (e == 0)
        v = m * (1.0 / (1 << 24));
    else if (e != 31)
        v = (m + 1024) * ((e >= 25) ? (double)(1u << (e - 25)) : 1.0 / (double)(1u << (25 - e)));
    else
        v = m ? 0.0 / 0.0 : 1.0 / 0.0;
    return (h & 0x8000) ? -v : v;
}

static int dec_item(dec_t *d, cb_item *it)
{
    memset(it, 0, sizeof(*it));
    if (++d->depth > 64)
        return dec_fail(d, "nesting too deep");
    if (d->pos >= d->n)
        return dec_fail(d, "unexpected end of input");
    uint8_t ib = d->p[d->pos++];
    uint8_t major = ib >> 5, info = ib & 0x1f;
    uint64_t v = 0;

    if (major == 7) {
        switch (info) {
        case 20: it->type = CB_BOOL; it->u = 0; break;
        case 21: it->type = CB_BOOL; it->u = 1; break;
        case 22: it->type = CB_NULL; break;
        case 23: it->type = CB_UNDEF; break;
        case 25: case 26: case 27: {
            size_t w = info == 25 ? 2 : info == 26 ? 4 : 8;
            if (d->n - d->pos < w)
                return dec_fail(d, "truncated float");
            uint64_t raw = 0;
            for (size_t i = 0; i < w; i++)
                raw = (raw << 8) | d->p[d->pos + i];
            d->pos += w;
            it->type = CB_FLOAT;
            if (w == 2) {
                it->f = half_to_double((uint16_t)raw);
            } else if (w == 4) {
                uint32_t r32 = (uint32_t)raw;
                float fl;
                memcpy(&fl, &r32, 4);
                it->f = fl;
            } else {
                memcpy(&it->f, &raw, 8);
            }
            break;
        }
        default:
            return dec_fail(d, "unsupported simple value");
        }
        d->depth--;
        return 0;
    }

    if (dec_arg(d, info, &v) < 0)
        return -1;

    switch (major) {
    case 0: it->type = CB_UINT; it->u = v; break;
    case 1: it->type = CB_NINT; it->u = v; break;
    case 2:
    case 3:
        if (v > d->n - d->pos)
            return dec_fail(d, "truncated string");
        it->type = major == 2 ? CB_BYTES : CB_TEXT;
        it->ptr = d->p + d->pos;
        it->len = (size_t)v;
        d->pos += (size_t)v;
        break;
    case 4:
    case 5: {
        uint64_t count = major == 5 ? v * 2 : v;
        /* every element needs at least one byte: reject impossible counts early */
        if (v > d->n - d->pos || count > d->n - d->pos)
            return dec_fail(d, "container longer than input");
        it->type = major == 4 ? CB_ARRAY : CB_MAP;
        it->u = v;
        if (count) {
            it->items = calloc((size_t)count, sizeof(cb_item));
            if (!it->items)
                return dec_fail(d, "out of memory");
            for (uint64_t i = 0; i < count; i++)
                if (dec_item(d, &it->items[i]) < 0)
                    return -1;
        }
        break;
    }
    case 6:
        /* tag: decode the tagged item in place of the tag */
        d->depth--;
        return dec_item(d, it);
    default:
        return dec_fail(d, "bad major type");
    }
    d->depth--;
    return 0;
}

static void cb_free_inner(cb_item *it)
{
    if (!it || !it->items)
        return;
    uint64_t count = it->type == CB_MAP ? it->u * 2 : it->u;
    for (uint64_t i = 0; i < count; i++)
        cb_free_inner(&it->items[i]);
    free(it->items);
    it->items = NULL;
}

cb_item *cb_decode(const uint8_t *p, size_t n, char *err, size_t errlen)
{
    dec_t d = {p, n, 0, err, errlen, 0};
    cb_item *it = calloc(1, sizeof(*it));
    if (!it) {
        dec_fail(&d, "out of memory");
        return NULL;
    }
    if (dec_item(&d, it) < 0) {
        cb_free(it);
        return NULL;
    }
    if (d.pos != n) {
        dec_fail(&d, "trailing bytes after item");
        cb_free(it);
        return NULL;
    }
    return it;
}

void cb_free(cb_item *it)
{
    if (!it)
        return;
    cb_free_inner(it);
    free(it);
}

int cb_text_eq(const cb_item *it, const char *s)
{
    size_t n = strlen(s);
    return it && it->type == CB_TEXT && it->len == n && memcmp(it->ptr, s, n) == 0;
}

const cb_item *cb_get(const cb_item *m, const char *key)
{
    if (!m || m->type != CB_MAP)
        return NULL;
    for (uint64_t i = 0; i < m->u; i++)
        if (cb_text_eq(&m->items[2 * i], key))
            return &m->items[2 * i + 1];
    return NULL;
}

int cb_is_nil(const cb_item *it) { return !it || it->type == CB_NULL || it->type == CB_UNDEF; }

char *cb_strdup(const cb_item *it)
{
    if (!it || it->type != CB_TEXT || memchr(it->ptr, 0, it->len))
        return NULL;
    char *s = malloc(it->len + 1);
    if (!s)
        return NULL;
    memcpy(s, it->ptr, it->len);
    s[it->len] = 0;
    return s;
}

int cb_as_u64(const cb_item *it, uint64_t *out)
{
    if (!it || it->type != CB_UINT)
        return -1;
    *out = it->u;
    return 0;
}

int cb_as_i64(const cb_item *it, int64_t *out)
{
    if (!it)
        return -1;
    if (it->type == CB_UINT && it->u <= (uint64_t)INT64_MAX) {
        *out = (int64_t)it->u;
        return 0;
    }
    if (it->type == CB_NINT && it->u <= (uint64_t)INT64_MAX) {
        *out = -1 - (int64_t)it->u;
        return 0;
    }
    return -1;
}

int cb_as_bool(const cb_item *it, int *out)
{
    if (!it || it->type != CB_BOOL)
        return -1;
    *out = (int)it->u;
    return 0;
}
