/* Raw DEFLATE decoder (RFC 1951) for compressed .npz members, and the ZIP CRC-32. Canonical Huffman codes are
 * decoded through a 10-bit lookup table, longer codes by comparing against each length's last code; every
 * input read and output write is bounded, every malformed stream is a one-line error. */
#include "inflate.h"

#include <string.h>

#include "util.h"

#define FAST_BITS 10
#define FAST_MASK ((1u << FAST_BITS) - 1)
#define MAX_BITS 15

typedef struct huff {
    uint16_t fast[1 << FAST_BITS]; /* (length << 9) | symbol for codes of at most FAST_BITS bits, 0: none */
    uint16_t firstcode[16];
    uint32_t maxcode[17]; /* one past the last code of each length, left-aligned to 16 bits */
    uint16_t firstsymbol[16];
    uint8_t size[288];   /* by canonical position: code length */
    uint16_t value[288]; /* by canonical position: symbol */
} huff;

typedef struct reader {
    const uint8_t *in;
    size_t len, pos;
    uint64_t bits;
    int nbits;
    uint8_t *out;
    size_t out_len, out_pos;
    const char *what;
} reader;

static unsigned rev16(unsigned v)
{
    v = ((v & 0xAAAA) >> 1) | ((v & 0x5555) << 1);
    v = ((v & 0xCCCC) >> 2) | ((v & 0x3333) << 2);
    v = ((v & 0xF0F0) >> 4) | ((v & 0x0F0F) << 4);
    v = ((v & 0xFF00) >> 8) | ((v & 0x00FF) << 8);
    return v;
}

static unsigned rev(unsigned v, int n) { return rev16(v) >> (16 - n); }

/* Build the decoder of n code lengths (0: symbol unused). Over-subscribed sets are refused; incomplete ones are
 * kept (a pattern no code has is refused when it is met). */
static onnxc_status build(huff *h, const uint8_t *lens, int n, const reader *r, const char *which)
{
    int count[17] = {0}, next[16];
    memset(h->fast, 0, sizeof h->fast);
    for (int i = 0; i < n; i++)
        count[lens[i]]++;
    count[0] = 0;
    unsigned code = 0;
    int k = 0;
    for (int i = 1; i <= MAX_BITS; i++) {
        next[i] = (int)code;
        h->firstcode[i] = (uint16_t)code;
        h->firstsymbol[i] = (uint16_t)k;
        code += (unsigned)count[i];
        if (count[i] && code - 1 >= (1u << i))
            return oc_err(ONNXC_E_PARSE, "%s: corrupt deflate data (over-subscribed %s code)", r->what, which);
        h->maxcode[i] = code << (16 - i);
        code <<= 1;
        k += count[i];
    }
    h->maxcode[16] = 0x10000;
    for (int i = 0; i < n; i++) {
        int s = lens[i];
        if (!s)
            continue;
        int c = next[s] - h->firstcode[s] + h->firstsymbol[s];
        h->size[c] = (uint8_t)s;
        h->value[c] = (uint16_t)i;
        if (s <= FAST_BITS)
            for (unsigned j = rev((unsigned)next[s], s); j < (1u << FAST_BITS); j += 1u << s)
                h->fast[j] = (uint16_t)(s << 9 | i);
        next[s]++;
    }
    return ONNXC_OK;
}

static void refill(reader *r)
{
    while (r->nbits <= 56 && r->pos < r->len) {
        r->bits |= (uint64_t)r->in[r->pos++] << r->nbits;
        r->nbits += 8;
    }
}

static onnxc_status truncated(const reader *r)
{
    return oc_err(ONNXC_E_PARSE, "%s: deflate data ends early (after %zu of %zu bytes; the file may be truncated)",
                  r->what, r->out_pos, r->out_len);
}

static onnxc_status getbits(reader *r, int n, unsigned *v)
{
    if (r->nbits < n) {
        refill(r);
        if (r->nbits < n)
            return truncated(r);
    }
    *v = (unsigned)(r->bits & ((1u << n) - 1));
    r->bits >>= n;
    r->nbits -= n;
    return ONNXC_OK;
}

static onnxc_status decode(reader *r, const huff *h, int *sym)
{
    if (r->nbits < 16)
        refill(r);
    unsigned v = h->fast[r->bits & FAST_MASK], s;
    if (v) {
        s = v >> 9;
        v &= 511;
    } else {
        unsigned k = rev16((unsigned)(r->bits & 0xFFFF));
        for (s = FAST_BITS + 1; k >= h->maxcode[s]; s++)
            ;
        if (s > MAX_BITS)
            return oc_err(ONNXC_E_PARSE, "%s: corrupt deflate data (a Huffman code no symbol has)", r->what);
        unsigned c = (k >> (16 - s)) - h->firstcode[s] + h->firstsymbol[s];
        if (c >= 288 || h->size[c] != s)
            return oc_err(ONNXC_E_PARSE, "%s: corrupt deflate data (a Huffman code no symbol has)", r->what);
        v = h->value[c];
    }
    if ((int)s > r->nbits)
        return truncated(r);
    r->bits >>= s;
    r->nbits -= (int)s;
    *sym = (int)v;
    return ONNXC_OK;
}

static const uint16_t len_base[29] = {3,  4,  5,  6,  7,  8,  9,  10, 11,  13,  15,  17,  19,  23, 27,
                                      31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
static const uint8_t len_extra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                      2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
static const uint16_t dist_base[30] = {1,    2,    3,    4,    5,    7,    9,    13,    17,    25,
                                       33,   49,   65,   97,   129,  193,  257,  385,   513,   769,
                                       1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
static const uint8_t dist_extra[30] = {0, 0, 0, 0, 1, 1, 2, 2,  3,  3,  4,  4,  5,  5,  6,
                                       6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};

static onnxc_status too_long(const reader *r)
{
    return oc_err(ONNXC_E_PARSE, "%s: deflate data makes more than the %zu bytes the archive declares", r->what,
                  r->out_len);
}

/* The literals and matches of one Huffman block, up to its end-of-block code. */
static onnxc_status codes(reader *r, const huff *lit, const huff *dist)
{
    onnxc_status st;
    for (;;) {
        int sym = 0;
        if ((st = decode(r, lit, &sym)) != ONNXC_OK)
            return st;
        if (sym < 256) {
            if (r->out_pos >= r->out_len)
                return too_long(r);
            r->out[r->out_pos++] = (uint8_t)sym;
            continue;
        }
        if (sym == 256)
            return ONNXC_OK;
        sym -= 257;
        if (sym >= 29)
            return oc_err(ONNXC_E_PARSE, "%s: corrupt deflate data (length code %d)", r->what, sym + 257);
        unsigned e = 0, len, d;
        if ((st = getbits(r, len_extra[sym], &e)) != ONNXC_OK)
            return st;
        len = len_base[sym] + e;
        int ds = 0;
        if ((st = decode(r, dist, &ds)) != ONNXC_OK)
            return st;
        if (ds >= 30)
            return oc_err(ONNXC_E_PARSE, "%s: corrupt deflate data (distance code %d)", r->what, ds);
        if ((st = getbits(r, dist_extra[ds], &e)) != ONNXC_OK)
            return st;
        d = dist_base[ds] + e;
        if (d > r->out_pos)
            return oc_err(ONNXC_E_PARSE, "%s: corrupt deflate data (a match %u bytes back at byte %zu)", r->what, d,
                          r->out_pos);
        if (len > r->out_len - r->out_pos)
            return too_long(r);
        uint8_t *o = r->out + r->out_pos;
        const uint8_t *from = o - d;
        if (d >= len)
            memcpy(o, from, len);
        else
            for (unsigned i = 0; i < len; i++) /* overlapping: byte by byte repeats the last d bytes */
                o[i] = from[i];
        r->out_pos += len;
    }
}

static onnxc_status stored(reader *r)
{
    /* drop the bits up to the byte boundary, then give back whole bytes the bit buffer read ahead */
    r->bits >>= r->nbits & 7;
    r->nbits -= r->nbits & 7;
    r->pos -= (size_t)(r->nbits / 8);
    r->bits = 0;
    r->nbits = 0;
    if (r->len - r->pos < 4)
        return truncated(r);
    unsigned n = r->in[r->pos] | (unsigned)r->in[r->pos + 1] << 8;
    unsigned nc = r->in[r->pos + 2] | (unsigned)r->in[r->pos + 3] << 8;
    r->pos += 4;
    if (n != (~nc & 0xFFFFu))
        return oc_err(ONNXC_E_PARSE,
                      "%s: corrupt deflate data (stored block length %u does not match its "
                      "complement)",
                      r->what, n);
    if (n > r->len - r->pos)
        return truncated(r);
    if (n > r->out_len - r->out_pos)
        return too_long(r);
    memcpy(r->out + r->out_pos, r->in + r->pos, n);
    r->pos += n;
    r->out_pos += n;
    return ONNXC_OK;
}

static onnxc_status fixed(reader *r, huff *lit, huff *dist)
{
    uint8_t l[288];
    memset(l, 8, 144);
    memset(l + 144, 9, 112);
    memset(l + 256, 7, 24);
    memset(l + 280, 8, 8);
    onnxc_status st = build(lit, l, 288, r, "literal/length");
    if (st != ONNXC_OK)
        return st;
    memset(l, 5, 30);
    if ((st = build(dist, l, 30, r, "distance")) != ONNXC_OK)
        return st;
    return codes(r, lit, dist);
}

static onnxc_status dynamic(reader *r, huff *lit, huff *dist)
{
    static const uint8_t order[19] = {16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};
    unsigned hlit = 0, hdist = 0, hclen = 0, v = 0;
    onnxc_status st;
    if ((st = getbits(r, 5, &hlit)) != ONNXC_OK || (st = getbits(r, 5, &hdist)) != ONNXC_OK ||
        (st = getbits(r, 4, &hclen)) != ONNXC_OK)
        return st;
    hlit += 257;
    hdist += 1;
    hclen += 4;
    if (hlit > 286 || hdist > 30)
        return oc_err(ONNXC_E_PARSE, "%s: corrupt deflate data (%u literal/length or %u distance codes)", r->what, hlit,
                      hdist);
    uint8_t l[286 + 30];
    memset(l, 0, 19);
    for (unsigned i = 0; i < hclen; i++) {
        if ((st = getbits(r, 3, &v)) != ONNXC_OK)
            return st;
        l[order[i]] = (uint8_t)v;
    }
    huff *cl = lit; /* the code-length code is done with before the literal code is built */
    if ((st = build(cl, l, 19, r, "code-length")) != ONNXC_OK)
        return st;
    unsigned n = 0;
    while (n < hlit + hdist) {
        int sym = 0;
        if ((st = decode(r, cl, &sym)) != ONNXC_OK)
            return st;
        if (sym < 16) {
            l[n++] = (uint8_t)sym;
            continue;
        }
        unsigned rep = 0;
        uint8_t fill = 0;
        if (sym == 16) {
            if (n == 0)
                return oc_err(ONNXC_E_PARSE, "%s: corrupt deflate data (a repeat with no previous length)", r->what);
            fill = l[n - 1];
            if ((st = getbits(r, 2, &rep)) != ONNXC_OK)
                return st;
            rep += 3;
        } else if (sym == 17) {
            if ((st = getbits(r, 3, &rep)) != ONNXC_OK)
                return st;
            rep += 3;
        } else {
            if ((st = getbits(r, 7, &rep)) != ONNXC_OK)
                return st;
            rep += 11;
        }
        if (rep > hlit + hdist - n)
            return oc_err(ONNXC_E_PARSE, "%s: corrupt deflate data (code lengths repeat past their count)", r->what);
        memset(l + n, fill, rep);
        n += rep;
    }
    if (l[256] == 0)
        return oc_err(ONNXC_E_PARSE, "%s: corrupt deflate data (no end-of-block code)", r->what);
    if ((st = build(lit, l, (int)hlit, r, "literal/length")) != ONNXC_OK ||
        (st = build(dist, l + hlit, (int)hdist, r, "distance")) != ONNXC_OK)
        return st;
    return codes(r, lit, dist);
}

onnxc_status oc_inflate(const uint8_t *in, size_t in_len, uint8_t *out, size_t out_len, const char *what)
{
    reader r = {.in = in, .len = in_len, .out = out, .out_len = out_len, .what = what ? what : "deflate"};
    huff *h = oc_malloc(2 * sizeof *h);
    if (!h)
        return oc_err(ONNXC_E_NOMEM, "%s: out of memory", r.what);
    onnxc_status st = ONNXC_OK;
    unsigned last = 0, type = 0;
    while (st == ONNXC_OK && !last) {
        if ((st = getbits(&r, 1, &last)) != ONNXC_OK || (st = getbits(&r, 2, &type)) != ONNXC_OK)
            break;
        if (type == 0)
            st = stored(&r);
        else if (type == 1)
            st = fixed(&r, &h[0], &h[1]);
        else if (type == 2)
            st = dynamic(&r, &h[0], &h[1]);
        else
            st = oc_err(ONNXC_E_PARSE, "%s: corrupt deflate data (block type 3)", r.what);
    }
    oc_free(h);
    if (st == ONNXC_OK && r.out_pos != out_len)
        st = oc_err(ONNXC_E_PARSE, "%s: deflate data ends after %zu of the %zu bytes the archive declares", r.what,
                    r.out_pos, out_len);
    return st;
}

uint32_t oc_crc32(uint32_t crc, const uint8_t *p, size_t n)
{
    uint32_t table[256];
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
    crc = ~crc;
    for (size_t i = 0; i < n; i++)
        crc = table[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
    return ~crc;
}
