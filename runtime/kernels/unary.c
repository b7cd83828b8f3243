/* Element-wise ops of one tensor: activations (Relu LeakyRelu PRelu Sigmoid HardSigmoid HardSwish Tanh Elu Selu
 * Softplus ...), math (Erf Sqrt Exp Log Neg Abs Reciprocal Floor Ceil Sign ...), Clip, Cast and CastLike.
 * float32 and double get typed loops; float16/bfloat16 go through double. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kutil.h"
#include "vmath.h"

#define OC_NDT (ONNXC_BFLOAT16 + 1)

/* Attribute values and bounds an op's expression may use. */
typedef struct oc_uparams {
    float alpha, beta, gamma;
    double lo, hi;       /* Clip bounds for float types */
    int64_t ilo, ihi;    /* Clip bounds for integer types (bit pattern of the type) */
    int32_t dt;          /* element type, for the generic loop */
    double (*fd)(double, const struct oc_uparams *);
} oc_uparams;

typedef void (*oc_row1)(void *o, const void *x, int64_t n, const oc_uparams *p);

/* A typed loop out[i] = E(x) for T (vectorizable when E is). */
#define OC_ROW1(NAME, T, E)                                                                               \
    static void NAME(void *o_, const void *x_, int64_t n, const oc_uparams *p)                           \
    {                                                                                                     \
        (void)p;                                                                                          \
        T *o = o_;                                                                                        \
        const T *xs = x_;                                                                                 \
        for (int64_t i = 0; i < n; i++) {                                                                 \
            T x = xs[i];                                                                                  \
            o[i] = (T)(E);                                                                                \
        }                                                                                                 \
    }

/* float16 / bfloat16 / any type without a typed loop: through double with the op's double expression. */
static void oc_u_generic(void *o, const void *x, int64_t n, const oc_uparams *p)
{
    for (int64_t i = 0; i < n; i++)
        oc_store_f64(p->dt, o, i, p->fd(oc_load_f64(p->dt, x, i), p));
}

/* An op on float types: EF is the float expression, ED the double one (also used for float16/bfloat16). */
#define OC_UN_FLOAT(name, EF, ED)                                                                         \
    OC_ROW1(oc_u_##name##_f32, float, EF)                                                                 \
    OC_ROW1(oc_u_##name##_f64, double, ED)                                                                \
    static double oc_ud_##name(double x, const oc_uparams *p)                                             \
    {                                                                                                     \
        (void)p;                                                                                          \
        return ED;                                                                                        \
    }

#define OC_UN_INTS(name, E)                                                                               \
    OC_ROW1(oc_u_##name##_i8, int8_t, E)                                                                  \
    OC_ROW1(oc_u_##name##_i16, int16_t, E)                                                                \
    OC_ROW1(oc_u_##name##_i32, int32_t, E)                                                                \
    OC_ROW1(oc_u_##name##_i64, int64_t, E)
#define OC_UN_UINTS(name, E)                                                                              \
    OC_ROW1(oc_u_##name##_u8, uint8_t, E)                                                                 \
    OC_ROW1(oc_u_##name##_u16, uint16_t, E)                                                               \
    OC_ROW1(oc_u_##name##_u32, uint32_t, E)                                                               \
    OC_ROW1(oc_u_##name##_u64, uint64_t, E)

#define OC_T_FLOAT(name) [ONNXC_FLOAT] = oc_u_##name##_f32, [ONNXC_DOUBLE] = oc_u_##name##_f64
#define OC_T_INTS(name)                                                                                   \
    [ONNXC_INT8] = oc_u_##name##_i8, [ONNXC_INT16] = oc_u_##name##_i16, [ONNXC_INT32] = oc_u_##name##_i32, \
    [ONNXC_INT64] = oc_u_##name##_i64
#define OC_T_UINTS(name)                                                                                  \
    [ONNXC_UINT8] = oc_u_##name##_u8, [ONNXC_UINT16] = oc_u_##name##_u16,                                 \
    [ONNXC_UINT32] = oc_u_##name##_u32, [ONNXC_UINT64] = oc_u_##name##_u64

static inline double oc_sigmoid_d(double x)
{
    /* exp of a non-positive argument only: no overflow for large |x| */
    if (x >= 0)
        return 1.0 / (1.0 + exp(-x));
    double e = exp(x);
    return e / (1.0 + e);
}

/* log(1 + e^x) without overflow: x + log1p(e^-x) for positive x. */
static inline double oc_softplus_d(double x)
{
    return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
}

static inline float oc_softplus_f(float x)
{
    return x > 0 ? x + log1pf(expf(-x)) : log1pf(expf(x));
}

/* ---- ops ---- */
OC_UN_FLOAT(relu, x > 0 ? x : 0.0f, x > 0 ? x : 0.0)
OC_UN_INTS(relu, x > 0 ? x : 0)
/* LeakyRelu's float loop reads alpha once (through p the compiler must assume a store to o changes it, which
 * kept the loop scalar) */
static void oc_u_leaky_f32(void *o_, const void *x_, int64_t n, const oc_uparams *p)
{
    float *o = o_;
    const float *xs = x_;
    const float alpha = p->alpha;
    for (int64_t i = 0; i < n; i++) {
        float x = xs[i];
        o[i] = oc_selectf(x < 0, alpha * x, x); /* a ?: gets a branch and stays scalar */
    }
}
OC_ROW1(oc_u_leaky_f64, double, x < 0 ? (double)p->alpha * x : x)
static double oc_ud_leaky(double x, const oc_uparams *p) { return x < 0 ? (double)p->alpha * x : x; }
/* float32 through vmath's vector code (error bounds in vmath.h); the double forms are libm's. HardSigmoid and
 * HardSwish let NaN through (numpy.clip, as the ONNX reference does); fminf/fmaxf would not, and kept the loop
 * scalar with two library calls per element (half of a MobileNetV3-Small run). */
#define OC_VM_ROW(NAME, CALL)                                                                             \
    static void NAME(void *o, const void *x, int64_t n, const oc_uparams *p)                             \
    {                                                                                                     \
        (void)p;                                                                                          \
        CALL;                                                                                             \
    }
#define OC_UN_VM(name, CALL, ED)                                                                          \
    OC_VM_ROW(oc_u_##name##_f32, CALL)                                                                    \
    OC_ROW1(oc_u_##name##_f64, double, ED)                                                                \
    static double oc_ud_##name(double x, const oc_uparams *p)                                             \
    {                                                                                                     \
        (void)p;                                                                                          \
        return ED;                                                                                        \
    }
static inline double oc_unit_clamp_d(double v) { return v < 0.0 ? 0.0 : v > 1.0 ? 1.0 : v; }
OC_UN_VM(sigmoid, oc_vm_sigmoid(o, x, n), oc_sigmoid_d(x))
OC_UN_VM(hsig, oc_vm_hardsigmoid(o, x, n, p->alpha, p->beta),
         oc_unit_clamp_d((double)p->alpha * x + (double)p->beta))
OC_UN_VM(hswish, oc_vm_hardswish(o, x, n), x * oc_unit_clamp_d(x / 6.0 + 0.5))
OC_UN_VM(tanh, oc_vm_tanh(o, x, n), tanh(x))
OC_UN_VM(erf, oc_vm_erf(o, x, n), erf(x))
OC_UN_FLOAT(sqrt, sqrtf(x), sqrt(x))
OC_UN_VM(exp, oc_vm_exp(o, x, n), exp(x))
OC_UN_FLOAT(log, logf(x), log(x))
OC_UN_FLOAT(neg, -x, -x)
OC_UN_INTS(neg, (uint64_t)0 - (uint64_t)x) /* wraps: -INT_MIN stays INT_MIN instead of overflowing */
OC_UN_FLOAT(abs, fabsf(x), fabs(x))
OC_UN_INTS(abs, x < 0 ? (uint64_t)0 - (uint64_t)x : (uint64_t)x)
OC_UN_UINTS(abs, x)
OC_UN_FLOAT(recip, 1.0f / x, 1.0 / x)
OC_UN_FLOAT(floor, floorf(x), floor(x))
OC_UN_FLOAT(ceil, ceilf(x), ceil(x))
OC_UN_FLOAT(round, nearbyintf(x), nearbyint(x)) /* Round-11: halves to even (the default rounding mode) */
/* Sign-9: NaN stays NaN, zeros stay themselves */
OC_UN_FLOAT(sign, x > 0 ? 1.0f : x < 0 ? -1.0f : x, x > 0 ? 1.0 : x < 0 ? -1.0 : x)
OC_UN_INTS(sign, x > 0 ? 1 : x < 0 ? -1 : 0)
OC_UN_UINTS(sign, x > 0 ? 1 : 0)
OC_UN_FLOAT(elu, x < 0 ? p->alpha * expm1f(x) : x, x < 0 ? (double)p->alpha * expm1(x) : x)
OC_UN_FLOAT(selu, p->gamma * (x > 0 ? x : p->alpha * expm1f(x)),
            (double)p->gamma * (x > 0 ? x : (double)p->alpha * expm1(x)))
OC_UN_FLOAT(celu, fmaxf(0.0f, x) + fminf(0.0f, p->alpha * expm1f(x / p->alpha)),
            fmax(0.0, x) + fmin(0.0, (double)p->alpha * expm1(x / (double)p->alpha)))
OC_UN_FLOAT(thrrelu, x > p->alpha ? x : 0.0f, x > (double)p->alpha ? x : 0.0)
OC_UN_FLOAT(softplus, oc_softplus_f(x), oc_softplus_d(x))
OC_UN_FLOAT(softsign, x / (1.0f + fabsf(x)), x / (1.0 + fabs(x)))
OC_UN_FLOAT(mish, x * tanhf(oc_softplus_f(x)), x * tanh(oc_softplus_d(x)))
OC_UN_FLOAT(sin, sinf(x), sin(x))
OC_UN_FLOAT(cos, cosf(x), cos(x))
OC_UN_FLOAT(tan, tanf(x), tan(x))
OC_UN_FLOAT(asin, asinf(x), asin(x))
OC_UN_FLOAT(acos, acosf(x), acos(x))
OC_UN_FLOAT(atan, atanf(x), atan(x))
OC_UN_FLOAT(sinh, sinhf(x), sinh(x))
OC_UN_FLOAT(cosh, coshf(x), cosh(x))
OC_UN_FLOAT(asinh, asinhf(x), asinh(x))
OC_UN_FLOAT(acosh, acoshf(x), acosh(x))
OC_UN_FLOAT(atanh, atanhf(x), atanh(x))
/* Clip: x outside [lo, hi] goes to the bound; NaN passes through (numpy.clip). The float loop reads the bounds
 * once: through p, every store to o might change them as far as the compiler knows, which kept the loop scalar
 * with two loads and conversions per element (a quarter of a MobileNetV2 run when Clip is not fused). */
static void oc_u_clip_f32(void *o_, const void *x_, int64_t n, const oc_uparams *p)
{
    float *o = o_;
    const float *xs = x_;
    const float lo = (float)p->lo, hi = (float)p->hi;
    for (int64_t i = 0; i < n; i++) {
        float x = xs[i];
        o[i] = x < lo ? lo : x > hi ? hi : x;
    }
}
static void oc_u_clip_f64(void *o_, const void *x_, int64_t n, const oc_uparams *p)
{
    double *o = o_;
    const double *xs = x_;
    const double lo = p->lo, hi = p->hi;
    for (int64_t i = 0; i < n; i++) {
        double x = xs[i];
        o[i] = x < lo ? lo : x > hi ? hi : x;
    }
}
static double oc_ud_clip(double x, const oc_uparams *p) { return x < p->lo ? p->lo : x > p->hi ? p->hi : x; }
#define OC_E_ICLIP(T) x < (T)p->ilo ? (T)p->ilo : x > (T)p->ihi ? (T)p->ihi : x
OC_ROW1(oc_u_clip_i8, int8_t, OC_E_ICLIP(int8_t))
OC_ROW1(oc_u_clip_i16, int16_t, OC_E_ICLIP(int16_t))
OC_ROW1(oc_u_clip_i32, int32_t, OC_E_ICLIP(int32_t))
OC_ROW1(oc_u_clip_i64, int64_t, OC_E_ICLIP(int64_t))
OC_ROW1(oc_u_clip_u8, uint8_t, OC_E_ICLIP(uint8_t))
OC_ROW1(oc_u_clip_u16, uint16_t, OC_E_ICLIP(uint16_t))
OC_ROW1(oc_u_clip_u32, uint32_t, OC_E_ICLIP(uint32_t))
OC_ROW1(oc_u_clip_u64, uint64_t, OC_E_ICLIP(uint64_t))

/* ---- op descriptors ---- */
typedef enum oc_uattr {
    OC_UA_NONE,
    OC_UA_LEAKY,     /* alpha = 0.01 */
    OC_UA_HSIG,      /* alpha = 0.2, beta = 0.5 */
    OC_UA_ELU,       /* alpha = 1 */
    OC_UA_SELU,      /* alpha, gamma: the Selu constants */
    OC_UA_THR        /* alpha = 1 (ThresholdedRelu) */
} oc_uattr;

typedef struct oc_unop {
    oc_row1 tab[OC_NDT];                           /* typed loops; float16/bfloat16 use fd */
    double (*fd)(double, const oc_uparams *);      /* NULL: no float support */
    oc_uattr attrs;
} oc_unop;

#define OC_UNOP_F(name, attrs) {{OC_T_FLOAT(name)}, oc_ud_##name, attrs}

static const oc_unop oc_op_relu = {{OC_T_FLOAT(relu), OC_T_INTS(relu)}, oc_ud_relu, OC_UA_NONE};
static const oc_unop oc_op_leaky = OC_UNOP_F(leaky, OC_UA_LEAKY);
static const oc_unop oc_op_sigmoid = OC_UNOP_F(sigmoid, OC_UA_NONE);
static const oc_unop oc_op_hsig = OC_UNOP_F(hsig, OC_UA_HSIG);
static const oc_unop oc_op_hswish = OC_UNOP_F(hswish, OC_UA_NONE);
static const oc_unop oc_op_tanh = OC_UNOP_F(tanh, OC_UA_NONE);
static const oc_unop oc_op_erf = OC_UNOP_F(erf, OC_UA_NONE);
static const oc_unop oc_op_sqrt = OC_UNOP_F(sqrt, OC_UA_NONE);
static const oc_unop oc_op_exp = OC_UNOP_F(exp, OC_UA_NONE);
static const oc_unop oc_op_log = OC_UNOP_F(log, OC_UA_NONE);
static const oc_unop oc_op_neg = {{OC_T_FLOAT(neg), OC_T_INTS(neg)}, oc_ud_neg, OC_UA_NONE};
static const oc_unop oc_op_abs = {{OC_T_FLOAT(abs), OC_T_INTS(abs), OC_T_UINTS(abs)}, oc_ud_abs, OC_UA_NONE};
static const oc_unop oc_op_recip = OC_UNOP_F(recip, OC_UA_NONE);
static const oc_unop oc_op_floor = OC_UNOP_F(floor, OC_UA_NONE);
static const oc_unop oc_op_ceil = OC_UNOP_F(ceil, OC_UA_NONE);
static const oc_unop oc_op_round = OC_UNOP_F(round, OC_UA_NONE);
static const oc_unop oc_op_sign = {{OC_T_FLOAT(sign), OC_T_INTS(sign), OC_T_UINTS(sign)}, oc_ud_sign, OC_UA_NONE};
static const oc_unop oc_op_elu = OC_UNOP_F(elu, OC_UA_ELU);
static const oc_unop oc_op_selu = OC_UNOP_F(selu, OC_UA_SELU);
static const oc_unop oc_op_celu = OC_UNOP_F(celu, OC_UA_ELU);
static const oc_unop oc_op_thrrelu = OC_UNOP_F(thrrelu, OC_UA_THR);
static const oc_unop oc_op_softplus = OC_UNOP_F(softplus, OC_UA_NONE);
static const oc_unop oc_op_softsign = OC_UNOP_F(softsign, OC_UA_NONE);
static const oc_unop oc_op_mish = OC_UNOP_F(mish, OC_UA_NONE);
static const oc_unop oc_op_sin = OC_UNOP_F(sin, OC_UA_NONE);
static const oc_unop oc_op_cos = OC_UNOP_F(cos, OC_UA_NONE);
static const oc_unop oc_op_tan = OC_UNOP_F(tan, OC_UA_NONE);
static const oc_unop oc_op_asin = OC_UNOP_F(asin, OC_UA_NONE);
static const oc_unop oc_op_acos = OC_UNOP_F(acos, OC_UA_NONE);
static const oc_unop oc_op_atan = OC_UNOP_F(atan, OC_UA_NONE);
static const oc_unop oc_op_sinh = OC_UNOP_F(sinh, OC_UA_NONE);
static const oc_unop oc_op_cosh = OC_UNOP_F(cosh, OC_UA_NONE);
static const oc_unop oc_op_asinh = OC_UNOP_F(asinh, OC_UA_NONE);
static const oc_unop oc_op_acosh = OC_UNOP_F(acosh, OC_UA_NONE);
static const oc_unop oc_op_atanh = OC_UNOP_F(atanh, OC_UA_NONE);
static const oc_unop oc_op_clip = {{OC_T_FLOAT(clip), [ONNXC_INT8] = oc_u_clip_i8, [ONNXC_INT16] = oc_u_clip_i16,
                                    [ONNXC_INT32] = oc_u_clip_i32, [ONNXC_INT64] = oc_u_clip_i64,
                                    [ONNXC_UINT8] = oc_u_clip_u8, [ONNXC_UINT16] = oc_u_clip_u16,
                                    [ONNXC_UINT32] = oc_u_clip_u32, [ONNXC_UINT64] = oc_u_clip_u64},
                                   oc_ud_clip, OC_UA_NONE};

static bool oc_un_supports(const oc_unop *op, int32_t dt)
{
    if (dt <= 0 || dt >= OC_NDT)
        return false;
    return op->tab[dt] || (op->fd && (dt == ONNXC_FLOAT16 || dt == ONNXC_BFLOAT16));
}

static void oc_un_params(const oc_kctx *c, const oc_unop *op, oc_uparams *p)
{
    memset(p, 0, sizeof *p);
    switch (op->attrs) {
    case OC_UA_NONE: break;
    case OC_UA_LEAKY: p->alpha = oc_attr_float(c->node, "alpha", 0.01f); break;
    case OC_UA_HSIG:
        p->alpha = oc_attr_float(c->node, "alpha", 0.2f);
        p->beta = oc_attr_float(c->node, "beta", 0.5f);
        break;
    case OC_UA_ELU: p->alpha = oc_attr_float(c->node, "alpha", 1.0f); break;
    case OC_UA_SELU:
        p->alpha = oc_attr_float(c->node, "alpha", 1.67326319217681884765625f);
        p->gamma = oc_attr_float(c->node, "gamma", 1.05070102214813232421875f);
        break;
    case OC_UA_THR: p->alpha = oc_attr_float(c->node, "alpha", 1.0f); break;
    }
    p->fd = op->fd;
}

/* Elements per item of a split unary loop: whole cache lines of output, long enough for the vector body. */
#define OC_UN_BLOCK 4096

typedef struct oc_un_job {
    oc_row1 f;
    void *o;
    const void *x;
    size_t oes, xes;
    int64_t n;
    const oc_uparams *p;
} oc_un_job;

static void oc_un_blocks(void *arg, int64_t lo, int64_t hi, int slot)
{
    (void)slot;
    const oc_un_job *j = arg;
    int64_t s = lo * OC_UN_BLOCK, e = hi * OC_UN_BLOCK < j->n ? hi * OC_UN_BLOCK : j->n;
    j->f((char *)j->o + (size_t)s * j->oes, (const char *)j->x + (size_t)s * j->xes, e - s, j->p);
}

/* Run a row loop over n elements, in blocks split over the pool when there are many (the row loops are
 * elementwise, so a block computes what the whole row would). */
static void oc_un_apply(oc_row1 f, void *o, size_t oes, const void *x, size_t xes, int64_t n, const oc_uparams *p,
                        struct oc_threadpool *pool)
{
    oc_un_job j = {f, o, x, oes, xes, n, p};
    oc_par_for(pool, (n + OC_UN_BLOCK - 1) / OC_UN_BLOCK, n, oc_un_blocks, &j);
}

static onnxc_status oc_un_infer(oc_kctx *c, const oc_unop *op)
{
    if (c->n_in < 1 || !c->in[0] || c->n_out < 1)
        return oc_kerr(c, ONNXC_E_INVALID, "needs an input and an output");
    const onnxc_tensor *x = c->in[0];
    if (!oc_un_supports(op, x->dtype))
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "element type %s is not supported", onnxc_dtype_name(x->dtype));
    if (!c->out[0])
        return ONNXC_OK;
    onnxc_status st = oc_set_shape(c->out[0], x->dtype, x->rank, x->dims);
    return st == ONNXC_OK ? st : oc_kerr(c, st, "%s", onnxc_last_error());
}

static onnxc_status oc_un_exec(oc_kctx *c, const oc_unop *op, oc_uparams *p)
{
    onnxc_tensor *y = c->out[0];
    const onnxc_tensor *x = c->in[0];
    if (!y)
        return ONNXC_OK;
    p->dt = x->dtype;
    oc_row1 f = op->tab[x->dtype];
    if (!f)
        f = oc_u_generic;
    size_t es = onnxc_dtype_size(x->dtype);
    oc_un_apply(f, y->data, es, x->data, es, onnxc_tensor_numel(x), p, c->pool);
    return ONNXC_OK;
}

static onnxc_status oc_un_run(oc_kctx *c, const oc_unop *op)
{
    oc_uparams p;
    oc_un_params(c, op, &p);
    return oc_un_exec(c, op, &p);
}

#define OC_UN_KERNEL(name)                                                                                \
    static onnxc_status oc_infer_##name(oc_kctx *c) { return oc_un_infer(c, &oc_op_##name); }            \
    static onnxc_status oc_run_##name(oc_kctx *c) { return oc_un_run(c, &oc_op_##name); }

OC_UN_KERNEL(relu)
OC_UN_KERNEL(leaky)
OC_UN_KERNEL(sigmoid)
OC_UN_KERNEL(hsig)
OC_UN_KERNEL(hswish)
OC_UN_KERNEL(tanh)
OC_UN_KERNEL(erf)
OC_UN_KERNEL(sqrt)
OC_UN_KERNEL(exp)
OC_UN_KERNEL(log)
OC_UN_KERNEL(neg)
OC_UN_KERNEL(abs)
OC_UN_KERNEL(recip)
OC_UN_KERNEL(floor)
OC_UN_KERNEL(ceil)
OC_UN_KERNEL(round)
OC_UN_KERNEL(sign)
OC_UN_KERNEL(elu)
OC_UN_KERNEL(selu)
OC_UN_KERNEL(celu)
OC_UN_KERNEL(thrrelu)
OC_UN_KERNEL(softplus)
OC_UN_KERNEL(softsign)
OC_UN_KERNEL(mish)
OC_UN_KERNEL(sin)
OC_UN_KERNEL(cos)
OC_UN_KERNEL(tan)
OC_UN_KERNEL(asin)
OC_UN_KERNEL(acos)
OC_UN_KERNEL(atan)
OC_UN_KERNEL(sinh)
OC_UN_KERNEL(cosh)
OC_UN_KERNEL(asinh)
OC_UN_KERNEL(acosh)
OC_UN_KERNEL(atanh)

/* ---- Clip: bounds from attributes min/max (Clip-1, Clip-6) or optional scalar inputs 1 and 2 (Clip-11+) ---- */
static onnxc_status oc_infer_clip(oc_kctx *c)
{
    onnxc_status st = oc_un_infer(c, &oc_op_clip);
    if (st != ONNXC_OK || c->opset < 11)
        return st;
    for (int i = 1; i < 3 && i < c->n_in; i++) {
        const onnxc_tensor *b = c->in[i];
        if (!b)
            continue;
        if (b->dtype != c->in[0]->dtype)
            return oc_kerr(c, ONNXC_E_INVALID, "%s bound is %s but the input is %s", i == 1 ? "min" : "max",
                           onnxc_dtype_name(b->dtype), onnxc_dtype_name(c->in[0]->dtype));
        if (onnxc_tensor_numel(b) != 1)
            return oc_kerr(c, ONNXC_E_INVALID, "%s bound must hold one value, not %lld", i == 1 ? "min" : "max",
                           (long long)onnxc_tensor_numel(b));
    }
    return ONNXC_OK;
}

static void oc_int_limits(int32_t dt, int64_t *lo, int64_t *hi)
{
    switch (dt) {
    case ONNXC_INT8: *lo = INT8_MIN; *hi = INT8_MAX; break;
    case ONNXC_INT16: *lo = INT16_MIN; *hi = INT16_MAX; break;
    case ONNXC_INT32: *lo = INT32_MIN; *hi = INT32_MAX; break;
    case ONNXC_UINT8: *lo = 0; *hi = UINT8_MAX; break;
    case ONNXC_UINT16: *lo = 0; *hi = UINT16_MAX; break;
    case ONNXC_UINT32: *lo = 0; *hi = UINT32_MAX; break;
    case ONNXC_UINT64: *lo = 0; *hi = -1; break; /* bit pattern of UINT64_MAX */
    default: *lo = INT64_MIN; *hi = INT64_MAX; break;
    }
}

static onnxc_status oc_run_clip(oc_kctx *c)
{
    oc_uparams p;
    oc_un_params(c, &oc_op_clip, &p);
    int32_t dt = c->in[0]->dtype;
    p.lo = -INFINITY;
    p.hi = INFINITY;
    oc_int_limits(dt, &p.ilo, &p.ihi);
    if (c->opset < 11) {
        p.lo = oc_attr_float(c->node, "min", -FLT_MAX);
        p.hi = oc_attr_float(c->node, "max", FLT_MAX);
    } else {
        if (c->n_in > 1 && c->in[1]) {
            p.lo = oc_load_f64(dt, c->in[1]->data, 0);
            p.ilo = oc_load_i64(dt, c->in[1]->data, 0);
        }
        if (c->n_in > 2 && c->in[2]) {
            p.hi = oc_load_f64(dt, c->in[2]->data, 0);
            p.ihi = oc_load_i64(dt, c->in[2]->data, 0);
        }
    }
    return oc_un_exec(c, &oc_op_clip, &p);
}

/* ---- PRelu: slope broadcast to X's shape (unidirectional since PRelu-7) ---- */
#define OC_PRELU_ROW(NAME, T)                                                                             \
    static void NAME(void *o_, const void *const *in, const int64_t *st, int64_t n, const void *ctx)     \
    {                                                                                                     \
        (void)ctx;                                                                                        \
        T *o = o_;                                                                                        \
        const T *x = in[0], *s = in[1];                                                                   \
        int64_t sx = st[0], ss = st[1];                                                                   \
        if (sx == 1 && ss == 1) {                                                                         \
            for (int64_t i = 0; i < n; i++)                                                               \
                o[i] = x[i] < 0 ? (T)(x[i] * s[i]) : x[i];                                                \
        } else if (sx == 1 && ss == 0) {                                                                  \
            T a = s[0];                                                                                   \
            for (int64_t i = 0; i < n; i++)                                                               \
                o[i] = x[i] < 0 ? (T)(x[i] * a) : x[i];                                                   \
        } else {                                                                                          \
            for (int64_t i = 0; i < n; i++) {                                                             \
                T v = x[i * sx];                                                                          \
                o[i] = v < 0 ? (T)(v * s[i * ss]) : v;                                                    \
            }                                                                                             \
        }                                                                                                 \
    }
OC_PRELU_ROW(oc_prelu_f32, float)
OC_PRELU_ROW(oc_prelu_f64, double)
OC_PRELU_ROW(oc_prelu_i32, int32_t)
OC_PRELU_ROW(oc_prelu_i64, int64_t)

static void oc_prelu_gen(void *o, const void *const *in, const int64_t *st, int64_t n, const void *ctx)
{
    int32_t dt = *(const int32_t *)ctx;
    for (int64_t i = 0; i < n; i++) {
        double v = oc_load_f64(dt, in[0], i * st[0]);
        oc_store_f64(dt, o, i, v < 0 ? v * oc_load_f64(dt, in[1], i * st[1]) : v);
    }
}

static onnxc_status oc_infer_prelu(oc_kctx *c)
{
    if (c->n_in < 2 || !c->in[0] || !c->in[1] || c->n_out < 1)
        return oc_kerr(c, ONNXC_E_INVALID, "needs X and slope");
    const onnxc_tensor *x = c->in[0], *s = c->in[1];
    if (x->dtype != s->dtype)
        return oc_kerr(c, ONNXC_E_INVALID, "slope is %s but X is %s", onnxc_dtype_name(s->dtype),
                       onnxc_dtype_name(x->dtype));
    if (!oc_dtype_is_float(x->dtype) && !oc_dtype_is_int(x->dtype))
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "element type %s is not supported", onnxc_dtype_name(x->dtype));
    const onnxc_tensor *ts[2] = {x, s};
    int rank;
    int64_t dims[ONNXC_MAX_RANK];
    onnxc_status st = oc_broadcast_shapes(c, 2, ts, &rank, dims);
    if (st != ONNXC_OK)
        return st;
    if (rank != x->rank || memcmp(dims, x->dims, (size_t)rank * sizeof dims[0]) != 0) {
        char a[128], b[128];
        return oc_kerr(c, ONNXC_E_INVALID, "slope %s does not broadcast to X %s",
                       oc_dims_str(s->dims, s->rank, a, sizeof a), oc_dims_str(x->dims, x->rank, b, sizeof b));
    }
    if (!c->out[0])
        return ONNXC_OK;
    st = oc_set_shape(c->out[0], x->dtype, x->rank, x->dims);
    return st == ONNXC_OK ? st : oc_kerr(c, st, "%s", onnxc_last_error());
}

static onnxc_status oc_run_prelu(oc_kctx *c)
{
    onnxc_tensor *y = c->out[0];
    if (!y)
        return ONNXC_OK;
    const onnxc_tensor *ts[2] = {c->in[0], c->in[1]};
    const void *data[2] = {ts[0]->data, ts[1]->data};
    int32_t dt = ts[0]->dtype;
    int32_t dts[2] = {dt, dt};
    oc_row_fn f = dt == ONNXC_FLOAT ? oc_prelu_f32 : dt == ONNXC_DOUBLE ? oc_prelu_f64
                : dt == ONNXC_INT32 ? oc_prelu_i32 : dt == ONNXC_INT64 ? oc_prelu_i64 : oc_prelu_gen;
    oc_walk w;
    oc_walk_init(&w, y, 2, ts);
    oc_walk_run(&w, y->data, dt, data, dts, f, &dt, c->pool);
    return ONNXC_OK;
}

/* ---- Cast (Cast-6+: numeric types, float16, bfloat16 since Cast-13, bool) and CastLike-15 ---- */
static bool oc_castable(int32_t dt)
{
    return oc_dtype_is_float(dt) || oc_dtype_is_int(dt) || dt == ONNXC_BOOL;
}

#define OC_CAST_ROW(NAME, TI, TO, E)                                                                      \
    static void NAME(void *o_, const void *x_, int64_t n, const oc_uparams *p)                           \
    {                                                                                                     \
        (void)p;                                                                                          \
        TO *o = o_;                                                                                       \
        const TI *xs = x_;                                                                                \
        for (int64_t i = 0; i < n; i++) {                                                                 \
            TI x = xs[i];                                                                                 \
            o[i] = (TO)(E);                                                                               \
        }                                                                                                 \
    }
OC_CAST_ROW(oc_cast_f32_f64, float, double, x)
OC_CAST_ROW(oc_cast_f64_f32, double, float, x)
OC_CAST_ROW(oc_cast_i64_f32, int64_t, float, x)
OC_CAST_ROW(oc_cast_i32_f32, int32_t, float, x)
OC_CAST_ROW(oc_cast_u8_f32, uint8_t, float, x)
OC_CAST_ROW(oc_cast_i64_i32, int64_t, int32_t, x)
OC_CAST_ROW(oc_cast_i32_i64, int32_t, int64_t, x)
OC_CAST_ROW(oc_cast_b_f32, uint8_t, float, x != 0)
OC_CAST_ROW(oc_cast_f32_b, float, uint8_t, x != 0)
OC_CAST_ROW(oc_cast_f32_f16, float, uint16_t, oc_float_to_half(x))
OC_CAST_ROW(oc_cast_f16_f32, uint16_t, float, oc_half_to_float(x))
OC_CAST_ROW(oc_cast_f32_bf16, float, uint16_t, oc_float_to_bf16(x))
OC_CAST_ROW(oc_cast_bf16_f32, uint16_t, float, oc_bf16_to_float(x))

typedef struct oc_cast_gen {
    int32_t from, to;
} oc_cast_gen;

static void oc_cast_generic(const oc_cast_gen *g, void *o, const void *x, int64_t n)
{
    bool ints = (oc_dtype_is_int(g->from) || g->from == ONNXC_BOOL) && (oc_dtype_is_int(g->to) || g->to == ONNXC_BOOL);
    if (ints) {
        for (int64_t i = 0; i < n; i++)
            oc_store_i64(g->to, o, i, oc_load_i64(g->from, x, i));
    } else {
        for (int64_t i = 0; i < n; i++)
            oc_store_f64(g->to, o, i, oc_load_f64(g->from, x, i));
    }
}

static oc_row1 oc_cast_fast(int32_t from, int32_t to)
{
    static const struct {
        int32_t from, to;
        oc_row1 f;
    } fast[] = {
        {ONNXC_FLOAT, ONNXC_DOUBLE, oc_cast_f32_f64}, {ONNXC_DOUBLE, ONNXC_FLOAT, oc_cast_f64_f32},
        {ONNXC_INT64, ONNXC_FLOAT, oc_cast_i64_f32},  {ONNXC_INT32, ONNXC_FLOAT, oc_cast_i32_f32},
        {ONNXC_UINT8, ONNXC_FLOAT, oc_cast_u8_f32},   {ONNXC_INT64, ONNXC_INT32, oc_cast_i64_i32},
        {ONNXC_INT32, ONNXC_INT64, oc_cast_i32_i64},  {ONNXC_BOOL, ONNXC_FLOAT, oc_cast_b_f32},
        {ONNXC_FLOAT, ONNXC_BOOL, oc_cast_f32_b},     {ONNXC_FLOAT, ONNXC_FLOAT16, oc_cast_f32_f16},
        {ONNXC_FLOAT16, ONNXC_FLOAT, oc_cast_f16_f32}, {ONNXC_FLOAT, ONNXC_BFLOAT16, oc_cast_f32_bf16},
        {ONNXC_BFLOAT16, ONNXC_FLOAT, oc_cast_bf16_f32},
    };
    for (size_t i = 0; i < sizeof fast / sizeof fast[0]; i++)
        if (fast[i].from == from && fast[i].to == to)
            return fast[i].f;
    return NULL;
}

static onnxc_status oc_cast_infer_to(oc_kctx *c, int32_t to)
{
    if (c->n_in < 1 || !c->in[0] || c->n_out < 1)
        return oc_kerr(c, ONNXC_E_INVALID, "needs an input and an output");
    const onnxc_tensor *x = c->in[0];
    bool from_ok = oc_castable(x->dtype) || x->dtype == ONNXC_STRING;
    bool to_ok = oc_castable(to) || to == ONNXC_STRING;
    if (!from_ok || !to_ok || (x->dtype == ONNXC_STRING && to == ONNXC_STRING))
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "cast from %s to %s is not supported", onnxc_dtype_name(x->dtype),
                       onnxc_dtype_name(to));
    if (!c->out[0])
        return ONNXC_OK;
    onnxc_status st = oc_set_shape(c->out[0], to, x->rank, x->dims);
    return st == ONNXC_OK ? st : oc_kerr(c, st, "%s", onnxc_last_error());
}

/* ---- casts to and from strings (Cast-9) ----
 * Text of numbers to strings lives in a buffer the node owns (its kernel state), sized at plan time: every
 * number formats to at most OC_NUMSTR_MAX bytes. */
#define OC_NUMSTR_MAX 32

typedef struct oc_strbuf {
    char *buf;
    size_t cap;
} oc_strbuf;

static void oc_cast_release(void *state)
{
    oc_strbuf *b = state;
    if (b) {
        oc_free(b->buf);
        oc_free(b);
    }
}

static onnxc_status oc_cast_prepare(oc_kctx *c)
{
    if (!c->out[0] || c->out[0]->dtype != ONNXC_STRING || c->state)
        return ONNXC_OK;
    int64_t n = onnxc_tensor_numel(c->out[0]);
    size_t cap;
    if (n < 0 || !oc_mul_size((size_t)n, OC_NUMSTR_MAX, &cap))
        return oc_kerr(c, ONNXC_E_NOMEM, "string output of %lld elements is too large", (long long)n);
    oc_strbuf *b = oc_calloc(1, sizeof *b);
    if (!b)
        return oc_kerr(c, ONNXC_E_NOMEM, "out of memory");
    b->cap = cap ? cap : 1;
    b->buf = oc_malloc(b->cap);
    if (!b->buf) {
        oc_free(b);
        return oc_kerr(c, ONNXC_E_NOMEM, "out of memory");
    }
    c->state = b;
    return ONNXC_OK;
}

/* Shortest text that reads back as the same value (float32 when single), laid out like numpy's str(): positional
 * with at least one fraction digit for 1e-4 <= |v| < 1e16, else d.ddde+XX. "NaN", "INF", "-INF" as Cast's spec
 * names them. Returns the length written into out (at most OC_NUMSTR_MAX - 1). */
static size_t oc_format_number(double v, bool single, char *out)
{
    if (v != v)
        return (size_t)snprintf(out, OC_NUMSTR_MAX, "NaN");
    if (isinf(v))
        return (size_t)snprintf(out, OC_NUMSTR_MAX, v < 0 ? "-INF" : "INF");
    if (v == 0)
        return (size_t)snprintf(out, OC_NUMSTR_MAX, signbit(v) ? "-0.0" : "0.0");
    char sci[OC_NUMSTR_MAX];
    int maxp = single ? 8 : 16;
    for (int p = 0; p <= maxp; p++) {
        snprintf(sci, sizeof sci, "%.*e", p, v);
        if (single ? strtof(sci, NULL) == (float)v : strtod(sci, NULL) == v)
            break;
    }
    /* sci is [-]d[.ddd]e[+-]XX: collect the digits and the exponent */
    char digits[24];
    int nd = 0;
    const char *q = sci;
    bool neg = *q == '-';
    if (neg)
        q++;
    for (; *q && *q != 'e'; q++)
        if (*q >= '0' && *q <= '9' && nd < (int)sizeof digits - 1)
            digits[nd++] = *q;
    while (nd > 1 && digits[nd - 1] == '0')
        nd--; /* trailing zeros carry no information */
    digits[nd] = 0;
    int e = *q == 'e' ? atoi(q + 1) : 0;
    char *o = out;
    if (neg)
        *o++ = '-';
    double a = fabs(v);
    if (a >= 1e-4 && a < 1e16) {
        if (e >= 0) {
            for (int i = 0; i <= e; i++)
                *o++ = i < nd ? digits[i] : '0';
            *o++ = '.';
            if (nd > e + 1)
                for (int i = e + 1; i < nd; i++)
                    *o++ = digits[i];
            else
                *o++ = '0';
        } else {
            *o++ = '0';
            *o++ = '.';
            for (int i = 0; i < -e - 1; i++)
                *o++ = '0';
            for (int i = 0; i < nd; i++)
                *o++ = digits[i];
        }
        *o = 0;
    } else {
        *o++ = digits[0];
        if (nd > 1) {
            *o++ = '.';
            for (int i = 1; i < nd; i++)
                *o++ = digits[i];
        }
        int ae = e < 0 ? -e : e; /* at most 324 for a double */
        *o++ = 'e';
        *o++ = e < 0 ? '-' : '+';
        if (ae >= 100)
            *o++ = (char)('0' + ae / 100 % 10);
        *o++ = (char)('0' + ae / 10 % 10);
        *o++ = (char)('0' + ae % 10);
        *o = 0;
    }
    return (size_t)(o - out);
}

static onnxc_status oc_cast_to_string(oc_kctx *c)
{
    const onnxc_tensor *x = c->in[0];
    onnxc_tensor *y = c->out[0];
    oc_strbuf *b = c->state;
    int64_t n = onnxc_tensor_numel(x);
    if (!b || b->cap < (size_t)n * OC_NUMSTR_MAX)
        return oc_kerr(c, ONNXC_E_RUNTIME, "string buffer was not prepared");
    onnxc_string *s = y->data;
    bool single = x->dtype == ONNXC_FLOAT || x->dtype == ONNXC_FLOAT16 || x->dtype == ONNXC_BFLOAT16;
    for (int64_t i = 0; i < n; i++) {
        char *dst = b->buf + (size_t)i * OC_NUMSTR_MAX;
        if (oc_dtype_is_int(x->dtype) || x->dtype == ONNXC_BOOL) {
            if (x->dtype == ONNXC_UINT64)
                s[i].len = (size_t)snprintf(dst, OC_NUMSTR_MAX, "%llu",
                                            (unsigned long long)((const uint64_t *)x->data)[i]);
            else
                s[i].len = (size_t)snprintf(dst, OC_NUMSTR_MAX, "%lld", (long long)oc_load_i64(x->dtype, x->data, i));
        } else {
            s[i].len = oc_format_number(oc_load_f64(x->dtype, x->data, i), single, dst);
        }
        s[i].data = dst;
    }
    return ONNXC_OK;
}

/* Strings in plain or scientific notation, and "INF", "+INF", "-INF", "NaN", to numbers; integers read as
 * integers when they are written as one (exact beyond 2^53), else through double and truncated. */
static onnxc_status oc_cast_from_string(oc_kctx *c)
{
    const onnxc_tensor *x = c->in[0];
    onnxc_tensor *y = c->out[0];
    const onnxc_string *s = x->data;
    int64_t n = onnxc_tensor_numel(x);
    char tmp[128];
    for (int64_t i = 0; i < n; i++) {
        size_t len = s[i].len < sizeof tmp - 1 ? s[i].len : sizeof tmp - 1;
        memcpy(tmp, s[i].data ? s[i].data : "", len);
        tmp[len] = 0;
        char *end;
        if (oc_dtype_is_int(y->dtype) || y->dtype == ONNXC_BOOL) {
            long long iv = strtoll(tmp, &end, 10);
            if (end != tmp && *end == 0) {
                oc_store_i64(y->dtype, y->data, i, iv);
                continue;
            }
        }
        double v = strtod(tmp, &end);
        if (end == tmp || *end != 0 || s[i].len >= sizeof tmp)
            return oc_kerr(c, ONNXC_E_INVALID, "element %lld ('%.40s') is not a number", (long long)i, tmp);
        oc_store_f64(y->dtype, y->data, i, v);
    }
    return ONNXC_OK;
}

static onnxc_status oc_cast_exec(oc_kctx *c)
{
    onnxc_tensor *y = c->out[0];
    const onnxc_tensor *x = c->in[0];
    if (!y)
        return ONNXC_OK;
    if (y->dtype == ONNXC_STRING)
        return oc_cast_to_string(c);
    if (x->dtype == ONNXC_STRING)
        return oc_cast_from_string(c);
    int64_t n = onnxc_tensor_numel(x);
    if (x->dtype == y->dtype) {
        memmove(y->data, x->data, y->nbytes);
        return ONNXC_OK;
    }
    oc_row1 f = oc_cast_fast(x->dtype, y->dtype);
    if (f) {
        oc_uparams p;
        memset(&p, 0, sizeof p);
        oc_un_apply(f, y->data, onnxc_dtype_size(y->dtype), x->data, onnxc_dtype_size(x->dtype), n, &p, c->pool);
        return ONNXC_OK;
    }
    oc_cast_gen g = {x->dtype, y->dtype};
    oc_cast_generic(&g, y->data, x->data, n);
    return ONNXC_OK;
}

/* Cast-1 named the target type with a string ("FLOAT"); Cast-6 switched to the TensorProto.DataType number. */
static int32_t oc_dtype_from_name(const oc_bytes *s)
{
    static const char *const names[] = {
        [ONNXC_FLOAT] = "FLOAT",   [ONNXC_UINT8] = "UINT8",     [ONNXC_INT8] = "INT8",     [ONNXC_UINT16] = "UINT16",
        [ONNXC_INT16] = "INT16",   [ONNXC_INT32] = "INT32",     [ONNXC_INT64] = "INT64",   [ONNXC_STRING] = "STRING",
        [ONNXC_BOOL] = "BOOL",     [ONNXC_FLOAT16] = "FLOAT16", [ONNXC_DOUBLE] = "DOUBLE", [ONNXC_UINT32] = "UINT32",
        [ONNXC_UINT64] = "UINT64", [ONNXC_BFLOAT16] = "BFLOAT16",
    };
    for (int32_t i = 1; i < (int32_t)(sizeof names / sizeof names[0]); i++)
        if (names[i] && strlen(names[i]) == s->len && memcmp(names[i], s->data, s->len) == 0)
            return i;
    return 0;
}

static onnxc_status oc_infer_cast(oc_kctx *c)
{
    const oc_attr *a = oc_node_attr(c->node, "to");
    int64_t to;
    if (a && a->has_i)
        to = a->i;
    else if (a && a->has_s)
        to = oc_dtype_from_name(&a->s);
    else
        return oc_kerr(c, ONNXC_E_INVALID, "attribute 'to' is missing");
    if (to <= 0 || to > ONNXC_BFLOAT16)
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "cast to element type %lld is not supported", (long long)to);
    return oc_cast_infer_to(c, (int32_t)to);
}

static onnxc_status oc_infer_castlike(oc_kctx *c)
{
    if (c->n_in < 2 || !c->in[1])
        return oc_kerr(c, ONNXC_E_INVALID, "needs input and target_type");
    return oc_cast_infer_to(c, c->in[1]->dtype);
}

static onnxc_status oc_run_cast(oc_kctx *c) { return oc_cast_exec(c); }
static onnxc_status oc_run_castlike(oc_kctx *c) { return oc_cast_exec(c); }

#define OC_K(op, since_, name) {.op_type = op, .since = since_, .infer = oc_infer_##name, .run = oc_run_##name}
#define OC_K_CAST(op, since_, name)                                                                       \
    {.op_type = op, .since = since_, .infer = oc_infer_##name, .prepare = oc_cast_prepare, .run = oc_run_##name, \
     .release = oc_cast_release}

const oc_kernel oc_kernels_unary[] = {
    OC_K("Relu", 1, relu),
    OC_K("LeakyRelu", 1, leaky),
    OC_K("PRelu", 1, prelu),
    OC_K("Sigmoid", 1, sigmoid),
    OC_K("HardSigmoid", 1, hsig),
    OC_K("HardSwish", 14, hswish),
    OC_K("Tanh", 1, tanh),
    OC_K("Clip", 1, clip),
    OC_K("Erf", 9, erf),
    OC_K("Sqrt", 1, sqrt),
    OC_K("Exp", 1, exp),
    OC_K("Log", 1, log),
    OC_K("Neg", 1, neg),
    OC_K("Abs", 1, abs),
    OC_K("Reciprocal", 1, recip),
    OC_K("Floor", 1, floor),
    OC_K("Ceil", 1, ceil),
    OC_K("Round", 11, round),
    OC_K("Sign", 9, sign),
    OC_K("Elu", 1, elu),
    OC_K("Selu", 1, selu),
    OC_K("Celu", 12, celu),
    OC_K("ThresholdedRelu", 10, thrrelu),
    OC_K("Softplus", 1, softplus),
    OC_K("Softsign", 1, softsign),
    OC_K("Mish", 18, mish),
    OC_K("Sin", 7, sin),
    OC_K("Cos", 7, cos),
    OC_K("Tan", 7, tan),
    OC_K("Asin", 7, asin),
    OC_K("Acos", 7, acos),
    OC_K("Atan", 7, atan),
    OC_K("Sinh", 9, sinh),
    OC_K("Cosh", 9, cosh),
    OC_K("Asinh", 9, asinh),
    OC_K("Acosh", 9, acosh),
    OC_K("Atanh", 9, atanh),
    OC_K_CAST("Cast", 1, cast),
    OC_K_CAST("CastLike", 15, castlike),
    {.op_type = NULL},
};
