/* ONNX loader: parses a ModelProto with protobuf-c and builds the IR, keeping everything a lossless round trip
 * needs (doc strings, presence flags, storage forms, opaque sub-messages), and checks every size and name it reads. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "external_data.h"
#include "ir.h"
#include "proto_tensor.h"

/* ORT caps subgraph nesting at 32 too; deeper models are almost certainly hostile. */
#define OC_MAX_GRAPH_DEPTH 32
/* Message nesting checked before protobuf-c recurses: Model > Graph > Node > Attribute > Graph ... plus types. */
#define OC_MAX_MESSAGE_DEPTH 200

/* ---------------------------------------------------------------- protobuf-c plumbing */

static void *pb_alloc(void *ad, size_t n)
{
    (void)ad;
    return oc_malloc(n);
}

static void pb_free(void *ad, void *p)
{
    (void)ad;
    oc_free(p);
}

ProtobufCAllocator oc_pb_allocator = {pb_alloc, pb_free, NULL};

static bool pb_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    uint64_t r = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (*p >= end)
            return false;
        uint8_t b = *(*p)++;
        r |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = r;
            return true;
        }
    }
    return false;
}

/* Walk the wire format and report whether message-typed fields nest deeper than OC_MAX_MESSAGE_DEPTH.
 * Malformed bytes are left for protobuf-c to reject. Returns 1 when too deep. */
static int pb_depth_scan(const uint8_t *p, const uint8_t *end, const ProtobufCMessageDescriptor *d, int depth)
{
    while (p < end) {
        uint64_t tag, len;
        if (!pb_varint(&p, end, &tag))
            return 0;
        switch (tag & 7) {
        case 0:
            if (!pb_varint(&p, end, &len))
                return 0;
            break;
        case 1:
            if (end - p < 8)
                return 0;
            p += 8;
            break;
        case 5:
            if (end - p < 4)
                return 0;
            p += 4;
            break;
        case 2: {
            if (!pb_varint(&p, end, &len) || len > (uint64_t)(end - p))
                return 0;
            const ProtobufCFieldDescriptor *f =
                (tag >> 3) <= UINT32_MAX ? protobuf_c_message_descriptor_get_field(d, (unsigned)(tag >> 3)) : NULL;
            if (f && f->type == PROTOBUF_C_TYPE_MESSAGE) {
                if (depth + 1 > OC_MAX_MESSAGE_DEPTH)
                    return 1;
                if (pb_depth_scan(p, p + len, f->descriptor, depth + 1))
                    return 1;
            }
            p += len;
            break;
        }
        default:
            return 0;
        }
    }
    return 0;
}

/* True when msg or a message inside it has an unknown field protobuf does not allow: protobuf-c reads an
 * over-long tag varint such as 0x82 0x00 as field number 0, and takes numbers past 2^29 - 1, where protobuf
 * (and python's onnx) refuse the message. Such fields could not be written back as read. Nesting was bounded by
 * pb_depth_scan before protobuf-c parsed it, so the recursion is too. */
static bool pb_bad_unknown(const ProtobufCMessage *msg)
{
    for (unsigned i = 0; i < msg->n_unknown_fields; i++) {
        const ProtobufCMessageUnknownField *f = &msg->unknown_fields[i];
        if (f->tag == 0 || f->tag > 0x1fffffffu ||
            (f->wire_type != PROTOBUF_C_WIRE_TYPE_VARINT && f->wire_type != PROTOBUF_C_WIRE_TYPE_64BIT &&
             f->wire_type != PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED && f->wire_type != PROTOBUF_C_WIRE_TYPE_32BIT))
            return true;
    }
    const ProtobufCMessageDescriptor *d = msg->descriptor;
    const char *base = (const char *)msg;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (f->type != PROTOBUF_C_TYPE_MESSAGE)
            continue;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n;
            ProtobufCMessage **arr;
            memcpy(&n, base + f->quantifier_offset, sizeof n);
            memcpy(&arr, base + f->offset, sizeof arr);
            for (size_t k = 0; k < n; k++)
                if (arr[k] && pb_bad_unknown(arr[k]))
                    return true;
            continue;
        }
        if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            uint32_t which; /* the oneof's case: its members share one slot */
            memcpy(&which, base + f->quantifier_offset, sizeof which);
            if (which != f->id)
                continue;
        }
        ProtobufCMessage *sub;
        memcpy(&sub, base + f->offset, sizeof sub);
        if (sub && pb_bad_unknown(sub))
            return true;
    }
    return false;
}

ProtobufCMessage *oc_pb_unpack(const ProtobufCMessageDescriptor *d, const uint8_t *data, size_t len, bool *too_deep)
{
    *too_deep = false;
    if (pb_depth_scan(data, data + len, d, 1)) {
        *too_deep = true;
        return NULL;
    }
    ProtobufCMessage *msg = protobuf_c_message_unpack(d, &oc_pb_allocator, len, data);
    if (msg && pb_bad_unknown(msg)) {
        protobuf_c_message_free_unpacked(msg, &oc_pb_allocator);
        return NULL;
    }
    return msg;
}

/* Pack a sub-message the IR keeps opaque. data is never NULL on success, so presence survives even when the
 * message packs to zero bytes. */
static onnxc_status pack_opaque(const ProtobufCMessage *msg, oc_bytes *out)
{
    size_t n = protobuf_c_message_get_packed_size(msg);
    out->data = oc_malloc(n ? n : 1);
    if (!out->data)
        return oc_err(ONNXC_E_NOMEM, "out of memory");
    out->len = protobuf_c_message_pack(msg, out->data);
    return ONNXC_OK;
}

static size_t varint_size(uint64_t v)
{
    size_t n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

/* The fields of msg that the compiled schema does not know (newer ONNX: NodeProto.metadata_props, ...), as the wire
 * bytes protobuf-c writes for them: the tag, then the value as protobuf-c kept it (for a length-delimited field
 * that includes the length prefix). save.c hands them back to protobuf-c, which packs them after the known
 * fields. Nothing is allocated when there are none. */
static onnxc_status keep_unknown(const ProtobufCMessage *msg, oc_bytes *out)
{
    out->data = NULL;
    out->len = 0;
    if (!msg->n_unknown_fields)
        return ONNXC_OK;
    size_t total = 0;
    for (unsigned i = 0; i < msg->n_unknown_fields; i++) {
        const ProtobufCMessageUnknownField *f = &msg->unknown_fields[i];
        size_t n = varint_size((uint64_t)f->tag << 3 | f->wire_type) + f->len;
        if (n < f->len || total > SIZE_MAX - n)
            return oc_err(ONNXC_E_NOMEM, "unknown fields too large");
        total += n;
    }
    uint8_t *p = oc_malloc(total);
    if (!p)
        return oc_err(ONNXC_E_NOMEM, "out of memory for %zu bytes of unknown fields", total);
    out->data = p;
    out->len = total;
    for (unsigned i = 0; i < msg->n_unknown_fields; i++) {
        const ProtobufCMessageUnknownField *f = &msg->unknown_fields[i];
        uint64_t tag = (uint64_t)f->tag << 3 | f->wire_type;
        while (tag >= 0x80) {
            *p++ = (uint8_t)(tag | 0x80);
            tag >>= 7;
        }
        *p++ = (uint8_t)tag;
        if (f->len)
            memcpy(p, f->data, f->len);
        p += f->len;
    }
    return ONNXC_OK;
}

static onnxc_status dup_str(char **dst, const char *src)
{
    *dst = oc_strdup(src);
    if (src && !*dst)
        return oc_err(ONNXC_E_NOMEM, "out of memory");
    return ONNXC_OK;
}

static onnxc_status dup_bytes(oc_bytes *dst, const ProtobufCBinaryData *src)
{
    dst->len = src->len;
    dst->data = oc_malloc(src->len ? src->len : 1);
    if (!dst->data)
        return oc_err(ONNXC_E_NOMEM, "out of memory");
    if (src->len)
        memcpy(dst->data, src->data, src->len);
    return ONNXC_OK;
}

/* ---------------------------------------------------------------- tensors */

/* Typed field each data type may use (TensorProto comments in onnx.proto). */
enum typed_field { TF_NONE, TF_FLOAT, TF_INT32, TF_STRING, TF_INT64, TF_DOUBLE, TF_UINT64 };

static enum typed_field typed_field_for(int32_t dtype)
{
    switch (dtype) {
    case ONNXC_FLOAT: case ONNXC_COMPLEX64: return TF_FLOAT;
    case ONNXC_INT32: case ONNXC_INT16: case ONNXC_INT8: case ONNXC_UINT16: case ONNXC_UINT8: case ONNXC_BOOL:
    case ONNXC_FLOAT16: case ONNXC_BFLOAT16: return TF_INT32;
    case ONNXC_STRING: return TF_STRING;
    case ONNXC_INT64: return TF_INT64;
    case ONNXC_DOUBLE: case ONNXC_COMPLEX128: return TF_DOUBLE;
    case ONNXC_UINT32: case ONNXC_UINT64: return TF_UINT64;
    default: return TF_NONE;
    }
}

static const char *typed_field_name(enum typed_field f)
{
    static const char *names[] = {"(none)", "float_data", "int32_data", "string_data", "int64_data", "double_data",
                                  "uint64_data"};
    return names[f];
}

/* Copy a typed field into tensor data of the element size of dtype; narrower types keep the low bits, which is
 * how int8/uint8/int16/uint16/bool/fp16/bf16 values are stored in int32_data (fp16 as uint16 bit patterns). */
static onnxc_status decode_typed(const Onnx__TensorProto *tp, enum typed_field f, onnxc_tensor *t, int64_t numel,
                                 const char *what)
{
    size_t n;
    int64_t want = numel;
    if (t->dtype == ONNXC_COMPLEX64 || t->dtype == ONNXC_COMPLEX128)
        want = numel * 2; /* numel * 16 bytes fitted in size_t already, so this cannot overflow */
    switch (f) {
    case TF_FLOAT: n = tp->n_float_data; break;
    case TF_INT32: n = tp->n_int32_data; break;
    case TF_STRING: n = tp->n_string_data; break;
    case TF_INT64: n = tp->n_int64_data; break;
    case TF_DOUBLE: n = tp->n_double_data; break;
    case TF_UINT64: n = tp->n_uint64_data; break;
    default: n = 0; break;
    }
    if ((uint64_t)n != (uint64_t)want) {
        char dims[256];
        return oc_err(ONNXC_E_INVALID, "%s: %s has %zu values, dims %s of %s need %lld", what, typed_field_name(f), n,
                      oc_dims_str(t->dims, t->rank, dims, sizeof dims), onnxc_dtype_name(t->dtype), (long long)want);
    }
    if (f == TF_STRING) {
        onnxc_string *s = oc_calloc(n ? n : 1, sizeof *s);
        if (!s)
            return oc_err(ONNXC_E_NOMEM, "%s: out of memory for %zu strings", what, n);
        t->data = s;
        t->owns_data = 1;
        for (size_t i = 0; i < n; i++) {
            s[i].data = oc_strndup(tp->string_data[i].len ? (const char *)tp->string_data[i].data : "",
                                   tp->string_data[i].len);
            if (!s[i].data)
                return oc_err(ONNXC_E_NOMEM, "%s: out of memory for strings", what);
            s[i].len = tp->string_data[i].len;
        }
        return ONNXC_OK;
    }
    if (f == TF_INT32 && (t->dtype == ONNXC_INT8 || t->dtype == ONNXC_UINT8 || t->dtype == ONNXC_INT16 ||
                          t->dtype == ONNXC_UINT16)) {
        /* a value the type cannot hold (a uint8 zero point of 300) would otherwise be cut to its low bits */
        int32_t lo = t->dtype == ONNXC_INT8 ? -128 : t->dtype == ONNXC_INT16 ? -32768 : 0;
        int32_t hi = t->dtype == ONNXC_INT8 ? 127 : t->dtype == ONNXC_UINT8 ? 255 : t->dtype == ONNXC_INT16 ? 32767
                                                                                                            : 65535;
        for (size_t i = 0; i < n; i++)
            if (tp->int32_data[i] < lo || tp->int32_data[i] > hi)
                return oc_err(ONNXC_E_INVALID, "%s: int32_data[%zu] = %d is outside the range of %s [%d, %d]", what, i,
                              (int)tp->int32_data[i], onnxc_dtype_name(t->dtype), (int)lo, (int)hi);
    }
    uint8_t *d = oc_malloc(t->nbytes ? t->nbytes : 1);
    if (!d)
        return oc_err(ONNXC_E_NOMEM, "%s: out of memory for %zu bytes", what, t->nbytes);
    t->data = d;
    t->owns_data = 1;
    size_t es = onnxc_dtype_size(t->dtype);
    switch (f) {
    case TF_FLOAT: memcpy(d, tp->float_data, n * sizeof(float)); break;
    case TF_INT64: memcpy(d, tp->int64_data, n * sizeof(int64_t)); break;
    case TF_DOUBLE: memcpy(d, tp->double_data, n * sizeof(double)); break;
    case TF_INT32:
        for (size_t i = 0; i < n; i++) {
            uint32_t v = (uint32_t)tp->int32_data[i];
            if (es == 4) {
                memcpy(d + 4 * i, &v, 4);
            } else if (es == 2) {
                uint16_t h = (uint16_t)v;
                memcpy(d + 2 * i, &h, 2);
            } else {
                d[i] = (uint8_t)v;
            }
        }
        break;
    case TF_UINT64:
        if (es == 8) {
            memcpy(d, tp->uint64_data, n * sizeof(uint64_t));
        } else {
            for (size_t i = 0; i < n; i++) {
                uint32_t v = (uint32_t)tp->uint64_data[i];
                memcpy(d + 4 * i, &v, 4);
            }
        }
        break;
    default: break;
    }
    return ONNXC_OK;
}

onnxc_status oc_tensor_from_proto(Onnx__TensorProto *tp, const char *what, const oc_ext_root *root, bool steal,
                                  oc_tensor **out)
{
    *out = NULL;
    oc_tensor *t = oc_calloc(1, sizeof *t);
    if (!t)
        return oc_err(ONNXC_E_NOMEM, "%s: out of memory", what);
    onnxc_status st = ONNXC_OK;
    char dims[256];
    if (tp->n_dims > ONNXC_MAX_RANK) {
        st = oc_err(ONNXC_E_UNSUPPORTED, "%s: rank %zu is above the supported maximum %d", what, tp->n_dims,
                    ONNXC_MAX_RANK);
        goto fail;
    }
    t->t.rank = (int32_t)tp->n_dims;
    for (size_t i = 0; i < tp->n_dims; i++) {
        if (tp->dims[i] < 0) {
            st = oc_err(ONNXC_E_INVALID, "%s: dim %zu is negative (%lld)", what, i, (long long)tp->dims[i]);
            goto fail;
        }
        t->t.dims[i] = tp->dims[i];
    }
    int64_t numel;
    if (!oc_numel(t->t.dims, t->t.rank, &numel)) {
        st = oc_err(ONNXC_E_INVALID, "%s: dims %s overflow a 64-bit element count", what,
                    oc_dims_str(t->t.dims, t->t.rank, dims, sizeof dims));
        goto fail;
    }
    t->has_data_type = tp->has_data_type;
    t->t.dtype = tp->data_type;
    size_t es = onnxc_dtype_size(tp->data_type);
    if (!tp->has_data_type || tp->data_type == ONNXC_UNDEFINED) {
        st = oc_err(ONNXC_E_INVALID, "%s: no data type", what);
        goto fail;
    }
    if (es == 0) {
        st = oc_err(ONNXC_E_UNSUPPORTED, "%s: data type %d is not supported", what, (int)tp->data_type);
        goto fail;
    }
    if (!oc_mul_size((size_t)numel, es, &t->t.nbytes) || t->t.nbytes > (size_t)INT64_MAX) {
        st = oc_err(ONNXC_E_INVALID, "%s: dims %s of %s overflow the byte count", what,
                    oc_dims_str(t->t.dims, t->t.rank, dims, sizeof dims), onnxc_dtype_name(t->t.dtype));
        goto fail;
    }
    if ((st = dup_str(&t->name, tp->name)) != ONNXC_OK || (st = dup_str(&t->doc_string, tp->doc_string)) != ONNXC_OK ||
        (st = keep_unknown(&tp->base, &t->unknown)) != ONNXC_OK)
        goto fail;
    if (tp->segment) {
        /* A segment is one chunk of a bigger tensor split over several TensorProtos; only a segment that is the
         * whole tensor can be read on its own. */
        int64_t b = tp->segment->has_begin ? tp->segment->begin : 0;
        int64_t e = tp->segment->has_end ? tp->segment->end : numel;
        if (b != 0 || e != numel) {
            st = oc_err(ONNXC_E_UNSUPPORTED, "%s: tensor segments [%lld, %lld) of a split tensor are not supported",
                        what, (long long)b, (long long)e);
            goto fail;
        }
        t->has_segment = true;
        t->has_segment_begin = tp->segment->has_begin;
        t->segment_begin = tp->segment->begin;
        t->has_segment_end = tp->segment->has_end;
        t->segment_end = tp->segment->end;
        if ((st = keep_unknown(&tp->segment->base, &t->segment_unknown)) != ONNXC_OK)
            goto fail;
    }
    if (tp->n_external_data) {
        t->external = oc_calloc(tp->n_external_data, sizeof *t->external);
        if (!t->external) {
            st = oc_err(ONNXC_E_NOMEM, "%s: out of memory", what);
            goto fail;
        }
        t->n_external = tp->n_external_data;
        for (size_t i = 0; i < tp->n_external_data; i++)
            if ((st = dup_str(&t->external[i].key, tp->external_data[i]->key)) != ONNXC_OK ||
                (st = dup_str(&t->external[i].value, tp->external_data[i]->value)) != ONNXC_OK ||
                (st = keep_unknown(&tp->external_data[i]->base, &t->external[i].unknown)) != ONNXC_OK)
                goto fail;
    }
    t->has_data_location = tp->has_data_location;
    bool external = tp->has_data_location && tp->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    if (tp->has_data_location && !external && tp->data_location != ONNX__TENSOR_PROTO__DATA_LOCATION__DEFAULT) {
        st = oc_err(ONNXC_E_INVALID, "%s: unknown data_location %d", what, (int)tp->data_location);
        goto fail;
    }

    /* Which data fields are present: exactly one (or none for an empty tensor) is valid. */
    enum typed_field present[7];
    int n_present = 0;
    if (tp->n_float_data) present[n_present++] = TF_FLOAT;
    if (tp->n_int32_data) present[n_present++] = TF_INT32;
    if (tp->n_string_data) present[n_present++] = TF_STRING;
    if (tp->n_int64_data) present[n_present++] = TF_INT64;
    if (tp->n_double_data) present[n_present++] = TF_DOUBLE;
    if (tp->n_uint64_data) present[n_present++] = TF_UINT64;
    int n_fields = n_present + (tp->has_raw_data ? 1 : 0) + (external ? 1 : 0);
    if (n_fields > 1) {
        st = oc_err(ONNXC_E_INVALID, "%s: data is given in %d places (%s%s%s); exactly one is allowed", what, n_fields,
                    external ? "external " : "", tp->has_raw_data ? "raw_data " : "",
                    n_present ? typed_field_name(present[0]) : "");
        goto fail;
    }
    if (external) {
        if (t->t.dtype == ONNXC_STRING) {
            st = oc_err(ONNXC_E_INVALID, "%s: a string tensor cannot use external data", what);
            goto fail;
        }
        t->storage = OC_STORE_EXTERNAL;
        void *data = NULL;
        if ((st = oc_external_read(root, t->external, t->n_external, t->t.nbytes, what, &data)) != ONNXC_OK)
            goto fail;
        t->t.data = data;
        t->t.owns_data = 1;
    } else if (tp->has_raw_data) {
        if (t->t.dtype == ONNXC_STRING) {
            st = oc_err(ONNXC_E_INVALID, "%s: a string tensor cannot use raw_data (strings go in string_data)", what);
            goto fail;
        }
        if (tp->raw_data.len != t->t.nbytes) {
            st = oc_err(ONNXC_E_INVALID, "%s: raw_data has %zu bytes, dims %s of %s need %zu", what, tp->raw_data.len,
                        oc_dims_str(t->t.dims, t->t.rank, dims, sizeof dims), onnxc_dtype_name(t->t.dtype),
                        t->t.nbytes);
            goto fail;
        }
        t->storage = OC_STORE_RAW;
        if (steal && tp->raw_data.data) {
            t->t.data = tp->raw_data.data;
            tp->raw_data.data = NULL;
            tp->raw_data.len = 0;
        } else {
            t->t.data = oc_malloc(t->t.nbytes ? t->t.nbytes : 1);
            if (!t->t.data) {
                st = oc_err(ONNXC_E_NOMEM, "%s: out of memory for %zu bytes", what, t->t.nbytes);
                goto fail;
            }
            if (t->t.nbytes)
                memcpy(t->t.data, tp->raw_data.data, t->t.nbytes);
        }
        t->t.owns_data = 1;
    } else if (n_present) {
        enum typed_field want = typed_field_for(t->t.dtype);
        if (present[0] != want) {
            st = oc_err(ONNXC_E_INVALID, "%s: %s tensor has its data in %s (expected %s)", what,
                        onnxc_dtype_name(t->t.dtype), typed_field_name(present[0]), typed_field_name(want));
            goto fail;
        }
        t->storage = OC_STORE_TYPED;
        if ((st = decode_typed(tp, want, &t->t, numel, what)) != ONNXC_OK)
            goto fail;
    } else {
        if (numel != 0) {
            st = oc_err(ONNXC_E_INVALID, "%s: no data, but dims %s of %s need %lld elements", what,
                        oc_dims_str(t->t.dims, t->t.rank, dims, sizeof dims), onnxc_dtype_name(t->t.dtype),
                        (long long)numel);
            goto fail;
        }
        t->storage = OC_STORE_NONE;
        t->t.data = oc_calloc(1, 1);
        if (!t->t.data) {
            st = oc_err(ONNXC_E_NOMEM, "%s: out of memory", what);
            goto fail;
        }
        t->t.owns_data = 1;
    }
    *out = t;
    return ONNXC_OK;
fail:
    oc_tensor_free(t);
    return st;
}

/* ---------------------------------------------------------------- loader state */

typedef struct oc_loader {
    onnxc_model *m;
    oc_ext_root root; /* where external data may be read from */
    int elided;       /* subgraph levels left out of the current error message (see load_subgraph) */
    bool keep_undefined; /* onnxc_model_load_for_check: a name nothing defines becomes a value without a
                          * producer (for check to list every one) instead of refusing the model */
} oc_loader;

static onnxc_status load_graph(oc_loader *L, Onnx__GraphProto *gp, oc_graph *g, int depth);

/* ---------------------------------------------------------------- types */

static onnxc_status load_type(const Onnx__TypeProto *tp, oc_type *ty, const char *what)
{
    memset(ty, 0, sizeof *ty);
    ty->rank = -1;
    if (!tp)
        return ONNXC_OK;
    if (tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE) {
        /* sequence, map, optional, sparse tensor, or an empty TypeProto: kept verbatim */
        ty->kind = OC_TYPE_OPAQUE;
        return pack_opaque(&tp->base, &ty->opaque);
    }
    ty->kind = OC_TYPE_TENSOR;
    if (dup_str(&ty->denotation, tp->denotation) != ONNXC_OK)
        return ONNXC_E_NOMEM;
    const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
    onnxc_status st;
    if ((st = keep_unknown(&tp->base, &ty->unknown)) != ONNXC_OK ||
        (st = keep_unknown(&tt->base, &ty->tensor_unknown)) != ONNXC_OK)
        return st;
    ty->has_elem_type = tt->has_elem_type;
    ty->elem_type = tt->elem_type;
    if (!tt->shape)
        return ONNXC_OK;
    if ((st = keep_unknown(&tt->shape->base, &ty->shape_unknown)) != ONNXC_OK)
        return st;
    if (tt->shape->n_dim > ONNXC_MAX_RANK)
        return oc_err(ONNXC_E_UNSUPPORTED, "%s: declared rank %zu is above the supported maximum %d", what,
                      tt->shape->n_dim, ONNXC_MAX_RANK);
    ty->rank = (int32_t)tt->shape->n_dim;
    if (ty->rank == 0)
        return ONNXC_OK;
    ty->dims = oc_calloc((size_t)ty->rank, sizeof *ty->dims);
    if (!ty->dims) {
        ty->rank = 0; /* so oc_type_clear does not walk a NULL array */
        return oc_err(ONNXC_E_NOMEM, "out of memory");
    }
    for (int i = 0; i < ty->rank; i++) {
        const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[i];
        if (dup_str(&ty->dims[i].denotation, d->denotation) != ONNXC_OK)
            return ONNXC_E_NOMEM;
        if ((st = keep_unknown(&d->base, &ty->dims[i].unknown)) != ONNXC_OK)
            return st;
        if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE) {
            ty->dims[i].has_value = true;
            ty->dims[i].value = d->dim_value;
        } else if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM) {
            if (dup_str(&ty->dims[i].param, d->dim_param) != ONNXC_OK)
                return ONNXC_E_NOMEM;
        }
    }
    return ONNXC_OK;
}

static onnxc_status load_vinfo(const Onnx__ValueInfoProto *vp, oc_value *v, oc_vinfo *vi, const char *what)
{
    vi->value = v;
    vi->type.rank = -1;
    onnxc_status st = load_type(vp->type, &vi->type, what);
    if (st != ONNXC_OK || (st = keep_unknown(&vp->base, &vi->unknown)) != ONNXC_OK)
        return st;
    return dup_str(&vi->doc_string, vp->doc_string);
}

/* ---------------------------------------------------------------- attributes */

static const char *attr_type_name(int t)
{
    static const char *names[] = {"UNDEFINED", "FLOAT", "INT", "STRING", "TENSOR", "GRAPH", "FLOATS", "INTS",
                                  "STRINGS", "TENSORS", "GRAPHS", "SPARSE_TENSOR", "SPARSE_TENSORS", "TYPE_PROTO",
                                  "TYPE_PROTOS"};
    return t >= 0 && t <= OC_ATTR_TYPE_PROTOS ? names[t] : "unknown";
}

/* "<where> attribute '<name>'", cut to cap: names in messages may be truncated, never overrun. */
static void attr_label(char *buf, size_t cap, const char *where, const char *name)
{
    int n = snprintf(buf, cap, "%s", where);
    if (n >= 0 && (size_t)n < cap)
        snprintf(buf + n, cap - (size_t)n, " attribute '%s'", name);
}

/* Everything but subgraphs, which are loaded once every node of the enclosing graph has declared its outputs. */
static onnxc_status load_attr(oc_loader *L, Onnx__AttributeProto *ap, oc_attr *a, const char *where)
{
    char what[600];
    if (!ap->name || !*ap->name)
        return oc_err(ONNXC_E_INVALID, "%s: an attribute has no name", where);
    attr_label(what, sizeof what, where, ap->name);
    if (ap->has_type && (ap->type < 0 || (int)ap->type > OC_ATTR_TYPE_PROTOS))
        return oc_err(ONNXC_E_INVALID, "%s: unknown attribute type %d", what, (int)ap->type);

    /* The checker's rule (onnx/checker.cc check_attribute): every value field set must match the declared type,
     * and at most one may be set. An absent type (IR version 1 files) is taken from the field that is set. */
    int used[16], n_used = 0;
    if (ap->has_f) used[n_used++] = OC_ATTR_FLOAT;
    if (ap->has_i) used[n_used++] = OC_ATTR_INT;
    if (ap->has_s) used[n_used++] = OC_ATTR_STRING;
    if (ap->t) used[n_used++] = OC_ATTR_TENSOR;
    if (ap->g) used[n_used++] = OC_ATTR_GRAPH;
    if (ap->sparse_tensor) used[n_used++] = OC_ATTR_SPARSE_TENSOR;
    if (ap->tp) used[n_used++] = OC_ATTR_TYPE_PROTO;
    if (ap->n_floats) used[n_used++] = OC_ATTR_FLOATS;
    if (ap->n_ints) used[n_used++] = OC_ATTR_INTS;
    if (ap->n_strings) used[n_used++] = OC_ATTR_STRINGS;
    if (ap->n_tensors) used[n_used++] = OC_ATTR_TENSORS;
    if (ap->n_graphs) used[n_used++] = OC_ATTR_GRAPHS;
    if (ap->n_sparse_tensors) used[n_used++] = OC_ATTR_SPARSE_TENSORS;
    if (ap->n_type_protos) used[n_used++] = OC_ATTR_TYPE_PROTOS;
    if (ap->has_type)
        for (int k = 0; k < n_used; k++)
            if (used[k] != (int)ap->type)
                return oc_err(ONNXC_E_INVALID, "%s: declared type %s but holds a value of type %s", what,
                              attr_type_name((int)ap->type), attr_type_name(used[k]));
    if (n_used > 1)
        return oc_err(ONNXC_E_INVALID, "%s: holds values of both type %s and type %s", what, attr_type_name(used[0]),
                      attr_type_name(used[1]));

    onnxc_status st;
    if ((st = dup_str(&a->name, ap->name)) != ONNXC_OK || (st = dup_str(&a->ref_attr_name, ap->ref_attr_name)) ||
        (st = dup_str(&a->doc_string, ap->doc_string)) || (st = keep_unknown(&ap->base, &a->unknown)))
        return st;
    a->has_type = ap->has_type;
    a->type = ap->has_type ? (int)ap->type : (n_used ? used[0] : OC_ATTR_UNDEFINED);
    a->has_f = ap->has_f;
    a->f = ap->f;
    a->has_i = ap->has_i;
    a->i = ap->i;
    a->has_s = ap->has_s;
    if (ap->has_s && (st = dup_bytes(&a->s, &ap->s)) != ONNXC_OK)
        return st;
    if (ap->t && (st = oc_tensor_from_proto(ap->t, what, &L->root, true, &a->t)) != ONNXC_OK)
        return st;
    if (ap->n_floats) {
        a->floats = oc_malloc(ap->n_floats * sizeof *a->floats);
        if (!a->floats)
            return oc_err(ONNXC_E_NOMEM, "out of memory");
        memcpy(a->floats, ap->floats, ap->n_floats * sizeof *a->floats);
        a->n_floats = ap->n_floats;
    }
    if (ap->n_ints) {
        a->ints = oc_malloc(ap->n_ints * sizeof *a->ints);
        if (!a->ints)
            return oc_err(ONNXC_E_NOMEM, "out of memory");
        memcpy(a->ints, ap->ints, ap->n_ints * sizeof *a->ints);
        a->n_ints = ap->n_ints;
    }
    if (ap->n_strings) {
        a->strings = oc_calloc(ap->n_strings, sizeof *a->strings);
        if (!a->strings)
            return oc_err(ONNXC_E_NOMEM, "out of memory");
        a->n_strings = ap->n_strings;
        for (size_t k = 0; k < ap->n_strings; k++)
            if ((st = dup_bytes(&a->strings[k], &ap->strings[k])) != ONNXC_OK)
                return st;
    }
    if (ap->n_tensors) {
        a->tensors = oc_calloc(ap->n_tensors, sizeof *a->tensors);
        if (!a->tensors)
            return oc_err(ONNXC_E_NOMEM, "out of memory");
        a->n_tensors = ap->n_tensors;
        for (size_t k = 0; k < ap->n_tensors; k++) {
            char tw[700];
            snprintf(tw, sizeof tw, "%s tensor #%zu", what, k);
            if ((st = oc_tensor_from_proto(ap->tensors[k], tw, &L->root, true, &a->tensors[k])) != ONNXC_OK)
                return st;
        }
    }
    if (ap->sparse_tensor && (st = pack_opaque(&ap->sparse_tensor->base, &a->sparse_tensor)) != ONNXC_OK)
        return st;
    if (ap->n_sparse_tensors) {
        a->sparse_tensors = oc_calloc(ap->n_sparse_tensors, sizeof *a->sparse_tensors);
        if (!a->sparse_tensors)
            return oc_err(ONNXC_E_NOMEM, "out of memory");
        a->n_sparse_tensors = ap->n_sparse_tensors;
        for (size_t k = 0; k < ap->n_sparse_tensors; k++)
            if ((st = pack_opaque(&ap->sparse_tensors[k]->base, &a->sparse_tensors[k])) != ONNXC_OK)
                return st;
    }
    if (ap->tp && (st = pack_opaque(&ap->tp->base, &a->type_proto)) != ONNXC_OK)
        return st;
    if (ap->n_type_protos) {
        a->type_protos = oc_calloc(ap->n_type_protos, sizeof *a->type_protos);
        if (!a->type_protos)
            return oc_err(ONNXC_E_NOMEM, "out of memory");
        a->n_type_protos = ap->n_type_protos;
        for (size_t k = 0; k < ap->n_type_protos; k++)
            if ((st = pack_opaque(&ap->type_protos[k]->base, &a->type_protos[k])) != ONNXC_OK)
                return st;
    }
    return ONNXC_OK;
}

static onnxc_status load_subgraph(oc_loader *L, Onnx__GraphProto *gp, oc_graph *parent, int depth, oc_graph **out,
                                  const char *what)
{
    *out = NULL;
    if (depth > OC_MAX_GRAPH_DEPTH)
        return oc_err(ONNXC_E_INVALID, "%s: subgraphs nest deeper than %d levels", what, OC_MAX_GRAPH_DEPTH);
    oc_graph *sg = oc_graph_new(L->m, parent);
    if (!sg)
        return oc_err(ONNXC_E_NOMEM, "out of memory");
    onnxc_status st = load_graph(L, gp, sg, depth);
    if (st != ONNXC_OK) {
        oc_graph_free(sg);
        /* Each level adds where it happened; past a few hundred characters the cause at the end would be cut off
         * by the message buffer, so a deep chain keeps its innermost levels and its outermost one, and says how
         * many levels between them it leaves out. */
        if (L->elided == 0 && (depth == 1 || strlen(onnxc_last_error()) + strlen(what) < 500))
            oc_err_prefix(st, "%s", what);
        else if (depth > 1)
            L->elided++;
        else {
            oc_err_prefix(st, "%s: ... %d nested subgraph level%s not shown ...", what, L->elided,
                          L->elided == 1 ? "" : "s");
            L->elided = 0;
        }
        return st;
    }
    *out = sg;
    return ONNXC_OK;
}

static onnxc_status load_attr_graphs(oc_loader *L, Onnx__AttributeProto *ap, oc_attr *a, oc_graph *g, int depth,
                                     const char *where)
{
    char what[600];
    attr_label(what, sizeof what, where, ap->name);
    onnxc_status st;
    if (ap->g && (st = load_subgraph(L, ap->g, g, depth + 1, &a->g, what)) != ONNXC_OK)
        return st;
    if (ap->n_graphs) {
        a->graphs = oc_calloc(ap->n_graphs, sizeof *a->graphs);
        if (!a->graphs)
            return oc_err(ONNXC_E_NOMEM, "out of memory");
        a->n_graphs = ap->n_graphs;
        for (size_t k = 0; k < ap->n_graphs; k++) {
            char gw[700];
            snprintf(gw, sizeof gw, "%s graph #%zu", what, k);
            if ((st = load_subgraph(L, ap->graphs[k], g, depth + 1, &a->graphs[k], gw)) != ONNXC_OK)
                return st;
        }
    }
    return ONNXC_OK;
}

/* ---------------------------------------------------------------- graphs */

/* A name a node input or graph output refers to: defined in g, or in an enclosing graph (then a local value
 * flagged OC_V_OUTER stands for it, in g and in every graph between). NULL when no one defines it. */
static oc_value *resolve_use(oc_graph *g, const char *name, onnxc_status *st)
{
    *st = ONNXC_OK;
    oc_value *v = oc_graph_find(g, name);
    if (v)
        return v;
    if (!g->parent || !oc_graph_lookup(g->parent, name))
        return NULL;
    v = oc_graph_value(g, name);
    if (!v) {
        *st = oc_err(ONNXC_E_NOMEM, "out of memory");
        return NULL;
    }
    v->flags |= OC_V_OUTER;
    /* defined further up: the graphs between stand for it too, so a session of any of them (a Loop body whose
     * nested Loop reads the name) is given it like its own outer references */
    if (!oc_graph_find(g->parent, name) && g->parent->parent && !resolve_use(g->parent, name, st) && *st != ONNXC_OK)
        return NULL;
    return v;
}

static const char *graph_label(const oc_graph *g, char *buf, size_t cap)
{
    snprintf(buf, cap, "graph '%s'", g->name ? g->name : "");
    return buf;
}

static onnxc_status load_graph(oc_loader *L, Onnx__GraphProto *gp, oc_graph *g, int depth)
{
    onnxc_status st;
    char gl[300], what[600], nl[300];
    if ((st = dup_str(&g->name, gp->name)) != ONNXC_OK || (st = dup_str(&g->doc_string, gp->doc_string)) != ONNXC_OK ||
        (st = keep_unknown(&gp->base, &g->unknown)) != ONNXC_OK)
        return st;
    graph_label(g, gl, sizeof gl);

    /* inputs */
    if (gp->n_input) {
        g->inputs = oc_calloc(gp->n_input, sizeof *g->inputs);
        if (!g->inputs)
            return oc_err(ONNXC_E_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < gp->n_input; i++) {
        const Onnx__ValueInfoProto *vp = gp->input[i];
        if (!vp->name || !*vp->name)
            return oc_err(ONNXC_E_INVALID, "%s: input #%zu has no name", gl, i);
        oc_value *v = oc_graph_value(g, vp->name);
        if (!v)
            return oc_err(ONNXC_E_NOMEM, "out of memory");
        if (v->flags & OC_V_INPUT)
            return oc_err(ONNXC_E_INVALID, "%s: input '%s' is listed twice", gl, vp->name);
        v->flags |= OC_V_INPUT;
        snprintf(what, sizeof what, "%s input '%s'", gl, vp->name);
        g->n_inputs++;
        if ((st = load_vinfo(vp, v, &g->inputs[i], what)) != ONNXC_OK)
            return st;
    }

    /* initializers */
    if (gp->n_initializer) {
        g->initializers = oc_calloc(gp->n_initializer, sizeof *g->initializers);
        if (!g->initializers)
            return oc_err(ONNXC_E_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < gp->n_initializer; i++) {
        Onnx__TensorProto *tp = gp->initializer[i];
        if (!tp->name || !*tp->name)
            return oc_err(ONNXC_E_INVALID, "%s: initializer #%zu has no name", gl, i);
        snprintf(what, sizeof what, "initializer '%s'", tp->name);
        oc_value *v = oc_graph_value(g, tp->name);
        if (!v)
            return oc_err(ONNXC_E_NOMEM, "out of memory");
        if (v->init)
            return oc_err(ONNXC_E_INVALID, "%s: %s is listed twice", gl, what);
        if ((st = oc_tensor_from_proto(tp, what, &L->root, true, &v->init)) != ONNXC_OK)
            return st;
        v->flags |= OC_V_INITIALIZER;
        g->initializers[g->n_initializers++] = v;
    }

    /* sparse initializers: kept packed; their names are defined values all the same, flagged so the checker takes
     * them as defined and the runtime can say it does not run them */
    if (gp->n_sparse_initializer) {
        g->sparse_initializers = oc_calloc(gp->n_sparse_initializer, sizeof *g->sparse_initializers);
        if (!g->sparse_initializers)
            return oc_err(ONNXC_E_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < gp->n_sparse_initializer; i++) {
        const Onnx__SparseTensorProto *sp = gp->sparse_initializer[i];
        g->n_sparse_initializers++;
        if ((st = pack_opaque(&sp->base, &g->sparse_initializers[i])) != ONNXC_OK)
            return st;
        if (!sp->values || !sp->values->name || !*sp->values->name)
            continue; /* nothing can refer to it; kept as it is */
        oc_value *v = oc_graph_value(g, sp->values->name);
        if (!v)
            return oc_err(ONNXC_E_NOMEM, "out of memory");
        /* onnx.proto: a name is unique across initializer and sparse_initializer */
        if (v->flags & (OC_V_INITIALIZER | OC_V_SPARSE))
            return oc_err(ONNXC_E_INVALID, "%s: sparse initializer '%s' %s", gl, sp->values->name,
                          (v->flags & OC_V_INITIALIZER) ? "has the name of an initializer" : "is listed twice");
        v->flags |= OC_V_SPARSE;
    }

    /* nodes, first pass: the node, its attributes (but subgraphs) and its outputs, so every name is defined
     * before any input is resolved (files need not be in topological order). */
    for (size_t i = 0; i < gp->n_node; i++) {
        Onnx__NodeProto *np = gp->node[i];
        if (!np->op_type || !*np->op_type)
            return oc_err(ONNXC_E_INVALID, "%s: node #%zu%s%s%s has no op_type", gl, i, np->name ? " '" : "",
                          np->name ? np->name : "", np->name ? "'" : "");
        oc_node *n = oc_graph_add_node(g, np->op_type, np->domain, np->name);
        if (!n)
            return oc_err(ONNXC_E_NOMEM, "out of memory");
        if ((st = dup_str(&n->doc_string, np->doc_string)) != ONNXC_OK ||
            (st = keep_unknown(&np->base, &n->unknown)) != ONNXC_OK)
            return st;
        if (np->n_attribute) { /* the label is only for the attributes' messages: most nodes of a long chain
                                * have none, and one snprintf per node was a tenth of loading a 1M-node model */
            snprintf(what, sizeof what, "node %s", oc_node_label(n, nl, sizeof nl));
            n->attrs = oc_calloc(np->n_attribute, sizeof *n->attrs);
            if (!n->attrs)
                return oc_err(ONNXC_E_NOMEM, "out of memory");
        }
        for (size_t k = 0; k < np->n_attribute; k++) {
            n->n_attrs++;
            if ((st = load_attr(L, np->attribute[k], &n->attrs[k], what)) != ONNXC_OK)
                return st;
        }
        for (size_t k = 0; k < np->n_output; k++) {
            const char *name = np->output[k];
            oc_value *v = NULL;
            if (name && *name) {
                v = oc_graph_value(g, name);
                if (!v)
                    return oc_err(ONNXC_E_NOMEM, "out of memory");
                if (v->flags & (OC_V_INPUT | OC_V_INITIALIZER | OC_V_SPARSE))
                    return oc_err(ONNXC_E_INVALID, "node %s: output '%s' is also a graph %s",
                                  oc_node_label(n, nl, sizeof nl), name,
                                  (v->flags & OC_V_INPUT)         ? "input"
                                  : (v->flags & OC_V_INITIALIZER) ? "initializer"
                                                                  : "sparse initializer");
            }
            if ((st = oc_node_set_output(n, (int)k, v)) != ONNXC_OK)
                return oc_err_prefix(st, "%s", gl);
        }
    }

    /* nodes, second pass: inputs */
    for (size_t i = 0; i < gp->n_node; i++) {
        Onnx__NodeProto *np = gp->node[i];
        oc_node *n = g->nodes[i];
        for (size_t k = 0; k < np->n_input; k++) {
            const char *name = np->input[k];
            oc_value *v = NULL;
            if (name && *name) {
                v = resolve_use(g, name, &st);
                if (st != ONNXC_OK)
                    return st;
                if (!v && L->keep_undefined && !(v = oc_graph_value(g, name)))
                    return oc_err(ONNXC_E_NOMEM, "out of memory");
                if (!v)
                    return oc_err(ONNXC_E_INVALID,
                                  "%s: node %s: input '%s' is not a graph input, an initializer or any node's output",
                                  gl, oc_node_label(n, nl, sizeof nl), name);
            }
            if ((st = oc_node_set_input(n, (int)k, v)) != ONNXC_OK)
                return st;
        }
    }

    /* nodes, third pass: subgraphs, now that every name of this graph is known to them */
    for (size_t i = 0; i < gp->n_node; i++) {
        Onnx__NodeProto *np = gp->node[i];
        oc_node *n = g->nodes[i];
        if (!np->n_attribute)
            continue;
        snprintf(what, sizeof what, "%s: node %s", gl, oc_node_label(n, nl, sizeof nl));
        for (size_t k = 0; k < np->n_attribute; k++)
            if ((st = load_attr_graphs(L, np->attribute[k], &n->attrs[k], g, depth, what)) != ONNXC_OK)
                return st;
    }

    /* outputs */
    if (gp->n_output) {
        g->outputs = oc_calloc(gp->n_output, sizeof *g->outputs);
        if (!g->outputs)
            return oc_err(ONNXC_E_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < gp->n_output; i++) {
        const Onnx__ValueInfoProto *vp = gp->output[i];
        if (!vp->name || !*vp->name)
            return oc_err(ONNXC_E_INVALID, "%s: output #%zu has no name", gl, i);
        oc_value *v = resolve_use(g, vp->name, &st);
        if (st != ONNXC_OK)
            return st;
        if (!v && L->keep_undefined && !(v = oc_graph_value(g, vp->name)))
            return oc_err(ONNXC_E_NOMEM, "out of memory");
        if (!v)
            return oc_err(ONNXC_E_INVALID, "%s: output '%s' is not a graph input, an initializer or any node's output",
                          gl, vp->name);
        v->flags |= OC_V_OUTPUT;
        snprintf(what, sizeof what, "%s output '%s'", gl, vp->name);
        g->n_outputs++;
        if ((st = load_vinfo(vp, v, &g->outputs[i], what)) != ONNXC_OK)
            return st;
    }

    /* value_info: annotations; a name no one defines is kept (and harmless) */
    if (gp->n_value_info) {
        g->value_infos = oc_calloc(gp->n_value_info, sizeof *g->value_infos);
        if (!g->value_infos)
            return oc_err(ONNXC_E_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < gp->n_value_info; i++) {
        const Onnx__ValueInfoProto *vp = gp->value_info[i];
        if (!vp->name || !*vp->name)
            return oc_err(ONNXC_E_INVALID, "%s: value_info #%zu has no name", gl, i);
        oc_value *v = oc_graph_find(g, vp->name);
        if (!v)
            v = oc_graph_value(g, vp->name);
        if (!v)
            return oc_err(ONNXC_E_NOMEM, "out of memory");
        snprintf(what, sizeof what, "%s value_info '%s'", gl, vp->name);
        g->n_value_infos++;
        if ((st = load_vinfo(vp, v, &g->value_infos[i], what)) != ONNXC_OK)
            return st;
    }

    if (gp->n_quantization_annotation) {
        g->quantization_annotations = oc_calloc(gp->n_quantization_annotation, sizeof *g->quantization_annotations);
        if (!g->quantization_annotations)
            return oc_err(ONNXC_E_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < gp->n_quantization_annotation; i++) {
        g->n_quantization_annotations++;
        if ((st = pack_opaque(&gp->quantization_annotation[i]->base, &g->quantization_annotations[i])) != ONNXC_OK)
            return st;
    }
    return ONNXC_OK;
}

/* ---------------------------------------------------------------- model */

static onnxc_status load_model(oc_loader *L, Onnx__ModelProto *mp)
{
    onnxc_model *m = L->m;
    onnxc_status st;
    if (!mp->graph)
        return oc_err(ONNXC_E_PARSE, "not a valid ONNX model (no graph)");
    m->has_ir_version = mp->has_ir_version;
    m->ir_version = mp->ir_version;
    if ((st = keep_unknown(&mp->base, &m->unknown)) != ONNXC_OK)
        return st;
    if (mp->n_opset_import) {
        m->opsets = oc_calloc(mp->n_opset_import, sizeof *m->opsets);
        if (!m->opsets)
            return oc_err(ONNXC_E_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < mp->n_opset_import; i++) {
        m->n_opsets++;
        if ((st = dup_str(&m->opsets[i].domain, mp->opset_import[i]->domain)) != ONNXC_OK ||
            (st = keep_unknown(&mp->opset_import[i]->base, &m->opsets[i].unknown)) != ONNXC_OK)
            return st;
        m->opsets[i].has_version = mp->opset_import[i]->has_version;
        m->opsets[i].version = mp->opset_import[i]->version;
    }
    if ((st = dup_str(&m->producer_name, mp->producer_name)) || (st = dup_str(&m->producer_version, mp->producer_version)) ||
        (st = dup_str(&m->domain, mp->domain)) || (st = dup_str(&m->doc_string, mp->doc_string)))
        return st;
    m->has_model_version = mp->has_model_version;
    m->model_version = mp->model_version;
    if (mp->n_metadata_props) {
        m->metadata = oc_calloc(mp->n_metadata_props, sizeof *m->metadata);
        if (!m->metadata)
            return oc_err(ONNXC_E_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < mp->n_metadata_props; i++) {
        m->n_metadata++;
        if ((st = dup_str(&m->metadata[i].key, mp->metadata_props[i]->key)) ||
            (st = dup_str(&m->metadata[i].value, mp->metadata_props[i]->value)) ||
            (st = keep_unknown(&mp->metadata_props[i]->base, &m->metadata[i].unknown)))
            return st;
    }
    if (mp->n_functions) {
        m->functions = oc_calloc(mp->n_functions, sizeof *m->functions);
        if (!m->functions)
            return oc_err(ONNXC_E_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < mp->n_functions; i++) {
        m->n_functions++;
        if ((st = pack_opaque(&mp->functions[i]->base, &m->functions[i])) != ONNXC_OK)
            return st;
    }
    if (mp->n_training_info) {
        m->training_info = oc_calloc(mp->n_training_info, sizeof *m->training_info);
        if (!m->training_info)
            return oc_err(ONNXC_E_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < mp->n_training_info; i++) {
        m->n_training_info++;
        if ((st = pack_opaque(&mp->training_info[i]->base, &m->training_info[i])) != ONNXC_OK)
            return st;
    }
    return load_graph(L, mp->graph, m->graph, 0);
}

/* True when the top-level protobuf fields, read by their wire format, run past the end of the bytes: a varint
 * without its last byte, a length or fixed-size field longer than what is left. That is what a file cut short
 * looks like; other garbage usually fails on a bad tag or wire type first. */
static bool runs_past_end(const uint8_t *p, size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint64_t key = 0, v = 0;
        int shift = 0;
        for (;;) { /* the key */
            if (i >= len)
                return true;
            key |= (uint64_t)(p[i] & 0x7f) << (shift < 63 ? shift : 63);
            shift += 7;
            if (!(p[i++] & 0x80))
                break;
            if (shift > 70)
                return false;
        }
        switch (key & 7) {
        case 0: /* varint */
            for (shift = 0;; shift += 7) {
                if (i >= len)
                    return true;
                if (!(p[i++] & 0x80))
                    break;
                if (shift > 70)
                    return false;
            }
            break;
        case 1: /* 64-bit */
            if (len - i < 8)
                return true;
            i += 8;
            break;
        case 2: /* length-delimited */
            for (shift = 0;; shift += 7) {
                if (i >= len)
                    return true;
                v |= (uint64_t)(p[i] & 0x7f) << (shift < 63 ? shift : 63);
                if (!(p[i++] & 0x80))
                    break;
                if (shift > 70)
                    return false;
            }
            if (v > len - i)
                return true;
            i += (size_t)v;
            break;
        case 5: /* 32-bit */
            if (len - i < 4)
                return true;
            i += 4;
            break;
        default:
            return false;
        }
    }
    return false;
}

/* Parse and convert; path (may be NULL) and root->dir are stored in the model, label names it in messages.
 * owned (may be NULL) is the file buffer holding data: freed as soon as protobuf-c has copied what it needs, so a
 * big model is not held twice while the IR is built. */
static onnxc_status load_bytes(bool keep_undefined, const uint8_t *data, size_t len, uint8_t *owned, const char *path,
                               const oc_ext_root *root, const char *label, onnxc_model **out)
{
    *out = NULL;
    if (len == 0) {
        oc_free(owned);
        return oc_err(ONNXC_E_PARSE, "%s: empty file, not an ONNX model", label);
    }
    bool too_deep;
    Onnx__ModelProto *mp = (Onnx__ModelProto *)oc_pb_unpack(&onnx__model_proto__descriptor, data, len, &too_deep);
    const bool cut = !mp && !too_deep && runs_past_end(data, len);
    oc_free(owned);
    if (!mp) {
        if (too_deep)
            return oc_err(ONNXC_E_PARSE, "%s: not a valid ONNX model (messages nest deeper than %d levels)", label,
                          OC_MAX_MESSAGE_DEPTH);
        if (cut)
            return oc_err(ONNXC_E_PARSE, "%s: not a valid ONNX model: a field runs past the end of the file (%zu "
                          "bytes); the file may be truncated (an interrupted download or copy?)", label, len);
        return oc_err(ONNXC_E_PARSE, "%s: not a valid ONNX model (protobuf parse failed)", label);
    }
    onnxc_model *m = oc_model_new();
    onnxc_status st = ONNXC_OK;
    if (!m || dup_str(&m->path, path) != ONNXC_OK || dup_str(&m->dir, root->dir) != ONNXC_OK) {
        st = oc_err(ONNXC_E_NOMEM, "out of memory");
    } else {
        oc_loader L = {m, *root, 0, keep_undefined};
        st = load_model(&L, mp);
    }
    protobuf_c_message_free_unpacked(&mp->base, &oc_pb_allocator);
    if (st != ONNXC_OK) {
        onnxc_model_free(m);
        return oc_err_prefix(st, "%s", label);
    }
    *out = m;
    return ONNXC_OK;
}

onnxc_status oc_read_file(const char *path, uint8_t **data, size_t *len)
{
    *data = NULL;
    *len = 0;
    int fd;
    int64_t fsize;
    onnxc_status st = oc_open_regular(path, path, &fd, &fsize);
    if (st != ONNXC_OK)
        return st;
    if ((uint64_t)fsize > (uint64_t)SIZE_MAX - 1) {
        close(fd);
        return oc_err(ONNXC_E_NOMEM, "%s: file too large (%lld bytes)", path, (long long)fsize);
    }
    size_t n = (size_t)fsize;
    uint8_t *buf = oc_malloc(n ? n : 1);
    if (!buf) {
        close(fd);
        return oc_err(ONNXC_E_NOMEM, "%s: out of memory for %zu bytes", path, n);
    }
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            close(fd);
            oc_free(buf);
            return oc_err(ONNXC_E_IO, "%s: %s", path, strerror(e));
        }
        if (r == 0)
            break; /* the file shrank: parse what is there, the parser reports truncation */
        got += (size_t)r;
    }
    close(fd);
    *data = buf;
    *len = got;
    return ONNXC_OK;
}

static onnxc_status load_path(const char *path, bool keep_undefined, onnxc_model **out)
{
    if (!out)
        return oc_err(ONNXC_E_ARG, "onnxc_model_load: out is NULL");
    *out = NULL;
    if (!path || !*path)
        return oc_err(ONNXC_E_ARG, "onnxc_model_load: no path given");
    uint8_t *data;
    size_t len;
    onnxc_status st = oc_read_file(path, &data, &len);
    if (st != ONNXC_OK)
        return st;
    oc_ext_root root;
    char *dir = NULL, *real_dir = NULL;
    if ((st = oc_ext_root_for_file(path, &root, &dir, &real_dir)) != ONNXC_OK)
        oc_free(data);
    else
        st = load_bytes(keep_undefined, data, len, data, path, &root, path, out);
    oc_free(dir);
    oc_free(real_dir);
    return st;
}

onnxc_status onnxc_model_load(const char *path, onnxc_model **out) { return load_path(path, false, out); }

onnxc_status onnxc_model_load_for_check(const char *path, onnxc_model **out) { return load_path(path, true, out); }

onnxc_status onnxc_model_load_buffer(const void *data, size_t len, const char *base_dir, const char *name,
                                     onnxc_model **out)
{
    if (!out)
        return oc_err(ONNXC_E_ARG, "onnxc_model_load_buffer: out is NULL");
    *out = NULL;
    if (!data && len)
        return oc_err(ONNXC_E_ARG, "onnxc_model_load_buffer: data is NULL");
    oc_ext_root root = {base_dir, NULL};
    return load_bytes(false, data, len, NULL, NULL, &root, name ? name : "<buffer>", out);
}
