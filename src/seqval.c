/* Sequence and optional values as byte blocks (seqval.h): layout, checks, item views, and the public functions
 * over them (onnxc_value_*). */
#include <stdlib.h>
#include <string.h>

#include "ir.h"
#include "seqval.h"
#include "util.h"

#define SEQ_MAGIC 0x5153434fu /* "OCSQ" */
#define SEQ_HEAD 64u

typedef struct seq_head {
    uint32_t magic;
    int32_t kind;
    int32_t elem_type;
    int32_t reserved;
    int64_t n;
} seq_head;

typedef struct seq_item {
    int32_t dtype;
    int32_t rank;
    int64_t dims[ONNXC_MAX_RANK];
    uint64_t offset;
    uint64_t nbytes;
} seq_item;

static size_t align64(size_t n) { return (n + 63u) & ~(size_t)63u; }

bool oc_seq_bytes(int64_t n, const onnxc_tensor *const *items, size_t *bytes, const char **why)
{
    *why = "too large";
    if (n < 0 || (uint64_t)n > (SIZE_MAX / 2) / sizeof(seq_item))
        return false;
    size_t total = align64(SEQ_HEAD + (size_t)n * sizeof(seq_item));
    for (int64_t i = 0; i < n; i++) {
        if (items[i]->dtype == ONNXC_STRING) {
            *why = "string tensors are not supported in sequences";
            return false;
        }
        size_t b = align64(items[i]->nbytes);
        if (b < items[i]->nbytes || total + b < total)
            return false;
        total += b;
    }
    *bytes = total;
    return true;
}

void oc_seq_write(void *dst, int32_t kind, int32_t elem_type, int64_t n, const onnxc_tensor *const *items)
{
    uint8_t *p = dst;
    seq_head h = {SEQ_MAGIC, kind, elem_type, 0, n};
    memset(p, 0, SEQ_HEAD);
    memcpy(p, &h, sizeof h);
    size_t off = align64(SEQ_HEAD + (size_t)n * sizeof(seq_item));
    for (int64_t i = 0; i < n; i++) {
        const onnxc_tensor *t = items[i];
        seq_item it;
        memset(&it, 0, sizeof it);
        it.dtype = t->dtype;
        it.rank = t->rank;
        memcpy(it.dims, t->dims, sizeof it.dims);
        it.offset = off;
        it.nbytes = t->nbytes;
        memcpy(p + SEQ_HEAD + (size_t)i * sizeof it, &it, sizeof it);
        if (t->nbytes)
            memcpy(p + off, t->data, t->nbytes);
        off += align64(t->nbytes);
    }
}

static bool seq_head_of(const onnxc_tensor *t, seq_head *h)
{
    if (!t || !oc_is_seqval(t->dtype) || !t->data || t->nbytes < SEQ_HEAD)
        return false;
    memcpy(h, t->data, sizeof *h);
    return h->magic == SEQ_MAGIC && h->kind == t->dtype && h->n >= 0 &&
        (uint64_t)h->n <= (t->nbytes - SEQ_HEAD) / sizeof(seq_item) && (h->kind != ONNXC_OPTIONAL || h->n <= 1);
}

static void seq_item_of(const onnxc_tensor *t, int64_t i, seq_item *it)
{
    memcpy(it, (const uint8_t *)t->data + SEQ_HEAD + (size_t)i * sizeof *it, sizeof *it);
}

bool oc_seq_valid(const onnxc_tensor *t)
{
    seq_head h;
    if (!seq_head_of(t, &h))
        return false;
    for (int64_t i = 0; i < h.n; i++) {
        seq_item it;
        seq_item_of(t, i, &it);
        int64_t numel;
        size_t need;
        if (it.rank < 0 || it.rank > ONNXC_MAX_RANK || !oc_numel(it.dims, it.rank, &numel) ||
            onnxc_dtype_size(it.dtype) == 0 || it.dtype == ONNXC_STRING ||
            !oc_mul_size((size_t)numel, onnxc_dtype_size(it.dtype), &need) || need != it.nbytes ||
            it.offset > t->nbytes || it.nbytes > t->nbytes - it.offset)
            return false;
    }
    return true;
}

int64_t oc_seq_len(const onnxc_tensor *t)
{
    seq_head h;
    return seq_head_of(t, &h) ? h.n : -1;
}

int32_t oc_seq_elem(const onnxc_tensor *t)
{
    seq_head h;
    return seq_head_of(t, &h) ? h.elem_type : ONNXC_UNDEFINED;
}

void oc_seq_at(const onnxc_tensor *t, int64_t i, onnxc_tensor *view)
{
    seq_item it;
    seq_item_of(t, i, &it);
    memset(view, 0, sizeof *view);
    view->dtype = it.dtype;
    view->rank = it.rank;
    memcpy(view->dims, it.dims, sizeof view->dims);
    view->data = (uint8_t *)t->data + it.offset;
    view->nbytes = (size_t)it.nbytes;
}

int32_t oc_type_value_kind(const oc_type *ty)
{
    if (ty->kind == OC_TYPE_TENSOR)
        return ONNXC_UNDEFINED;
    if (ty->kind != OC_TYPE_OPAQUE || !ty->opaque.data)
        return ONNXC_UNDEFINED;
    /* TypeProto: 4 sequence_type, 9 optional_type (both length-delimited) */
    const uint8_t *p = ty->opaque.data, *end = p + ty->opaque.len;
    while (p < end) {
        uint64_t tag = 0, v = 0;
        int sh = 0;
        while (p < end && sh < 64) {
            uint8_t b = *p++;
            tag |= (uint64_t)(b & 0x7f) << sh;
            sh += 7;
            if (!(b & 0x80))
                break;
        }
        if ((tag & 7) != 2)
            return ONNXC_UNDEFINED;
        if ((tag >> 3) == 4)
            return ONNXC_SEQUENCE;
        if ((tag >> 3) == 9)
            return ONNXC_OPTIONAL;
        sh = 0;
        while (p < end && sh < 64) {
            uint8_t b = *p++;
            v |= (uint64_t)(b & 0x7f) << sh;
            sh += 7;
            if (!(b & 0x80))
                break;
        }
        if (v > (uint64_t)(end - p))
            return ONNXC_UNDEFINED;
        p += v;
    }
    return ONNXC_UNDEFINED;
}

/* ---------------------------------------------------------------- public */

int64_t onnxc_value_items(const onnxc_tensor *t) { return oc_seq_valid(t) ? oc_seq_len(t) : -1; }

int32_t onnxc_value_elem_type(const onnxc_tensor *t) { return oc_seq_valid(t) ? oc_seq_elem(t) : ONNXC_UNDEFINED; }

onnxc_status onnxc_value_item(const onnxc_tensor *t, int64_t i, onnxc_tensor *item)
{
    if (!item || !oc_seq_valid(t))
        return oc_err(ONNXC_E_ARG, "onnxc_value_item: not a sequence or optional value");
    if (i < 0 || i >= oc_seq_len(t))
        return oc_err(ONNXC_E_ARG, "onnxc_value_item: item %lld of %lld", (long long)i, (long long)oc_seq_len(t));
    oc_seq_at(t, i, item);
    return ONNXC_OK;
}

onnxc_status onnxc_value_pack(int32_t kind, int32_t elem_type, int64_t n, const onnxc_tensor *const *items,
                              onnxc_tensor **out)
{
    if (!out || (n > 0 && !items) || !oc_is_seqval(kind) || n < 0 || (kind == ONNXC_OPTIONAL && n > 1))
        return oc_err(ONNXC_E_ARG, "onnxc_value_pack: bad arguments");
    *out = NULL;
    for (int64_t i = 0; i < n; i++)
        if (!items[i] || (items[i]->nbytes && !items[i]->data))
            return oc_err(ONNXC_E_ARG, "onnxc_value_pack: item %lld has no data", (long long)i);
    size_t bytes = 0;
    const char *why = NULL;
    if (!oc_seq_bytes(n, items, &bytes, &why))
        return oc_err(ONNXC_E_UNSUPPORTED, "onnxc_value_pack: %s", why);
    onnxc_tensor *t = oc_calloc(1, sizeof *t);
    void *data = t ? oc_malloc(bytes) : NULL;
    if (!data) {
        oc_free(t);
        return oc_err(ONNXC_E_NOMEM, "out of memory");
    }
    oc_seq_write(data, kind, elem_type, n, items);
    t->dtype = kind;
    t->rank = 1;
    t->dims[0] = (int64_t)bytes;
    t->data = data;
    t->nbytes = bytes;
    t->owns_data = 1;
    *out = t;
    return ONNXC_OK;
}
