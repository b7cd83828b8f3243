/* Kernel registry: looks an op up by domain, type and opset version across the per-family kernel tables. */
#include <string.h>

#include "kernel.h"

static const oc_kernel *const oc_kernel_tables[] = {
    oc_kernels_conv, oc_kernels_gemm, oc_kernels_pool, oc_kernels_norm, oc_kernels_binary,
    oc_kernels_unary, oc_kernels_reduce, oc_kernels_shape, oc_kernels_resize,
    oc_kernels_misc, /* kernels/misc.c */
    oc_kernels_rnn,  /* kernels/rnn.c */
    oc_kernels_loss, /* kernels/loss.c */
    oc_kernels_signal, oc_kernels_misc2, oc_kernels_sample, oc_kernels_einsum,
    oc_kernels_quant, oc_kernels_qgemm, /* kernels/quant.c, kernels/qgemm.c */
    oc_kernels_detect, /* kernels/detect.c */
    oc_kernels_control, /* kernels/control.c */
    oc_kernels_loop,    /* kernels/loop.c */
    oc_kernels_sequence, /* kernels/sequence.c */
};

/* Kernels of the default domain whose shapes the planner may only learn at run time (kernel.h, OC_KF_*). */
static const struct {
    const char *op_type;
    uint32_t flags;
} oc_kernel_flag_table[] = {
    {"NonZero", OC_KF_DATA_SHAPE}, {"NonMaxSuppression", OC_KF_DATA_SHAPE}, {"Compress", OC_KF_DATA_SHAPE},
    {"Unique", OC_KF_DATA_SHAPE},  {"TopK", OC_KF_RUNTIME_VALUES},
    {"If", OC_KF_DATA_SHAPE | OC_KF_SUBGRAPHS},   {"Loop", OC_KF_DATA_SHAPE | OC_KF_SUBGRAPHS},
    {"Scan", OC_KF_DATA_SHAPE | OC_KF_SUBGRAPHS}, {"SequenceMap", OC_KF_DATA_SHAPE | OC_KF_SUBGRAPHS},
    /* sequences and optionals: byte blocks whose size is known once their items are (src/seqval.h) */
    {"SequenceEmpty", OC_KF_DATA_SHAPE}, {"SequenceConstruct", OC_KF_DATA_SHAPE}, {"SequenceInsert", OC_KF_DATA_SHAPE},
    {"SequenceErase", OC_KF_DATA_SHAPE}, {"SequenceAt", OC_KF_DATA_SHAPE}, {"SequenceLength", OC_KF_DATA_SHAPE},
    {"ConcatFromSequence", OC_KF_DATA_SHAPE}, {"SplitToSequence", OC_KF_DATA_SHAPE}, {"Optional", OC_KF_DATA_SHAPE},
    {"OptionalHasElement", OC_KF_DATA_SHAPE}, {"OptionalGetElement", OC_KF_DATA_SHAPE},
};

uint32_t oc_kernel_flags(const oc_kernel *k)
{
    if (!k || !oc_domain_is_default(k->domain))
        return 0;
    for (size_t i = 0; i < sizeof oc_kernel_flag_table / sizeof oc_kernel_flag_table[0]; i++)
        if (strcmp(oc_kernel_flag_table[i].op_type, k->op_type) == 0)
            return oc_kernel_flag_table[i].flags;
    return 0;
}

const oc_kernel *oc_kernel_find(const char *domain, const char *op_type, int64_t opset)
{
    for (size_t t = 0; t < sizeof oc_kernel_tables / sizeof oc_kernel_tables[0]; t++) {
        for (const oc_kernel *k = oc_kernel_tables[t]; k->op_type; k++) {
            if (strcmp(k->op_type, op_type) != 0 || !oc_domain_same(k->domain, domain))
                continue;
            if (opset < k->since || (k->until && opset > k->until))
                continue;
            return k;
        }
    }
    return NULL;
}

int oc_kernel_known_op(const char *domain, const char *op_type)
{
    for (size_t t = 0; t < sizeof oc_kernel_tables / sizeof oc_kernel_tables[0]; t++)
        for (const oc_kernel *k = oc_kernel_tables[t]; k->op_type; k++)
            if (strcmp(k->op_type, op_type) == 0 && oc_domain_same(k->domain, domain))
                return 1;
    return 0;
}

/* Ops whose first output may be left out: the recurrent ones (Y, Y_h, Y_c are all optional) and the control-flow
 * ops, which may have no outputs at all. Every other op's kernel writes output 0. */
bool oc_op_first_output_optional(const oc_node *nd)
{
    static const char *const ops[] = {"LSTM", "GRU", "RNN", "If", "Loop", "Scan"};
    if (nd->domain && *nd->domain && strcmp(nd->domain, "ai.onnx") != 0)
        return false;
    for (size_t k = 0; k < sizeof ops / sizeof *ops; k++)
        if (strcmp(nd->op_type, ops[k]) == 0)
            return true;
    return false;
}
