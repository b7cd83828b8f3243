/* Options of onnxc_optimize set by name through the public API: every type, the refusals (unknown name, bad
 * values, out of range, contradictions) with messages naming what is wrong, the defaults, and swap-norm runs
 * whose group counts are checked against the rule computed here from each layer's channel count. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ir.h"
#include "options.h"
#include "util.h"

static onnxc_optimize_options *make(void)
{
    onnxc_optimize_options *o = NULL;
    assert_int_equal(onnxc_optimize_options_create(&o), ONNXC_OK);
    assert_non_null(o);
    return o;
}

/* set must refuse with ONNXC_E_ARG and a message holding every needle. */
static void refused(onnxc_optimize_options *o, const char *name, const char *value, const char *n1, const char *n2)
{
    assert_int_equal(onnxc_optimize_set(o, name, value), ONNXC_E_ARG);
    const char *msg = onnxc_last_error();
    if (n1 && !strstr(msg, n1))
        fail_msg("set %s=%s: message '%s' lacks '%s'", name, value ? value : "(null)", msg, n1);
    if (n2 && !strstr(msg, n2))
        fail_msg("set %s=%s: message '%s' lacks '%s'", name, value ? value : "(null)", msg, n2);
}

static void test_defaults(void **state)
{
    (void)state;
    onnxc_optimize_options *o = make();
    /* the documented defaults (README, --help): the default pipeline, no budget, 32 groups (nn.GroupNorm's
     * usual choice), group norm, automatic form, nothing selected out, BNs not kept */
    const char *want[][2] = {{"passes", ""},           {"stop-after", "0"},        {"check-each", "false"}, {"eval-mode", "false"}, {"keep-value-info", "false"},
                             {"fold-bn.mul-add", "false"}, {"swap-norm.to", "group"}, {"swap-norm.groups", "32"},
                             {"swap-norm.strict", "false"}, {"swap-norm.form", "auto"}, {"swap-norm.only", ""},
                             {"swap-norm.exclude", ""}};
    int n_want = (int)(sizeof want / sizeof want[0]);
    for (int k = 0; k < n_want; k++) {
        assert_string_equal(onnxc_optimize_get(o, want[k][0]), want[k][1]);
        assert_string_equal(onnxc_optimize_get(NULL, want[k][0]), want[k][1]);
    }
    /* enumeration: exactly these names, each once, and every default reads back as written in its table */
    int n = 0;
    for (const char *name; (name = onnxc_optimize_option_name(n)) != NULL; n++) {
        int found = 0;
        for (int k = 0; k < n_want; k++)
            found += !strcmp(want[k][0], name);
        if (found != 1)
            fail_msg("option '%s' is not among the expected ones (or listed twice)", name);
        assert_string_equal(onnxc_optimize_get(o, name), onnxc_optimize_get(NULL, name));
    }
    assert_int_equal(n, n_want);
    assert_null(onnxc_optimize_option_name(-1));
    assert_null(onnxc_optimize_get(o, "no-such"));
    assert_null(onnxc_optimize_get(NULL, "no-such"));
    onnxc_optimize_options_free(o);
    onnxc_optimize_options_free(NULL);
}

static void test_set_every_type(void **state)
{
    (void)state;
    onnxc_optimize_options *o = make();
    /* bool: the spellings, read back canonical */
    assert_int_equal(onnxc_optimize_set(o, "fold-bn.mul-add", "YES"), ONNXC_OK);
    assert_string_equal(onnxc_optimize_get(o, "fold-bn.mul-add"), "true");
    assert_int_equal(onnxc_optimize_set(o, "check-each", "0"), ONNXC_OK);
    assert_string_equal(onnxc_optimize_get(o, "check-each"), "false");
    assert_int_equal(onnxc_optimize_set(o, "check-each", "on"), ONNXC_OK);
    assert_string_equal(onnxc_optimize_get(o, "check-each"), "true");
    /* int, at both ends of its range */
    assert_int_equal(onnxc_optimize_set(o, "swap-norm.groups", "016"), ONNXC_OK);
    assert_string_equal(onnxc_optimize_get(o, "swap-norm.groups"), "16");
    assert_int_equal(onnxc_optimize_set(o, "swap-norm.groups", "1"), ONNXC_OK);
    assert_int_equal(onnxc_optimize_set(o, "swap-norm.groups", "1073741824"), ONNXC_OK);
    assert_int_equal(onnxc_optimize_set(o, "stop-after", "1000000000"), ONNXC_OK);
    assert_string_equal(onnxc_optimize_get(o, "stop-after"), "1000000000");
    /* enum */
    assert_int_equal(onnxc_optimize_set(o, "swap-norm.form", "decomposed"), ONNXC_OK);
    assert_string_equal(onnxc_optimize_get(o, "swap-norm.form"), "decomposed");
    /* string: pass names checked, kept as given */
    assert_int_equal(onnxc_optimize_set(o, "passes", " fold-bn , cleanup"), ONNXC_OK);
    assert_string_equal(onnxc_optimize_get(o, "passes"), " fold-bn , cleanup");
    /* regex: compiled when set; "" clears it */
    assert_int_equal(onnxc_optimize_set(o, "swap-norm.only", "^/l2/(c1|down)"), ONNXC_OK);
    assert_string_equal(onnxc_optimize_get(o, "swap-norm.only"), "^/l2/(c1|down)");
    assert_int_equal(onnxc_optimize_set(o, "swap-norm.exclude", ""), ONNXC_OK);
    onnxc_optimize_options_free(o);
}

/* No pass declares a float option yet: the float type is proved on a table of this test's own, through the same
 * parser that every option's value goes through. */
static void test_float_type(void **state)
{
    (void)state;
    const oc_opt_def d = {.name = "test.ratio", .type = OC_OPT_FLOAT, .dflt = "0.5", .fmin = 0, .fmax = 1,
                          .help = "a ratio"};
    oc_opt_value v;
    assert_int_equal(oc_opt_parse(&d, "0.25", &v), ONNXC_OK);
    assert_true(v.f == 0.25);
    oc_opt_value_clear(&v);
    assert_int_equal(oc_opt_parse(&d, "1e-3", &v), ONNXC_OK);
    assert_true(v.f == 1e-3);
    oc_opt_value_clear(&v);
    const char *bad[] = {"1.5", "-0.1", "nan", "inf", "abc", "", " 0.2", "0.2x"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        assert_int_equal(oc_opt_parse(&d, bad[k], &v), ONNXC_E_ARG);
        assert_non_null(strstr(onnxc_last_error(), "test.ratio takes a number from 0 to 1"));
    }
}

static void test_unknown_names(void **state)
{
    (void)state;
    onnxc_optimize_options *o = make();
    refused(o, "swap-norm.group", "8", "unknown option 'swap-norm.group'", "did you mean 'swap-norm.groups'?");
    refused(o, "groups", "8", "unknown option 'groups'", "did you mean 'swap-norm.groups'?");
    refused(o, "stopafter", "1", "did you mean 'stop-after'?", NULL);
    refused(o, "frobnicate.level", "1", "unknown option 'frobnicate.level' (known: passes,", "swap-norm.exclude");
    refused(o, "passes", "fold-bn,no-such-pass", "passes: unknown pass 'no-such-pass'", "known: cleanup");
    assert_string_equal(onnxc_optimize_get(o, "passes"), "");
    assert_int_equal(onnxc_optimize_set(NULL, "passes", ""), ONNXC_E_ARG);
    assert_int_equal(onnxc_optimize_set(o, NULL, ""), ONNXC_E_ARG);
    refused(o, "swap-norm.groups", NULL, "swap-norm.groups needs a value", NULL);
    assert_int_equal(onnxc_optimize_options_create(NULL), ONNXC_E_ARG);
    onnxc_optimize_options_free(o);
}

static void test_bad_values(void **state)
{
    (void)state;
    onnxc_optimize_options *o = make();
    assert_int_equal(onnxc_optimize_set(o, "swap-norm.groups", "16"), ONNXC_OK);
    /* not a whole number */
    const char *not_int[] = {"x", "1.5", "", " 16", "16 ", "0x10", "-"};
    for (size_t k = 0; k < sizeof not_int / sizeof not_int[0]; k++) {
        char quoted[32];
        snprintf(quoted, sizeof quoted, "not '%s'", not_int[k]);
        refused(o, "swap-norm.groups", not_int[k], "swap-norm.groups takes a whole number from 1 to 1073741824",
                quoted);
    }
    /* out of range */
    const char *out_of_range[] = {"0", "-3", "1073741825", "99999999999999999999"};
    for (size_t k = 0; k < sizeof out_of_range / sizeof out_of_range[0]; k++)
        refused(o, "swap-norm.groups", out_of_range[k], "from 1 to 1073741824", out_of_range[k]);
    refused(o, "stop-after", "-1", "stop-after takes a whole number from 0 to 1000000000", "'-1'");
    /* a refused value leaves the one before */
    assert_string_equal(onnxc_optimize_get(o, "swap-norm.groups"), "16");
    /* enum: the choices in the message; case matters */
    refused(o, "swap-norm.to", "batch", "swap-norm.to takes group, instance or layer, not 'batch'", NULL);
    refused(o, "swap-norm.to", "Group", "group, instance or layer", NULL);
    refused(o, "swap-norm.form", "native", "swap-norm.form takes auto, op or decomposed, not 'native'", NULL);
    /* bool */
    refused(o, "fold-bn.mul-add", "maybe", "fold-bn.mul-add takes true or false", "not 'maybe'");
    /* regex */
    refused(o, "swap-norm.only", "(unclosed", "swap-norm.only: '(unclosed' is not a valid regular expression", NULL);
    refused(o, "swap-norm.exclude", "a{2,1}", "swap-norm.exclude: 'a{2,1}' is not a valid regular expression", NULL);
    assert_string_equal(onnxc_optimize_get(o, "swap-norm.only"), "");
    onnxc_optimize_options_free(o);
}

static void test_contradiction(void **state)
{
    (void)state;
    /* a group count with a kind that fixes it: refused whichever comes second, and the object keeps the first */
    onnxc_optimize_options *o = make();
    assert_int_equal(onnxc_optimize_set(o, "swap-norm.to", "instance"), ONNXC_OK);
    refused(o, "swap-norm.groups", "8", "swap-norm.groups applies to swap-norm.to group only",
            "swap-norm.to instance fixes the group count");
    assert_string_equal(onnxc_optimize_get(o, "swap-norm.groups"), "32");
    assert_int_equal(onnxc_optimize_set(o, "swap-norm.to", "group"), ONNXC_OK);
    assert_int_equal(onnxc_optimize_set(o, "swap-norm.groups", "8"), ONNXC_OK);
    refused(o, "swap-norm.to", "layer", "swap-norm.groups applies to swap-norm.to group only",
            "swap-norm.to layer fixes");
    assert_string_equal(onnxc_optimize_get(o, "swap-norm.to"), "group");
    onnxc_optimize_options_free(o);
}

/* Every allocation of create and set failing in turn: ONNXC_E_NOMEM, never a crash, and a refused set leaves
 * the value before it. */
static void test_out_of_memory(void **state)
{
    (void)state;
    int failures = 0;
    for (size_t k = 1;; k++) {
        onnxc_optimize_options *o = NULL;
        oc_alloc_fail_after(k);
        onnxc_status st = onnxc_optimize_options_create(&o);
        if (st == ONNXC_OK)
            st = onnxc_optimize_set(o, "swap-norm.only", "^/l2/");
        if (st == ONNXC_OK)
            st = onnxc_optimize_set(o, "passes", "swap-norm,cleanup");
        size_t used = oc_alloc_fail_after(0);
        if (st != ONNXC_OK) {
            assert_int_equal(st, ONNXC_E_NOMEM);
            failures++;
            if (o) {
                const char *only = onnxc_optimize_get(o, "swap-norm.only");
                assert_true(!strcmp(only, "") || !strcmp(only, "^/l2/"));
            } else {
                assert_null(o);
            }
        }
        onnxc_optimize_options_free(o);
        if (used < k) { /* no allocation failed in this round: all done */
            assert_int_equal(st, ONNXC_OK);
            break;
        }
    }
    assert_true(failures > 0);
}

/* ---------------------------------------------------------------- runs */

static onnxc_model *load_resnet(void)
{
    onnxc_model *m = NULL;
    assert_int_equal(onnxc_model_load(ONNXC_SOURCE_DIR "/models/resnet_like.onnx", &m), ONNXC_OK);
    return m;
}

/* The rule the swap follows (README, --help): G groups when G divides the channel count C, else the largest
 * divisor of C not above G. */
static int64_t expected_groups(int64_t c, int64_t g)
{
    for (int64_t d = g < c ? g : c; d > 1; d--)
        if (c % d == 0)
            return d;
    return 1;
}

/* Swap resnet_like (BNs of 16 and 32 channels) to GroupNormalization-21 with groups (NULL: not set); every node
 * must have num_groups by the rule, with C read from its scale. Returns the serialized result. */
static void *swap_op_form(const char *groups, int64_t want_g, size_t *len)
{
    onnxc_model *m = load_resnet();
    onnxc_optimize_options *o = make();
    assert_int_equal(onnxc_optimize_set(o, "passes", "swap-norm"), ONNXC_OK);
    assert_int_equal(onnxc_optimize_set(o, "swap-norm.form", "op"), ONNXC_OK);
    if (groups)
        assert_int_equal(onnxc_optimize_set(o, "swap-norm.groups", groups), ONNXC_OK);
    onnxc_report *r = NULL;
    assert_int_equal(onnxc_optimize(m, o, &r), ONNXC_OK);
    int n_bn = onnxc_report_op_count(r, "BatchNormalization", 0);
    assert_int_equal(n_bn, 6);
    assert_int_equal(onnxc_report_op_count(r, "BatchNormalization", 1), 0);
    assert_int_equal(onnxc_report_op_count(r, "GroupNormalization", 1), n_bn);
    int seen = 0, c16 = 0, c32 = 0;
    const oc_graph *g = m->graph;
    for (int i = 0; i < g->n_nodes; i++) {
        const oc_node *n = g->nodes[i];
        if (n->dead || strcmp(n->op_type, "GroupNormalization"))
            continue;
        const oc_tensor *scale = oc_value_constant(n->inputs[1]);
        assert_non_null(scale);
        int64_t c = scale->t.dims[0];
        c16 += c == 16;
        c32 += c == 32;
        assert_int_equal(oc_attr_int(n, "num_groups", -1), expected_groups(c, want_g));
        seen++;
    }
    assert_int_equal(seen, n_bn);
    assert_true(c16 > 0 && c32 > 0); /* both channel counts met, so the rule was tested both ways */
    void *buf = NULL;
    assert_int_equal(onnxc_model_serialize(m, &buf, len), ONNXC_OK);
    onnxc_report_free(r);
    onnxc_optimize_options_free(o);
    onnxc_model_free(m);
    return buf;
}

static void test_swap_groups_by_name(void **state)
{
    (void)state;
    size_t l_dflt, l12, l12b;
    void *dflt = swap_op_form(NULL, 32, &l_dflt);  /* unset: the default, 32 */
    void *g12 = swap_op_form("12", 12, &l12);      /* 16 -> 8, 32 -> 8 */
    void *g12b = swap_op_form("12", 12, &l12b);
    /* the option reached the pass (a different graph), and the same settings give the same bytes */
    assert_false(l_dflt == l12 && memcmp(dflt, g12, l12) == 0);
    assert_true(l12 == l12b && memcmp(g12, g12b, l12) == 0);
    free(dflt);
    free(g12);
    free(g12b);
}

static void test_pipeline_options(void **state)
{
    (void)state;
    /* stop-after: one rewrite of fold-bn, five BNs left; the same object used twice gives the same */
    onnxc_optimize_options *o = make();
    assert_int_equal(onnxc_optimize_set(o, "passes", "fold-bn"), ONNXC_OK);
    assert_int_equal(onnxc_optimize_set(o, "stop-after", "1"), ONNXC_OK);
    assert_int_equal(onnxc_optimize_set(o, "check-each", "true"), ONNXC_OK);
    for (int run = 0; run < 2; run++) {
        onnxc_model *m = load_resnet();
        onnxc_report *r = NULL;
        assert_int_equal(onnxc_optimize(m, o, &r), ONNXC_OK);
        assert_int_equal(onnxc_report_num_changes(r), 1);
        assert_int_equal(onnxc_report_op_count(r, "BatchNormalization", 1), 5);
        onnxc_report_free(r);
        onnxc_model_free(m);
    }
    onnxc_optimize_options_free(o);
    /* NULL options: the default pipeline folds every BN */
    onnxc_model *m = load_resnet();
    onnxc_report *r = NULL;
    assert_int_equal(onnxc_optimize(m, NULL, &r), ONNXC_OK);
    assert_int_equal(onnxc_report_op_count(r, "BatchNormalization", 1), 0);
    onnxc_report_free(r);
    onnxc_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),        cmocka_unit_test(test_set_every_type),
        cmocka_unit_test(test_float_type),      cmocka_unit_test(test_unknown_names),
        cmocka_unit_test(test_bad_values),      cmocka_unit_test(test_contradiction),
        cmocka_unit_test(test_out_of_memory),
        cmocka_unit_test(test_swap_groups_by_name), cmocka_unit_test(test_pipeline_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
