/* Unit tests of BatchNormalization with what follows it fused into its one pass (runtime/kernels/norm.c, the
 * planner's epilogue fusion): for each model written by tests/bnfuse/gen_bnfuse_cases.py, the plan fuses the
 * expected number of nodes, its outputs match numpy's float64 ones, and equal the plain plan's (every node runs
 * alone) bit for bit, at 1 and 2 threads, on the first run and on a second one of the same plan. */
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

#define CASES ONNXC_SOURCE_DIR "/tests/bnfuse/cases"

/* float32 against float64 (sums of at most 16 terms): relative to 1 + |expected| */
static const double NUMPY_BOUND = 1e-5;

static int count_rewrites(const onnxc_session *s)
{
    int n = 0;
    for (int i = 0; i < s->n_order; i++)
        n += s->nodes[i].fused;
    return n;
}

static void test_bn_fused(void **state)
{
    (void)state;
    check_plan_cases(CASES, "nodes fused", count_rewrites, NUMPY_BOUND, 9, 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bn_fused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
