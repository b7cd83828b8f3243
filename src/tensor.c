/* Public tensor basics: dtype sizes and names, create / clone / free, element counts. */
#include <stdlib.h>
#include <string.h>

#include "onnxc/onnxc.h"
#include "util.h"

size_t onnxc_dtype_size(int32_t dtype)
{
    switch (dtype) {
    case ONNXC_FLOAT: case ONNXC_INT32: case ONNXC_UINT32: return 4;
    case ONNXC_UINT8: case ONNXC_INT8: case ONNXC_BOOL: return 1;
    case ONNXC_UINT16: case ONNXC_INT16: case ONNXC_FLOAT16: case ONNXC_BFLOAT16: return 2;
    case ONNXC_INT64: case ONNXC_DOUBLE: case ONNXC_UINT64: case ONNXC_COMPLEX64: return 8;
    case ONNXC_COMPLEX128: return 16;
    case ONNXC_STRING: return sizeof(onnxc_string);
    case ONNXC_SEQUENCE: case ONNXC_OPTIONAL: return 1; /* a byte block (src/seqval.h) */
    default: return 0;
    }
}

const char *onnxc_dtype_name(int32_t dtype)
{
    static const char *names[] = {"undefined", "float", "uint8", "int8", "uint16", "int16", "int32", "int64",
                                  "string", "bool", "float16", "double", "uint32", "uint64", "complex64",
                                  "complex128", "bfloat16"};
    if (dtype == ONNXC_SEQUENCE)
        return "sequence";
    if (dtype == ONNXC_OPTIONAL)
        return "optional";
    if (dtype < 0 || dtype >= (int32_t)(sizeof names / sizeof names[0]))
        return "undefined";
    return names[dtype];
}

int64_t onnxc_tensor_numel(const onnxc_tensor *t)
{
    int64_t n;
    if (!t || !oc_numel(t->dims, t->rank, &n))
        return -1;
    return n;
}

onnxc_status onnxc_tensor_create(int32_t dtype, int32_t rank, const int64_t *dims, onnxc_tensor **out)
{
    *out = NULL;
    size_t es = onnxc_dtype_size(dtype);
    if (es == 0)
        return oc_err(ONNXC_E_ARG, "tensor: unsupported dtype %d", (int)dtype);
    if (rank < 0 || rank > ONNXC_MAX_RANK)
        return oc_err(ONNXC_E_ARG, "tensor: rank %d outside 0..%d", (int)rank, ONNXC_MAX_RANK);
    int64_t n;
    if (!oc_numel(dims, rank, &n))
        return oc_err(ONNXC_E_ARG, "tensor: dims are negative or their product overflows");
    size_t bytes;
    if (!oc_mul_size((size_t)n, es, &bytes))
        return oc_err(ONNXC_E_NOMEM, "tensor: %lld elements overflow the byte count", (long long)n);
    onnxc_tensor *t = oc_calloc(1, sizeof *t);
    if (!t)
        return oc_err(ONNXC_E_NOMEM, "tensor: out of memory");
    t->dtype = dtype;
    t->rank = rank;
    for (int i = 0; i < rank; i++)
        t->dims[i] = dims[i];
    t->nbytes = bytes;
    t->data = oc_calloc(1, bytes ? bytes : 1);
    if (!t->data) {
        oc_free(t);
        return oc_err(ONNXC_E_NOMEM, "tensor: out of memory for %zu bytes", bytes);
    }
    t->owns_data = 1;
    *out = t;
    return ONNXC_OK;
}

onnxc_status onnxc_tensor_clone(const onnxc_tensor *src, onnxc_tensor **out)
{
    onnxc_status st = onnxc_tensor_create(src->dtype, src->rank, src->dims, out);
    if (st != ONNXC_OK)
        return st;
    if (src->dtype == ONNXC_STRING) {
        onnxc_string *d = (*out)->data;
        const onnxc_string *s = src->data;
        int64_t n = onnxc_tensor_numel(src);
        for (int64_t i = 0; i < n; i++) {
            d[i].data = oc_strndup(s[i].data ? s[i].data : "", s[i].len);
            d[i].len = s[i].len;
            if (!d[i].data) {
                onnxc_tensor_free(*out);
                *out = NULL;
                return oc_err(ONNXC_E_NOMEM, "tensor: out of memory");
            }
        }
    } else if (src->nbytes) {
        memcpy((*out)->data, src->data, src->nbytes < (*out)->nbytes ? src->nbytes : (*out)->nbytes);
    }
    return ONNXC_OK;
}

void onnxc_tensor_free(onnxc_tensor *t)
{
    if (!t)
        return;
    if (t->owns_data && t->data) {
        if (t->dtype == ONNXC_STRING) {
            onnxc_string *s = t->data;
            int64_t n = onnxc_tensor_numel(t);
            for (int64_t i = 0; i < n; i++)
                oc_free(s[i].data);
        }
        oc_free(t->data);
    }
    oc_free(t);
}
