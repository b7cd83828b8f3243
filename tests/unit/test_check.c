/* Unit tests of onnxc_model_check (src/check.c): small graphs built through the IR helpers, each with one
 * known defect, and the exact problems the check must report for it. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ir.h"
#include "kernel.h"

/* ---------------------------------------------------------------- graph building */

static onnxc_model *new_model(int64_t opset)
{
    onnxc_model *m = oc_model_new();
    assert_non_null(m);
    m->has_ir_version = true;
    m->ir_version = 8;
    m->opsets = oc_calloc(1, sizeof *m->opsets);
    assert_non_null(m->opsets);
    m->opsets[0].has_version = true;
    m->opsets[0].version = opset;
    m->n_opsets = 1;
    m->graph->name = oc_strdup("g");
    return m;
}

static void set_type(oc_type *ty, int32_t dtype, int rank, const int64_t *dims)
{
    memset(ty, 0, sizeof *ty);
    ty->kind = OC_TYPE_TENSOR;
    ty->has_elem_type = true;
    ty->elem_type = dtype;
    ty->rank = rank;
    if (rank > 0) {
        ty->dims = oc_calloc((size_t)rank, sizeof *ty->dims);
        assert_non_null(ty->dims);
        for (int i = 0; i < rank; i++) {
            ty->dims[i].has_value = dims[i] != -1;
            ty->dims[i].value = dims[i];
            if (dims[i] == -1)
                ty->dims[i].param = oc_strdup("N");
        }
    }
}

static oc_vinfo *push_vinfo(oc_vinfo **list, int *n, oc_value *v)
{
    oc_vinfo *nl = oc_realloc(*list, (size_t)(*n + 1) * sizeof *nl);
    assert_non_null(nl);
    *list = nl;
    oc_vinfo *vi = &nl[(*n)++];
    memset(vi, 0, sizeof *vi);
    vi->value = v;
    vi->type.rank = -1;
    return vi;
}

static oc_value *add_input(oc_graph *g, const char *name, int32_t dtype, int rank, const int64_t *dims)
{
    oc_value *v = oc_graph_value(g, name);
    assert_non_null(v);
    v->flags |= OC_V_INPUT;
    set_type(&push_vinfo(&g->inputs, &g->n_inputs, v)->type, dtype, rank, dims);
    return v;
}

static oc_value *add_output(oc_graph *g, const char *name, int32_t dtype, int rank, const int64_t *dims)
{
    oc_value *v = oc_graph_value(g, name);
    assert_non_null(v);
    v->flags |= OC_V_OUTPUT;
    set_type(&push_vinfo(&g->outputs, &g->n_outputs, v)->type, dtype, rank, dims);
    return v;
}

static void add_value_info(oc_graph *g, const char *name, int32_t dtype, int rank, const int64_t *dims)
{
    oc_value *v = oc_graph_value(g, name);
    assert_non_null(v);
    set_type(&push_vinfo(&g->value_infos, &g->n_value_infos, v)->type, dtype, rank, dims);
}

static oc_value *add_init(oc_graph *g, const char *name, int32_t dtype, int rank, const int64_t *dims)
{
    onnxc_tensor *t = NULL;
    assert_int_equal(onnxc_tensor_create(dtype, rank, dims, &t), ONNXC_OK);
    oc_tensor *ot = oc_calloc(1, sizeof *ot);
    assert_non_null(ot);
    ot->t = *t;
    oc_free(t);
    oc_value *v = oc_graph_add_initializer(g, name, ot);
    assert_non_null(v);
    assert_string_equal(v->name, name);
    return v;
}

/* A node; inputs and outputs are names (NULL ends each list, "" is an omitted optional input). */
static oc_node *add_node(oc_graph *g, const char *op, const char *domain, const char *name, const char *const *ins,
                         const char *const *outs)
{
    oc_node *n = oc_graph_add_node(g, op, domain, name);
    assert_non_null(n);
    for (int i = 0; ins && ins[i]; i++)
        assert_int_equal(oc_node_set_input(n, i, *ins[i] ? oc_graph_value(g, ins[i]) : NULL), ONNXC_OK);
    for (int i = 0; outs && outs[i]; i++)
        assert_int_equal(oc_node_set_output(n, i, oc_graph_value(g, outs[i])), ONNXC_OK);
    return n;
}

#define LIST(...) ((const char *const[]){__VA_ARGS__, NULL})

/* Run the check and return its report (caller frees); *n gets the problem count. */
static char *run_check(const onnxc_model *m, int *n)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    assert_non_null(f);
    assert_int_equal(onnxc_model_check(m, f, n), ONNXC_OK);
    fclose(f);
    return buf;
}

static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

static void assert_has(const char *report, const char *needle)
{
    if (!strstr(report, needle))
        fail_msg("expected \"%s\" in the report:\n%s", needle, report);
}

static const int64_t d4[] = {1, 4};

/* X -> Relu -> Add(., X) -> Y: the valid base graph. */
static onnxc_model *valid_model(void)
{
    onnxc_model *m = new_model(13);
    oc_graph *g = m->graph;
    add_input(g, "X", ONNXC_FLOAT, 2, d4);
    add_node(g, "Relu", NULL, "relu", LIST("X"), LIST("r"));
    add_node(g, "Add", NULL, "add", LIST("r", "X"), LIST("Y"));
    add_output(g, "Y", ONNXC_FLOAT, 2, d4);
    return m;
}

/* ---------------------------------------------------------------- tests */

static void test_valid_graph_has_no_problems(void **state)
{
    (void)state;
    /* the check's verdict on ops depends on the registry having these two core ops */
    assert_non_null(oc_kernel_find(NULL, "Relu", 13));
    assert_non_null(oc_kernel_find(NULL, "Add", 13));
    onnxc_model *m = valid_model();
    int n = -1;
    char *r = run_check(m, &n);
    assert_int_equal(n, 0);
    assert_string_equal(r, "");
    free(r);
    onnxc_model_free(m);
}

static void test_null_arguments(void **state)
{
    (void)state;
    int n = 7;
    assert_int_equal(onnxc_model_check(NULL, NULL, &n), ONNXC_E_ARG);
    assert_int_equal(n, 0);
    onnxc_model *m = valid_model();
    assert_int_equal(onnxc_model_check(m, NULL, NULL), ONNXC_OK); /* no report wanted, no count wanted */
    onnxc_model_free(m);
}

static void test_use_before_definition(void **state)
{
    (void)state;
    onnxc_model *m = new_model(13);
    oc_graph *g = m->graph;
    add_input(g, "X", ONNXC_FLOAT, 2, d4);
    add_node(g, "Add", NULL, "add", LIST("r", "X"), LIST("Y")); /* uses r ... */
    add_node(g, "Relu", NULL, "relu", LIST("X"), LIST("r"));    /* ... produced here, later */
    add_output(g, "Y", ONNXC_FLOAT, 2, d4);
    int n;
    char *r = run_check(m, &n);
    assert_int_equal(n, 1);
    assert_has(r, "node 'add' (Add) uses 'r' before node 'relu' (Relu) produces it");
    free(r);
    onnxc_model_free(m);
}

static void test_cycle(void **state)
{
    (void)state;
    onnxc_model *m = new_model(13);
    oc_graph *g = m->graph;
    add_input(g, "X", ONNXC_FLOAT, 2, d4);
    add_node(g, "Add", NULL, "a", LIST("X", "b_out"), LIST("a_out"));
    add_node(g, "Relu", NULL, "b", LIST("a_out"), LIST("b_out"));
    add_node(g, "Relu", NULL, "after", LIST("a_out"), LIST("Y")); /* downstream of the cycle, not on it */
    add_output(g, "Y", ONNXC_FLOAT, 2, d4);
    int n;
    char *r = run_check(m, &n);
    assert_has(r, "node 'a' (Add) uses 'b_out' before node 'b' (Relu) produces it");
    assert_has(r, "cycle among 2 nodes: 'a' (Add), 'b' (Relu)\n");
    assert_int_equal(n, 2);
    assert_int_equal(count_lines(r), 2);
    free(r);
    onnxc_model_free(m);
}

static void test_self_loop(void **state)
{
    (void)state;
    onnxc_model *m = new_model(13);
    oc_graph *g = m->graph;
    add_input(g, "X", ONNXC_FLOAT, 2, d4);
    add_node(g, "Add", NULL, "self", LIST("X", "Y"), LIST("Y"));
    add_output(g, "Y", ONNXC_FLOAT, 2, d4);
    int n;
    char *r = run_check(m, &n);
    assert_has(r, "node 'self' (Add) consumes its own output 'Y' (a cycle)");
    assert_has(r, "cycle among 1 node: 'self' (Add)");
    assert_int_equal(n, 2);
    free(r);
    onnxc_model_free(m);
}

static void test_undefined_input_and_output(void **state)
{
    (void)state;
    onnxc_model *m = valid_model();
    oc_graph *g = m->graph;
    add_node(g, "Relu", NULL, "lost", LIST("ghost"), LIST("Z"));
    add_output(g, "nowhere", ONNXC_FLOAT, 2, d4);
    add_output(g, "Z", ONNXC_FLOAT, 2, d4);
    int n;
    char *r = run_check(m, &n);
    assert_has(r, "node 'lost' (Relu): input 'ghost' is not defined");
    assert_has(r, "graph output 'nowhere' is not produced by any node");
    assert_int_equal(n, 2);
    free(r);
    onnxc_model_free(m);
}

static void test_input_produced_by_node(void **state)
{
    (void)state;
    onnxc_model *m = valid_model();
    oc_graph *g = m->graph;
    add_input(g, "r", ONNXC_FLOAT, 2, d4); /* 'r' is Relu's output */
    int n;
    char *r = run_check(m, &n);
    assert_has(r, "graph input 'r' is also produced by node 'relu' (Relu)");
    assert_int_equal(n, 1);
    free(r);
    onnxc_model_free(m);
}

static void test_type_mismatches(void **state)
{
    (void)state;
    onnxc_model *m = valid_model();
    oc_graph *g = m->graph;
    const int64_t d1[] = {4}, d3[] = {3};
    add_init(g, "w", ONNXC_INT64, 1, d1);
    add_value_info(g, "w", ONNXC_FLOAT, 1, d1);          /* float declared, int64 stored */
    add_init(g, "v", ONNXC_FLOAT, 1, d3);
    add_value_info(g, "v", ONNXC_FLOAT, 1, d1);          /* 4 declared, 3 stored */
    add_value_info(g, "r", ONNXC_FLOAT, 2, d4);          /* agrees with nothing else: fine */
    add_value_info(g, "Y", ONNXC_DOUBLE, 2, d4);         /* graph output says float */
    add_node(g, "Add", NULL, "use_w", LIST("w", "v"), LIST("wv"));
    int n;
    char *r = run_check(m, &n);
    assert_has(r, "value 'w': value_info says float [4], initializer is int64 [4]");
    assert_has(r, "value 'v': value_info says float [4], initializer is float [3]");
    assert_has(r, "value 'Y': graph output says float [1x4], value_info says double [1x4]");
    /* what inference adds: the value_info of Y against the Add's float, and an Add that cannot broadcast */
    assert_has(r, "value_info 'Y' is declared double [1x4] but node 'add' (Add) produces float[1,4]");
    assert_has(r, "node 'use_w' (Add): dims 4 and 3 do not broadcast");
    assert_int_equal(n, 5);
    free(r);
    onnxc_model_free(m);
}

static void test_negative_dim_and_duplicates(void **state)
{
    (void)state;
    onnxc_model *m = valid_model();
    oc_graph *g = m->graph;
    const int64_t bad[] = {2, -3};
    add_value_info(g, "r", ONNXC_FLOAT, 2, bad);
    add_output(g, "Y", ONNXC_FLOAT, 2, d4); /* listed a second time */
    int n;
    char *r = run_check(m, &n);
    assert_has(r, "value_info 'r' declares a negative dim -3 (dim 1)");
    assert_has(r, "graph output 'Y' is listed twice");
    assert_has(r, "value_info 'r' is declared float [2x-3] but node 'relu' (Relu) produces float[1,4]");
    assert_int_equal(n, 3);
    free(r);
    onnxc_model_free(m);
}

static void test_unsupported_ops_in_one_line(void **state)
{
    (void)state;
    assert_int_equal(oc_kernel_known_op(NULL, "NoSuchOpA"), 0);
    onnxc_model *m = valid_model();
    oc_graph *g = m->graph;
    add_node(g, "NoSuchOpA", NULL, "a", LIST("X"), LIST("a_out"));
    add_node(g, "NoSuchOpB", NULL, "b", LIST("a_out"), LIST("b_out"));
    add_node(g, "NoSuchOpA", NULL, "c", LIST("b_out"), LIST("c_out"));
    add_node(g, "NoSuchOpA", NULL, NULL, LIST("c_out"), LIST("d_out")); /* unnamed: node #5 */
    int n;
    char *r = run_check(m, &n);
    assert_string_equal(r, "unsupported: 2 ops: NoSuchOpA-13 (3 nodes: 'a','c',#5), NoSuchOpB-13 (1 node: 'b')\n");
    assert_int_equal(n, 1);
    free(r);
    onnxc_model_free(m);
}

/* LayerNormalization first appeared in opset 17, so at opset 16 it is a known op at an unsupported opset. */
static void test_known_op_at_unsupported_opset(void **state)
{
    (void)state;
    onnxc_model *m = valid_model();
    m->opsets[0].version = 16;
    const int64_t d1[] = {4};
    add_init(m->graph, "scale", ONNXC_FLOAT, 1, d1);
    add_node(m->graph, "LayerNormalization", NULL, "ln", LIST("Y", "scale"), LIST("ln_out"));
    int n;
    char *r = run_check(m, &n);
    assert_string_equal(r, "unsupported: 1 op: LayerNormalization-16 (1 node: 'ln')\n");
    assert_int_equal(n, 1);
    free(r);
    onnxc_model_free(m);
}

static void test_missing_opset_for_domain(void **state)
{
    (void)state;
    onnxc_model *m = valid_model();
    oc_graph *g = m->graph;
    add_node(g, "Foo", "com.example", "f1", LIST("X"), LIST("f1_out"));
    add_node(g, "Foo", "com.example", "f2", LIST("f1_out"), LIST("f2_out"));
    int n;
    char *r = run_check(m, &n);
    assert_has(r, "opset import missing for domain 'com.example', used by 2 nodes (first: 'f1' (Foo))\n");
    assert_has(r, "unsupported: 1 op: com.example.Foo (no opset imported for its domain; 2 nodes: 'f1','f2')\n");
    assert_int_equal(n, 2);
    free(r);
    onnxc_model_free(m);
}

static void test_model_level(void **state)
{
    (void)state;
    onnxc_model *m = valid_model();
    m->has_ir_version = false;
    oc_opset *o = oc_realloc(m->opsets, 2 * sizeof *o);
    assert_non_null(o);
    m->opsets = o;
    /* the default domain under its long name */
    m->opsets[1] = (oc_opset){.domain = oc_strdup("ai.onnx"), .has_version = true, .version = 13};
    m->n_opsets = 2;
    int n;
    char *r = run_check(m, &n);
    assert_has(r, "model has no ir_version\n");
    assert_has(r, "opset_import lists domain 'ai.onnx' twice\n");
    assert_int_equal(n, 2);
    free(r);
    onnxc_model_free(m);
}

/* An If whose then-branch refers to the outer 'X' (fine) and to 'ghost' (undefined), and whose else-branch
 * refers to 'late', which the outer graph produces only after the If. */
static void test_subgraphs(void **state)
{
    (void)state;
    onnxc_model *m = new_model(13);
    oc_graph *g = m->graph;
    const int64_t d0[] = {0};
    add_input(g, "X", ONNXC_FLOAT, 2, d4);
    add_input(g, "cond", ONNXC_BOOL, 0, d0);
    oc_node *iff = add_node(g, "If", NULL, "if1", LIST("cond"), LIST("Y"));
    add_node(g, "Relu", NULL, "late_relu", LIST("X"), LIST("late"));
    add_output(g, "Y", ONNXC_FLOAT, 2, d4);
    add_output(g, "late", ONNXC_FLOAT, 2, d4);

    iff->attrs = oc_calloc(2, sizeof *iff->attrs);
    assert_non_null(iff->attrs);
    iff->n_attrs = 2;
    const char *names[2] = {"then_branch", "else_branch"};
    for (int b = 0; b < 2; b++) {
        oc_attr *a = &iff->attrs[b];
        a->name = oc_strdup(names[b]);
        a->has_type = true;
        a->type = OC_ATTR_GRAPH;
        a->g = oc_graph_new(m, g);
        assert_non_null(a->g);
        a->g->name = oc_strdup(b == 0 ? "then" : "else");
    }
    /* then: Add(X, ghost) with X an outer reference kept as a local placeholder, as the loader does */
    oc_graph *t = iff->attrs[0].g;
    oc_value *xo = oc_graph_value(t, "X");
    assert_non_null(xo);
    xo->flags |= OC_V_OUTER;
    add_node(t, "Add", NULL, "t_add", LIST("X", "ghost"), LIST("t_out"));
    add_output(t, "t_out", ONNXC_FLOAT, 2, d4);
    /* else: Relu(late), 'late' referring straight to the outer value */
    oc_graph *e = iff->attrs[1].g;
    oc_value *late = oc_graph_find(g, "late");
    oc_node *er = oc_graph_add_node(e, "Relu", NULL, "e_relu");
    assert_int_equal(oc_node_set_input(er, 0, late), ONNXC_OK);
    assert_int_equal(oc_node_set_output(er, 0, oc_graph_value(e, "e_out")), ONNXC_OK);
    add_output(e, "e_out", ONNXC_FLOAT, 2, d4);

    int n;
    char *r = run_check(m, &n);
    assert_has(r, "graph 'then' (attribute 'then_branch' of node 'if1' (If)): node 't_add' (Add): input 'ghost' is not defined");
    assert_has(r, "node 'if1' (If): a subgraph uses 'late', which node 'late_relu' (Relu) produces later");
    assert_null(strstr(r, "'X'"));
    /* If itself is reported as well when the runtime has no kernel for it */
    int if_supported = oc_kernel_find(NULL, "If", 13) != NULL;
    if (!if_supported)
        assert_has(r, "unsupported: 1 op: If-13 (1 node: 'if1')\n");
    assert_int_equal(n, if_supported ? 2 : 3);
    free(r);
    onnxc_model_free(m);
}

/* Allocation failures anywhere in the check give ONNXC_E_NOMEM, never a crash or a wrong "ok". */
static void test_allocation_failures(void **state)
{
    (void)state;
    onnxc_model *m = valid_model();
    add_node(m->graph, "NoSuchOpA", NULL, "a", LIST("X"), LIST("a_out"));
    int saw_ok = 0;
    for (size_t k = 1; k < 200 && !saw_ok; k++) {
        oc_alloc_fail_after(k);
        int n = -1;
        onnxc_status st = onnxc_model_check(m, NULL, &n);
        oc_alloc_fail_after(0);
        if (st == ONNXC_OK) {
            assert_int_equal(n, 1);
            saw_ok = 1;
        } else {
            assert_int_equal(st, ONNXC_E_NOMEM);
            assert_int_equal(n, 0);
        }
    }
    assert_true(saw_ok);
    onnxc_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_graph_has_no_problems),
        cmocka_unit_test(test_null_arguments),
        cmocka_unit_test(test_use_before_definition),
        cmocka_unit_test(test_cycle),
        cmocka_unit_test(test_self_loop),
        cmocka_unit_test(test_undefined_input_and_output),
        cmocka_unit_test(test_input_produced_by_node),
        cmocka_unit_test(test_type_mismatches),
        cmocka_unit_test(test_negative_dim_and_duplicates),
        cmocka_unit_test(test_unsupported_ops_in_one_line),
        cmocka_unit_test(test_known_op_at_unsupported_opset),
        cmocka_unit_test(test_missing_opset_for_domain),
        cmocka_unit_test(test_model_level),
        cmocka_unit_test(test_subgraphs),
        cmocka_unit_test(test_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
