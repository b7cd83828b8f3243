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
};

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
