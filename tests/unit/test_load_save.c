/* Loader and writer unit tests: every TensorProto storage form decoded to hand-computed values and written back in
 * the same field, a lossless round trip of a hand-built model rich in metadata, subgraph scoping, external-data
 * path rules, atomic saves (allocation failures injected at every step), overwrite protection. Models are built
 * with protobuf-c (proto_build.h), so expected bytes never come from onnxc itself. */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "ir.h"
#include "proto_build.h"

/* ---------------------------------------------------------------- helpers */

static char tmpdir[256];

static int make_tmpdir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/onnxc_test_load_save_XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static void rm_tree(const char *path)
{
    struct stat sb;
    if (lstat(path, &sb) != 0)
        return;
    if (S_ISDIR(sb.st_mode)) {
        DIR *d = opendir(path);
        if (d) {
            struct dirent *e;
            while ((e = readdir(d))) {
                if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                    continue;
                char sub[1024];
                snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
                rm_tree(sub);
            }
            closedir(d);
        }
        rmdir(path);
    } else {
        unlink(path);
    }
}

static int remove_tmpdir(void **state)
{
    (void)state;
    rm_tree(tmpdir);
    pb_free_all();
    oc_alloc_fail_after(0);
    return 0;
}

static const char *tmp_path(const char *name)
{
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
    return buf[k];
}

static void write_bytes(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    fclose(f);
}

static uint8_t *read_bytes(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc((size_t)n + 1);
    *len = fread(buf, 1, (size_t)n, f);
    fclose(f);
    return buf;
}

/* Names in tmpdir, to prove no temporary file was left behind. */
static int count_entries_containing(const char *needle)
{
    DIR *d = opendir(tmpdir);
    assert_non_null(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strstr(e->d_name, needle))
            n++;
    closedir(d);
    return n;
}

static const oc_tensor *init_of(const onnxc_model *m, const char *name)
{
    oc_value *v = oc_graph_find(m->graph, name);
    assert_non_null(v);
    assert_non_null(v->init);
    return v->init;
}

static Onnx__ModelProto *unpack_model(const void *data, size_t len)
{
    Onnx__ModelProto *mp = onnx__model_proto__unpack(NULL, len, data);
    assert_non_null(mp);
    return mp;
}

static Onnx__TensorProto *find_init(Onnx__ModelProto *mp, const char *name)
{
    for (size_t i = 0; i < mp->graph->n_initializer; i++)
        if (mp->graph->initializer[i]->name && !strcmp(mp->graph->initializer[i]->name, name))
            return mp->graph->initializer[i];
    fail_msg("initializer %s not written", name);
    return NULL;
}

/* ---------------------------------------------------------------- storage forms */

/* Initializers in every storage form; values hand-computed (fp16 0x3C00 = 1.0, 0xC000 = -2.0, 0x7BFF = 65504). */
static Onnx__ModelProto *storage_model(void)
{
    Onnx__GraphProto *g = pb_graph("storage");
    int64_t d3[] = {3}, d2[] = {2}, d1[] = {1}, d0x3[] = {0, 3};

    Onnx__TensorProto *h = pb_tensor("h", ONNXC_FLOAT16, 1, d3);
    static int32_t hv[] = {0x3C00, 0xC000, 0x7BFF};
    h->n_int32_data = 3;
    h->int32_data = hv;
    Onnx__TensorProto *b = pb_tensor("b", ONNXC_BOOL, 1, d3);
    static int32_t bv[] = {1, 0, 1};
    b->n_int32_data = 3;
    b->int32_data = bv;
    Onnx__TensorProto *i8 = pb_tensor("i8", ONNXC_INT8, 1, d3);
    static int32_t i8v[] = {-128, 127, -1};
    i8->n_int32_data = 3;
    i8->int32_data = i8v;
    Onnx__TensorProto *u16 = pb_tensor("u16", ONNXC_UINT16, 1, d2);
    static int32_t u16v[] = {0, 65535};
    u16->n_int32_data = 2;
    u16->int32_data = u16v;
    Onnx__TensorProto *s = pb_tensor("s", ONNXC_STRING, 1, d3);
    static ProtobufCBinaryData sv[] = {{2, (uint8_t *)"ab"}, {0, NULL}, {3, (uint8_t *)"x\0y"}};
    s->n_string_data = 3;
    s->string_data = sv;
    Onnx__TensorProto *dbl = pb_tensor("d", ONNXC_DOUBLE, 1, d2);
    static double dv[] = {1.5, -2.25};
    dbl->n_double_data = 2;
    dbl->double_data = dv;
    Onnx__TensorProto *u32 = pb_tensor("u32", ONNXC_UINT32, 1, d2);
    static uint64_t u32v[] = {0, 4294967295u};
    u32->n_uint64_data = 2;
    u32->uint64_data = u32v;
    Onnx__TensorProto *u64 = pb_tensor("u64", ONNXC_UINT64, 1, d1);
    static uint64_t u64v[] = {UINT64_MAX};
    u64->n_uint64_data = 1;
    u64->uint64_data = u64v;
    Onnx__TensorProto *i64 = pb_tensor("i64", ONNXC_INT64, 1, d2);
    static int64_t i64v[] = {INT64_MIN, 7};
    i64->n_int64_data = 2;
    i64->int64_data = i64v;
    Onnx__TensorProto *raw = pb_tensor("raw", ONNXC_FLOAT, 1, d2);
    static const uint8_t rawv[] = {0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0}; /* 1.0f, -2.0f little-endian */
    pb_raw(raw, rawv, sizeof rawv);
    Onnx__TensorProto *c64 = pb_tensor("c64", ONNXC_COMPLEX64, 1, d2);
    static float cv[] = {1, 2, 3, 4};
    c64->n_float_data = 4;
    c64->float_data = cv;
    Onnx__TensorProto *empty = pb_tensor("empty", ONNXC_FLOAT, 2, d0x3);
    Onnx__TensorProto *scalar = pb_tensor("scalar", ONNXC_FLOAT, 0, NULL);
    static float sc[] = {3.5f};
    scalar->n_float_data = 1;
    scalar->float_data = sc;
    Onnx__TensorProto *all[] = {h, b, i8, u16, s, dbl, u32, u64, i64, raw, c64, empty, scalar};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        g->initializer[g->n_initializer++] = all[i];
    return pb_model(g, 13);
}

static void test_storage_forms_decode(void **state)
{
    (void)state;
    size_t len;
    uint8_t *bytes = pb_pack(&storage_model()->base, &len);
    onnxc_model *m = NULL;
    assert_int_equal(onnxc_model_load_buffer(bytes, len, NULL, "storage", &m), ONNXC_OK);

    const oc_tensor *t = init_of(m, "h");
    assert_int_equal(t->storage, OC_STORE_TYPED);
    assert_int_equal(t->t.nbytes, 6);
    const uint16_t *hp = t->t.data;
    assert_int_equal(hp[0], 0x3C00);
    assert_int_equal(hp[1], 0xC000);
    assert_int_equal(hp[2], 0x7BFF);

    const uint8_t *bp = init_of(m, "b")->t.data;
    assert_int_equal(bp[0], 1);
    assert_int_equal(bp[1], 0);
    assert_int_equal(bp[2], 1);

    const int8_t *ip = init_of(m, "i8")->t.data;
    assert_int_equal(ip[0], -128);
    assert_int_equal(ip[1], 127);
    assert_int_equal(ip[2], -1);

    const uint16_t *up = init_of(m, "u16")->t.data;
    assert_int_equal(up[1], 65535);

    t = init_of(m, "s");
    const onnxc_string *sp = t->t.data;
    assert_int_equal(sp[0].len, 2);
    assert_memory_equal(sp[0].data, "ab", 3); /* NUL kept after the bytes */
    assert_int_equal(sp[1].len, 0);
    assert_int_equal(sp[2].len, 3);
    assert_memory_equal(sp[2].data, "x\0y", 3);

    const double *dp = init_of(m, "d")->t.data;
    assert_true(dp[0] == 1.5 && dp[1] == -2.25);
    const uint32_t *u32 = init_of(m, "u32")->t.data;
    assert_int_equal(init_of(m, "u32")->t.nbytes, 8);
    assert_true(u32[0] == 0 && u32[1] == 4294967295u);
    const uint64_t *u64 = init_of(m, "u64")->t.data;
    assert_true(u64[0] == UINT64_MAX);
    const int64_t *i64 = init_of(m, "i64")->t.data;
    assert_true(i64[0] == INT64_MIN && i64[1] == 7);

    t = init_of(m, "raw");
    assert_int_equal(t->storage, OC_STORE_RAW);
    const float *fp = t->t.data;
    assert_true(fp[0] == 1.0f && fp[1] == -2.0f);

    t = init_of(m, "c64");
    assert_int_equal(t->t.nbytes, 16);
    fp = t->t.data;
    assert_true(fp[0] == 1 && fp[1] == 2 && fp[2] == 3 && fp[3] == 4);

    t = init_of(m, "empty");
    assert_int_equal(t->storage, OC_STORE_NONE);
    assert_int_equal(t->t.rank, 2);
    assert_int_equal(t->t.dims[0], 0);
    assert_int_equal(t->t.nbytes, 0);

    t = init_of(m, "scalar");
    assert_int_equal(t->t.rank, 0);
    assert_true(*(const float *)t->t.data == 3.5f);
    onnxc_model_free(m);
}

static void test_storage_forms_written_back(void **state)
{
    (void)state;
    size_t len;
    uint8_t *bytes = pb_pack(&storage_model()->base, &len);
    onnxc_model *m = NULL;
    assert_int_equal(onnxc_model_load_buffer(bytes, len, NULL, "storage", &m), ONNXC_OK);
    void *out;
    size_t out_len;
    assert_int_equal(onnxc_model_serialize(m, &out, &out_len), ONNXC_OK);
    /* same fields, same values: protobuf-c packs in field order, so the bytes agree exactly */
    assert_int_equal(out_len, len);
    assert_memory_equal(out, bytes, len);

    Onnx__ModelProto *mp = unpack_model(out, out_len);
    Onnx__TensorProto *h = find_init(mp, "h");
    assert_false(h->has_raw_data);
    assert_int_equal(h->n_int32_data, 3);
    assert_int_equal(h->int32_data[1], 0xC000); /* zero-extended bit pattern, not a sign-extended int16 */
    Onnx__TensorProto *i8 = find_init(mp, "i8");
    assert_int_equal(i8->int32_data[0], -128);
    Onnx__TensorProto *u32 = find_init(mp, "u32");
    assert_int_equal(u32->n_uint64_data, 2);
    assert_true(u32->uint64_data[1] == 4294967295u);
    Onnx__TensorProto *empty = find_init(mp, "empty");
    assert_false(empty->has_raw_data);
    assert_int_equal(empty->n_float_data, 0);
    protobuf_c_message_free_unpacked(&mp->base, NULL);
    free(out);
    onnxc_model_free(m);
}

/* Tensors made by code (storage RAW by default) are written as raw_data, strings as string_data. */
static void test_new_tensor_written_raw(void **state)
{
    (void)state;
    size_t len;
    uint8_t *bytes = pb_pack(&storage_model()->base, &len);
    onnxc_model *m = NULL;
    assert_int_equal(onnxc_model_load_buffer(bytes, len, NULL, "storage", &m), ONNXC_OK);
    oc_tensor *t = oc_calloc(1, sizeof *t);
    assert_non_null(t);
    onnxc_tensor *x;
    int64_t dims[1] = {2};
    assert_int_equal(onnxc_tensor_create(ONNXC_FLOAT16, 1, dims, &x), ONNXC_OK);
    ((uint16_t *)x->data)[0] = 0x3C00;
    ((uint16_t *)x->data)[1] = 0x8000;
    t->t = *x;
    oc_free(x);
    assert_non_null(oc_graph_add_initializer(m->graph, "made", t));
    void *out;
    size_t out_len;
    assert_int_equal(onnxc_model_serialize(m, &out, &out_len), ONNXC_OK);
    Onnx__ModelProto *mp = unpack_model(out, out_len);
    Onnx__TensorProto *tp = find_init(mp, "made");
    assert_true(tp->has_data_type);
    assert_int_equal(tp->data_type, ONNXC_FLOAT16);
    assert_true(tp->has_raw_data);
    static const uint8_t want[] = {0x00, 0x3c, 0x00, 0x80};
    assert_int_equal(tp->raw_data.len, 4);
    assert_memory_equal(tp->raw_data.data, want, 4);
    protobuf_c_message_free_unpacked(&mp->base, NULL);
    free(out);
    onnxc_model_free(m);
}

/* ---------------------------------------------------------------- a model rich in everything else */

static Onnx__TypeProto *sequence_of_float(void)
{
    Onnx__TypeProto *inner = pb_keep(sizeof *inner);
    onnx__type_proto__init(inner);
    Onnx__TypeProto__Tensor *tt = pb_keep(sizeof *tt);
    onnx__type_proto__tensor__init(tt);
    tt->has_elem_type = 1;
    tt->elem_type = ONNXC_FLOAT;
    inner->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    inner->tensor_type = tt;
    Onnx__TypeProto__Sequence *seq = pb_keep(sizeof *seq);
    onnx__type_proto__sequence__init(seq);
    seq->elem_type = inner;
    Onnx__TypeProto *tp = pb_keep(sizeof *tp);
    onnx__type_proto__init(tp);
    tp->value_case = ONNX__TYPE_PROTO__VALUE_SEQUENCE_TYPE;
    tp->sequence_type = seq;
    tp->denotation = pb_str("SEQ");
    return tp;
}

static Onnx__ModelProto *rich_model(void)
{
    int64_t xd[] = {-1, 3}, two[] = {2};
    Onnx__GraphProto *g = pb_graph("rich");
    g->doc_string = pb_str("graph doc");
    Onnx__ValueInfoProto *x = pb_vi("x", ONNXC_FLOAT, 2, xd);
    x->doc_string = pb_str("the input");
    x->type->denotation = pb_str("TENSOR");
    x->type->tensor_type->shape->dim[0]->denotation = pb_str("DATA_BATCH");
    g->input[g->n_input++] = x;
    g->input[g->n_input++] = pb_vi("c", ONNXC_BOOL, 0, NULL);
    Onnx__ValueInfoProto *seq = pb_keep(sizeof *seq);
    onnx__value_info_proto__init(seq);
    seq->name = pb_str("seq");
    seq->type = sequence_of_float();
    g->input[g->n_input++] = seq;

    Onnx__TensorProto *w = pb_tensor("w", ONNXC_FLOAT, 1, two);
    static const float wv[] = {0.5f, -1.0f};
    pb_raw(w, wv, sizeof wv);
    w->doc_string = pb_str("weights");
    g->initializer[g->n_initializer++] = w;

    /* nodes listed consumer first: the loader must not need topological order */
    Onnx__NodeProto *relu = pb_node("Relu", "relu", (const char *[]){"sum", NULL}, (const char *[]){"r", NULL});
    relu->domain = pb_str(""); /* present and empty: must stay present */
    relu->doc_string = pb_str("node doc");
    Onnx__NodeProto *add = pb_node("Add", NULL, (const char *[]){"x", "w", NULL}, (const char *[]){"sum", NULL});
    Onnx__NodeProto *custom = pb_node("Custom", "custom", (const char *[]){"r", "", "x", NULL},
                                      (const char *[]){"y", "", NULL});
    custom->domain = pb_str("com.test");
    Onnx__AttributeProto *a = pb_attr(custom, "alpha", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
    a->has_f = 1;
    a->f = 0.25f;
    a->doc_string = pb_str("attr doc");
    a = pb_attr(custom, "axes", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    static int64_t axes[] = {0, -1};
    a->n_ints = 2;
    a->ints = axes;
    a = pb_attr(custom, "mode", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
    a->has_s = 1;
    a->s.len = 4;
    a->s.data = (uint8_t *)"fast";
    a = pb_attr(custom, "legacy", -1); /* no type field (IR version 1 style) */
    a->has_i = 1;
    a->i = 9;
    a = pb_attr(custom, "empty_ints", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    a = pb_attr(custom, "kind", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TYPE_PROTO);
    a->tp = sequence_of_float();

    /* If whose then-branch reads x and w from the enclosing graph */
    Onnx__GraphProto *then_g = pb_graph("then");
    then_g->node[then_g->n_node++] =
        pb_node("Mul", "inner_mul", (const char *[]){"x", "w", NULL}, (const char *[]){"t", NULL});
    then_g->output[then_g->n_output++] = pb_vi("t", ONNXC_FLOAT, -1, NULL);
    Onnx__GraphProto *else_g = pb_graph("else");
    else_g->output[else_g->n_output++] = pb_vi("x", ONNXC_FLOAT, -1, NULL); /* an outer value as output */
    Onnx__NodeProto *iff = pb_node("If", "if", (const char *[]){"c", NULL}, (const char *[]){"z", NULL});
    a = pb_attr(iff, "then_branch", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH);
    a->g = then_g;
    a = pb_attr(iff, "else_branch", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH);
    a->g = else_g;
    Onnx__NodeProto *cst = pb_node("Constant", "k", NULL, (const char *[]){"k_out", NULL});
    a = pb_attr(cst, "value", ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR);
    a->t = pb_tensor(NULL, ONNXC_INT64, 1, two);
    static int64_t kv[] = {4, 5};
    a->t->n_int64_data = 2;
    a->t->int64_data = kv;

    g->node[g->n_node++] = relu;
    g->node[g->n_node++] = add;
    g->node[g->n_node++] = custom;
    g->node[g->n_node++] = iff;
    g->node[g->n_node++] = cst;
    g->output[g->n_output++] = pb_vi("y", ONNXC_FLOAT, 2, xd);
    g->output[g->n_output++] = pb_vi("z", ONNXC_FLOAT, -1, NULL);
    g->value_info[g->n_value_info++] = pb_vi("sum", ONNXC_FLOAT, 2, xd);

    Onnx__ModelProto *m = pb_model(g, 13);
    Onnx__OperatorSetIdProto *op = pb_keep(sizeof *op);
    onnx__operator_set_id_proto__init(op);
    op->domain = pb_str("com.test");
    op->has_version = 1;
    op->version = 2;
    m->opset_import[m->n_opset_import++] = op;
    m->producer_name = pb_str("proto_build");
    m->producer_version = pb_str("0.1");
    m->domain = pb_str("");
    m->has_model_version = 1;
    m->model_version = 42;
    m->doc_string = pb_str("model doc");
    m->metadata_props = pb_keep(2 * sizeof *m->metadata_props);
    const char *kvs[2][2] = {{"author", "tests"}, {"note", ""}};
    for (int i = 0; i < 2; i++) {
        Onnx__StringStringEntryProto *e = pb_keep(sizeof *e);
        onnx__string_string_entry_proto__init(e);
        e->key = pb_str(kvs[i][0]);
        e->value = pb_str(kvs[i][1]);
        m->metadata_props[m->n_metadata_props++] = e;
    }
    Onnx__FunctionProto *fn = pb_keep(sizeof *fn);
    onnx__function_proto__init(fn);
    fn->name = pb_str("Twice");
    fn->domain = pb_str("com.test");
    m->functions = pb_keep(sizeof *m->functions);
    m->functions[m->n_functions++] = fn;
    return m;
}

static void test_rich_model_round_trip(void **state)
{
    (void)state;
    size_t len;
    uint8_t *bytes = pb_pack(&rich_model()->base, &len);
    onnxc_model *m = NULL;
    assert_int_equal(onnxc_model_load_buffer(bytes, len, NULL, "rich", &m), ONNXC_OK);
    void *out;
    size_t out_len;
    assert_int_equal(onnxc_model_serialize(m, &out, &out_len), ONNXC_OK);
    assert_int_equal(out_len, len);
    assert_memory_equal(out, bytes, len);
    free(out);
    onnxc_model_free(m);
}

static void test_rich_model_ir(void **state)
{
    (void)state;
    size_t len;
    uint8_t *bytes = pb_pack(&rich_model()->base, &len);
    onnxc_model *m = NULL;
    assert_int_equal(onnxc_model_load_buffer(bytes, len, NULL, "rich", &m), ONNXC_OK);
    oc_graph *g = m->graph;
    assert_int_equal(m->n_opsets, 2);
    assert_string_equal(m->opsets[1].domain, "com.test");
    assert_int_equal(oc_model_opset(m, ""), 13);
    assert_int_equal(m->n_metadata, 2);
    assert_string_equal(m->metadata[1].value, "");
    assert_int_equal(m->n_functions, 1);

    /* file order kept */
    assert_int_equal(g->n_nodes, 5);
    assert_string_equal(g->nodes[0]->op_type, "Relu");
    assert_non_null(g->nodes[0]->domain);
    assert_string_equal(g->nodes[0]->domain, "");
    assert_null(g->nodes[1]->domain);
    assert_null(g->nodes[1]->name);

    /* edges: Relu's input is Add's output, declared later in the file */
    oc_value *sum = oc_graph_find(g, "sum");
    assert_ptr_equal(g->nodes[0]->inputs[0], sum);
    assert_ptr_equal(sum->producer, g->nodes[1]);
    /* omitted optional input and output are NULL slots */
    oc_node *custom = g->nodes[2];
    assert_int_equal(custom->n_inputs, 3);
    assert_null(custom->inputs[1]);
    assert_int_equal(custom->n_outputs, 2);
    assert_null(custom->outputs[1]);
    assert_true(oc_attr_float(custom, "alpha", 0) == 0.25f);
    const oc_attr *legacy = oc_node_attr(custom, "legacy");
    assert_false(legacy->has_type);
    assert_int_equal(legacy->type, OC_ATTR_INT); /* taken from the field that is set */
    assert_int_equal(oc_attr_int(custom, "legacy", 0), 9);

    /* declared types: symbolic dim and opaque sequence type */
    const oc_type *xt = oc_value_type(oc_graph_find(g, "x"));
    assert_int_equal(xt->kind, OC_TYPE_TENSOR);
    assert_int_equal(xt->rank, 2);
    assert_string_equal(xt->dims[0].param, "N");
    assert_false(xt->dims[0].has_value);
    assert_int_equal(xt->dims[1].value, 3);
    assert_int_equal(oc_value_type(oc_graph_find(g, "seq"))->kind, OC_TYPE_OPAQUE);

    /* subgraph: x and w are outer references in then_branch; its parent is the main graph */
    const oc_attr *then_a = oc_node_attr(g->nodes[3], "then_branch");
    oc_graph *then_g = then_a->g;
    assert_ptr_equal(then_g->parent, g);
    oc_value *outer_x = oc_graph_find(then_g, "x");
    assert_non_null(outer_x);
    assert_true(outer_x->flags & OC_V_OUTER);
    assert_ptr_equal(then_g->nodes[0]->inputs[0], outer_x);
    oc_graph *else_g = oc_node_attr(g->nodes[3], "else_branch")->g;
    assert_true(oc_graph_find(else_g, "x")->flags & OC_V_OUTER);

    /* Constant stays a node; its tensor is reachable as the value's constant */
    oc_value *k = oc_graph_find(g, "k_out");
    const oc_tensor *kt = oc_value_constant(k);
    assert_non_null(kt);
    assert_int_equal(((const int64_t *)kt->t.data)[1], 5);

    assert_int_equal(oc_graph_toposort(g), ONNXC_OK);
    onnxc_model_free(m);
}

/* IR <= 3: every initializer is also listed in graph.input; they are one value with both flags. */
static void test_ir3_initializer_input(void **state)
{
    (void)state;
    int64_t two[] = {2};
    Onnx__GraphProto *g = pb_graph("ir3");
    g->input[g->n_input++] = pb_vi("x", ONNXC_FLOAT, 1, two);
    g->input[g->n_input++] = pb_vi("w", ONNXC_FLOAT, 1, two);
    Onnx__TensorProto *w = pb_tensor("w", ONNXC_FLOAT, 1, two);
    static const float wv[] = {1, 2};
    pb_raw(w, wv, sizeof wv);
    g->initializer[g->n_initializer++] = w;
    g->node[g->n_node++] = pb_node("Add", "add", (const char *[]){"x", "w", NULL}, (const char *[]){"y", NULL});
    g->output[g->n_output++] = pb_vi("y", ONNXC_FLOAT, 1, two);
    Onnx__ModelProto *mp = pb_model(g, 7);
    mp->ir_version = 3;
    size_t len;
    uint8_t *bytes = pb_pack(&mp->base, &len);
    onnxc_model *m = NULL;
    assert_int_equal(onnxc_model_load_buffer(bytes, len, NULL, "ir3", &m), ONNXC_OK);
    oc_value *wv_ = oc_graph_find(m->graph, "w");
    assert_true(wv_->flags & OC_V_INPUT);
    assert_true(wv_->flags & OC_V_INITIALIZER);
    assert_int_equal(m->graph->n_values, 3);
    assert_int_equal(onnxc_model_num_inputs(m), 1);
    void *out;
    size_t out_len;
    assert_int_equal(onnxc_model_serialize(m, &out, &out_len), ONNXC_OK);
    assert_int_equal(out_len, len);
    assert_memory_equal(out, bytes, len);
    free(out);
    onnxc_model_free(m);
}

/* ---------------------------------------------------------------- external data */

static const float ext_values[4] = {1.0f, 2.0f, 3.0f, 4.0f};

/* A model whose single initializer 'e' of dims {n} lives in external data. */
static uint8_t *external_model(const char *location, const char *offset, const char *length, int64_t n,
                               size_t *len)
{
    Onnx__GraphProto *g = pb_graph("ext");
    Onnx__TensorProto *t = pb_tensor("e", ONNXC_FLOAT, 1, &n);
    pb_external(t, location, offset, length);
    g->initializer[g->n_initializer++] = t;
    g->node[g->n_node++] = pb_node("Identity", "id", (const char *[]){"e", NULL}, (const char *[]){"y", NULL});
    g->output[g->n_output++] = pb_vi("y", ONNXC_FLOAT, 1, &n);
    return pb_pack(&pb_model(g, 13)->base, len);
}

static onnxc_status load_external(const char *location, const char *offset, const char *length, int64_t n,
                                  onnxc_model **m)
{
    size_t len;
    uint8_t *bytes = external_model(location, offset, length, n, &len);
    write_bytes(tmp_path("model.onnx"), bytes, len);
    return onnxc_model_load(tmp_path("model.onnx"), m);
}

static void test_external_data_paths(void **state)
{
    (void)state;
    char sub[600], outside[600];
    snprintf(sub, sizeof sub, "%s/sub", tmpdir);
    assert_int_equal(mkdir(sub, 0755), 0);
    write_bytes(tmp_path("w.bin"), ext_values, sizeof ext_values);
    write_bytes(tmp_path("sub/w2.bin"), ext_values, sizeof ext_values);
    assert_int_equal(symlink("w.bin", tmp_path("alias.bin")), 0);
    snprintf(outside, sizeof outside, "%s_outside.bin", tmpdir);
    write_bytes(outside, ext_values, sizeof ext_values);
    assert_int_equal(symlink(outside, tmp_path("escape.bin")), 0);

    onnxc_model *m = NULL;
    /* whole file, no offset or length */
    assert_int_equal(load_external("w.bin", NULL, NULL, 4, &m), ONNXC_OK);
    const oc_tensor *t = init_of(m, "e");
    assert_int_equal(t->storage, OC_STORE_EXTERNAL);
    assert_memory_equal(t->t.data, ext_values, 16);
    onnxc_model_free(m);
    /* in a subfolder, with offset and length: elements 1 and 2 */
    assert_int_equal(load_external("sub/w2.bin", "4", "8", 2, &m), ONNXC_OK);
    assert_memory_equal(init_of(m, "e")->t.data, ext_values + 1, 8);
    onnxc_model_free(m);
    /* a symlink that stays inside the folder is fine */
    assert_int_equal(load_external("alias.bin", "0", "16", 4, &m), ONNXC_OK);
    onnxc_model_free(m);

    struct {
        const char *location, *offset, *length;
        int64_t n;
        onnxc_status want;
        const char *msg;
    } bad[] = {
        {"../w.bin", NULL, NULL, 4, ONNXC_E_INVALID, "'..'"},
        {"sub/../w.bin", NULL, NULL, 4, ONNXC_E_INVALID, "'..'"},
        {"..\\w.bin", NULL, NULL, 4, ONNXC_E_INVALID, "'..'"},
        {"/etc/passwd", NULL, NULL, 4, ONNXC_E_INVALID, "absolute"},
        {"C:\\w.bin", NULL, NULL, 4, ONNXC_E_INVALID, "absolute"},
        {"escape.bin", NULL, NULL, 4, ONNXC_E_INVALID, "outside the model folder"},
        {"w.bin", "8", "16", 4, ONNXC_E_INVALID, "past the end"},
        {"w.bin", "17", NULL, 4, ONNXC_E_INVALID, "past the end"},
        {"w.bin", "0", "12", 4, ONNXC_E_INVALID, "need"},
        {"w.bin", "x", NULL, 4, ONNXC_E_INVALID, "offset"},
        {"w.bin", "0", "-16", 4, ONNXC_E_INVALID, "length"},
        {"missing.bin", NULL, NULL, 4, ONNXC_E_IO, "missing.bin"},
        {"", NULL, NULL, 4, ONNXC_E_INVALID, "no location"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        m = NULL;
        onnxc_status st = load_external(bad[i].location, bad[i].offset, bad[i].length, bad[i].n, &m);
        if (st != bad[i].want || !strstr(onnxc_last_error(), bad[i].msg) || !strstr(onnxc_last_error(), "'e'") ||
            !strstr(onnxc_last_error(), "model.onnx"))
            fail_msg("case %zu (%s): status %d, message: %s", i, bad[i].location, st, onnxc_last_error());
        assert_null(m);
    }
    unlink(outside);

    /* from a buffer without a folder external data cannot be resolved */
    size_t len;
    uint8_t *bytes = external_model("w.bin", NULL, NULL, 4, &len);
    assert_int_equal(onnxc_model_load_buffer(bytes, len, NULL, "buf", &m), ONNXC_E_ARG);
    assert_non_null(strstr(onnxc_last_error(), "buf"));
    assert_int_equal(onnxc_model_load_buffer(bytes, len, tmpdir, "buf", &m), ONNXC_OK);
    onnxc_model_free(m);
}

/* The Hugging Face cache layout: snapshots/rev/model.onnx and model.onnx.data are symlinks into blobs/. The data
 * may come from where the model really lives, but a real (non-link) model gets no such allowance. */
static void test_external_data_symlinked_model(void **state)
{
    (void)state;
    char p[700];
    snprintf(p, sizeof p, "%s/blobs", tmpdir);
    assert_int_equal(mkdir(p, 0755), 0);
    snprintf(p, sizeof p, "%s/snapshots", tmpdir);
    assert_int_equal(mkdir(p, 0755), 0);
    snprintf(p, sizeof p, "%s/snapshots/rev", tmpdir);
    assert_int_equal(mkdir(p, 0755), 0);
    snprintf(p, sizeof p, "%s/plain", tmpdir);
    assert_int_equal(mkdir(p, 0755), 0);
    size_t len;
    uint8_t *bytes = external_model("model.onnx.data", NULL, NULL, 4, &len);
    write_bytes(tmp_path("blobs/h1"), bytes, len);
    write_bytes(tmp_path("blobs/h2"), ext_values, sizeof ext_values);
    assert_int_equal(symlink("../../blobs/h1", tmp_path("snapshots/rev/model.onnx")), 0);
    assert_int_equal(symlink("../../blobs/h2", tmp_path("snapshots/rev/model.onnx.data")), 0);
    onnxc_model *m = NULL;
    assert_int_equal(onnxc_model_load(tmp_path("snapshots/rev/model.onnx"), &m), ONNXC_OK);
    assert_memory_equal(init_of(m, "e")->t.data, ext_values, 16);
    onnxc_model_free(m);

    write_bytes(tmp_path("plain/model.onnx"), bytes, len);
    assert_int_equal(symlink("../blobs/h2", tmp_path("plain/model.onnx.data")), 0);
    assert_int_equal(onnxc_model_load(tmp_path("plain/model.onnx"), &m), ONNXC_E_INVALID);
    assert_non_null(strstr(onnxc_last_error(), "outside the model folder"));
}

/* Saving with external data: tensors of at least the threshold go to one file beside the model. */
static void test_save_external_data(void **state)
{
    (void)state;
    int64_t n4 = 4, n1 = 1;
    Onnx__GraphProto *g = pb_graph("g");
    Onnx__TensorProto *big = pb_tensor("big", ONNXC_FLOAT, 1, &n4);
    pb_raw(big, ext_values, 16);
    Onnx__TensorProto *small = pb_tensor("small", ONNXC_FLOAT, 1, &n1);
    pb_raw(small, ext_values, 4);
    Onnx__TensorProto *big2 = pb_tensor("big2", ONNXC_FLOAT, 1, &n4);
    big2->n_float_data = 4;
    big2->float_data = (float *)ext_values;
    g->initializer[g->n_initializer++] = big;
    g->initializer[g->n_initializer++] = small;
    g->initializer[g->n_initializer++] = big2;
    size_t len;
    uint8_t *bytes = pb_pack(&pb_model(g, 13)->base, &len);
    onnxc_model *m = NULL;
    assert_int_equal(onnxc_model_load_buffer(bytes, len, NULL, "g", &m), ONNXC_OK);

    onnxc_save_options o = {0};
    o.external_data = 1;
    o.external_min_bytes = 16;
    assert_int_equal(onnxc_model_save(m, tmp_path("out.onnx"), &o), ONNXC_OK);
    size_t mlen = 0, dlen = 0;
    uint8_t *mbytes = read_bytes(tmp_path("out.onnx"), &mlen);
    uint8_t *dbytes = read_bytes(tmp_path("out.onnx.data"), &dlen);
    assert_non_null(mbytes);
    assert_non_null(dbytes);
    Onnx__ModelProto *mp = unpack_model(mbytes, mlen);
    Onnx__TensorProto *tb = find_init(mp, "big"), *ts = find_init(mp, "small"), *tb2 = find_init(mp, "big2");
    assert_true(tb->has_data_location && tb->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL);
    assert_false(tb->has_raw_data);
    assert_int_equal(tb->n_external_data, 3);
    assert_string_equal(tb->external_data[0]->key, "location");
    assert_string_equal(tb->external_data[0]->value, "out.onnx.data");
    long off = atol(tb->external_data[1]->value), off2 = atol(tb2->external_data[1]->value);
    assert_string_equal(tb->external_data[2]->value, "16");
    assert_int_equal(off % 64, 0);
    assert_int_equal(off2 % 64, 0);
    assert_true((size_t)off + 16 <= dlen && (size_t)off2 + 16 <= dlen);
    assert_memory_equal(dbytes + off, ext_values, 16);
    assert_memory_equal(dbytes + off2, ext_values, 16); /* typed float_data goes out as bytes too */
    assert_true(ts->has_raw_data);                        /* below the threshold: inline */
    assert_false(ts->has_data_location);
    protobuf_c_message_free_unpacked(&mp->base, NULL);
    free(mbytes);
    free(dbytes);

    /* and it loads back with the same values */
    onnxc_model *back = NULL;
    assert_int_equal(onnxc_model_load(tmp_path("out.onnx"), &back), ONNXC_OK);
    assert_memory_equal(init_of(back, "big2")->t.data, ext_values, 16);

    /* saving the reloaded model next to it must not clobber the data file it was loaded from */
    assert_int_equal(onnxc_model_save(back, tmp_path("other.onnx"), &(onnxc_save_options){
                                          .external_data = 1, .external_name = "out.onnx.data"}),
                     ONNXC_E_ARG);
    assert_non_null(strstr(onnxc_last_error(), "out.onnx.data"));
    /* plain save inlines external tensors */
    assert_int_equal(onnxc_model_save(back, tmp_path("inline.onnx"), NULL), ONNXC_OK);
    onnxc_model_free(back);
    assert_int_equal(onnxc_model_load(tmp_path("inline.onnx"), &back), ONNXC_OK);
    assert_int_equal(init_of(back, "big")->storage, OC_STORE_RAW);
    onnxc_model_free(back);

    /* no tensor reaches the threshold: no data file is made */
    o.external_min_bytes = 1 << 20;
    assert_int_equal(onnxc_model_save(m, tmp_path("nodata.onnx"), &o), ONNXC_OK);
    assert_int_equal(access(tmp_path("nodata.onnx.data"), F_OK), -1);
    assert_int_equal(onnxc_model_load(tmp_path("nodata.onnx"), &back), ONNXC_OK);
    assert_int_equal(init_of(back, "big")->storage, OC_STORE_RAW);
    onnxc_model_free(back);
    o.external_min_bytes = 16;

    /* the data file name must be a plain name */
    const char *bad_names[] = {"../evil.data", "sub/x.data", "/tmp/x.data", "..", "out2.onnx"};
    for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
        o.external_name = bad_names[i];
        assert_int_equal(onnxc_model_save(m, tmp_path("out2.onnx"), &o), ONNXC_E_ARG);
        assert_int_equal(access(tmp_path("out2.onnx"), F_OK), -1);
    }
    assert_int_equal(count_entries_containing(".tmp"), 0);
    onnxc_model_free(m);
}

/* ---------------------------------------------------------------- atomic saves and overwrite protection */

static void test_save_is_atomic_under_allocation_failures(void **state)
{
    (void)state;
    size_t len;
    uint8_t *bytes = pb_pack(&rich_model()->base, &len);
    onnxc_model *m = NULL;
    assert_int_equal(onnxc_model_load_buffer(bytes, len, NULL, "rich", &m), ONNXC_OK);
    static const char old[] = "previous content";
    write_bytes(tmp_path("out.onnx"), old, sizeof old);
    onnxc_save_options o = {0};
    o.external_data = 1;
    o.external_min_bytes = 1;
    int failures = 0;
    onnxc_status st = ONNXC_E_NOMEM;
    for (size_t k = 1; k < 100000 && st != ONNXC_OK; k++) {
        oc_alloc_fail_after(k);
        st = onnxc_model_save(m, tmp_path("out.onnx"), &o);
        oc_alloc_fail_after(0);
        if (st == ONNXC_OK)
            break;
        failures++;
        assert_int_not_equal(st, ONNXC_E_ARG);
        assert_null(strchr(onnxc_last_error(), '\n'));
        size_t n;
        uint8_t *now = read_bytes(tmp_path("out.onnx"), &n);
        assert_int_equal(n, sizeof old);
        assert_memory_equal(now, old, sizeof old);
        free(now);
        assert_int_equal(count_entries_containing(".tmp"), 0);
        assert_int_equal(access(tmp_path("out.onnx.data"), F_OK), -1);
    }
    assert_int_equal(st, ONNXC_OK);
    assert_true(failures > 10); /* the injection did reach the writer */
    onnxc_model *back = NULL;
    assert_int_equal(onnxc_model_load(tmp_path("out.onnx"), &back), ONNXC_OK);
    onnxc_model_free(back);
    onnxc_model_free(m);
}

static void test_load_survives_allocation_failures(void **state)
{
    (void)state;
    size_t len;
    uint8_t *bytes = pb_pack(&rich_model()->base, &len);
    int failures = 0;
    onnxc_status st = ONNXC_E_NOMEM;
    for (size_t k = 1; k < 100000; k++) {
        onnxc_model *m = NULL;
        oc_alloc_fail_after(k);
        st = onnxc_model_load_buffer(bytes, len, NULL, "rich", &m);
        oc_alloc_fail_after(0);
        if (st == ONNXC_OK) {
            onnxc_model_free(m);
            break;
        }
        failures++;
        assert_null(m);
        assert_true(strlen(onnxc_last_error()) > 0);
    }
    assert_int_equal(st, ONNXC_OK);
    assert_true(failures > 50);
}

static void test_save_refuses_to_overwrite_input(void **state)
{
    (void)state;
    size_t len;
    uint8_t *bytes = pb_pack(&rich_model()->base, &len);
    write_bytes(tmp_path("in.onnx"), bytes, len);
    assert_int_equal(symlink("in.onnx", tmp_path("link.onnx")), 0);
    assert_int_equal(link(tmp_path("in.onnx"), tmp_path("hard.onnx")), 0);
    onnxc_model *m = NULL;
    assert_int_equal(onnxc_model_load(tmp_path("in.onnx"), &m), ONNXC_OK);
    const char *same[] = {"in.onnx", "link.onnx", "hard.onnx"};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(onnxc_model_save(m, tmp_path(same[i]), NULL), ONNXC_E_ARG);
        assert_non_null(strstr(onnxc_last_error(), same[i]));
    }
    /* a path spelled differently is still the same file */
    char odd[600];
    snprintf(odd, sizeof odd, "%s/./in.onnx", tmpdir);
    assert_int_equal(onnxc_model_save(m, odd, NULL), ONNXC_E_ARG);
    size_t n;
    uint8_t *now = read_bytes(tmp_path("in.onnx"), &n);
    assert_int_equal(n, len);
    assert_memory_equal(now, bytes, len);
    free(now);
    onnxc_save_options o = {0};
    o.allow_overwrite_input = 1;
    assert_int_equal(onnxc_model_save(m, tmp_path("in.onnx"), &o), ONNXC_OK);
    now = read_bytes(tmp_path("in.onnx"), &n);
    assert_int_equal(n, len);
    assert_memory_equal(now, bytes, len);
    free(now);
    onnxc_model_free(m);
}

static void test_save_into_missing_folder(void **state)
{
    (void)state;
    size_t len;
    uint8_t *bytes = pb_pack(&rich_model()->base, &len);
    onnxc_model *m = NULL;
    assert_int_equal(onnxc_model_load_buffer(bytes, len, NULL, "rich", &m), ONNXC_OK);
    assert_int_equal(onnxc_model_save(m, tmp_path("no/such/dir/out.onnx"), NULL), ONNXC_E_IO);
    assert_non_null(strstr(onnxc_last_error(), "no/such/dir/out.onnx"));
    assert_int_equal(onnxc_model_save(m, "", NULL), ONNXC_E_ARG);
    onnxc_model_free(m);
}

/* A new file gets the mode any created file would (0666 less the umask); a replaced file keeps its mode. */
static void test_saved_file_mode(void **state)
{
    (void)state;
    size_t len;
    uint8_t *bytes = pb_pack(&rich_model()->base, &len);
    onnxc_model *m = NULL;
    assert_int_equal(onnxc_model_load_buffer(bytes, len, NULL, "rich", &m), ONNXC_OK);
    mode_t um = umask(022);
    assert_int_equal(onnxc_model_save(m, tmp_path("new.onnx"), NULL), ONNXC_OK);
    struct stat sb;
    assert_int_equal(stat(tmp_path("new.onnx"), &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0644);
    assert_int_equal(chmod(tmp_path("new.onnx"), 0600), 0);
    assert_int_equal(onnxc_model_save(m, tmp_path("new.onnx"), NULL), ONNXC_OK);
    assert_int_equal(stat(tmp_path("new.onnx"), &sb), 0);
    assert_int_equal(sb.st_mode & 0777, 0600);
    umask(um);
    onnxc_model_free(m);
}

/* Files that are not models get a one-line parse error naming the file. */
static void test_not_a_model(void **state)
{
    (void)state;
    static const char text[] = "just text\n";
    write_bytes(tmp_path("text.onnx"), text, sizeof text - 1);
    onnxc_model *m = NULL;
    onnxc_status st = onnxc_model_load(tmp_path("text.onnx"), &m);
    assert_int_not_equal(st, ONNXC_OK);
    assert_non_null(strstr(onnxc_last_error(), "text.onnx"));
    assert_null(strchr(onnxc_last_error(), '\n'));
    assert_int_equal(onnxc_model_load(tmp_path("absent.onnx"), &m), ONNXC_E_IO);
    assert_int_equal(onnxc_model_load_buffer("", 0, NULL, "nothing", &m), ONNXC_E_PARSE);
    assert_non_null(strstr(onnxc_last_error(), "nothing"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_storage_forms_decode, make_tmpdir, remove_tmpdir),
        cmocka_unit_test_setup_teardown(test_storage_forms_written_back, make_tmpdir, remove_tmpdir),
        cmocka_unit_test_setup_teardown(test_new_tensor_written_raw, make_tmpdir, remove_tmpdir),
        cmocka_unit_test_setup_teardown(test_rich_model_round_trip, make_tmpdir, remove_tmpdir),
        cmocka_unit_test_setup_teardown(test_rich_model_ir, make_tmpdir, remove_tmpdir),
        cmocka_unit_test_setup_teardown(test_ir3_initializer_input, make_tmpdir, remove_tmpdir),
        cmocka_unit_test_setup_teardown(test_external_data_paths, make_tmpdir, remove_tmpdir),
        cmocka_unit_test_setup_teardown(test_external_data_symlinked_model, make_tmpdir, remove_tmpdir),
        cmocka_unit_test_setup_teardown(test_save_external_data, make_tmpdir, remove_tmpdir),
        cmocka_unit_test_setup_teardown(test_save_is_atomic_under_allocation_failures, make_tmpdir, remove_tmpdir),
        cmocka_unit_test_setup_teardown(test_load_survives_allocation_failures, make_tmpdir, remove_tmpdir),
        cmocka_unit_test_setup_teardown(test_save_refuses_to_overwrite_input, make_tmpdir, remove_tmpdir),
        cmocka_unit_test_setup_teardown(test_save_into_missing_folder, make_tmpdir, remove_tmpdir),
        cmocka_unit_test_setup_teardown(test_saved_file_mode, make_tmpdir, remove_tmpdir),
        cmocka_unit_test_setup_teardown(test_not_a_model, make_tmpdir, remove_tmpdir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
