#!/usr/bin/python3
"""Write node-test folders (model.onnx + test_data_set_0/{input,output}_*.pb) for runtime/kernels/rnn.c and
loss.c with expected outputs from a numpy reference written from the ONNX spec's equations (float64, one batch
row at a time): what the ONNX node tests leave out of LSTM / GRU / RNN - reverse and bidirectional, layout 1,
sequence_lens with shorter and empty sequences, initial states, peepholes, clip, input_forget, the optional
activations with activation_alpha / beta, GRU linear_before_reset 0 and 1, optional outputs absent, double,
opset 7 - and losses in float64 with int32 targets, TfIdfVectorizer in IDF and TFIDF modes with weights.
Also writes OUT_DIR/bad_*/model.onnx, models that must be refused with a message naming the node.
Usage: gen_rnn_cases.py OUT_DIR  (also writes OUT_DIR/manifest.txt listing every case)."""
import os
import sys

import numpy as np
from onnx import TensorProto, helper, numpy_helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from casegen import init, write_case  # noqa: E402

RNG = np.random.default_rng(20261203)
CASES = []
OUT = None


def save(name, node, inputs, outputs, opset, inits=()):
    """inputs/outputs: (name, array) pairs; an output whose name is '' is omitted from the node."""
    CASES.append(write_case(OUT, "test_" + name, [node], inputs, outputs, opset, inits, "gen_rnn_cases", 7))


# ---------------------------------------------------------------- the recurrent reference

ACT_USES = {"Relu": (0, 0), "Tanh": (0, 0), "Sigmoid": (0, 0), "Affine": (1, 1), "LeakyRelu": (1, 0),
            "ThresholdedRelu": (1, 0), "ScaledTanh": (1, 1), "HardSigmoid": (1, 1), "Elu": (1, 0),
            "Softsign": (0, 0), "Softplus": (0, 0)}


def act_fn(name, a, b):
    return {
        "Relu": lambda x: np.maximum(x, 0),
        "Tanh": np.tanh,
        "Sigmoid": lambda x: 1 / (1 + np.exp(-x)),
        "Affine": lambda x: a * x + b,
        "LeakyRelu": lambda x: np.where(x >= 0, x, a * x),
        "ThresholdedRelu": lambda x: np.where(x > a, x, 0),
        "ScaledTanh": lambda x: a * np.tanh(b * x),
        "HardSigmoid": lambda x: np.clip(a * x + b, 0, 1),
        "Elu": lambda x: np.where(x >= 0, x, a * (np.exp(x) - 1)),
        "Softsign": lambda x: x / (1 + np.abs(x)),
        "Softplus": lambda x: np.log1p(np.exp(x)),
    }[name]


def activations(names, alphas, betas):
    """alpha / beta consumed in order by the activations that take them (ONNX Runtime's reading)."""
    al, be = list(alphas), list(betas)
    out = []
    for n in names:
        ua, ub = ACT_USES[n]
        a = al.pop(0) if ua and al else {"LeakyRelu": 0.01, "HardSigmoid": 0.2, "Elu": 1.0}.get(n, 0.0)
        b = be.pop(0) if ub and be else {"HardSigmoid": 0.5}.get(n, 0.0)
        out.append(act_fn(n, np.float64(a), np.float64(b)))
    return out


def rnn_ref(kind, X, W, R, B=None, lens=None, h0=None, c0=None, P=None, direction="forward", layout=0, clip=None,
            acts=None, alphas=(), betas=(), lbr=0, input_forget=0):
    X, W, R = (a.astype(np.float64) for a in (X, W, R))
    if layout:
        X = X.transpose(1, 0, 2)
        h0 = None if h0 is None else h0.transpose(1, 0, 2)
        c0 = None if c0 is None else c0.transpose(1, 0, 2)
    S, N, _ = X.shape
    D = 2 if direction == "bidirectional" else 1
    G = {"RNN": 1, "GRU": 3, "LSTM": 4}[kind]
    H = R.shape[2]
    nact = {"RNN": 1, "GRU": 2, "LSTM": 3}[kind]
    if acts is None:
        acts = {"RNN": ["Tanh"], "GRU": ["Sigmoid", "Tanh"], "LSTM": ["Sigmoid", "Tanh", "Tanh"]}[kind] * D
    fns = activations(acts, alphas, betas)
    cl = (lambda v: np.clip(v, -clip, clip)) if clip else (lambda v: v)
    B = np.zeros((D, 2 * G * H)) if B is None else B.astype(np.float64)
    lens = np.full(N, S) if lens is None else lens
    Y = np.zeros((S, D, N, H))
    Yh = np.zeros((D, N, H))
    Yc = np.zeros((D, N, H))
    for d in range(D):
        fwd = direction == "forward" or (direction == "bidirectional" and d == 0)
        f = fns[d * nact:(d + 1) * nact]
        Wb, Rb = B[d, :G * H], B[d, G * H:]
        for n in range(N):
            L = int(lens[n])
            h = np.zeros(H) if h0 is None else h0[d, n].astype(np.float64)
            c = np.zeros(H) if c0 is None else c0[d, n].astype(np.float64)
            for s in range(L):
                t = s if fwd else L - 1 - s
                x = X[t, n]
                if kind == "RNN":
                    h = f[0](cl(W[d] @ x + R[d] @ h + Wb + Rb))
                elif kind == "LSTM":
                    gx = W[d] @ x + Wb + R[d] @ h + Rb
                    gi, go, gf, gc = (gx[k * H:(k + 1) * H] for k in range(4))
                    p = np.zeros(3 * H) if P is None else P[d].astype(np.float64)
                    i = f[0](cl(gi + p[:H] * c))
                    fg = 1 - i if input_forget else f[0](cl(gf + p[2 * H:] * c))
                    cc = f[1](cl(gc))
                    c = fg * c + i * cc
                    o = f[0](cl(go + p[H:2 * H] * c))
                    h = o * f[2](cl(c))
                else:
                    Wz, Wr, Wh = (W[d][k * H:(k + 1) * H] for k in range(3))
                    Rz, Rr, Rh = (R[d][k * H:(k + 1) * H] for k in range(3))
                    z = f[0](cl(Wz @ x + Rz @ h + Wb[:H] + Rb[:H]))
                    r = f[0](cl(Wr @ x + Rr @ h + Wb[H:2 * H] + Rb[H:2 * H]))
                    if lbr:
                        hh = f[1](cl(Wh @ x + r * (Rh @ h + Rb[2 * H:]) + Wb[2 * H:]))
                    else:
                        hh = f[1](cl(Wh @ x + Rh @ (r * h) + Rb[2 * H:] + Wb[2 * H:]))
                    h = (1 - z) * hh + z * h
                Y[t, d, n] = h
            if L:
                Yh[d, n], Yc[d, n] = h, c
    if layout:
        Y, Yh, Yc = Y.transpose(2, 0, 1, 3), Yh.transpose(1, 0, 2), Yc.transpose(1, 0, 2)
    return Y, Yh, Yc


def rnn_case(name, kind, S, N, I, H, dtype=np.float32, opset=14, direction="forward", layout=0, bias=True,
             lens=None, init=False, peep=False, clip=None, acts=None, alphas=(), betas=(), lbr=None,
             input_forget=0, outs=(True, True, True), const=False):
    """const: W, R and B as initializers (onnxc packs a constant R once for batches of 4 or more)."""
    D = 2 if direction == "bidirectional" else 1
    G = {"RNN": 1, "GRU": 3, "LSTM": 4}[kind]
    r = lambda *s: (RNG.standard_normal(s) * 0.6).astype(dtype)
    X = r(*((N, S, I) if layout else (S, N, I)))
    W, R = r(D, G * H, I), r(D, G * H, H)
    B = r(D, 2 * G * H) if bias else None
    sl = None if lens is None else np.array(lens, np.int32)
    st_shape = (N, D, H) if layout else (D, N, H)
    h0 = r(*st_shape) if init else None
    c0 = r(*st_shape) if init and kind == "LSTM" else None
    P = r(D, 3 * H) if peep else None
    Y, Yh, Yc = rnn_ref(kind, X, W, R, B, sl, h0, c0, P, direction, layout, clip, acts, alphas, betas,
                        lbr or 0, input_forget)
    ins = [("X", X), ("W", W), ("R", R), ("B", B), ("sequence_lens", sl), ("initial_h", h0)]
    if kind == "LSTM":
        ins += [("initial_c", c0), ("P", P)]
    while ins and ins[-1][1] is None:
        ins.pop()
    attrs = {"hidden_size": H, "direction": direction}
    if opset >= 14:
        attrs["layout"] = layout
    if clip:
        attrs["clip"] = clip
    if acts:
        attrs["activations"] = acts
    if alphas:
        attrs["activation_alpha"] = list(alphas)
    if betas:
        attrs["activation_beta"] = list(betas)
    if lbr is not None:
        attrs["linear_before_reset"] = lbr
    if input_forget:
        attrs["input_forget"] = input_forget
    o = [("Y", Y.astype(dtype)), ("Y_h", Yh.astype(dtype))] + ([("Y_c", Yc.astype(dtype))] if kind == "LSTM" else [])
    o = [(n if keep else "", a) for (n, a), keep in zip(o, outs)]
    while o and not o[-1][0]:
        o.pop()
    node = helper.make_node(kind, [n if a is not None else "" for n, a in ins], [n for n, _ in o], **attrs)
    weights = ("W", "R", "B") if const else ()
    inits = [numpy_helper.from_array(a, n) for n, a in ins if a is not None and n in weights]
    save(name, node, [(n, a) for n, a in ins if a is not None and n not in weights], o, opset, inits)


def rnn_cases():
    rnn_case("lstm_reverse_lens_init_peep", "LSTM", 5, 3, 4, 6, direction="reverse", lens=[5, 2, 0], init=True,
             peep=True)
    rnn_case("lstm_bidi_layout1_lens_clip", "LSTM", 6, 4, 3, 5, direction="bidirectional", layout=1,
             lens=[6, 3, 1, 4], init=True, peep=True, clip=0.7)
    rnn_case("lstm_input_forget_acts", "LSTM", 4, 2, 3, 4, input_forget=1,
             acts=["HardSigmoid", "LeakyRelu", "Softsign"], alphas=[0.3, 0.2], betas=[0.4])
    rnn_case("lstm_bidi_acts_alpha_beta", "LSTM", 3, 2, 3, 4, direction="bidirectional",
             acts=["Sigmoid", "ScaledTanh", "Affine", "HardSigmoid", "Elu", "Softplus"],
             alphas=[0.9, 0.5, 0.25, 0.8], betas=[1.1, 0.2, 0.6])
    rnn_case("lstm_only_yh", "LSTM", 4, 3, 2, 5, direction="bidirectional", init=True, outs=(False, True, False))
    rnn_case("lstm_only_yc", "LSTM", 4, 3, 2, 5, lens=[1, 4, 2], outs=(False, False, True))
    rnn_case("lstm_y_and_yc", "LSTM", 4, 3, 2, 5, direction="reverse", lens=[3, 4, 2], outs=(True, False, True))
    rnn_case("rnn_only_y", "RNN", 4, 3, 2, 5, direction="bidirectional", lens=[3, 4, 2], outs=(True, False))
    rnn_case("lstm_double_bidi", "LSTM", 5, 2, 3, 4, dtype=np.float64, direction="bidirectional", lens=[5, 3],
             init=True, peep=True)
    rnn_case("lstm_opset7_nobias", "LSTM", 3, 2, 4, 3, opset=7, bias=False)
    rnn_case("lstm_wide_batch", "LSTM", 7, 9, 16, 24, direction="bidirectional", lens=[7, 6, 5, 4, 3, 2, 1, 0, 7])
    # constant weights, batches of 4 and more: the packed recurrent product, rows split over threads (H > 8 MR)
    rnn_case("lstm_const_bidi_peep", "LSTM", 6, 5, 8, 20, direction="bidirectional", lens=[6, 2, 0, 5, 6],
             init=True, peep=True, const=True)
    rnn_case("lstm_const_wide", "LSTM", 5, 7, 12, 40, init=True, const=True)
    rnn_case("gru_const_lbr0_layout1", "GRU", 5, 6, 4, 30, direction="reverse", layout=1, lens=[5, 4, 3, 0, 1, 5],
             init=True, lbr=0, const=True)
    rnn_case("gru_const_lbr1_bidi", "GRU", 4, 4, 3, 9, direction="bidirectional", init=True, lbr=1, const=True)
    rnn_case("rnn_const_batch8", "RNN", 5, 8, 6, 70, init=True, const=True)
    rnn_case("gru_lbr0_bidi_layout1_lens", "GRU", 5, 3, 4, 6, direction="bidirectional", layout=1,
             lens=[5, 0, 3], init=True, lbr=0)
    rnn_case("gru_lbr1_reverse_clip", "GRU", 6, 2, 3, 4, direction="reverse", lens=[4, 6], init=True, lbr=1,
             clip=0.5)
    rnn_case("gru_lbr1_acts", "GRU", 4, 2, 3, 5, lbr=1, acts=["HardSigmoid", "Elu"], alphas=[0.3, 0.7],
             betas=[0.45])
    rnn_case("gru_double_lbr0", "GRU", 4, 3, 3, 4, dtype=np.float64, direction="bidirectional", lbr=0)
    rnn_case("gru_opset7_only_yh", "GRU", 5, 2, 3, 4, opset=7, lens=[2, 5], outs=(False, True))
    rnn_case("rnn_bidi_relu_scaledtanh", "RNN", 4, 3, 3, 5, direction="bidirectional",
             acts=["Relu", "ScaledTanh"], alphas=[0.8], betas=[1.3], init=True)
    rnn_case("rnn_layout1_reverse_lens", "RNN", 5, 4, 2, 3, direction="reverse", layout=1, lens=[5, 1, 0, 3],
             init=True)
    rnn_case("rnn_thresholdedrelu_clip", "RNN", 4, 2, 3, 4, acts=["ThresholdedRelu"], alphas=[0.1], clip=0.9)
    rnn_case("rnn_double_softsign", "RNN", 3, 2, 3, 4, dtype=np.float64, acts=["Softsign"])


# ---------------------------------------------------------------- losses

def nll_ref(lp, t, w, reduction, ii):
    N, C = lp.shape[:2]
    lp2 = lp.reshape(N, C, -1).astype(np.float64)
    t2 = t.reshape(N, -1)
    loss = np.zeros(t2.shape)
    wts = np.zeros(t2.shape)
    for n in range(N):
        for i in range(t2.shape[1]):
            k = int(t2[n, i])
            if ii is not None and k == ii:
                continue
            wts[n, i] = 1.0 if w is None else w[k]
            loss[n, i] = -lp2[n, k, i] * wts[n, i]
    if reduction == "none":
        return loss.reshape(t.shape)
    return np.array(loss.sum() if reduction == "sum" else loss.sum() / wts.sum())


def loss_cases():
    for dtype, tdt in ((np.float64, np.int32), (np.float32, np.int64)):
        x = RNG.standard_normal((3, 5, 2, 3)).astype(dtype)
        t = RNG.integers(0, 5, (3, 2, 3)).astype(tdt)
        t[0, 1, 2] = 4
        w = (RNG.random(5) + 0.5).astype(dtype)
        for red in ("none", "sum", "mean"):
            for use_w, ii in ((False, None), (True, 4), (True, None)):
                tag = f"{np.dtype(dtype).name}_{np.dtype(tdt).name}_{red}{'_w' if use_w else ''}" \
                      f"{'_ii' if ii is not None else ''}"
                attrs = {"reduction": red}
                if ii is not None:
                    attrs["ignore_index"] = ii
                ins = [("x", x), ("t", t)] + ([("w", w)] if use_w else [])
                y = nll_ref(x, t, w if use_w else None, red, ii).astype(dtype)
                save("nll_" + tag, helper.make_node("NegativeLogLikelihoodLoss", [n for n, _ in ins], ["y"],
                                                    **attrs), ins, [("y", y)], 13)
                m = x.astype(np.float64).max(axis=1, keepdims=True)
                lp = x - m - np.log(np.exp(x - m).sum(axis=1, keepdims=True))
                y = nll_ref(lp, t, w if use_w else None, red, ii).astype(dtype)
                save("sce_" + tag, helper.make_node("SoftmaxCrossEntropyLoss", [n for n, _ in ins], ["y", "lp"],
                                                    **attrs), ins, [("y", y), ("lp", lp.astype(dtype))], 13)


def tfidf_ref(x, min_n, max_n, max_skip, mode, counts, indexes, pool, weights):
    grams = []  # (tuple, position in ngram_indexes)
    k = 0
    for lvl in range(len(counts)):
        lo, hi, n = counts[lvl], counts[lvl + 1] if lvl + 1 < len(counts) else len(pool), lvl + 1
        for p in range(lo, hi, n):
            grams.append((tuple(pool[p:p + n]), k))
            k += 1
    rows = x.reshape(-1, x.shape[-1])
    out = np.zeros((rows.shape[0], max(indexes) + 1), np.float32)
    for r, row in enumerate(rows):
        seen = {}
        for s in range(len(row)):
            for n in range(min_n, max_n + 1):
                skips = [0] if n == 1 else range(max_skip + 1)
                for sk in skips:
                    pos = [s + j * (sk + 1) for j in range(n)]
                    if pos[-1] >= len(row):
                        continue
                    g = tuple(int(row[p]) for p in pos)
                    for gg, gk in grams:
                        if gg == g:
                            seen[gk] = seen.get(gk, 0) + 1
        for gk, cnt in seen.items():
            wt = weights[gk] if weights is not None else 1.0
            out[r, indexes[gk]] = cnt if mode == "TF" else (wt if mode == "IDF" else cnt * wt)
    return out.reshape(x.shape[:-1] + (out.shape[1],)) if x.ndim == 2 else out[0]


def tfidf_cases():
    pool = [1, 4, 7, 2, 5, 1, 4, 4, 7, 1, 4, 7, 7, 2, 5, 1]  # 4 unigrams, 3 bigrams, 2 trigrams
    counts = [0, 4, 10]
    indexes = [8, 0, 3, 1, 2, 7, 4, 6, 5]
    weights = [0.5, 1.5, 2.0, 0.25, 3.0, 1.0, 0.75, 1.25, 2.5]
    for dt in (np.int32, np.int64):
        x = RNG.integers(0, 9, (3, 12)).astype(dt)
        x[0, :6] = [1, 4, 7, 2, 1, 4]
        x[1, :7] = [7, 2, 5, 4, 7, 1, 9]
        for mode, skip, mn in (("IDF", 1, 1), ("TFIDF", 2, 2), ("TF", 0, 1), ("TFIDF", 0, 3)):
            y = tfidf_ref(x, mn, 3, skip, mode, counts, indexes, pool, weights)
            node = helper.make_node("TfIdfVectorizer", ["x"], ["y"], min_gram_length=mn, max_gram_length=3,
                                    max_skip_count=skip, mode=mode, ngram_counts=counts, ngram_indexes=indexes,
                                    pool_int64s=pool, weights=weights)
            save(f"tfidf_{np.dtype(dt).name}_{mode}_skip{skip}_min{mn}", node, [("x", x)], [("y", y)], 9)
    x = np.array([4, 7, 1, 4, 7, 7, 2], np.int64)  # 1-D input: output [C_out]
    y = tfidf_ref(x, 1, 3, 1, "TF", counts, indexes, pool, None)
    node = helper.make_node("TfIdfVectorizer", ["x"], ["y"], min_gram_length=1, max_gram_length=3, max_skip_count=1,
                            mode="TF", ngram_counts=counts, ngram_indexes=indexes, pool_int64s=pool)
    save("tfidf_1d_tf", node, [("x", x)], [("y", y)], 9)


# ---------------------------------------------------------------- refused models

def bad_model(name, node, inputs, outputs, inits, opset=14):
    g = helper.make_graph([node], name, inputs, outputs, initializer=inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 7
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "model.onnx"), "wb") as f:
        f.write(m.SerializeToString())


def bad_cases():
    fl = TensorProto.FLOAT
    x = helper.make_tensor_value_info("X", fl, [4, 2, 3])
    y = [helper.make_tensor_value_info("Y", fl, None)]
    w = lambda n, *s: numpy_helper.from_array(np.zeros(s, np.float32), n)
    # hidden_size 5 needs W [1, 20, 3]; the file's W has 12 rows (3 * 4: a GRU's weights)
    bad_model("bad_lstm_w_hidden", helper.make_node("LSTM", ["X", "W", "R"], ["Y"], hidden_size=5, name="lstm_bad"),
              [x], y, [w("W", 1, 12, 3), w("R", 1, 20, 5)])
    bad_model("bad_gru_r_hidden", helper.make_node("GRU", ["X", "W", "R"], ["Y"], hidden_size=4, name="gru_bad"),
              [x], y, [w("W", 1, 12, 3), w("R", 1, 12, 3)])
    sl = numpy_helper.from_array(np.array([4, 9], np.int32), "sl")
    bad_model("bad_rnn_seq_len", helper.make_node("RNN", ["X", "W", "R", "", "sl"], ["Y"], hidden_size=4,
                                                  name="rnn_long"), [x], y, [w("W", 1, 4, 3), w("R", 1, 4, 4), sl])


def main():
    global OUT
    OUT = sys.argv[1]
    os.makedirs(OUT, exist_ok=True)
    rnn_cases()
    loss_cases()
    tfidf_cases()
    bad_cases()
    with open(os.path.join(OUT, "manifest.txt"), "w") as f:
        f.write("\n".join(CASES) + "\n")
    print(f"{len(CASES)} cases in {OUT}")


if __name__ == "__main__":
    main()
