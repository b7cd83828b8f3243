/* Unit tests of Concat planned in place (runtime/plan_concat.c): for each model written by
 * tests/concat/gen_concat_cases.py, the plan makes the expected number of Concats views of their output (the
 * others copy), its outputs match numpy's float64 ones, and equal the plain plan's (every Concat copies) bit for
 * bit, at 1 and 2 threads, on the first run and on a second one of the same plan. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ir.h"
#include "session_internal.h"
#include "plan_cases.h"

#define CASES ONNXC_SOURCE_DIR "/tests/concat/cases"

/* float32 sums of at most 16 terms against float64: relative to 1 + |expected| */
static const double NUMPY_BOUND = 1e-5;

static int count_rewrites(const onnxc_session *s)
{
    int n = 0;
    for (int i = 0; i < s->n_order; i++)
        n += s->nodes[i].aliased && oc_node_is_op(s->order[i], "Concat");
    return n;
}

static void test_concat_in_place(void **state)
{
    (void)state;
    check_plan_cases(CASES, "Concats in place", count_rewrites, NUMPY_BOUND, 13, 12);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_concat_in_place),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
