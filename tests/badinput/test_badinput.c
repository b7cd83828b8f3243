/* Bad-input corpus test: every broken model written by make_bad_models.py must be refused with a status other
 * than OK and a one-line message naming the file and the tensor or node at fault; nothing may crash or hang.
 * Usage: test_badinput CORPUS_DIR (holding manifest.tsv). Each manifest line becomes one cmocka test.
 * BADINPUT_VERBOSE=1 prints every message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "ir.h"
#include "onnxc/onnxc.h"

typedef struct bad_case {
    char path[4096];   /* corpus-relative path of the model */
    char full[8192];
    char dir[8192];
    char stage[32];    /* "load", "toposort", "tensor" or "optimize" */
    char expect[512];  /* text the message must contain */
} bad_case;

static void assert_good_message(const char *msg, const char *must_contain, const char *file)
{
    assert_non_null(msg);
    if (getenv("BADINPUT_VERBOSE")) /* to read every message once: BADINPUT_VERBOSE=1 test_badinput DIR */
        print_message("    %s\n", msg);
    assert_true(strlen(msg) > 0);
    if (strchr(msg, '\n') || strchr(msg, '\r'))
        fail_msg("message spans lines: %s", msg);
    if (!strstr(msg, must_contain))
        fail_msg("message lacks '%s': %s", must_contain, msg);
    if (file && !strstr(msg, file))
        fail_msg("message does not name the file %s: %s", file, msg);
}

static uint8_t *slurp(const char *path, size_t *len)
{
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
        return NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    uint8_t *buf = malloc((size_t)sb.st_size + 1);
    *len = buf ? fread(buf, 1, (size_t)sb.st_size, f) : 0;
    fclose(f);
    return buf;
}

static void run_case(void **state)
{
    const bad_case *c = *state;
    onnxc_model *m = NULL;
    onnxc_status st;
    if (strcmp(c->stage, "tensor") == 0) {
        onnxc_tensor *t = NULL;
        if (onnxc_tensor_read(c->full, &t, NULL) == ONNXC_OK) {
            onnxc_tensor_free(t);
            fail_msg("%s read as a tensor without error", c->path);
        }
        assert_good_message(onnxc_last_error(), c->expect, c->full);
        int n = 0;
        char **names = NULL;
        onnxc_tensor **ts = NULL;
        if (onnxc_npz_read(c->full, &n, &names, &ts) == ONNXC_OK) {
            onnxc_npz_free(n, names, ts);
            fail_msg("%s read as a .npz without error", c->path);
        }
        assert_good_message(onnxc_last_error(), c->expect, c->full);
        return;
    }
    st = onnxc_model_load(c->full, &m);
    if (strcmp(c->stage, "optimize") == 0) {
        if (st != ONNXC_OK)
            fail_msg("%s should load: %s", c->path, onnxc_last_error());
        onnxc_optimize_options *o = NULL;
        onnxc_report *r = NULL;
        assert_int_equal(onnxc_optimize_options_create(&o), ONNXC_OK);
        st = onnxc_optimize(m, o, &r);
        onnxc_optimize_options_free(o);
        if (st != ONNXC_OK)
            fail_msg("%s: optimize failed: %s", c->path, onnxc_last_error());
        onnxc_report_free(r);
        void *bytes = NULL;
        size_t len = 0;
        assert_int_equal(onnxc_model_serialize(m, &bytes, &len), ONNXC_OK);
        free(bytes);
        onnxc_model_free(m);
        return;
    }
    if (strcmp(c->stage, "load") == 0) {
        if (st == ONNXC_OK)
            fail_msg("%s loaded without error", c->path);
        assert_null(m);
        assert_good_message(onnxc_last_error(), c->expect, c->full);

        /* the same bytes through the buffer entry point, named in messages by the name given */
        size_t len = 0;
        uint8_t *buf = slurp(c->full, &len);
        if (buf) {
            st = onnxc_model_load_buffer(buf, len, c->dir, "buffer-model", &m);
            free(buf);
            if (st == ONNXC_OK)
                fail_msg("%s loaded from a buffer without error", c->path);
            assert_null(m);
            assert_good_message(onnxc_last_error(), "buffer-model", NULL);
        }
        return;
    }
    /* stage "toposort": the file itself parses; the graph must be refused when sorted and when planned */
    if (st != ONNXC_OK)
        fail_msg("%s should load (its fault is found later) but: %s", c->path, onnxc_last_error());
    st = oc_graph_toposort(m->graph);
    assert_int_not_equal(st, ONNXC_OK);
    assert_good_message(onnxc_last_error(), c->expect, NULL);
    onnxc_session *s = NULL;
    st = onnxc_session_create(m, NULL, &s);
    if (st == ONNXC_OK) {
        onnxc_session_free(s);
        onnxc_model_free(m);
        fail_msg("%s: a session was planned for a cyclic graph", c->path);
    }
    assert_good_message(onnxc_last_error(), "cycle", NULL);
    onnxc_model_free(m);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 2;
    }
    char manifest[4200];
    snprintf(manifest, sizeof manifest, "%s/manifest.tsv", argv[1]);
    FILE *f = fopen(manifest, "r");
    if (!f) {
        fprintf(stderr, "%s: cannot open (run make_bad_models.py first)\n", manifest);
        return 2;
    }
    bad_case *cases = NULL;
    struct CMUnitTest *tests = NULL;
    size_t n = 0, cap = 0;
    char line[8192];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        char *path = strtok(line, "\t"), *stage = strtok(NULL, "\t"), *expect = strtok(NULL, "\t");
        if (!path || !stage || !expect)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            cases = realloc(cases, cap * sizeof *cases);
            if (!cases)
                return 2;
        }
        bad_case *c = &cases[n++];
        snprintf(c->path, sizeof c->path, "%s", path);
        snprintf(c->full, sizeof c->full, "%s/%s", argv[1], path);
        snprintf(c->dir, sizeof c->dir, "%s", c->full);
        char *slash = strrchr(c->dir, '/');
        if (slash)
            *slash = 0;
        snprintf(c->stage, sizeof c->stage, "%s", stage);
        snprintf(c->expect, sizeof c->expect, "%s", expect);
    }
    fclose(f);
    if (n == 0) {
        fprintf(stderr, "%s: no cases\n", manifest);
        return 2;
    }
    tests = calloc(n, sizeof *tests);
    if (!tests)
        return 2;
    for (size_t i = 0; i < n; i++) {
        tests[i].name = cases[i].path;
        tests[i].test_func = run_case;
        tests[i].initial_state = &cases[i];
    }
    int failed = _cmocka_run_group_tests("badinput", tests, n, NULL, NULL);
    free(tests);
    free(cases);
    return failed;
}
