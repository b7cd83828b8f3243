/* The contract between the session planner and the CPU kernels: one oc_kernel descriptor per op (and opset
 * range); infer computes output types and shapes at plan time, run computes values into planned memory. */
#ifndef ONNXC_KERNEL_H
#define ONNXC_KERNEL_H

#include <stdint.h>

#include "ir.h"
#include "onnxc/onnxc.h"

typedef struct oc_kctx {
    const oc_node *node;   /* the IR node: attributes via oc_attr_int() etc. */
    int64_t opset;         /* opset version imported for the node's domain */
    int n_in, n_out;
    /* Inputs: NULL for an omitted optional input. At infer time, data is non-NULL only when the value is
     * known at plan time (constant, or computed from constants/shape-like inputs); a kernel that lists an
     * input in value_inputs always gets its data at infer time. At run time every data pointer is set. */
    onnxc_tensor **in;
    /* Outputs (NULL entry: output not requested, skip it). infer sets dtype, rank, dims. At run time data
     * points to nbytes of planned memory (contents undefined). */
    onnxc_tensor **out;
    void *state;            /* whatever prepare stored; released by kernel->release */
    size_t scratch_size;    /* infer may request scratch memory (bytes) */
    void *scratch;          /* at run time: scratch_size bytes, 64-byte aligned, shared by all nodes */
    /* ---- appended for the executor's speed; a kernel that ignores these fields stays correct ---- */
    uint32_t const_inputs;       /* bit i: input i holds the same data for the life of the plan (an initializer
                                  * or computed from initializers), so prepare may pack it */
    struct oc_threadpool *pool;  /* the session's workers (runtime/threadpool.h); NULL: run on the caller */
    /* A kernel whose prepare sets accepts_epilogue lets the planner fuse the nodes that follow it: out[0] then
     * receives clamp(result + fuse_res, fuse_lo, fuse_hi) (each part when set), the value of the last fused
     * node (an Add of a same-shape tensor, then Relu or Clip, or one of the activations of fuse_act). */
    bool accepts_epilogue;
    const onnxc_tensor *fuse_res;
    bool fuse_clamp;
    float fuse_lo, fuse_hi;
    /* Then, when fuse_act is not OC_ACT_NONE, an activation of that value (the planner sets it only without
     * fuse_clamp): out[0] = act(result + fuse_res), see kernels/act.h. fuse_slope: PRelu's slope, one per
     * channel of out[0] (fuse_slope_n 1 or the channel count). */
    int fuse_act;
    float fuse_alpha, fuse_beta;
    const float *fuse_slope;
    int64_t fuse_slope_n;
    /* MatMul and Gemm (float): a kernel whose prepare sets accepts_bias also takes fuse_bias, a plan-time
     * constant of out[0]'s last dim added to every row of the product first (the exporters' Add of a Linear
     * layer's bias); then fuse_res, then fuse_clamp or fuse_act, as for a Conv. */
    bool accepts_bias;
    const float *fuse_bias;
    /* Conv (pointwise, plain layout): a kernel whose prepare sets accepts_gate lets the planner fuse the
     * squeeze-excite Mul in front of it: in[0] is then never written, and the kernel reads fuse_gate_x[n, c, ...]
     * * fuse_gate[n, c] (a [N, C, 1, 1] gate) in its place, each product the Mul's one IEEE multiplication. */
    bool accepts_gate;
    const onnxc_tensor *fuse_gate_x, *fuse_gate;
    /* Or (fuse_gate NULL, fuse_gate_x set) an inference BatchNormalization in front, with the Relu or Clip fused
     * into it: the kernel reads, in place of in[0][n, c, ...], BatchNormalization's value of fuse_gate_x, x * a[c]
     * + b[c] in float (a product, then a sum) with a = fuse_bn_ab[c], b = fuse_bn_ab[C + c], clamped to
     * [fuse_bn_lo, fuse_bn_hi] when fuse_bn_clamp (the unfused kernel's operations, norm.c, so the same bits).
     * fuse_bn_ab belongs to the plan, which frees it. */
    float *fuse_bn_ab;
    bool fuse_bn_clamp;
    float fuse_bn_lo, fuse_bn_hi;
    /* Blocked layout NCHW8c: a 4-D float value [N, C, H, W] with C a multiple of 8 stored as [N][C/8][H][W][8]
     * (same bytes). prepare sets the OC_BLK_* modes the kernel can run in; after fusion the planner may pick
     * one, for values that only such kernels produce and read, and sets in_blocked / out_blocked (for in[0] and
     * out[0]) before the first run. */
    uint8_t blocked_modes;
    bool in_blocked, out_blocked;
    /* Run-time shapes. A kernel with OC_KF_DATA_SHAPE (oc_kernel_flags) learns its output shapes only while it
     * runs: its infer checks the inputs and sets the outputs' dtypes (dims it cannot know are left as they
     * are), its run sets each requested output's dtype, rank and dims and then calls alloc_out(c, o), which
     * points out[o]->data at nbytes of memory for it (contents undefined) or fails (out of memory). */
    onnxc_status (*alloc_out)(struct oc_kctx *c, int o);
    /* Subgraphs (OC_KF_SUBGRAPHS: If): the model, and the values of the node's graph its subgraphs read
     * (n_implicit tensors with their names; data set at run time) */
    const onnxc_model *model;
    int n_implicit;
    onnxc_tensor *const *implicit;
    const char *const *implicit_names;
} oc_kctx;

/* Activations a producing kernel applies to its output (kctx.fuse_act); alpha and beta as the ONNX op's. */
enum {
    OC_ACT_NONE = 0,
    OC_ACT_SIGMOID,     /* 1 / (1 + exp(-x)) */
    OC_ACT_SILU,        /* x * sigmoid(x): Sigmoid and a Mul that share x */
    OC_ACT_HARDSIGMOID, /* max(0, min(1, alpha * x + beta)) */
    OC_ACT_HARDSWISH,   /* x * hardsigmoid(x): HardSigmoid and a Mul that share x */
    OC_ACT_HARDSWISH14, /* HardSwish-14: x * max(0, min(1, x / 6 + 0.5)) */
    OC_ACT_LEAKYRELU,   /* x < 0 ? alpha * x : x */
    OC_ACT_PRELU,       /* x < 0 ? slope[channel] * x : x */
    OC_ACT_GELU_ERF,    /* the exported exact GELU, (x * (1 + erf(x / alpha))) * 0.5 (beta 1; beta 0: x * alpha
                         * inside erf), computed as its Div/Mul, Erf, Add, Mul, Mul nodes compute it */
};

#define OC_BLK_IN 1u   /* reads in[0] blocked, writes out[0] plain */
#define OC_BLK_OUT 2u  /* reads in[0] plain, writes out[0] blocked (no fused residual) */
#define OC_BLK_BOTH 4u /* reads in[0] and writes out[0] blocked (no fused residual) */

typedef struct oc_kernel {
    const char *op_type;
    const char *domain;     /* NULL: the default ONNX domain */
    int since;              /* first opset version served */
    int until;              /* last opset version served, 0 = no limit */
    uint32_t value_inputs;  /* bit i: infer needs the data of input i (a shape, axes, pads...) */
    onnxc_status (*infer)(oc_kctx *c);
    onnxc_status (*prepare)(oc_kctx *c); /* optional: after infer; constant inputs have data; may set c->state */
    onnxc_status (*run)(oc_kctx *c);
    void (*release)(void *state);        /* optional */
    uint32_t shape_only_inputs; /* bit i: run reads only the shape of input i (Shape, Size), never its data, so
                                 * the node can be evaluated at plan time whatever input i holds */
} oc_kernel;

/* What the planner must know of a kernel beyond its entry (oc_kernel_flags; a table in registry.c, so the
 * kernel tables keep their layout). OC_KF_DATA_SHAPE: output shapes depend on input values (NonZero,
 * NonMaxSuppression, ...): the node runs with alloc_out (see oc_kctx) unless the plan can evaluate it at plan
 * time. OC_KF_RUNTIME_VALUES: a value_input computed from run-time data does not make the plan depend on that
 * data (no re-plan per value, no plan key): the node's shapes are inferred when it runs (TopK's K). Every value
 * downstream of such a node is inferred and allocated at run time too. */
#define OC_KF_DATA_SHAPE 1u
#define OC_KF_RUNTIME_VALUES 2u
/* OC_KF_SUBGRAPHS: runs subgraphs of its attributes (If, Loop, Scan), reading kctx.implicit; always dynamic. */
#define OC_KF_SUBGRAPHS 4u
uint32_t oc_kernel_flags(const oc_kernel *k);
/* 1 when node nd's op may leave out its first output (LSTM/GRU/RNN, If/Loop/Scan); any other node without output
 * 0 is refused by the planner and reported by check. */
bool oc_op_first_output_optional(const oc_node *nd);

/* Find the kernel for an op of a domain at an opset version, or NULL. */
const oc_kernel *oc_kernel_find(const char *domain, const char *op_type, int64_t opset);

/* True when some kernel serves this op at some version (to tell "unsupported op" from "unsupported opset"). */
int oc_kernel_known_op(const char *domain, const char *op_type);

/* Kernel tables, one per op family, each ending with an entry whose op_type is NULL. */
extern const oc_kernel oc_kernels_conv[];    /* Conv, ConvTranspose */
extern const oc_kernel oc_kernels_gemm[];    /* Gemm, MatMul */
extern const oc_kernel oc_kernels_pool[];    /* MaxPool, AveragePool, GlobalAveragePool, GlobalMaxPool */
extern const oc_kernel oc_kernels_norm[];    /* BatchNormalization, InstanceNormalization, LayerNormalization, GroupNormalization */
extern const oc_kernel oc_kernels_binary[];  /* Add Sub Mul Div Pow Min Max Sum Mean Equal Less Greater Where Not And Or ... */
extern const oc_kernel oc_kernels_unary[];   /* Relu LeakyRelu PRelu Sigmoid HardSigmoid HardSwish Tanh Clip Erf Sqrt Exp Log Neg Abs Reciprocal Cast */
extern const oc_kernel oc_kernels_reduce[];  /* Softmax LogSoftmax ReduceMean/Sum/Max/Min ArgMax */
extern const oc_kernel oc_kernels_shape[];   /* Reshape Flatten Transpose Squeeze Unsqueeze Concat Split Slice Gather Shape Size Constant ConstantOfShape Identity Dropout Expand Range Tile */
extern const oc_kernel oc_kernels_resize[];  /* Pad Resize Upsample */
extern const oc_kernel oc_kernels_rnn[];     /* RNN GRU LSTM */
extern const oc_kernel oc_kernels_loss[];    /* NegativeLogLikelihoodLoss SoftmaxCrossEntropyLoss TfIdfVectorizer */
extern const oc_kernel oc_kernels_quant[];   /* QuantizeLinear DequantizeLinear DynamicQuantizeLinear */
extern const oc_kernel oc_kernels_qgemm[];   /* MatMulInteger QLinearMatMul ConvInteger QLinearConv */
extern const oc_kernel oc_kernels_misc[];    /* TopK CumSum DepthToSpace SpaceToDepth IsNaN IsInf Shrink Trilu EyeLike */
extern const oc_kernel oc_kernels_signal[];  /* HannWindow HammingWindow BlackmanWindow MelWeightMatrix DFT STFT */
extern const oc_kernel oc_kernels_misc2[];   /* LRN MeanVarianceNormalization ReverseSequence Det MaxUnpool OneHot */
extern const oc_kernel oc_kernels_sample[];  /* GridSample */
extern const oc_kernel oc_kernels_einsum[];  /* Einsum */
extern const oc_kernel oc_kernels_detect[];  /* NonZero NonMaxSuppression Compress Unique RoiAlign */
extern const oc_kernel oc_kernels_control[]; /* If */
extern const oc_kernel oc_kernels_loop[];    /* Loop Scan SequenceMap */
extern const oc_kernel oc_kernels_sequence[]; /* Sequence* ConcatFromSequence SplitToSequence Optional* */

#endif
