/* Unit tests of the graph's one topological sort (src/ir.c, oc_graph_order and oc_graph_toposort): a valid file
 * order is kept, an invalid one is repaired taking the earliest ready node of the file, the graph is left
 * untouched, and a cycle is reported through a node on it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ir.h"

/* Append node `name` (op Relu for one input, Add for two) reading in0 (and in1) and writing out. */
static oc_node *add(oc_graph *g, const char *name, const char *in0, const char *in1, const char *out)
{
    oc_node *n = oc_graph_add_node(g, in1 ? "Add" : "Relu", NULL, name);
    assert_non_null(n);
    assert_int_equal(oc_node_set_input(n, 0, oc_graph_value(g, in0)), ONNXC_OK);
    if (in1)
        assert_int_equal(oc_node_set_input(n, 1, oc_graph_value(g, in1)), ONNXC_OK);
    assert_int_equal(oc_node_set_output(n, 0, oc_graph_value(g, out)), ONNXC_OK);
    return n;
}

static void order_of(const oc_graph *g, int *order)
{
    for (int i = 0; i < g->n_nodes; i++)
        order[i] = -1;
    assert_int_equal(oc_graph_order(g, order), ONNXC_OK);
}

/* A valid order stays as it is, even where a breadth-first Kahn's algorithm would interleave branches
 * (A, C, B, D here). */
static void test_sorted_graph_keeps_order(void **state)
{
    (void)state;
    onnxc_model *m = oc_model_new();
    oc_graph *g = m->graph;
    add(g, "A", "x", NULL, "a");
    add(g, "B", "a", NULL, "b");
    add(g, "C", "x", NULL, "c");
    add(g, "D", "b", "c", "y");
    int order[4];
    order_of(g, order);
    for (int i = 0; i < 4; i++)
        assert_int_equal(order[i], i);
    onnxc_model_free(m);
}

/* File order D, B, A, C: ready first are A and C; the earliest in the file (A) goes, which readies B, earlier
 * than C; then C, then D. The graph itself is not touched; oc_graph_toposort then applies the order. */
static void test_unsorted_graph(void **state)
{
    (void)state;
    onnxc_model *m = oc_model_new();
    oc_graph *g = m->graph;
    oc_node *d = add(g, "D", "b", "c", "y");
    oc_node *b = add(g, "B", "a", NULL, "b");
    oc_node *a = add(g, "A", "x", NULL, "a");
    oc_node *c = add(g, "C", "x", NULL, "c");
    int order[4];
    order_of(g, order);
    const int want[] = {2, 1, 3, 0};
    for (int i = 0; i < 4; i++)
        assert_int_equal(order[i], want[i]);
    assert_ptr_equal(g->nodes[0], d);
    assert_ptr_equal(g->nodes[2], a);
    assert_int_equal(d->id, 0);
    assert_int_equal(a->id, 2);

    assert_int_equal(oc_graph_toposort(g), ONNXC_OK);
    const oc_node *sorted[] = {a, b, c, d};
    for (int i = 0; i < 4; i++) {
        assert_ptr_equal(g->nodes[i], sorted[i]);
        assert_int_equal(g->nodes[i]->id, i);
    }
    onnxc_model_free(m);
}

/* Ids that no longer match the node list (a caller moved nodes by hand) are neither trusted nor repaired. */
static void test_stale_ids(void **state)
{
    (void)state;
    onnxc_model *m = oc_model_new();
    oc_graph *g = m->graph;
    add(g, "B", "a", NULL, "y");
    add(g, "A", "x", NULL, "a");
    g->nodes[0]->id = 1;
    g->nodes[1]->id = 0; /* as if swapped: the ids now claim the list is A, B */
    int order[2];
    order_of(g, order);
    assert_int_equal(order[0], 1);
    assert_int_equal(order[1], 0);
    assert_int_equal(g->nodes[0]->id, 1);
    assert_int_equal(g->nodes[1]->id, 0);
    onnxc_model_free(m);
}

/* 'out' comes first in the file and waits on the cycle p <-> q without being on it: the message names p. */
static void test_cycle_names_node_on_it(void **state)
{
    (void)state;
    onnxc_model *m = oc_model_new();
    oc_graph *g = m->graph;
    oc_node *out = add(g, "out", "a", "x", "y");
    add(g, "p", "b", NULL, "a");
    add(g, "q", "a", NULL, "b");
    add(g, "free", "x", NULL, "z");
    int order[4];
    assert_int_equal(oc_graph_order(g, order), ONNXC_E_INVALID);
    const char *msg = onnxc_last_error();
    assert_non_null(strstr(msg, "cycle through node 'p' (Relu)"));
    assert_non_null(strstr(msg, "3 of 4 nodes"));
    assert_int_equal(oc_graph_toposort(g), ONNXC_E_INVALID);
    assert_ptr_equal(g->nodes[0], out); /* unchanged on error */
    onnxc_model_free(m);
}

/* A node reading its own output is a cycle of one. */
static void test_self_loop(void **state)
{
    (void)state;
    onnxc_model *m = oc_model_new();
    oc_graph *g = m->graph;
    add(g, "loop", "x", NULL, "x");
    int order[1];
    assert_int_equal(oc_graph_order(g, order), ONNXC_E_INVALID);
    assert_non_null(strstr(onnxc_last_error(), "cycle through node 'loop'"));
    onnxc_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sorted_graph_keeps_order),
        cmocka_unit_test(test_unsorted_graph),
        cmocka_unit_test(test_stale_ids),
        cmocka_unit_test(test_cycle_names_node_on_it),
        cmocka_unit_test(test_self_loop),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
