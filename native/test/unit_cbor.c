/* Unit tests for the agent's CBOR codec and frame layer (no VM needed).
 * Vectors: RFC 8949 Appendix A, plus frames as upstream's codec lays them out.
 * Build and run: make -C native/agent test */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cbor.h"
#include "proto.h"

static int failures, checks;

#define CHECK(cond, ...)                                                                                               \
    do {                                                                                                               \
        checks++;                                                                                                      \
        if (!(cond)) {                                                                                                 \
            failures++;                                                                                                \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);                                                                \
            printf(__VA_ARGS__);                                                                                       \
            printf("\n");                                                                                              \
        }                                                                                                              \
    } while (0)

static size_t unhex(const char *h, uint8_t *out)
{
    size_t n = 0;
    for (; h[0] && h[1]; h += 2) {
        unsigned v;
        sscanf(h, "%2x", &v);
        out[n++] = (uint8_t)v;
    }
    return n;
}

static int buf_is(const buf_t *b, const char *hex)
{
    uint8_t want[512];
    size_t n = unhex(hex, want);
    return b->len == n && memcmp(b->data, want, n) == 0;
}

static cb_item *dec(const char *hex)
{
    static uint8_t in[512];
    size_t n = unhex(hex, in);
    char err[128];
    return cb_decode(in, n, err, sizeof(err));
}

static void test_encode_ints(void)
{
    struct {
        int64_t v;
        const char *hex;
    } cases[] = {{0, "00"},           {1, "01"},           {10, "0a"},          {23, "17"},
                 {24, "1818"},        {25, "1819"},        {100, "1864"},       {1000, "1903e8"},
                 {1000000, "1a000f4240"}, {1000000000000LL, "1b000000e8d4a51000"}, {-1, "20"},
                 {-10, "29"},         {-100, "3863"},      {-1000, "3903e7"}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        buf_t b;
        buf_init(&b);
        cb_int(&b, cases[i].v);
        CHECK(buf_is(&b, cases[i].hex), "encode %lld", (long long)cases[i].v);
        cb_item *it = dec(cases[i].hex);
        int64_t got;
        CHECK(it && cb_as_i64(it, &got) == 0 && got == cases[i].v, "decode %s", cases[i].hex);
        cb_free(it);
        buf_free(&b);
    }
}

static void test_strings_and_containers(void)
{
    buf_t b;
    buf_init(&b);
    cb_text(&b, "IETF");
    CHECK(buf_is(&b, "6449455446"), "text IETF");
    b.len = 0;
    cb_bytes(&b, "\x01\x02\x03\x04", 4);
    CHECK(buf_is(&b, "4401020304"), "bytes");
    b.len = 0;
    /* {"a": 1, "b": [2, 3]} */
    cb_map(&b, 2);
    cb_text(&b, "a");
    cb_uint(&b, 1);
    cb_text(&b, "b");
    cb_array(&b, 2);
    cb_uint(&b, 2);
    cb_uint(&b, 3);
    CHECK(buf_is(&b, "a26161016162820203"), "map");
    b.len = 0;
    cb_bool(&b, 0);
    cb_bool(&b, 1);
    cb_null(&b);
    CHECK(buf_is(&b, "f4f5f6"), "simple values");
    buf_free(&b);

    cb_item *m = dec("a26161016162820203");
    CHECK(m && m->type == CB_MAP && m->u == 2, "decode map");
    const cb_item *arr = cb_get(m, "b");
    CHECK(arr && arr->type == CB_ARRAY && arr->u == 2 && arr->items[1].u == 3, "map lookup");
    CHECK(cb_get(m, "zz") == NULL, "missing key");
    cb_free(m);

    /* floats: 1.5 as half, 100000.0 as single, 1.1 as double */
    cb_item *f = dec("f93e00");
    CHECK(f && f->type == CB_FLOAT && f->f == 1.5, "half float");
    cb_free(f);
    f = dec("fa47c35000");
    CHECK(f && f->type == CB_FLOAT && f->f == 100000.0, "single float");
    cb_free(f);
    f = dec("fb3ff199999999999a");
    CHECK(f && f->type == CB_FLOAT && f->f == 1.1, "double float");
    cb_free(f);

    /* tags are skipped: cbor-x writes Uint8Array as tag 64 */
    cb_item *t = dec("d840420102");
    CHECK(t && t->type == CB_BYTES && t->len == 2, "tag 64 bytes");
    cb_free(t);
    /* wide headers: a map with a 16-bit length */
    cb_item *w = dec("b900016161f5");
    int bv = 0;
    CHECK(w && cb_as_bool(cb_get(w, "a"), &bv) == 0 && bv, "map16 header");
    cb_free(w);
}

static void test_decode_errors(void)
{
    CHECK(dec("") == NULL, "empty input");
    CHECK(dec("62") == NULL, "truncated text");
    CHECK(dec("9f01ff") == NULL, "indefinite array rejected");
    CHECK(dec("0101") == NULL, "trailing bytes");
    CHECK(dec("9bffffffffffffffff") == NULL, "absurd array length");
    CHECK(dec("1c") == NULL, "reserved info");
}

static void test_frames(void)
{
    /* upstream layout of ExecExited{code:42} on id 7: flags = terminal */
    buf_t p, f;
    buf_init(&p);
    buf_init(&f);
    cb_map(&p, 1);
    cb_text(&p, "code");
    cb_int(&p, 42);
    proto_frame(&f, 7, T_EXEC_EXITED, p.data, p.len);
    CHECK(buf_is(&f, "00000027"
                     "00000007"
                     "01"
                     "a3617607617470636f72652e657865632e657869746564617048a164636f6465182a"),
          "exec.exited frame");

    /* split delivery: nothing until the last byte arrives */
    buf_t in;
    buf_init(&in);
    msg_t m;
    char err[200];
    for (size_t i = 0; i + 1 < f.len; i++) {
        buf_append(&in, f.data + i, 1);
        CHECK(proto_take(&in, &m, err, sizeof(err)) == 0, "partial frame at %zu", i);
    }
    buf_append(&in, f.data + f.len - 1, 1);
    CHECK(proto_take(&in, &m, err, sizeof(err)) == 1, "complete frame");
    CHECK(m.id == 7 && m.flags == FLAG_TERMINAL && m.v == 7 && !strcmp(m.type, T_EXEC_EXITED), "frame header");
    cb_item *pl = proto_payload(&m, err, sizeof(err));
    int64_t code = 0;
    CHECK(pl && cb_as_i64(cb_get(pl, "code"), &code) == 0 && code == 42, "payload");
    cb_free(pl);
    proto_msg_free(&m);
    CHECK(in.len == 0, "frame consumed");

    /* two frames in one read */
    buf_append(&in, f.data, f.len);
    buf_append(&in, f.data, f.len);
    CHECK(proto_take(&in, &m, err, sizeof(err)) == 1, "first of two");
    proto_msg_free(&m);
    CHECK(proto_take(&in, &m, err, sizeof(err)) == 1, "second of two");
    proto_msg_free(&m);

    /* too large and too short */
    in.len = 0;
    buf_append(&in, "\x00\x40\x00\x01", 4);
    CHECK(proto_take(&in, &m, err, sizeof(err)) == -1, "frame too large");
    in.len = 0;
    buf_append(&in, "\x00\x00\x00\x03\x00\x00\x00", 7);
    CHECK(proto_take(&in, &m, err, sizeof(err)) == -1, "frame too short");
    /* well-formed frame, undecodable envelope: consumed, reported as -2 */
    in.len = 0;
    buf_append(&in, "\x00\x00\x00\x06\x00\x00\x00\x09\x00\xff", 10);
    CHECK(proto_take(&in, &m, err, sizeof(err)) == -2 && m.id == 9 && in.len == 0, "bad envelope");
    proto_msg_free(&m);

    CHECK(proto_flags_for(T_EXEC_REQUEST) == FLAG_SESSION_START, "request flags");
    CHECK(proto_flags_for(T_SHUTDOWN) == FLAG_SHUTDOWN, "shutdown flags");
    CHECK(proto_flags_for(T_BOOTSTRAP) == 0, "bootstrap flags");
    CHECK(proto_type_generation(T_BOOTSTRAP) == 7 && proto_type_generation(T_PING) == 6 &&
              proto_type_generation("core.nope") == 0,
          "generations");
    buf_free(&p);
    buf_free(&f);
    buf_free(&in);
}

/* Random and mutated inputs must be rejected or decoded, never crash (run
 * under -fsanitize=address to catch memory errors). */
static void test_fuzz(void)
{
    uint32_t x = 12345;
    uint8_t data[256];
    const char *seed = "a3617607617470636f72652e657865632e657869746564617048a164636f6465182a";
    uint8_t valid[128];
    size_t vn = unhex(seed, valid);
    int decoded = 0;
    for (int round = 0; round < 50000; round++) {
        size_t n;
        if (round % 2) {
            memcpy(data, valid, vn);
            n = vn;
            for (int k = 0; k < 3; k++) {
                x ^= x << 13; x ^= x >> 17; x ^= x << 5;
                data[x % vn] = (uint8_t)(x >> 8);
            }
        } else {
            x ^= x << 13; x ^= x >> 17; x ^= x << 5;
            n = x % sizeof(data);
            for (size_t k = 0; k < n; k++) {
                x ^= x << 13; x ^= x >> 17; x ^= x << 5;
                data[k] = (uint8_t)x;
            }
        }
        char err[128];
        cb_item *it = cb_decode(data, n, err, sizeof(err));
        if (it) {
            decoded++;
            cb_get(it, "t");
            cb_free(it);
        }
        buf_t in;
        buf_init(&in);
        uint8_t hdr[9] = {0, 0, 0, (uint8_t)(n + 5), 0, 0, 0, 1, 0};
        buf_append(&in, hdr, sizeof(hdr));
        buf_append(&in, data, n);
        msg_t m;
        if (proto_take(&in, &m, err, sizeof(err)) != 0) {
            cb_item *p = m.env ? proto_payload(&m, err, sizeof(err)) : NULL;
            cb_free(p);
            proto_msg_free(&m);
        }
        buf_free(&in);
    }
    CHECK(decoded > 0, "fuzz decoded something");
}

int main(void)
{
    test_fuzz();
    test_encode_ints();
    test_strings_and_containers();
    test_decode_errors();
    test_frames();
    printf("%d passed, %d failed\n", checks - failures, failures);
    return failures ? 1 : 0;
}
