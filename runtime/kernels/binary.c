/* Element-wise ops of two or more inputs with numpy broadcasting: Add Sub Mul Div Pow Mod BitShift, variadic
 * Min Max Sum Mean, comparisons, And Or Xor Not, Where. Typed row loops that GCC vectorizes; float16/bfloat16
 * and mixed-type Pow go through double. */
#include <math.h>
#include <string.h>

#include "kutil.h"

#define OC_NDT (ONNXC_BFLOAT16 + 1)

/* ---- typed row loops ----
 * OC_ROW2 defines a row loop out[i] = E(x, y) for inputs of types TA, TB. Inside E, oc_ut is an unsigned type
 * (or the float type) in which integer arithmetic wraps instead of overflowing into undefined behaviour, and
 * oc_ta is the first input's type. The contiguous and scalar cases get their own loops so they vectorize. */
#define OC_ROW2(NAME, TA, TB, TO, UT, E)                                                                  \
    static void NAME(void *o_, const void *const *in, const int64_t *st, int64_t n, const void *ctx)     \
    {                                                                                                     \
        typedef UT oc_ut;                                                                                 \
        typedef TA oc_ta;                                                                                 \
        (void)ctx;                                                                                        \
        (void)sizeof(oc_ut);                                                                              \
        (void)sizeof(oc_ta);                                                                              \
        TO *o = o_;                                                                                       \
        const TA *a = in[0];                                                                              \
        const TB *b = in[1];                                                                              \
        int64_t sa = st[0], sb = st[1];                                                                   \
        if (sa == 1 && sb == 1) {                                                                         \
            for (int64_t i = 0; i < n; i++) {                                                             \
                TA x = a[i];                                                                              \
                TB y = b[i];                                                                              \
                o[i] = (TO)(E(x, y));                                                                     \
            }                                                                                             \
        } else if (sa == 1 && sb == 0) {                                                                  \
            TB y = b[0];                                                                                  \
            for (int64_t i = 0; i < n; i++) {                                                             \
                TA x = a[i];                                                                              \
                o[i] = (TO)(E(x, y));                                                                     \
            }                                                                                             \
        } else if (sa == 0 && sb == 1) {                                                                  \
            TA x = a[0];                                                                                  \
            for (int64_t i = 0; i < n; i++) {                                                             \
                TB y = b[i];                                                                              \
                o[i] = (TO)(E(x, y));                                                                     \
            }                                                                                             \
        } else {                                                                                          \
            for (int64_t i = 0; i < n; i++) {                                                             \
                TA x = a[i * sa];                                                                         \
                TB y = b[i * sb];                                                                         \
                o[i] = (TO)(E(x, y));                                                                     \
            }                                                                                             \
        }                                                                                                 \
    }

/* Type lists: M(op, E, suffix, C type, wrap type, dtype). */
#define OC_FLOAT_TYPES(M, op, E)                       \
    M(op, E, f32, float, float, ONNXC_FLOAT)           \
    M(op, E, f64, double, double, ONNXC_DOUBLE)
#define OC_SIGNED_TYPES(M, op, E)                      \
    M(op, E, i8, int8_t, unsigned, ONNXC_INT8)         \
    M(op, E, i16, int16_t, unsigned, ONNXC_INT16)      \
    M(op, E, i32, int32_t, uint32_t, ONNXC_INT32)      \
    M(op, E, i64, int64_t, uint64_t, ONNXC_INT64)
#define OC_UNSIGNED_TYPES(M, op, E)                    \
    M(op, E, u8, uint8_t, unsigned, ONNXC_UINT8)       \
    M(op, E, u16, uint16_t, unsigned, ONNXC_UINT16)    \
    M(op, E, u32, uint32_t, uint32_t, ONNXC_UINT32)    \
    M(op, E, u64, uint64_t, uint64_t, ONNXC_UINT64)
#define OC_BOOL_TYPE(M, op, E) M(op, E, b, uint8_t, unsigned, ONNXC_BOOL)

#define OC_DEF_SAME(op, E, sfx, T, UT, DT) OC_ROW2(oc_r_##op##_##sfx, T, T, T, UT, E)
#define OC_DEF_BOOL(op, E, sfx, T, UT, DT) OC_ROW2(oc_r_##op##_##sfx, T, T, uint8_t, UT, E)
#define OC_ENTRY(op, E, sfx, T, UT, DT) [DT] = oc_r_##op##_##sfx,

/* ---- element expressions ---- */
#define OC_E_ADD(x, y) ((oc_ut)(x) + (oc_ut)(y))
#define OC_E_SUB(x, y) ((oc_ut)(x) - (oc_ut)(y))
#define OC_E_MUL(x, y) ((oc_ut)(x) * (oc_ut)(y))
#define OC_E_FDIV(x, y) ((x) / (y))
/* x / -1 is computed as a wrapping negation: INT_MIN / -1 traps on x86. Zero divisors are refused before. */
#define OC_E_SDIV(x, y) ((y) == -1 ? (oc_ut)0 - (oc_ut)(x) : (oc_ut)((x) / (y)))
#define OC_E_UDIV(x, y) ((x) / (y))
/* Min/Max propagate NaN (numpy's minimum/maximum); for integers x != x folds away. */
#define OC_E_MIN(x, y) (((x) < (y) || (x) != (x)) ? (x) : (y))
#define OC_E_MAX(x, y) (((x) > (y) || (x) != (x)) ? (x) : (y))
#define OC_E_EQ(x, y) ((x) == (y))
#define OC_E_LT(x, y) ((x) < (y))
#define OC_E_GT(x, y) ((x) > (y))
#define OC_E_LE(x, y) ((x) <= (y))
#define OC_E_GE(x, y) ((x) >= (y))
#define OC_E_AND(x, y) (((x) != 0) & ((y) != 0))
#define OC_E_OR(x, y) (((x) != 0) | ((y) != 0))
#define OC_E_XOR(x, y) (((x) != 0) ^ ((y) != 0))
/* Mod-10: fmod=0 takes the sign of the divisor (Python %), fmod=1 the sign of the dividend (C fmod). */
#define OC_E_SMOD(x, y) ((y) == -1 ? 0 : oc_pymod_i64((int64_t)(x), (int64_t)(y)))
#define OC_E_SFMOD(x, y) ((y) == -1 ? 0 : (x) % (y))
#define OC_E_UMOD(x, y) ((x) % (y))
#define OC_E_FMOD(x, y) fmod((double)(x), (double)(y))
#define OC_E_FPYMOD(x, y) oc_pymod_f64((double)(x), (double)(y))
/* BitShift-11: shifting by the type's width or more gives 0 (C leaves it undefined). */
#define OC_E_SHL(x, y) ((y) >= 8 * sizeof(oc_ta) ? (oc_ut)0 : (oc_ut)((oc_ut)(x) << (y)))
#define OC_E_SHR(x, y) ((y) >= 8 * sizeof(oc_ta) ? (oc_ut)0 : (oc_ut)((oc_ut)(x) >> (y)))

static inline int64_t oc_pymod_i64(int64_t x, int64_t y)
{
    int64_t r = x % y;
    if (r != 0 && ((r < 0) != (y < 0)))
        r += y;
    return r;
}

static inline double oc_pymod_f64(double x, double y)
{
    double r = fmod(x, y);
    if (r != 0 && ((r < 0) != (y < 0)))
        r += y;
    return r;
}

/* Define the row loops of an op over all numeric types and its dtype-indexed table. */
#define OC_ARITH_OP(op, EF, ES, EU)                                                                       \
    OC_FLOAT_TYPES(OC_DEF_SAME, op, EF)                                                                   \
    OC_SIGNED_TYPES(OC_DEF_SAME, op, ES)                                                                  \
    OC_UNSIGNED_TYPES(OC_DEF_SAME, op, EU)                                                                \
    static const oc_row_fn oc_t_##op[OC_NDT] = {OC_FLOAT_TYPES(OC_ENTRY, op, _) OC_SIGNED_TYPES(OC_ENTRY, op, _) \
                                                   OC_UNSIGNED_TYPES(OC_ENTRY, op, _)};

OC_ARITH_OP(add, OC_E_ADD, OC_E_ADD, OC_E_ADD)
OC_ARITH_OP(sub, OC_E_SUB, OC_E_SUB, OC_E_SUB)
OC_ARITH_OP(mul, OC_E_MUL, OC_E_MUL, OC_E_MUL)
OC_ARITH_OP(div, OC_E_FDIV, OC_E_SDIV, OC_E_UDIV)
OC_ARITH_OP(min, OC_E_MIN, OC_E_MIN, OC_E_MIN)
OC_ARITH_OP(max, OC_E_MAX, OC_E_MAX, OC_E_MAX)
OC_ARITH_OP(mod, OC_E_FPYMOD, OC_E_SMOD, OC_E_UMOD)
OC_ARITH_OP(fmod, OC_E_FMOD, OC_E_SFMOD, OC_E_UMOD)

OC_UNSIGNED_TYPES(OC_DEF_SAME, shl, OC_E_SHL)
OC_UNSIGNED_TYPES(OC_DEF_SAME, shr, OC_E_SHR)
static const oc_row_fn oc_t_shl[OC_NDT] = {OC_UNSIGNED_TYPES(OC_ENTRY, shl, _)};
static const oc_row_fn oc_t_shr[OC_NDT] = {OC_UNSIGNED_TYPES(OC_ENTRY, shr, _)};

/* Pow with both operands of the same float type; other type pairs go through double. */
#define OC_E_POWF(x, y) powf((x), (y))
#define OC_E_POWD(x, y) pow((x), (y))
OC_ROW2(oc_r_pow_f32, float, float, float, float, OC_E_POWF)
OC_ROW2(oc_r_pow_f64, double, double, double, double, OC_E_POWD)
static const oc_row_fn oc_t_pow[OC_NDT] = {[ONNXC_FLOAT] = oc_r_pow_f32, [ONNXC_DOUBLE] = oc_r_pow_f64};

#define OC_CMP_OP(op, E)                                                                                  \
    OC_FLOAT_TYPES(OC_DEF_BOOL, op, E)                                                                    \
    OC_SIGNED_TYPES(OC_DEF_BOOL, op, E)                                                                   \
    OC_UNSIGNED_TYPES(OC_DEF_BOOL, op, E)                                                                 \
    OC_BOOL_TYPE(OC_DEF_BOOL, op, E)                                                                      \
    static const oc_row_fn oc_t_##op[OC_NDT] = {OC_FLOAT_TYPES(OC_ENTRY, op, _) OC_SIGNED_TYPES(OC_ENTRY, op, _) \
                                                   OC_UNSIGNED_TYPES(OC_ENTRY, op, _) OC_BOOL_TYPE(OC_ENTRY, op, _)};

OC_CMP_OP(eq, OC_E_EQ)
OC_CMP_OP(lt, OC_E_LT)
OC_CMP_OP(gt, OC_E_GT)
OC_CMP_OP(le, OC_E_LE)
OC_CMP_OP(ge, OC_E_GE)

OC_BOOL_TYPE(OC_DEF_BOOL, and, OC_E_AND)
OC_BOOL_TYPE(OC_DEF_BOOL, or, OC_E_OR)
OC_BOOL_TYPE(OC_DEF_BOOL, xor, OC_E_XOR)
static const oc_row_fn oc_t_and[OC_NDT] = {[ONNXC_BOOL] = oc_r_and_b};
static const oc_row_fn oc_t_or[OC_NDT] = {[ONNXC_BOOL] = oc_r_or_b};
static const oc_row_fn oc_t_xor[OC_NDT] = {[ONNXC_BOOL] = oc_r_xor_b};

/* ---- the generic path: any dtype pair through double (or int64 for integer Pow) ---- */
typedef struct oc_gen_ctx {
    int32_t ta, tb, to;
    double (*fd)(double, double);
    int64_t (*fi)(int64_t, int64_t);
} oc_gen_ctx;

static void oc_gen_row(void *o, const void *const *in, const int64_t *st, int64_t n, const void *ctx)
{
    const oc_gen_ctx *g = ctx;
    for (int64_t i = 0; i < n; i++) {
        if (g->fi)
            oc_store_i64(g->to, o, i, g->fi(oc_load_i64(g->ta, in[0], i * st[0]), oc_load_i64(g->tb, in[1], i * st[1])));
        else
            oc_store_f64(g->to, o, i, g->fd(oc_load_f64(g->ta, in[0], i * st[0]), oc_load_f64(g->tb, in[1], i * st[1])));
    }
}

static double oc_d_add(double x, double y) { return x + y; }
static double oc_d_sub(double x, double y) { return x - y; }
static double oc_d_mul(double x, double y) { return x * y; }
static double oc_d_div(double x, double y) { return x / y; }
static double oc_d_min(double x, double y) { return OC_E_MIN(x, y); }
static double oc_d_max(double x, double y) { return OC_E_MAX(x, y); }
static double oc_d_eq(double x, double y) { return x == y; }
static double oc_d_lt(double x, double y) { return x < y; }
static double oc_d_gt(double x, double y) { return x > y; }
static double oc_d_le(double x, double y) { return x <= y; }
static double oc_d_ge(double x, double y) { return x >= y; }
static double oc_d_fmod(double x, double y) { return fmod(x, y); }
static double oc_d_pymod(double x, double y) { return oc_pymod_f64(x, y); }

/* Integer power by squaring, wrapping on overflow like the typed loops; negative exponents truncate 1/x^-y. */
static int64_t oc_i_pow(int64_t x, int64_t y)
{
    if (y < 0) {
        if (x == 1)
            return 1;
        if (x == -1)
            return (y & 1) ? -1 : 1;
        return 0; /* |1 / x^|y|| < 1 truncates to 0 (x == 0 would be a division by zero; 0 as well) */
    }
    uint64_t r = 1, b = (uint64_t)x;
    while (y) {
        if (y & 1)
            r *= b;
        b *= b;
        y >>= 1;
    }
    return (int64_t)r;
}

/* ---- op descriptors ---- */
typedef enum oc_bkind {
    OC_BK_ARITH,   /* same-typed numeric inputs, output of that type */
    OC_BK_POW,     /* base and exponent of any numeric types (Pow-12), output of the base's type */
    OC_BK_CMP,     /* same-typed inputs, bool output */
    OC_BK_LOGIC    /* bool inputs, bool output */
} oc_bkind;

typedef struct oc_binop {
    oc_bkind kind;
    const oc_row_fn *tab;       /* typed loops by dtype (NULL entries: use fd) */
    double (*fd)(double, double); /* for float16/bfloat16 (and any dtype without a typed loop); NULL: none */
    bool int_div;               /* refuse integer zero divisors */
    bool legacy_bcast;          /* opset < 7 versions had the broadcast/axis attributes */
} oc_binop;

static const oc_binop oc_op_add = {OC_BK_ARITH, oc_t_add, oc_d_add, false, true};
static const oc_binop oc_op_sub = {OC_BK_ARITH, oc_t_sub, oc_d_sub, false, true};
static const oc_binop oc_op_mul = {OC_BK_ARITH, oc_t_mul, oc_d_mul, false, true};
static const oc_binop oc_op_div = {OC_BK_ARITH, oc_t_div, oc_d_div, true, true};
static const oc_binop oc_op_pow = {OC_BK_POW, oc_t_pow, pow, false, true};
static const oc_binop oc_op_mod = {OC_BK_ARITH, oc_t_mod, oc_d_pymod, true, false};
static const oc_binop oc_op_fmod = {OC_BK_ARITH, oc_t_fmod, oc_d_fmod, true, false};
static const oc_binop oc_op_shl = {OC_BK_ARITH, oc_t_shl, NULL, false, false};
static const oc_binop oc_op_shr = {OC_BK_ARITH, oc_t_shr, NULL, false, false};
static const oc_binop oc_op_min = {OC_BK_ARITH, oc_t_min, oc_d_min, false, false};
static const oc_binop oc_op_max = {OC_BK_ARITH, oc_t_max, oc_d_max, false, false};
static const oc_binop oc_op_eq = {OC_BK_CMP, oc_t_eq, oc_d_eq, false, true};
static const oc_binop oc_op_lt = {OC_BK_CMP, oc_t_lt, oc_d_lt, false, true};
static const oc_binop oc_op_gt = {OC_BK_CMP, oc_t_gt, oc_d_gt, false, true};
static const oc_binop oc_op_le = {OC_BK_CMP, oc_t_le, oc_d_le, false, false};
static const oc_binop oc_op_ge = {OC_BK_CMP, oc_t_ge, oc_d_ge, false, false};
static const oc_binop oc_op_and = {OC_BK_LOGIC, oc_t_and, NULL, false, true};
static const oc_binop oc_op_or = {OC_BK_LOGIC, oc_t_or, NULL, false, true};
static const oc_binop oc_op_xor = {OC_BK_LOGIC, oc_t_xor, NULL, false, true};

static bool oc_is_numeric(int32_t dt)
{
    return oc_dtype_is_float(dt) || oc_dtype_is_int(dt);
}

static bool oc_has_loop(const oc_binop *op, int32_t dt)
{
    return (dt > 0 && dt < OC_NDT && op->tab[dt]) || (op->fd && oc_is_numeric(dt));
}

/* Before opset 7, Add/Sub/Mul/Div/Pow/And/Or/Xor/Equal/Less/Greater broadcast B onto A only when broadcast=1,
 * with B's dims placed at A's `axis` (default: trailing). Build that view of B as a numpy-broadcastable shape. */
static onnxc_status oc_legacy_view(const oc_kctx *c, const onnxc_tensor *a, const onnxc_tensor *b, onnxc_tensor *view)
{
    *view = *b;
    if (oc_attr_int(c->node, "broadcast", 0) == 0) {
        if (a->rank != b->rank || memcmp(a->dims, b->dims, (size_t)a->rank * sizeof a->dims[0]) != 0) {
            char da[128], db[128];
            return oc_kerr(c, ONNXC_E_INVALID, "inputs differ in shape (%s vs %s) and broadcast is 0",
                           oc_dims_str(a->dims, a->rank, da, sizeof da), oc_dims_str(b->dims, b->rank, db, sizeof db));
        }
        return ONNXC_OK;
    }
    int64_t axis = oc_attr_int(c->node, "axis", a->rank - b->rank);
    if (axis < 0)
        axis += a->rank;
    if (axis < 0 || axis + b->rank > a->rank)
        return oc_kerr(c, ONNXC_E_INVALID, "broadcast axis %lld does not fit B of rank %d into A of rank %d",
                       (long long)axis, b->rank, a->rank);
    view->rank = a->rank;
    for (int i = 0; i < a->rank; i++)
        view->dims[i] = (i >= axis && i < axis + b->rank) ? b->dims[i - axis] : 1;
    return ONNXC_OK;
}

static onnxc_status oc_bin_inputs(const oc_kctx *c, const oc_binop *op, onnxc_tensor *bview,
                                  const onnxc_tensor **pa, const onnxc_tensor **pb)
{
    if (c->n_in < 2 || !c->in[0] || !c->in[1])
        return oc_kerr(c, ONNXC_E_INVALID, "needs 2 inputs");
    if (c->n_out < 1)
        return oc_kerr(c, ONNXC_E_INVALID, "needs an output");
    *pa = c->in[0];
    *pb = c->in[1];
    if (op->legacy_bcast && c->opset < 7) {
        onnxc_status st = oc_legacy_view(c, c->in[0], c->in[1], bview);
        if (st != ONNXC_OK)
            return st;
        *pb = bview;
    }
    return ONNXC_OK;
}

static onnxc_status oc_bin_infer(oc_kctx *c, const oc_binop *op)
{
    const onnxc_tensor *a = NULL, *b = NULL;
    onnxc_tensor bview;
    onnxc_status st = oc_bin_inputs(c, op, &bview, &a, &b);
    if (st != ONNXC_OK)
        return st;
    int32_t out_dt = a->dtype;
    switch (op->kind) {
    case OC_BK_POW:
        if (!oc_is_numeric(a->dtype) || !oc_is_numeric(b->dtype))
            return oc_kerr(c, ONNXC_E_UNSUPPORTED, "Pow of %s by %s is not supported", onnxc_dtype_name(a->dtype),
                           onnxc_dtype_name(b->dtype));
        break;
    case OC_BK_LOGIC:
        if (a->dtype != ONNXC_BOOL || b->dtype != ONNXC_BOOL)
            return oc_kerr(c, ONNXC_E_INVALID, "inputs must be bool, not %s and %s", onnxc_dtype_name(a->dtype),
                           onnxc_dtype_name(b->dtype));
        break;
    case OC_BK_ARITH:
    case OC_BK_CMP:
        if (a->dtype != b->dtype)
            return oc_kerr(c, ONNXC_E_INVALID, "input types differ: %s and %s", onnxc_dtype_name(a->dtype),
                           onnxc_dtype_name(b->dtype));
        if (!oc_has_loop(op, a->dtype))
            return oc_kerr(c, ONNXC_E_UNSUPPORTED, "element type %s is not supported", onnxc_dtype_name(a->dtype));
        break;
    }
    if (op->kind == OC_BK_CMP || op->kind == OC_BK_LOGIC)
        out_dt = ONNXC_BOOL;
    const onnxc_tensor *ts[2] = {a, b};
    int rank;
    int64_t dims[ONNXC_MAX_RANK];
    st = oc_broadcast_shapes(c, 2, ts, &rank, dims);
    if (st != ONNXC_OK)
        return st;
    if (!c->out[0])
        return ONNXC_OK;
    st = oc_set_shape(c->out[0], out_dt, rank, dims);
    return st == ONNXC_OK ? st : oc_kerr(c, st, "%s", onnxc_last_error());
}

/* Integer Div and Mod by zero would trap: refuse with a message instead. */
static onnxc_status oc_check_divisor(const oc_kctx *c, const onnxc_tensor *b)
{
    if (!oc_dtype_is_int(b->dtype))
        return ONNXC_OK;
    int64_t n = onnxc_tensor_numel(b);
    for (int64_t i = 0; i < n; i++)
        if (oc_load_i64(b->dtype, b->data, i) == 0)
            return oc_kerr(c, ONNXC_E_RUNTIME, "integer division by zero (divisor element %lld)", (long long)i);
    return ONNXC_OK;
}

/* out = op(a, b) with broadcasting; a or b may be out itself (same shape) for the variadic fold. */
static void oc_bin_apply(const oc_kctx *c, const oc_binop *op, onnxc_tensor *out, const onnxc_tensor *a,
                         const onnxc_tensor *b)
{
    const onnxc_tensor *ts[2] = {a, b};
    const void *data[2] = {a->data, b->data};
    int32_t dts[2] = {a->dtype, b->dtype};
    oc_walk w;
    oc_walk_init(&w, out, 2, ts);
    oc_row_fn f = NULL;
    if (a->dtype == b->dtype && a->dtype > 0 && a->dtype < OC_NDT)
        f = op->tab[a->dtype];
    if (f) {
        oc_walk_run(&w, out->data, out->dtype, data, dts, f, NULL, c->pool);
        return;
    }
    oc_gen_ctx g = {a->dtype, b->dtype, out->dtype, op->fd, NULL};
    if (op->kind == OC_BK_POW && oc_dtype_is_int(a->dtype) && oc_dtype_is_int(b->dtype))
        g.fi = oc_i_pow;
    oc_walk_run(&w, out->data, out->dtype, data, dts, oc_gen_row, &g, c->pool);
}

static onnxc_status oc_bin_run(oc_kctx *c, const oc_binop *op)
{
    const onnxc_tensor *a = NULL, *b = NULL;
    onnxc_tensor bview;
    onnxc_status st = oc_bin_inputs(c, op, &bview, &a, &b);
    if (st != ONNXC_OK)
        return st;
    if (!c->out[0])
        return ONNXC_OK;
    if (op->int_div && (st = oc_check_divisor(c, b)) != ONNXC_OK)
        return st;
    oc_bin_apply(c, op, c->out[0], a, b);
    return ONNXC_OK;
}

#define OC_BIN_KERNEL(name, op)                                                                           \
    static onnxc_status oc_infer_##name(oc_kctx *c) { return oc_bin_infer(c, &op); }                     \
    static onnxc_status oc_run_##name(oc_kctx *c) { return oc_bin_run(c, &op); }

OC_BIN_KERNEL(add, oc_op_add)
OC_BIN_KERNEL(sub, oc_op_sub)
OC_BIN_KERNEL(mul, oc_op_mul)
OC_BIN_KERNEL(div, oc_op_div)
OC_BIN_KERNEL(pow, oc_op_pow)
OC_BIN_KERNEL(eq, oc_op_eq)
OC_BIN_KERNEL(lt, oc_op_lt)
OC_BIN_KERNEL(gt, oc_op_gt)
OC_BIN_KERNEL(le, oc_op_le)
OC_BIN_KERNEL(ge, oc_op_ge)
OC_BIN_KERNEL(and, oc_op_and)
OC_BIN_KERNEL(or, oc_op_or)
OC_BIN_KERNEL(xor, oc_op_xor)

/* Mod-10: the fmod attribute picks the remainder's sign; floats require fmod=1 in the spec, but fmod=0 on floats
 * is computed the numpy way rather than refused. */
static const oc_binop *oc_mod_op(const oc_kctx *c)
{
    return oc_attr_int(c->node, "fmod", 0) ? &oc_op_fmod : &oc_op_mod;
}
static onnxc_status oc_infer_mod(oc_kctx *c) { return oc_bin_infer(c, oc_mod_op(c)); }
static onnxc_status oc_run_mod(oc_kctx *c) { return oc_bin_run(c, oc_mod_op(c)); }

/* BitShift-11: direction "LEFT" or "RIGHT", unsigned integer types only. */
static onnxc_status oc_shift_op(const oc_kctx *c, const oc_binop **op)
{
    char buf[16];
    const char *dir = oc_attr_string(c->node, "direction", "", buf, sizeof buf);
    if (strcmp(dir, "LEFT") == 0)
        *op = &oc_op_shl;
    else if (strcmp(dir, "RIGHT") == 0)
        *op = &oc_op_shr;
    else
        return oc_kerr(c, ONNXC_E_INVALID, "direction must be LEFT or RIGHT, not '%s'", dir);
    return ONNXC_OK;
}
static onnxc_status oc_infer_shift(oc_kctx *c)
{
    const oc_binop *op = NULL;
    onnxc_status st = oc_shift_op(c, &op);
    return st != ONNXC_OK ? st : oc_bin_infer(c, op);
}
static onnxc_status oc_run_shift(oc_kctx *c)
{
    const oc_binop *op = NULL;
    onnxc_status st = oc_shift_op(c, &op);
    return st != ONNXC_OK ? st : oc_bin_run(c, op);
}

/* ---- variadic Min, Max, Sum, Mean (numpy broadcasting since opset 8) ---- */
typedef enum oc_vkind { OC_V_MIN, OC_V_MAX, OC_V_SUM, OC_V_MEAN } oc_vkind;

static const oc_binop *oc_var_op(oc_vkind k)
{
    return k == OC_V_MIN ? &oc_op_min : k == OC_V_MAX ? &oc_op_max : &oc_op_add;
}

static onnxc_status oc_var_infer(oc_kctx *c, oc_vkind k)
{
    if (c->n_in < 1 || c->n_out < 1)
        return oc_kerr(c, ONNXC_E_INVALID, "needs at least one input and an output");
    const onnxc_tensor *ts[64] = {0};
    if (c->n_in > 64)
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "%d inputs; at most 64 are supported", c->n_in);
    for (int i = 0; i < c->n_in; i++) {
        ts[i] = c->in[i];
        if (!ts[i])
            return oc_kerr(c, ONNXC_E_INVALID, "input %d is missing", i);
        if (ts[i]->dtype != ts[0]->dtype)
            return oc_kerr(c, ONNXC_E_INVALID, "input %d is %s, input 0 is %s", i, onnxc_dtype_name(ts[i]->dtype),
                           onnxc_dtype_name(ts[0]->dtype));
    }
    int32_t dt = ts[0]->dtype;
    bool ok = (k == OC_V_MIN || k == OC_V_MAX) ? oc_has_loop(oc_var_op(k), dt) : oc_dtype_is_float(dt);
    if (k == OC_V_SUM && oc_dtype_is_int(dt))
        ok = true; /* not in the spec's type list, but well defined */
    if (!ok)
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "element type %s is not supported", onnxc_dtype_name(dt));
    int rank;
    int64_t dims[ONNXC_MAX_RANK];
    onnxc_status st = oc_broadcast_shapes(c, c->n_in, ts, &rank, dims);
    if (st != ONNXC_OK || !c->out[0])
        return st;
    st = oc_set_shape(c->out[0], dt, rank, dims);
    return st == ONNXC_OK ? st : oc_kerr(c, st, "%s", onnxc_last_error());
}

static onnxc_status oc_var_run(oc_kctx *c, oc_vkind k)
{
    onnxc_tensor *out = c->out[0];
    if (!out)
        return ONNXC_OK;
    const oc_binop *op = oc_var_op(k);
    if (c->n_in == 1) {
        /* one input: the output is that input (same shape by infer) */
        memmove(out->data, c->in[0]->data, out->nbytes);
    } else {
        oc_bin_apply(c, op, out, c->in[0], c->in[1]);
        for (int i = 2; i < c->n_in; i++)
            oc_bin_apply(c, op, out, out, c->in[i]);
    }
    if (k == OC_V_MEAN && c->n_in > 1) {
        int64_t n = onnxc_tensor_numel(out);
        double inv = 1.0 / c->n_in;
        if (out->dtype == ONNXC_FLOAT) {
            float *p = out->data;
            float s = (float)c->n_in;
            for (int64_t i = 0; i < n; i++)
                p[i] /= s;
        } else {
            for (int64_t i = 0; i < n; i++)
                oc_store_f64(out->dtype, out->data, i, oc_load_f64(out->dtype, out->data, i) * inv);
        }
    }
    return ONNXC_OK;
}

#define OC_VAR_KERNEL(name, k)                                                                            \
    static onnxc_status oc_infer_##name(oc_kctx *c) { return oc_var_infer(c, k); }                      \
    static onnxc_status oc_run_##name(oc_kctx *c) { return oc_var_run(c, k); }

OC_VAR_KERNEL(vmin, OC_V_MIN)
OC_VAR_KERNEL(vmax, OC_V_MAX)
OC_VAR_KERNEL(vsum, OC_V_SUM)
OC_VAR_KERNEL(vmean, OC_V_MEAN)

/* ---- Where (numpy broadcasting of condition, X and Y; Where-9) ---- */
#define OC_WHERE_ROW(NAME, T)                                                                             \
    static void NAME(void *o_, const void *const *in, const int64_t *st, int64_t n, const void *ctx)     \
    {                                                                                                     \
        (void)ctx;                                                                                        \
        T *o = o_;                                                                                        \
        const uint8_t *cnd = in[0];                                                                       \
        const T *x = in[1], *y = in[2];                                                                   \
        if (st[0] == 1 && st[1] == 1 && st[2] == 1) {                                                     \
            for (int64_t i = 0; i < n; i++)                                                               \
                o[i] = cnd[i] ? x[i] : y[i];                                                              \
        } else {                                                                                          \
            for (int64_t i = 0; i < n; i++)                                                               \
                o[i] = cnd[i * st[0]] ? x[i * st[1]] : y[i * st[2]];                                      \
        }                                                                                                 \
    }
OC_WHERE_ROW(oc_where_1, uint8_t)
OC_WHERE_ROW(oc_where_2, uint16_t)
OC_WHERE_ROW(oc_where_4, uint32_t)
OC_WHERE_ROW(oc_where_8, uint64_t)

static onnxc_status oc_where_check(const oc_kctx *c)
{
    if (c->n_in < 3 || !c->in[0] || !c->in[1] || !c->in[2] || c->n_out < 1)
        return oc_kerr(c, ONNXC_E_INVALID, "needs condition, X and Y");
    if (c->in[0]->dtype != ONNXC_BOOL)
        return oc_kerr(c, ONNXC_E_INVALID, "condition must be bool, not %s", onnxc_dtype_name(c->in[0]->dtype));
    if (c->in[1]->dtype != c->in[2]->dtype)
        return oc_kerr(c, ONNXC_E_INVALID, "X is %s but Y is %s", onnxc_dtype_name(c->in[1]->dtype),
                       onnxc_dtype_name(c->in[2]->dtype));
    size_t es = onnxc_dtype_size(c->in[1]->dtype);
    if (c->in[1]->dtype == ONNXC_STRING || (es != 1 && es != 2 && es != 4 && es != 8))
        return oc_kerr(c, ONNXC_E_UNSUPPORTED, "element type %s is not supported",
                       onnxc_dtype_name(c->in[1]->dtype));
    return ONNXC_OK;
}

static onnxc_status oc_infer_where(oc_kctx *c)
{
    onnxc_status st = oc_where_check(c);
    if (st != ONNXC_OK)
        return st;
    const onnxc_tensor *ts[3] = {c->in[0], c->in[1], c->in[2]};
    int rank;
    int64_t dims[ONNXC_MAX_RANK];
    st = oc_broadcast_shapes(c, 3, ts, &rank, dims);
    if (st != ONNXC_OK || !c->out[0])
        return st;
    st = oc_set_shape(c->out[0], c->in[1]->dtype, rank, dims);
    return st == ONNXC_OK ? st : oc_kerr(c, st, "%s", onnxc_last_error());
}

static onnxc_status oc_run_where(oc_kctx *c)
{
    onnxc_status st = oc_where_check(c);
    if (st != ONNXC_OK || !c->out[0])
        return st;
    const onnxc_tensor *ts[3] = {c->in[0], c->in[1], c->in[2]};
    const void *data[3] = {ts[0]->data, ts[1]->data, ts[2]->data};
    int32_t dts[3] = {ts[0]->dtype, ts[1]->dtype, ts[2]->dtype};
    oc_row_fn f;
    switch (onnxc_dtype_size(ts[1]->dtype)) {
    case 1: f = oc_where_1; break;
    case 2: f = oc_where_2; break;
    case 4: f = oc_where_4; break;
    default: f = oc_where_8; break;
    }
    oc_walk w;
    oc_walk_init(&w, c->out[0], 3, ts);
    oc_walk_run(&w, c->out[0]->data, c->out[0]->dtype, data, dts, f, NULL, c->pool);
    return ONNXC_OK;
}

/* ---- Not ---- */
static onnxc_status oc_infer_not(oc_kctx *c)
{
    if (c->n_in < 1 || !c->in[0] || c->n_out < 1)
        return oc_kerr(c, ONNXC_E_INVALID, "needs an input and an output");
    if (c->in[0]->dtype != ONNXC_BOOL)
        return oc_kerr(c, ONNXC_E_INVALID, "input must be bool, not %s", onnxc_dtype_name(c->in[0]->dtype));
    if (!c->out[0])
        return ONNXC_OK;
    onnxc_status st = oc_set_shape(c->out[0], ONNXC_BOOL, c->in[0]->rank, c->in[0]->dims);
    return st == ONNXC_OK ? st : oc_kerr(c, st, "%s", onnxc_last_error());
}

static onnxc_status oc_run_not(oc_kctx *c)
{
    if (!c->out[0])
        return ONNXC_OK;
    const uint8_t *x = c->in[0]->data;
    uint8_t *y = c->out[0]->data;
    int64_t n = onnxc_tensor_numel(c->in[0]);
    for (int64_t i = 0; i < n; i++)
        y[i] = !x[i];
    return ONNXC_OK;
}

#define OC_K(op, since_, until_, name)                                                                    \
    {.op_type = op, .since = since_, .until = until_, .infer = oc_infer_##name, .run = oc_run_##name}

const oc_kernel oc_kernels_binary[] = {
    OC_K("Add", 1, 0, add),
    OC_K("Sub", 1, 0, sub),
    OC_K("Mul", 1, 0, mul),
    OC_K("Div", 1, 0, div),
    OC_K("Pow", 1, 0, pow),
    OC_K("Mod", 10, 0, mod),
    OC_K("BitShift", 11, 0, shift),
    OC_K("Min", 1, 0, vmin),
    OC_K("Max", 1, 0, vmax),
    OC_K("Sum", 1, 0, vsum),
    OC_K("Mean", 1, 0, vmean),
    OC_K("Equal", 1, 0, eq),
    OC_K("Less", 1, 0, lt),
    OC_K("Greater", 1, 0, gt),
    OC_K("LessOrEqual", 12, 0, le),
    OC_K("GreaterOrEqual", 12, 0, ge),
    OC_K("And", 1, 0, and),
    OC_K("Or", 1, 0, or),
    OC_K("Xor", 1, 0, xor),
    OC_K("Not", 1, 0, not),
    OC_K("Where", 9, 0, where),
    {.op_type = NULL},
};
