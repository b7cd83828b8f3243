/* The recurrence of RNN, GRU and LSTM for one element type, included by rnn.c once per type with RT (the type),
 * SFX (a name suffix), RT_GEMM (the pooled or plain row-major GEMM for RT) and RT_EXP / RT_TANH / RT_SIGMOID /
 * RT_LOG1P, RT_REC (the per-step product H R^T: packed R or BLAS). One direction at a time: the input part of every gate for all steps is one GEMM X W^T (bias folded
 * in as its initial value), the recurrent part one GEMM H R^T per step. */

#define RB_CAT2(a, b) a##_##b
#define RB_CAT(a, b) RB_CAT2(a, b)
#define RB_FN(n) RB_CAT(n, SFX)

/* x = act(clip(x)) over n elements; the switch sits outside the loops so each loop vectorizes. */
static void RB_FN(act_apply)(const rnn_act *a, RT *x, int64_t n, bool has_clip, RT clip)
{
    if (has_clip)
        for (int64_t i = 0; i < n; i++)
            x[i] = x[i] < -clip ? -clip : (x[i] > clip ? clip : x[i]);
    const RT al = (RT)a->alpha, be = (RT)a->beta;
    switch (a->kind) {
    case RNN_ACT_RELU:
        for (int64_t i = 0; i < n; i++)
            x[i] = x[i] > 0 ? x[i] : 0;
        break;
    case RNN_ACT_TANH:
        for (int64_t i = 0; i < n; i++)
            x[i] = RT_TANH(x[i]);
        break;
    case RNN_ACT_SIGMOID:
        for (int64_t i = 0; i < n; i++)
            x[i] = RT_SIGMOID(x[i]);
        break;
    case RNN_ACT_AFFINE:
        for (int64_t i = 0; i < n; i++)
            x[i] = al * x[i] + be;
        break;
    case RNN_ACT_LEAKYRELU:
        for (int64_t i = 0; i < n; i++)
            x[i] = x[i] >= 0 ? x[i] : al * x[i];
        break;
    case RNN_ACT_THRESHOLDEDRELU:
        for (int64_t i = 0; i < n; i++)
            x[i] = x[i] > al ? x[i] : 0;
        break;
    case RNN_ACT_SCALEDTANH:
        for (int64_t i = 0; i < n; i++)
            x[i] = al * RT_TANH(be * x[i]);
        break;
    case RNN_ACT_HARDSIGMOID:
        for (int64_t i = 0; i < n; i++) {
            RT v = al * x[i] + be;
            x[i] = v < 0 ? 0 : (v > 1 ? 1 : v);
        }
        break;
    case RNN_ACT_ELU:
        for (int64_t i = 0; i < n; i++)
            x[i] = x[i] >= 0 ? x[i] : al * (RT_EXP(x[i]) - 1);
        break;
    case RNN_ACT_SOFTSIGN:
        for (int64_t i = 0; i < n; i++)
            x[i] = x[i] / (1 + (x[i] < 0 ? -x[i] : x[i]));
        break;
    case RNN_ACT_SOFTPLUS:
        /* log(1 + e^x) without overflow: x + log1p(e^-x) for x > 0 */
        for (int64_t i = 0; i < n; i++)
            x[i] = x[i] > 0 ? x[i] + RT_LOG1P(RT_EXP(-x[i])) : RT_LOG1P(RT_EXP(x[i]));
        break;
    }
}

/* Direction d of the node: reads X, W, R, B, initial_h, initial_c, P; writes its slices of Y, Y_h, Y_c. */
static void RB_FN(rnn_dir)(const rnn_job *j, int d, struct oc_threadpool *pool)
{
    const rnn_cfg *g = &j->cfg;
    const int64_t S = g->seq, Bt = g->batch, IN = g->input, H = g->hidden, GH = g->gates * g->hidden;
    const bool lstm = g->kind == RNN_LSTM, gru = g->kind == RNN_GRU, lbr = gru && g->linear_before_reset;
    const bool fwd = g->direction == RNN_FORWARD || (g->direction == RNN_BIDIRECTIONAL && d == 0);
    const bool has_clip = g->has_clip;
    const RT clip = (RT)g->clip;

    RT *xw = (RT *)j->work + (size_t)d * (size_t)j->per_dir;
    RT *hr = xw + S * Bt * GH, *h = hr + Bt * GH, *cs = h + Bt * H, *tmp = cs + Bt * H, *bias = tmp + Bt * H;
    RT *rbh = bias + GH;

    const RT *X = j->x, *W = (const RT *)j->w + d * GH * IN, *R = (const RT *)j->r + d * GH * H;
    const RT *Bi = j->b ? (const RT *)j->b + d * 2 * GH : NULL;
    const RT *P = j->p ? (const RT *)j->p + d * 3 * H : NULL;
    const rnn_act *af = &g->act[d * g->n_act], *ag = af + 1, *ah = af + 2;

    /* Wb + Rb, except GRU's Rbh under linear_before_reset, which is added inside the reset product */
    for (int64_t k = 0; k < GH; k++)
        bias[k] = Bi ? Bi[k] + Bi[GH + k] : 0;
    for (int64_t k = 0; k < H; k++)
        rbh[k] = 0;
    if (lbr && Bi)
        for (int64_t k = 0; k < H; k++) {
            bias[2 * H + k] = Bi[2 * H + k];
            rbh[k] = Bi[GH + 2 * H + k];
        }

    /* X W^T + bias for every step at once: X's rows are (t, b) in the storage order of the layout */
    for (int64_t row = 0; row < S * Bt; row++)
        memcpy(xw + row * GH, bias, (size_t)GH * sizeof(RT));
    RT_GEMM(pool, false, true, S * Bt, GH, IN, 1, X, IN, W, IN, 1, xw, GH);

    for (int64_t b = 0; b < Bt; b++) {
        size_t so = (size_t)rnn_state_off(g, d, b);
        for (int64_t k = 0; k < H; k++) {
            h[b * H + k] = j->h0 ? ((const RT *)j->h0)[so + k] : 0;
            if (lstm)
                cs[b * H + k] = j->c0 ? ((const RT *)j->c0)[so + k] : 0;
        }
    }

    RT *Y = j->y;
    const int64_t ncols = gru && !lbr ? 2 * H : GH; /* GRU's candidate waits for the reset gate */
    for (int64_t s = 0; s < S; s++) {
        RT_REC(j, d, 0, R, ncols, h, hr, GH, pool);
        for (int64_t b = 0; b < Bt; b++) {
            const int64_t L = j->lens[b];
            if (s >= L)
                continue;
            const int64_t t = fwd ? s : L - 1 - s;
            const RT *xg = xw + rnn_x_row(g, t, b) * GH;
            RT *a = hr + b * GH, *hb = h + b * H;
            if (g->kind == RNN_SIMPLE) {
                for (int64_t k = 0; k < H; k++)
                    a[k] += xg[k];
                RB_FN(act_apply)(af, a, H, has_clip, clip);
                memcpy(hb, a, (size_t)H * sizeof(RT));
            } else if (lstm) {
                RT *gi = a, *go = a + H, *gf = a + 2 * H, *gc = a + 3 * H, *cb = cs + b * H, *hc = tmp + b * H;
                for (int64_t k = 0; k < GH; k++)
                    a[k] += xg[k];
                if (P)
                    for (int64_t k = 0; k < H; k++)
                        gi[k] += P[k] * cb[k];
                RB_FN(act_apply)(af, gi, H, has_clip, clip);
                if (g->input_forget) {
                    for (int64_t k = 0; k < H; k++)
                        gf[k] = 1 - gi[k];
                } else {
                    if (P)
                        for (int64_t k = 0; k < H; k++)
                            gf[k] += P[2 * H + k] * cb[k];
                    RB_FN(act_apply)(af, gf, H, has_clip, clip);
                }
                RB_FN(act_apply)(ag, gc, H, has_clip, clip);
                for (int64_t k = 0; k < H; k++)
                    cb[k] = gf[k] * cb[k] + gi[k] * gc[k];
                if (P)
                    for (int64_t k = 0; k < H; k++)
                        go[k] += P[H + k] * cb[k];
                RB_FN(act_apply)(af, go, H, has_clip, clip);
                /* h() reads the clipped cell state; the state itself is kept unclipped (as ONNX Runtime does) */
                memcpy(hc, cb, (size_t)H * sizeof(RT));
                RB_FN(act_apply)(ah, hc, H, has_clip, clip);
                for (int64_t k = 0; k < H; k++)
                    hb[k] = go[k] * hc[k];
            } else {
                RT *z = a, *r = a + H, *c = a + 2 * H;
                for (int64_t k = 0; k < 2 * H; k++)
                    a[k] += xg[k];
                RB_FN(act_apply)(af, z, H, has_clip, clip);
                RB_FN(act_apply)(af, r, H, has_clip, clip);
                if (lbr) {
                    for (int64_t k = 0; k < H; k++)
                        c[k] = xg[2 * H + k] + r[k] * (c[k] + rbh[k]);
                    RB_FN(act_apply)(ag, c, H, has_clip, clip);
                    for (int64_t k = 0; k < H; k++)
                        hb[k] = (1 - z[k]) * c[k] + z[k] * hb[k];
                } else {
                    for (int64_t k = 0; k < H; k++)
                        tmp[b * H + k] = r[k] * hb[k];
                }
            }
        }
        if (gru && !lbr) {
            /* (r . H) Rh^T for every row (rows past their length hold stale values and are not used) */
            RT_REC(j, d, 1, R + 2 * H * H, H, tmp, hr + 2 * H, GH, pool);
            for (int64_t b = 0; b < Bt; b++) {
                const int64_t L = j->lens[b];
                if (s >= L)
                    continue;
                const int64_t t = fwd ? s : L - 1 - s;
                const RT *xg = xw + rnn_x_row(g, t, b) * GH;
                RT *a = hr + b * GH, *z = a, *c = a + 2 * H, *hb = h + b * H;
                for (int64_t k = 0; k < H; k++)
                    c[k] += xg[2 * H + k];
                RB_FN(act_apply)(ag, c, H, has_clip, clip);
                for (int64_t k = 0; k < H; k++)
                    hb[k] = (1 - z[k]) * c[k] + z[k] * hb[k];
            }
        }
        if (Y)
            for (int64_t b = 0; b < Bt; b++) {
                const int64_t L = j->lens[b];
                /* past a sequence's end its outputs are zero; before, step s wrote time t */
                const int64_t t = s >= L ? s : (fwd ? s : L - 1 - s);
                RT *yo = Y + rnn_y_off(g, t, d, b);
                if (s >= L)
                    memset(yo, 0, (size_t)H * sizeof(RT));
                else
                    memcpy(yo, h + b * H, (size_t)H * sizeof(RT));
            }
    }
    /* final states: those of each sequence's last step; zero for an empty sequence (as ONNX Runtime) */
    for (int64_t b = 0; b < Bt; b++) {
        size_t so = (size_t)rnn_state_off(g, d, b);
        bool empty = j->lens[b] == 0;
        if (j->yh) {
            RT *o = (RT *)j->yh + so;
            for (int64_t k = 0; k < H; k++)
                o[k] = empty ? 0 : h[b * H + k];
        }
        if (j->yc) {
            RT *o = (RT *)j->yc + so;
            for (int64_t k = 0; k < H; k++)
                o[k] = empty ? 0 : cs[b * H + k];
        }
    }
}

#undef RB_FN
#undef RB_CAT
#undef RB_CAT2
