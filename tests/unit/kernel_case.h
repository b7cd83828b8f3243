/* Test helper shared by the kernel unit tests (test_kernels_*.c): an input tensor header over test data, and
 * attributes of a type the IR has no setter for. Include after cmocka.h, ir.h and kutil.h. */
#ifndef ONNXC_TEST_KERNEL_CASE_H
#define ONNXC_TEST_KERNEL_CASE_H

#include <stdint.h>
#include <string.h>

/* t describes data (not copied): dtype, rank dims, and the byte count they make. */
static inline void kt_tensor(onnxc_tensor *t, int32_t dtype, int rank, const int64_t *dims, const void *data)
{
    memset(t, 0, sizeof *t);
    t->dtype = dtype;
    t->rank = rank;
    int64_t n = 1;
    for (int d = 0; d < rank; d++) {
        t->dims[d] = dims[d];
        n *= dims[d];
    }
    t->data = (void *)data;
    t->nbytes = (size_t)n * onnxc_dtype_size(dtype);
}

/* The IR has setters for ints and floats only: make an int attribute and retype it. */
static inline oc_attr *kt_retype(oc_node *node, const char *name, int type)
{
    assert_int_equal(oc_node_set_attr_int(node, name, 0), ONNXC_OK);
    oc_attr *a = (oc_attr *)oc_node_attr(node, name);
    assert_non_null(a);
    a->type = type;
    a->has_i = false;
    return a;
}

static inline void kt_string(oc_node *node, const char *name, const char *v)
{
    oc_attr *a = kt_retype(node, name, OC_ATTR_STRING);
    a->has_s = true;
    a->s.len = strlen(v);
    a->s.data = oc_malloc(a->s.len + 1);
    assert_non_null(a->s.data);
    memcpy(a->s.data, v, a->s.len + 1);
}

#endif
