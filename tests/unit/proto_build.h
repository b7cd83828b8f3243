/* Test helper: build small ONNX protos with protobuf-c (an independent writer of the bytes onnxc loads), with every
 * allocation kept in a list that pb_free_all() releases at the end of a test. */
#ifndef ONNXC_TEST_PROTO_BUILD_H
#define ONNXC_TEST_PROTO_BUILD_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "onnx.pb-c.h"

#define PB_LIST_CAP 64

static void **pb_kept;
static size_t pb_n_kept, pb_cap_kept;

static void *pb_keep(size_t n)
{
    if (pb_n_kept == pb_cap_kept) {
        pb_cap_kept = pb_cap_kept ? pb_cap_kept * 2 : 256;
        pb_kept = realloc(pb_kept, pb_cap_kept * sizeof *pb_kept);
        if (!pb_kept)
            abort(); /* test harness only */
    }
    void *p = calloc(1, n ? n : 1);
    if (!p)
        abort();
    pb_kept[pb_n_kept++] = p;
    return p;
}

static void pb_free_all(void)
{
    for (size_t i = 0; i < pb_n_kept; i++)
        free(pb_kept[i]);
    free(pb_kept);
    pb_kept = NULL;
    pb_n_kept = pb_cap_kept = 0;
}

static char *pb_str(const char *s)
{
    char *d = pb_keep(strlen(s) + 1);
    strcpy(d, s);
    return d;
}

static Onnx__TensorProto *pb_tensor(const char *name, int dtype, int rank, const int64_t *dims)
{
    Onnx__TensorProto *t = pb_keep(sizeof *t);
    onnx__tensor_proto__init(t);
    t->name = name ? pb_str(name) : NULL;
    t->has_data_type = 1;
    t->data_type = dtype;
    t->n_dims = (size_t)rank;
    t->dims = pb_keep((size_t)(rank ? rank : 1) * sizeof *t->dims);
    if (rank)
        memcpy(t->dims, dims, (size_t)rank * sizeof *dims);
    return t;
}

static void pb_raw(Onnx__TensorProto *t, const void *data, size_t len)
{
    t->has_raw_data = 1;
    t->raw_data.len = len;
    t->raw_data.data = pb_keep(len);
    memcpy(t->raw_data.data, data, len);
}

static void pb_external(Onnx__TensorProto *t, const char *location, const char *offset, const char *length)
{
    const char *keys[3] = {"location", "offset", "length"};
    const char *vals[3] = {location, offset, length};
    t->has_data_location = 1;
    t->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    t->external_data = pb_keep(3 * sizeof *t->external_data);
    for (int i = 0; i < 3; i++) {
        if (!vals[i])
            continue;
        Onnx__StringStringEntryProto *e = pb_keep(sizeof *e);
        onnx__string_string_entry_proto__init(e);
        e->key = pb_str(keys[i]);
        e->value = pb_str(vals[i]);
        t->external_data[t->n_external_data++] = e;
    }
}

/* A tensor-typed ValueInfoProto; dims < 0 become the symbolic dim "N"; rank < 0 means no shape. */
static Onnx__ValueInfoProto *pb_vi(const char *name, int elem, int rank, const int64_t *dims)
{
    Onnx__ValueInfoProto *v = pb_keep(sizeof *v);
    onnx__value_info_proto__init(v);
    v->name = pb_str(name);
    Onnx__TypeProto *tp = pb_keep(sizeof *tp);
    onnx__type_proto__init(tp);
    Onnx__TypeProto__Tensor *tt = pb_keep(sizeof *tt);
    onnx__type_proto__tensor__init(tt);
    tt->has_elem_type = 1;
    tt->elem_type = elem;
    if (rank >= 0) {
        Onnx__TensorShapeProto *sh = pb_keep(sizeof *sh);
        onnx__tensor_shape_proto__init(sh);
        sh->n_dim = (size_t)rank;
        sh->dim = pb_keep((size_t)(rank ? rank : 1) * sizeof *sh->dim);
        for (int i = 0; i < rank; i++) {
            Onnx__TensorShapeProto__Dimension *d = pb_keep(sizeof *d);
            onnx__tensor_shape_proto__dimension__init(d);
            if (dims[i] >= 0) {
                d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
                d->dim_value = dims[i];
            } else {
                d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
                d->dim_param = pb_str("N");
            }
            sh->dim[i] = d;
        }
        tt->shape = sh;
    }
    tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    tp->tensor_type = tt;
    v->type = tp;
    return v;
}

/* Node with inputs and outputs given as NULL-terminated lists. */
static Onnx__NodeProto *pb_node(const char *op, const char *name, const char *const *in, const char *const *out)
{
    Onnx__NodeProto *n = pb_keep(sizeof *n);
    onnx__node_proto__init(n);
    n->op_type = pb_str(op);
    n->name = name ? pb_str(name) : NULL;
    n->input = pb_keep(PB_LIST_CAP * sizeof *n->input);
    n->output = pb_keep(PB_LIST_CAP * sizeof *n->output);
    n->attribute = pb_keep(PB_LIST_CAP * sizeof *n->attribute);
    for (; in && *in; in++)
        n->input[n->n_input++] = pb_str(*in);
    for (; out && *out; out++)
        n->output[n->n_output++] = pb_str(*out);
    return n;
}

static Onnx__AttributeProto *pb_attr(Onnx__NodeProto *n, const char *name, int type)
{
    Onnx__AttributeProto *a = pb_keep(sizeof *a);
    onnx__attribute_proto__init(a);
    a->name = pb_str(name);
    if (type >= 0) {
        a->has_type = 1;
        a->type = (Onnx__AttributeProto__AttributeType)type;
    }
    n->attribute[n->n_attribute++] = a;
    return a;
}

static Onnx__GraphProto *pb_graph(const char *name)
{
    Onnx__GraphProto *g = pb_keep(sizeof *g);
    onnx__graph_proto__init(g);
    g->name = name ? pb_str(name) : NULL;
    g->node = pb_keep(PB_LIST_CAP * sizeof *g->node);
    g->initializer = pb_keep(PB_LIST_CAP * sizeof *g->initializer);
    g->input = pb_keep(PB_LIST_CAP * sizeof *g->input);
    g->output = pb_keep(PB_LIST_CAP * sizeof *g->output);
    g->value_info = pb_keep(PB_LIST_CAP * sizeof *g->value_info);
    return g;
}

static Onnx__ModelProto *pb_model(Onnx__GraphProto *g, int64_t opset)
{
    Onnx__ModelProto *m = pb_keep(sizeof *m);
    onnx__model_proto__init(m);
    m->has_ir_version = 1;
    m->ir_version = 8;
    m->opset_import = pb_keep(PB_LIST_CAP * sizeof *m->opset_import);
    Onnx__OperatorSetIdProto *op = pb_keep(sizeof *op);
    onnx__operator_set_id_proto__init(op);
    op->domain = pb_str("");
    op->has_version = 1;
    op->version = opset;
    m->opset_import[m->n_opset_import++] = op;
    m->graph = g;
    return m;
}

/* Packed bytes of a message (malloc'd, also kept). */
static uint8_t *pb_pack(const ProtobufCMessage *msg, size_t *len)
{
    *len = protobuf_c_message_get_packed_size(msg);
    uint8_t *buf = pb_keep(*len);
    protobuf_c_message_pack(msg, buf);
    return buf;
}

#endif
