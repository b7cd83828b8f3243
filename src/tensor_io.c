/* Tensor files: NumPy .npy (format versions 1.0, 2.0, 3.0; C or Fortran order), NumPy .npz archives of them (stored or DEFLATE-compressed) and
 * ONNX TensorProto .pb, told apart by the .npy magic. TensorProto decoding is the loader's own (oc_tensor_from_proto), so both read the same way. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dtype.h"
#include "inflate.h"
#include "ir.h"
#include "proto_tensor.h"

static const char npy_magic[6] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};

/* ---------------------------------------------------------------- .npy header */

/* The header is a Python dict literal written by numpy.lib.format, e.g.
 * {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }  */
typedef struct npy_header {
    char descr[32];
    bool have_descr, have_order, have_shape;
    bool fortran;
    int rank;
    int64_t dims[ONNXC_MAX_RANK];
} npy_header;

typedef struct npy_parser {
    const char *p, *end;
} npy_parser;

static void ws(npy_parser *P)
{
    while (P->p < P->end && (*P->p == ' ' || *P->p == '\t' || *P->p == '\n' || *P->p == '\r'))
        P->p++;
}

static bool eat(npy_parser *P, char c)
{
    ws(P);
    if (P->p < P->end && *P->p == c) {
        P->p++;
        return true;
    }
    return false;
}

static bool quoted(npy_parser *P, char *buf, size_t cap)
{
    ws(P);
    if (P->p >= P->end || (*P->p != '\'' && *P->p != '"'))
        return false;
    char q = *P->p++;
    size_t n = 0;
    while (P->p < P->end && *P->p != q) {
        if (n + 1 >= cap)
            return false;
        buf[n++] = *P->p++;
    }
    if (P->p >= P->end)
        return false;
    P->p++;
    buf[n] = 0;
    return true;
}

static bool word(npy_parser *P, const char *w)
{
    ws(P);
    size_t n = strlen(w);
    if ((size_t)(P->end - P->p) >= n && memcmp(P->p, w, n) == 0) {
        P->p += n;
        return true;
    }
    return false;
}

static onnxc_status parse_header(const char *text, size_t len, npy_header *h, const char *path)
{
    memset(h, 0, sizeof *h);
    npy_parser P = {text, text + len};
    if (!eat(&P, '{'))
        return oc_err(ONNXC_E_PARSE, "%s: .npy header is not a dict", path);
    for (;;) {
        if (eat(&P, '}'))
            break;
        char key[32];
        if (!quoted(&P, key, sizeof key) || !eat(&P, ':'))
            return oc_err(ONNXC_E_PARSE, "%s: malformed .npy header", path);
        if (strcmp(key, "descr") == 0) {
            if (!quoted(&P, h->descr, sizeof h->descr))
                return oc_err(ONNXC_E_UNSUPPORTED, "%s: .npy descr is not a simple type (structured arrays are not "
                              "supported)", path);
            h->have_descr = true;
        } else if (strcmp(key, "fortran_order") == 0) {
            if (word(&P, "True"))
                h->fortran = true;
            else if (!word(&P, "False"))
                return oc_err(ONNXC_E_PARSE, "%s: .npy fortran_order is neither True nor False", path);
            h->have_order = true;
        } else if (strcmp(key, "shape") == 0) {
            if (!eat(&P, '('))
                return oc_err(ONNXC_E_PARSE, "%s: .npy shape is not a tuple", path);
            h->rank = 0;
            for (;;) {
                if (eat(&P, ')'))
                    break;
                ws(&P);
                if (P.p >= P.end || *P.p < '0' || *P.p > '9')
                    return oc_err(ONNXC_E_PARSE, "%s: .npy shape holds something other than non-negative integers",
                                  path);
                int64_t v = 0;
                while (P.p < P.end && *P.p >= '0' && *P.p <= '9') {
                    if (!oc_mul_i64(v, 10, &v) || !oc_add_i64(v, *P.p - '0', &v))
                        return oc_err(ONNXC_E_INVALID, "%s: .npy shape dim overflows int64", path);
                    P.p++;
                }
                if (P.p < P.end && *P.p == 'L') /* Python 2 longs */
                    P.p++;
                if (h->rank >= ONNXC_MAX_RANK)
                    return oc_err(ONNXC_E_UNSUPPORTED, "%s: .npy rank is above the supported maximum %d", path,
                                  ONNXC_MAX_RANK);
                h->dims[h->rank++] = v;
                if (!eat(&P, ',')) {
                    if (!eat(&P, ')'))
                        return oc_err(ONNXC_E_PARSE, "%s: malformed .npy shape", path);
                    break;
                }
            }
            h->have_shape = true;
        } else {
            return oc_err(ONNXC_E_PARSE, "%s: unexpected key '%s' in the .npy header", path, key);
        }
        if (!eat(&P, ',')) {
            if (!eat(&P, '}'))
                return oc_err(ONNXC_E_PARSE, "%s: malformed .npy header", path);
            break;
        }
    }
    if (!h->have_descr || !h->have_order || !h->have_shape)
        return oc_err(ONNXC_E_PARSE, "%s: .npy header lacks descr, fortran_order or shape", path);
    return ONNXC_OK;
}

/* NumPy type string <-> ONNX dtype. *swap is set for big-endian data. */
static onnxc_status descr_to_dtype(const char *d, int32_t *dtype, bool *swap, const char *path)
{
    if (strlen(d) < 3)
        return oc_err(ONNXC_E_UNSUPPORTED, "%s: .npy type '%s' is not supported", path, d);
    char order = d[0];
    if (order != '<' && order != '>' && order != '|' && order != '=')
        return oc_err(ONNXC_E_UNSUPPORTED, "%s: .npy type '%s' is not supported", path, d);
    char kind = d[1];
    int size = atoi(d + 2);
    static const struct { char kind; int size; int32_t dtype; } map[] = {
        {'f', 2, ONNXC_FLOAT16}, {'f', 4, ONNXC_FLOAT}, {'f', 8, ONNXC_DOUBLE},
        {'i', 1, ONNXC_INT8},    {'i', 2, ONNXC_INT16}, {'i', 4, ONNXC_INT32}, {'i', 8, ONNXC_INT64},
        {'u', 1, ONNXC_UINT8},   {'u', 2, ONNXC_UINT16}, {'u', 4, ONNXC_UINT32}, {'u', 8, ONNXC_UINT64},
        {'b', 1, ONNXC_BOOL},    {'c', 8, ONNXC_COMPLEX64}, {'c', 16, ONNXC_COMPLEX128},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        if (map[i].kind == kind && map[i].size == size) {
            char digits[8];
            snprintf(digits, sizeof digits, "%d", size);
            if (strcmp(d + 2, digits) != 0)
                break;
            *dtype = map[i].dtype;
            *swap = order == '>' && size > 1;
            return ONNXC_OK;
        }
    }
    return oc_err(ONNXC_E_UNSUPPORTED, "%s: .npy type '%s' is not supported (numbers and bool only)", path, d);
}

static const char *dtype_to_descr(int32_t dtype)
{
    switch (dtype) {
    case ONNXC_FLOAT16: return "<f2";
    case ONNXC_FLOAT: return "<f4";
    case ONNXC_DOUBLE: return "<f8";
    case ONNXC_INT8: return "|i1";
    case ONNXC_INT16: return "<i2";
    case ONNXC_INT32: return "<i4";
    case ONNXC_INT64: return "<i8";
    case ONNXC_UINT8: return "|u1";
    case ONNXC_UINT16: return "<u2";
    case ONNXC_UINT32: return "<u4";
    case ONNXC_UINT64: return "<u8";
    case ONNXC_BOOL: return "|b1";
    case ONNXC_COMPLEX64: return "<c8";
    case ONNXC_COMPLEX128: return "<c16";
    default: return NULL;
    }
}

static void byteswap(uint8_t *d, size_t nbytes, size_t width)
{
    for (size_t off = 0; off + width <= nbytes; off += width)
        for (size_t i = 0; i < width / 2; i++) {
            uint8_t t = d[off + i];
            d[off + i] = d[off + width - 1 - i];
            d[off + width - 1 - i] = t;
        }
}

static onnxc_status read_npy(const uint8_t *buf, size_t len, const char *path, onnxc_tensor **out)
{
    if (len < 10)
        return oc_err(ONNXC_E_PARSE, "%s: truncated .npy file", path);
    int major = buf[6];
    size_t hlen, hstart;
    if (major == 1) {
        hlen = (size_t)buf[8] | (size_t)buf[9] << 8;
        hstart = 10;
    } else if (major == 2 || major == 3) {
        if (len < 12)
            return oc_err(ONNXC_E_PARSE, "%s: truncated .npy file", path);
        hlen = (size_t)buf[8] | (size_t)buf[9] << 8 | (size_t)buf[10] << 16 | (size_t)buf[11] << 24;
        hstart = 12;
    } else {
        return oc_err(ONNXC_E_UNSUPPORTED, "%s: .npy format version %d.%d is not supported", path, major, buf[7]);
    }
    if (hlen > len - hstart)
        return oc_err(ONNXC_E_PARSE, "%s: .npy header length %zu runs past the end of the file", path, hlen);
    npy_header h;
    onnxc_status st = parse_header((const char *)buf + hstart, hlen, &h, path);
    if (st != ONNXC_OK)
        return st;
    int32_t dtype = ONNXC_UNDEFINED;
    bool swap = false;
    if ((st = descr_to_dtype(h.descr, &dtype, &swap, path)) != ONNXC_OK)
        return st;
    /* the data's size must match the shape before anything is allocated: a header may claim gigabytes */
    const size_t have = len - hstart - hlen;
    size_t need = onnxc_dtype_size(dtype);
    for (int d = 0; d < h.rank && need; d++) {
        if (h.dims[d] < 0 || (uint64_t)h.dims[d] > SIZE_MAX / need) {
            need = SIZE_MAX; /* negative or overflowing: never equal to a real file's size */
            break;
        }
        need *= (size_t)h.dims[d];
    }
    if (need != have && need == SIZE_MAX)
        return oc_err(ONNXC_E_INVALID, "%s: .npy shape of '%s' is too large or negative (the data has %zu bytes)",
                      path, h.descr, have);
    if (need != have) {
        char dims[256];
        return oc_err(ONNXC_E_INVALID, "%s: .npy data has %zu bytes, shape %s of '%s' needs %zu", path, have,
                      oc_dims_str(h.dims, h.rank, dims, sizeof dims), h.descr, need);
    }
    onnxc_tensor *t;
    if ((st = onnxc_tensor_create(dtype, h.rank, h.dims, &t)) != ONNXC_OK)
        return oc_err_prefix(st, "%s", path);
    if (have != t->nbytes) {
        char dims[256];
        st = oc_err(ONNXC_E_INVALID, "%s: .npy data has %zu bytes, shape %s of '%s' needs %zu", path, have,
                    oc_dims_str(t->dims, t->rank, dims, sizeof dims), h.descr, t->nbytes);
        onnxc_tensor_free(t);
        return st;
    }
    if (t->nbytes && h.fortran && t->rank > 1) {
        /* Fortran order: the first index varies fastest; walk the file in that order and place each element */
        size_t es = onnxc_dtype_size(dtype);
        int64_t n = onnxc_tensor_numel(t), idx[ONNXC_MAX_RANK] = {0}, stride[ONNXC_MAX_RANK];
        stride[t->rank - 1] = 1;
        for (int d = t->rank - 2; d >= 0; d--)
            stride[d] = stride[d + 1] * t->dims[d + 1];
        const uint8_t *src = buf + hstart + hlen;
        for (int64_t f = 0; f < n; f++) {
            int64_t off = 0;
            for (int d = 0; d < t->rank; d++)
                off += idx[d] * stride[d];
            memcpy((uint8_t *)t->data + (size_t)off * es, src + (size_t)f * es, es);
            for (int d = 0; d < t->rank && ++idx[d] == t->dims[d]; d++)
                idx[d] = 0;
        }
    } else if (t->nbytes) {
        memcpy(t->data, buf + hstart + hlen, t->nbytes);
    }
    if (swap) {
        size_t es = onnxc_dtype_size(dtype);
        byteswap(t->data, t->nbytes, dtype == ONNXC_COMPLEX64 || dtype == ONNXC_COMPLEX128 ? es / 2 : es);
    }
    *out = t;
    return ONNXC_OK;
}

static onnxc_status read_pb(uint8_t *buf, size_t len, const char *path, onnxc_tensor **out, char **name)
{
    bool too_deep;
    Onnx__TensorProto *tp = (Onnx__TensorProto *)oc_pb_unpack(&onnx__tensor_proto__descriptor, buf, len, &too_deep);
    if (!tp)
        return oc_err(ONNXC_E_PARSE, "%s: neither a .npy file nor a valid TensorProto", path);
    /* External data of a lone tensor file is resolved against the file's folder, as for a model. */
    oc_ext_root root;
    char *dir = NULL, *real_dir = NULL;
    char what[300];
    snprintf(what, sizeof what, "%s: tensor '%s'", path, tp->name ? tp->name : "");
    oc_tensor *ot = NULL;
    onnxc_status st = oc_ext_root_for_file(path, &root, &dir, &real_dir);
    if (st == ONNXC_OK)
        st = oc_tensor_from_proto(tp, what, &root, true, &ot);
    oc_free(dir);
    oc_free(real_dir);
    if (st == ONNXC_OK && name && tp->name && !(*name = oc_strdup(tp->name)))
        st = oc_err(ONNXC_E_NOMEM, "out of memory");
    protobuf_c_message_free_unpacked(&tp->base, &oc_pb_allocator);
    if (st != ONNXC_OK) {
        oc_tensor_free(ot);
        return st;
    }
    onnxc_tensor *t = oc_malloc(sizeof *t);
    if (!t) {
        oc_tensor_free(ot);
        if (name) {
            oc_free(*name);
            *name = NULL;
        }
        return oc_err(ONNXC_E_NOMEM, "out of memory");
    }
    *t = ot->t; /* the data moves to the public tensor */
    ot->t.data = NULL;
    ot->t.owns_data = 0;
    oc_tensor_free(ot);
    *out = t;
    return ONNXC_OK;
}

onnxc_status oc_tensor_read_buffer(uint8_t *buf, size_t len, const char *path, onnxc_tensor **out, char **name)
{
    *out = NULL;
    if (name)
        *name = NULL;
    if (len >= sizeof npy_magic && memcmp(buf, npy_magic, sizeof npy_magic) == 0)
        return read_npy(buf, len, path, out);
    if (len == 0)
        return oc_err(ONNXC_E_PARSE, "%s: empty file, not a tensor", path);
    return read_pb(buf, len, path, out, name);
}

onnxc_status onnxc_tensor_read(const char *path, onnxc_tensor **out, char **name)
{
    if (!out || !path)
        return oc_err(ONNXC_E_ARG, "onnxc_tensor_read: NULL argument");
    *out = NULL;
    if (name)
        *name = NULL;
    uint8_t *buf;
    size_t len;
    onnxc_status st = oc_read_file(path, &buf, &len);
    if (st != ONNXC_OK)
        return st;
    st = oc_tensor_read_buffer(buf, len, path, out, name);
    oc_free(buf);
    return st;
}

/* ---------------------------------------------------------------- SequenceProto / OptionalProto */

/* onnx-data.proto, which onnx.proto does not include, so read by hand: SequenceProto {1 name, 2 elem_type,
 * 3 tensor_values, 5 sequence_values, ...}, OptionalProto {1 name, 2 elem_type, 3 tensor_value,
 * 5 sequence_value, ...}; elem_type 1 tensor, 3 sequence, 5 optional. Maps and sparse tensors are refused. */
static bool pb_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    *v = 0;
    for (int sh = 0; sh < 64 && *p < end; sh += 7) {
        uint8_t b = *(*p)++;
        *v |= (uint64_t)(b & 0x7f) << sh;
        if (!(b & 0x80))
            return true;
    }
    return false;
}

static onnxc_status read_seqval(uint8_t *buf, size_t len, int32_t kind, const char *path, int depth,
                                onnxc_tensor **out)
{
    *out = NULL;
    if (depth > 8)
        return oc_err(ONNXC_E_UNSUPPORTED, "%s: sequences nested deeper than 8", path);
    const uint8_t *p = buf, *end = buf + len;
    onnxc_tensor **items = NULL;
    int64_t n = 0;
    int32_t elem = 0;
    onnxc_status st = ONNXC_OK;
    const char *what = kind == ONNXC_SEQUENCE ? "SequenceProto" : "OptionalProto";
    while (st == ONNXC_OK && p < end) {
        uint64_t tag, v;
        if (!pb_varint(&p, end, &tag)) {
            st = oc_err(ONNXC_E_PARSE, "%s: not a valid %s", path, what);
            break;
        }
        const unsigned field = (unsigned)(tag >> 3), wt = (unsigned)(tag & 7);
        if (wt == 0) {
            if (!pb_varint(&p, end, &v))
                st = oc_err(ONNXC_E_PARSE, "%s: not a valid %s", path, what);
            else if (field == 2)
                elem = (int32_t)v;
            continue;
        }
        if (wt == 1 || wt == 5) {
            size_t w = wt == 1 ? 8 : 4;
            if ((size_t)(end - p) < w)
                st = oc_err(ONNXC_E_PARSE, "%s: not a valid %s", path, what);
            p += w;
            continue;
        }
        if (wt != 2 || !pb_varint(&p, end, &v) || v > (uint64_t)(end - p)) {
            st = oc_err(ONNXC_E_PARSE, "%s: not a valid %s", path, what);
            break;
        }
        uint8_t *sub = (uint8_t *)p;
        p += v;
        if (field == 1)
            continue;
        onnxc_tensor *item = NULL;
        if (field == 3)
            st = v ? read_pb(sub, (size_t)v, path, &item, NULL)
                   : oc_err(ONNXC_E_PARSE, "%s: an empty tensor in a %s", path, what);
        else if (field == 5)
            st = read_seqval(sub, (size_t)v, ONNXC_SEQUENCE, path, depth + 1, &item);
        else if (field == 7)
            st = read_seqval(sub, (size_t)v, ONNXC_OPTIONAL, path, depth + 1, &item);
        else
            st = oc_err(ONNXC_E_UNSUPPORTED, "%s: %s holds %s, which onnxc does not run", path, what,
                        field == 4 ? "sparse tensors" : field == 6 ? "maps" : "an unknown kind of value");
        if (st != ONNXC_OK)
            break;
        onnxc_tensor **g = realloc(items, (size_t)(n + 1) * sizeof *g);
        if (!g) {
            onnxc_tensor_free(item);
            st = oc_err(ONNXC_E_NOMEM, "out of memory");
            break;
        }
        items = g;
        items[n++] = item;
    }
    if (st == ONNXC_OK && kind == ONNXC_OPTIONAL && n > 1)
        st = oc_err(ONNXC_E_PARSE, "%s: an OptionalProto with %lld values", path, (long long)n);
    if (st == ONNXC_OK) {
        int32_t et = elem == 1 && n > 0 ? items[0]->dtype : elem == 3 ? ONNXC_SEQUENCE : ONNXC_UNDEFINED;
        st = onnxc_value_pack(kind, et, n, (const onnxc_tensor *const *)items, out);
    }
    for (int64_t i = 0; i < n; i++)
        onnxc_tensor_free(items[i]);
    free(items);
    return st;
}

onnxc_status onnxc_value_read(const char *path, int32_t kind, onnxc_tensor **out)
{
    if (!out || !path)
        return oc_err(ONNXC_E_ARG, "onnxc_value_read: NULL argument");
    if (kind != ONNXC_SEQUENCE && kind != ONNXC_OPTIONAL)
        return onnxc_tensor_read(path, out, NULL);
    *out = NULL;
    uint8_t *buf;
    size_t len;
    onnxc_status st = oc_read_file(path, &buf, &len);
    if (st != ONNXC_OK)
        return st;
    st = read_seqval(buf, len, kind, path, 0, out);
    oc_free(buf);
    return st;
}

/* ---------------------------------------------------------------- .npz */

static uint32_t le16(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }
static uint32_t le32(const uint8_t *p) { return le16(p) | le16(p + 2) << 16; }
static uint64_t le64(const uint8_t *p) { return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32; }

void onnxc_npz_free(int n, char **names, onnxc_tensor **tensors)
{
    for (int i = 0; i < n; i++) {
        if (names)
            oc_free(names[i]);
        if (tensors)
            onnxc_tensor_free(tensors[i]);
    }
    oc_free(names);
    oc_free(tensors);
}

/* numpy.savez writes a zip archive through Python's zipfile: members "<name>.npy", stored (savez) or deflated
 * (savez_compressed: DEFLATE, decoded by src/inflate.c), each checked against its CRC-32, sizes in the central directory or, past 4 GB or when forced, in its zip64 extra field. */
onnxc_status oc_npz_read_buffer(const uint8_t *buf, size_t len, const char *path, int *n_out, char ***names_out,
                                onnxc_tensor ***tensors_out)
{
    *n_out = 0;
    *names_out = NULL;
    *tensors_out = NULL;
    onnxc_status st = ONNXC_OK;
    /* the end-of-central-directory record: the last 22 bytes, or earlier when a comment follows it */
    size_t eocd = (size_t)-1;
    for (size_t k = len >= 22 ? len - 22 : 0; len >= 22; k--) {
        if (le32(buf + k) == 0x06054b50u) {
            eocd = k;
            break;
        }
        if (k == 0 || len - k > 22 + 65535)
            break;
    }
    char **names = NULL;
    onnxc_tensor **tensors = NULL;
    int n = 0;
    if (eocd == (size_t)-1) {
        st = oc_err(ONNXC_E_PARSE, "%s: not a .npz archive (no zip directory; the file may be truncated)", path);
        goto out;
    }
    uint64_t count = le16(buf + eocd + 10), cd = le32(buf + eocd + 16);
    if ((count == 0xFFFF || cd == 0xFFFFFFFFu) && eocd >= 20 && le32(buf + eocd - 20) == 0x07064b50u) {
        uint64_t z = le64(buf + eocd - 20 + 8); /* the zip64 end-of-central-directory record */
        if (len < 56 || z > len - 56 || le32(buf + z) != 0x06064b50u) {
            st = oc_err(ONNXC_E_PARSE, "%s: bad zip64 directory", path);
            goto out;
        }
        count = le64(buf + z + 32);
        cd = le64(buf + z + 48);
    }
    if (count > (uint64_t)(len / 46) + 1 || cd > len) {
        st = oc_err(ONNXC_E_PARSE, "%s: zip directory runs past the end of the file (the file may be truncated)", path);
        goto out;
    }
    if (!(names = oc_calloc((size_t)count + 1, sizeof *names)) ||
        !(tensors = oc_calloc((size_t)count + 1, sizeof *tensors))) {
        st = oc_err(ONNXC_E_NOMEM, "out of memory");
        goto out;
    }
    size_t p = (size_t)cd;
    uint64_t stored_bytes = 0; /* compressed bytes of the members so far: members never share bytes */
    for (uint64_t e = 0; e < count; e++) {
        if (len < 46 || p > len - 46 || le32(buf + p) != 0x02014b50u) {
            st = oc_err(ONNXC_E_PARSE, "%s: bad zip directory entry %llu (the file may be truncated)", path,
                        (unsigned long long)e);
            goto out;
        }
        uint32_t method = le16(buf + p + 10), nlen = le16(buf + p + 28), xlen = le16(buf + p + 30),
                 clen = le16(buf + p + 32);
        uint32_t crc = le32(buf + p + 16);
        uint64_t csize = le32(buf + p + 20), usize = le32(buf + p + 24), loff = le32(buf + p + 42);
        if (p + 46 + (size_t)nlen + xlen + clen > len) {
            st = oc_err(ONNXC_E_PARSE, "%s: zip directory entry %llu runs past the end of the file", path,
                        (unsigned long long)e);
            goto out;
        }
        const uint8_t *nm = buf + p + 46, *x = nm + nlen, *xend = x + xlen;
        while (x + 4 <= xend) { /* zip64 extra: the 64-bit sizes and offset, each present when its field is ~0 */
            uint32_t id = le16(x), sz = le16(x + 2);
            const uint8_t *v = x + 4, *vend = v + sz;
            if (vend > xend)
                break;
            if (id == 0x0001) {
                if (usize == 0xFFFFFFFFu && v + 8 <= vend) {
                    usize = le64(v);
                    v += 8;
                }
                if (csize == 0xFFFFFFFFu && v + 8 <= vend) {
                    csize = le64(v);
                    v += 8;
                }
                if (loff == 0xFFFFFFFFu && v + 8 <= vend)
                    loff = le64(v);
            }
            x = vend;
        }
        p += 46 + (size_t)nlen + xlen + clen;
        char *name = oc_malloc((size_t)nlen + 1);
        if (!name) {
            st = oc_err(ONNXC_E_NOMEM, "out of memory");
            goto out;
        }
        memcpy(name, nm, nlen);
        name[nlen] = 0;
        names[n] = name;
        if (nlen > 4 && strcmp(name + nlen - 4, ".npy") == 0)
            name[nlen - 4] = 0;
        char what[600];
        snprintf(what, sizeof what, "%s[%s]", path, name);
        if (method != 0 && method != 8) {
            st = oc_err(ONNXC_E_UNSUPPORTED, "%s: member compressed with zip method %u (only 0, stored, as "
                        "numpy.savez writes, and 8, deflate, as numpy.savez_compressed writes, are read)", what,
                        method);
            goto out;
        }
        if (len < 30 || loff > len - 30 || le32(buf + loff) != 0x04034b50u) {
            st = oc_err(ONNXC_E_PARSE, "%s: bad zip member header (the file may be truncated)", what);
            goto out;
        }
        uint64_t data = loff + 30 + le16(buf + loff + 26) + le16(buf + loff + 28);
        if ((method == 0 && csize != usize) || data > len || csize > len - data) {
            st = oc_err(ONNXC_E_PARSE, "%s: member runs past the end of the archive (the file may be truncated)",
                        what);
            goto out;
        }
        /* directory entries pointing at the same bytes would let a small file stand for unbounded data */
        stored_bytes += csize;
        if (stored_bytes > len) {
            st = oc_err(ONNXC_E_PARSE, "%s: the archive's members overlap (a corrupted or malicious archive)", what);
            goto out;
        }
        const uint8_t *d = buf + data;
        uint8_t *plain = NULL;
        if (method == 8) {
            /* the size the directory declares is bounded by what DEFLATE can make of the compressed bytes (a
             * bomb cannot make us allocate more), and the stream must make exactly that many */
            if (usize / OC_INFLATE_MAX_RATIO > csize || usize > (uint64_t)SIZE_MAX - 1) {
                st = oc_err(ONNXC_E_PARSE, "%s: the archive declares %llu bytes made of %llu compressed ones, more "
                            "than DEFLATE can produce (a corrupted or malicious archive)", what,
                            (unsigned long long)usize, (unsigned long long)csize);
                goto out;
            }
            if (!(plain = oc_malloc(usize ? (size_t)usize : 1))) {
                st = oc_err(ONNXC_E_NOMEM, "%s: out of memory for %llu decompressed bytes", what,
                            (unsigned long long)usize);
                goto out;
            }
            if ((st = oc_inflate(d, (size_t)csize, plain, (size_t)usize, what)) != ONNXC_OK) {
                oc_free(plain);
                goto out;
            }
            d = plain;
        }
        if (oc_crc32(0, d, (size_t)usize) != crc) {
            st = oc_err(ONNXC_E_PARSE, "%s: CRC-32 mismatch (the archive is corrupted)", what);
            oc_free(plain);
            goto out;
        }
        if (usize < sizeof npy_magic || memcmp(d, npy_magic, sizeof npy_magic) != 0) {
            st = oc_err(ONNXC_E_PARSE, "%s: member is not a .npy array", what);
            oc_free(plain);
            goto out;
        }
        n++;
        st = read_npy(d, (size_t)usize, what, &tensors[n - 1]);
        oc_free(plain);
        if (st != ONNXC_OK)
            goto out;
    }
    if (n == 0)
        st = oc_err(ONNXC_E_INVALID, "%s: the archive holds no arrays", path);
out:
    if (st != ONNXC_OK) {
        onnxc_npz_free(n + (names && names[n] ? 1 : 0), names, tensors);
        return st;
    }
    *n_out = n;
    *names_out = names;
    *tensors_out = tensors;
    return ONNXC_OK;
}

onnxc_status onnxc_npz_read(const char *path, int *n_out, char ***names_out, onnxc_tensor ***tensors_out)
{
    if (!path || !n_out || !names_out || !tensors_out)
        return oc_err(ONNXC_E_ARG, "onnxc_npz_read: NULL argument");
    *n_out = 0;
    *names_out = NULL;
    *tensors_out = NULL;
    uint8_t *buf;
    size_t len;
    onnxc_status st = oc_read_file(path, &buf, &len);
    if (st != ONNXC_OK)
        return st;
    st = oc_npz_read_buffer(buf, len, path, n_out, names_out, tensors_out);
    oc_free(buf);
    return st;
}

/* ---------------------------------------------------------------- casting */

onnxc_status onnxc_tensor_cast(const onnxc_tensor *src, int32_t dtype, onnxc_tensor **out)
{
    if (!src || !out)
        return oc_err(ONNXC_E_ARG, "onnxc_tensor_cast: NULL argument");
    *out = NULL;
    static const int32_t bad[] = {ONNXC_STRING, ONNXC_COMPLEX64, ONNXC_COMPLEX128, ONNXC_UNDEFINED};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (src->dtype == bad[i] || dtype == bad[i] || !onnxc_dtype_size(src->dtype) || !onnxc_dtype_size(dtype))
            return oc_err(ONNXC_E_UNSUPPORTED, "cannot cast %s to %s", onnxc_dtype_name(src->dtype),
                          onnxc_dtype_name(dtype));
    onnxc_tensor *t;
    onnxc_status st = onnxc_tensor_create(dtype, src->rank, src->dims, &t);
    if (st != ONNXC_OK)
        return st;
    int64_t n = onnxc_tensor_numel(src);
    if (src->nbytes < (size_t)n * onnxc_dtype_size(src->dtype)) {
        onnxc_tensor_free(t);
        return oc_err(ONNXC_E_ARG, "onnxc_tensor_cast: tensor holds fewer bytes than its shape needs");
    }
    for (int64_t i = 0; i < n; i++)
        oc_store_f64(dtype, t->data, i, oc_load_f64(src->dtype, src->data, i));
    *out = t;
    return ONNXC_OK;
}

/* ---------------------------------------------------------------- writing */

static onnxc_status check_tensor(const onnxc_tensor *t, const char *path)
{
    if (!t || !path)
        return oc_err(ONNXC_E_ARG, "tensor write: NULL argument");
    int64_t numel;
    size_t es = onnxc_dtype_size(t->dtype), need;
    if (t->rank < 0 || t->rank > ONNXC_MAX_RANK || !oc_numel(t->dims, t->rank, &numel) || es == 0 ||
        !oc_mul_size((size_t)numel, es, &need))
        return oc_err(ONNXC_E_ARG, "%s: the tensor has a bad type or shape", path);
    if (t->dtype != ONNXC_STRING && (t->nbytes < need || (need && !t->data)))
        return oc_err(ONNXC_E_ARG, "%s: the tensor holds %zu bytes, its shape needs %zu", path, t->nbytes, need);
    return ONNXC_OK;
}

onnxc_status onnxc_tensor_write_npy(const onnxc_tensor *t, const char *path)
{
    onnxc_status st = check_tensor(t, path);
    if (st != ONNXC_OK)
        return st;
    const char *descr = dtype_to_descr(t->dtype);
    if (!descr)
        return oc_err(ONNXC_E_UNSUPPORTED, "%s: %s tensors have no NumPy type; write a .pb file instead", path,
                      onnxc_dtype_name(t->dtype));
    char dict[512];
    int n = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
    for (int i = 0; i < t->rank; i++)
        n += snprintf(dict + n, sizeof dict - (size_t)n, i ? " %lld," : "%lld,", (long long)t->dims[i]);
    if (t->rank > 1)
        n--; /* (2, 3) but (3,) */
    n += snprintf(dict + n, sizeof dict - (size_t)n, "), }");
    /* numpy pads the header with spaces and a newline so the data starts at a multiple of 64 */
    uint8_t header[640];
    size_t total = 10 + (size_t)n + 1;
    total = (total + 63) / 64 * 64;
    size_t hlen = total - 10;
    memcpy(header, npy_magic, 6);
    header[6] = 1;
    header[7] = 0;
    header[8] = (uint8_t)(hlen & 0xff);
    header[9] = (uint8_t)(hlen >> 8);
    memcpy(header + 10, dict, (size_t)n);
    memset(header + 10 + n, ' ', hlen - (size_t)n - 1);
    header[total - 1] = '\n';
    size_t need = (size_t)onnxc_tensor_numel(t) * onnxc_dtype_size(t->dtype);
    oc_piece pieces[2] = {{header, total}, {t->data, need}};
    return oc_write_file_atomic(path, pieces, 2);
}

onnxc_status onnxc_tensor_write_pb(const onnxc_tensor *t, const char *name, const char *path)
{
    onnxc_status st = check_tensor(t, path);
    if (st != ONNXC_OK)
        return st;
    oc_tensor ot;
    memset(&ot, 0, sizeof ot);
    ot.t = *t;
    ot.name = (char *)name;
    ot.storage = OC_STORE_RAW;
    ot.has_data_type = true;
    oc_arena arena;
    memset(&arena, 0, sizeof arena);
    Onnx__TensorProto tp;
    char what[300];
    snprintf(what, sizeof what, "%s: tensor '%s'", path, name ? name : "");
    st = oc_tensor_to_proto(&ot, &tp, &arena, what);
    if (st == ONNXC_OK) {
        size_t n = protobuf_c_message_get_packed_size(&tp.base);
        uint8_t *buf = n <= (size_t)INT32_MAX ? oc_malloc(n ? n : 1) : NULL;
        if (n > (size_t)INT32_MAX) {
            st = oc_err(ONNXC_E_UNSUPPORTED, "%s: %zu bytes is above protobuf's 2 GB limit; write a .npy file", path,
                        n);
        } else if (!buf) {
            st = oc_err(ONNXC_E_NOMEM, "%s: out of memory for %zu bytes", path, n);
        } else {
            size_t packed = protobuf_c_message_pack(&tp.base, buf);
            oc_piece piece = {buf, packed};
            st = oc_write_file_atomic(path, &piece, 1);
            oc_free(buf);
        }
    }
    oc_arena_free(&arena);
    return st;
}
