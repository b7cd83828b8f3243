/* libFuzzer target: a model from bytes through load -> check -> save (serialize, reload) -> optimize -> plan -> run,
 * under AddressSanitizer + UndefinedBehaviorSanitizer. Inputs get small seeded shapes (symbolic dims 1, at most
 * FUZZ_MAX_ELEMS elements each) and plans whose arena passes FUZZ_MAX_ARENA are not run, so one execution stays
 * small; every refusal must come with a one-line message. Built by -DONNXC_FUZZ=ON (clang), see tests/fuzz/run.sh. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnxc/onnxc.h"

#define FUZZ_MAX_INPUTS 8
#define FUZZ_MAX_ELEMS (1 << 14)
#define FUZZ_MAX_ARENA ((size_t)64 << 20)

static void message_ok(void)
{
    const char *msg = onnxc_last_error();
    if (!msg || !*msg || strchr(msg, '\n')) {
        fprintf(stderr, "refusal without a one-line message: '%s'\n", msg ? msg : "(null)");
        abort();
    }
}

/* A tensor for input i, or NULL when its type or shape is beyond what a fuzz run should allocate. */
static onnxc_tensor *make_input(const onnxc_io_info *io, uint32_t seed)
{
    if (io->dtype == ONNXC_UNDEFINED || io->dtype == ONNXC_STRING || onnxc_dtype_size(io->dtype) == 0)
        return NULL;
    int64_t dims[ONNXC_MAX_RANK];
    int32_t rank = io->rank < 0 ? 1 : io->rank;
    int64_t n = 1;
    for (int32_t d = 0; d < rank; d++) {
        dims[d] = io->rank < 0 || io->dims[d] < 0 ? 1 : io->dims[d];
        if (dims[d] > FUZZ_MAX_ELEMS || (n *= dims[d] ? dims[d] : 1) > FUZZ_MAX_ELEMS)
            return NULL;
    }
    onnxc_tensor *t = NULL;
    if (onnxc_tensor_create(io->dtype, rank, dims, &t) != ONNXC_OK)
        return NULL;
    uint8_t *p = t->data;
    for (size_t k = 0; k < t->nbytes; k++) { /* small values of every type: bytes 0..3 */
        seed = seed * 1103515245u + 12345u;
        p[k] = (uint8_t)((seed >> 16) & 3);
    }
    return t;
}

static void plan_and_run(onnxc_model *m)
{
    onnxc_session_options so = {.threads = 1};
    onnxc_session *s = NULL;
    if (onnxc_session_create(m, &so, &s) != ONNXC_OK) {
        message_ok();
        return;
    }
    int n = onnxc_model_num_inputs(m);
    if (n > FUZZ_MAX_INPUTS)
        n = FUZZ_MAX_INPUTS;
    const char *names[FUZZ_MAX_INPUTS];
    onnxc_tensor *ins[FUZZ_MAX_INPUTS];
    int given = 0, ok = 1;
    for (int i = 0; i < n && ok; i++) {
        onnxc_io_info io;
        if (onnxc_model_input_info(m, i, &io) != ONNXC_OK || !(ins[given] = make_input(&io, (uint32_t)i)))
            ok = 0;
        else
            names[given++] = io.name;
    }
    if (ok && onnxc_session_plan(s, given, names, (const onnxc_tensor *const *)ins) == ONNXC_OK) {
        if (onnxc_session_arena_bytes(s) <= FUZZ_MAX_ARENA &&
            onnxc_session_run(s, given, names, (const onnxc_tensor *const *)ins) != ONNXC_OK)
            message_ok();
    } else if (ok)
        message_ok();
    for (int i = 0; i < given; i++)
        onnxc_tensor_free(ins[i]);
    onnxc_session_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    onnxc_model *m = NULL;
    if (onnxc_model_load_buffer(data, size, NULL, "fuzz-model", &m) != ONNXC_OK) {
        message_ok();
        return 0;
    }
    int problems = 0;
    if (onnxc_model_check(m, NULL, &problems) != ONNXC_OK)
        message_ok();

    /* save: what we write must load again */
    void *bytes = NULL;
    size_t len = 0;
    if (onnxc_model_serialize(m, &bytes, &len) == ONNXC_OK) {
        onnxc_model *again = NULL;
        if (onnxc_model_load_buffer(bytes, len, NULL, "fuzz-model-saved", &again) == ONNXC_OK)
            onnxc_model_free(again);
        free(bytes);
    } else
        message_ok();

    if (problems == 0)
        plan_and_run(m);

    onnxc_optimize_options *o = NULL;
    onnxc_report *r = NULL;
    if (onnxc_optimize_options_create(&o) == ONNXC_OK) {
        if (onnxc_optimize(m, o, &r) == ONNXC_OK) {
            char *json = NULL;
            if (onnxc_report_json(r, &json) == ONNXC_OK)
                onnxc_free(json);
            onnxc_report_free(r);
            if (onnxc_model_serialize(m, &bytes, &len) == ONNXC_OK)
                free(bytes);
            if (problems == 0)
                plan_and_run(m);
        } else
            message_ok();
        onnxc_optimize_options_free(o);
    }
    onnxc_model_free(m);
    return 0;
}
