#!/usr/bin/python3
"""Write node-test folders (model.onnx + test_data_set_0/{input,output}_*.pb) for the kernels of
runtime/kernels/{einsum,sample,signal,misc2}.c, for what the ONNX node tests miss, with expected outputs from
numpy: np.einsum for Einsum (matmuls, batch, broadcast ellipsis, diagonals, three operands, implicit output,
upper-case letters, float64 / int64, and 80 random equations); a loop reference written from the GridSample spec (PyTorch's
grid_sampler arithmetic; checked against torch.nn.functional.grid_sample when this file was written) for every
mode x padding_mode x align_corners with grid points outside [-1, 1]; np.fft for DFT (onesided, dft_length
padding and truncation, complex input, another axis) and STFT (onesided both ways, complex signal); the window
formulas in float64 output; OneHot on every axis with float indices, negative and out-of-range indices;
LRN with an even size, MeanVarianceNormalization over other axes, ReverseSequence batch-major on int64, Det of a
singular and a float64 batch, MaxPool -> MaxUnpool on 3-D pooling with output_shape; float linear Resize
(runtime/kernels/resize.c) against a separable numpy reference of the spec.
Also writes OUT_DIR/bad_*/model.onnx models that must be refused (see tests/ops2.cmake).
Usage: gen_ops2_cases.py OUT_DIR  (also writes OUT_DIR/manifest.txt listing every case)."""
import math
import os
import sys

import numpy as np
from onnx import TensorProto, helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from casegen import init, write_case  # noqa: E402

RNG = np.random.default_rng(20261203)
CASES = []
OUT = None


def save(name, nodes, inputs, outputs, opset, inits=()):
    CASES.append(write_case(OUT, "test_" + name, nodes, inputs, outputs, opset, inits, "gen_ops2_cases"))




# ---------------------------------------------------------------- Einsum

def einsum_cases():
    f = np.float32
    cases = [
        ("matmul", "ij,jk->ik", [(5, 7), (7, 3)], f),
        ("matmul_implicit", "ij,jk", [(4, 6), (6, 2)], f),
        ("matmul_transposed_out", "ij,jk->ki", [(4, 6), (6, 2)], f),
        ("matmul_a_transposed", "ji,jk->ik", [(6, 4), (6, 5)], f),
        ("matmul_both_transposed", "ji,kj->ik", [(6, 4), (5, 6)], f),
        ("four_operands_chain", "ab,bc,cd,de->ae", [(3, 4), (4, 5), (5, 6), (6, 2)], f),
        ("batch_matmul_bT", "bij,bkj->bik", [(3, 4, 5), (3, 6, 5)], f),
        ("attention_scores", "bhqd,bhkd->bhqk", [(2, 3, 5, 8), (2, 3, 7, 8)], f),
        ("attention_values", "bhqk,bhkd->bqhd", [(2, 3, 5, 7), (2, 3, 7, 8)], f),
        ("ellipsis_broadcast", "...ij,...jk->...ik", [(2, 1, 3, 4), (5, 4, 2)], f),
        ("ellipsis_middle", "i...j,j...->i...", [(3, 2, 4, 5), (5, 2, 4)], f),
        ("diagonal", "ii->i", [(5, 5)], f),
        ("trace_implicit", "ii", [(6, 6)], f),
        ("batch_trace", "...ii->...", [(2, 3, 4, 4)], f),
        ("outer", "i,j->ij", [(4,), (6,)], f),
        ("sum_all", "ijk->", [(3, 4, 5)], f),
        ("three_operands", "abc,cd,de->abe", [(2, 3, 4), (4, 5), (5, 6)], f),
        ("bilinear", "bn,anm,bm->ba", [(3, 4), (2, 4, 5), (3, 5)], f),
        ("hadamard_sum_rows", "ij,ij->i", [(4, 5), (4, 5)], f),
        ("repeated_in_two", "iij,jk->ik", [(3, 3, 4), (4, 2)], f),
        ("uppercase", "Ab,bC->CA", [(3, 4), (4, 2)], f),
        ("spaces", "ij , jk -> ik", [(2, 3), (3, 4)], f),
        ("broadcast_one", "ij,ij->ij", [(1, 5), (4, 5)], f),
        ("f64", "bij,bjk->bik", [(2, 3, 4), (2, 4, 5)], np.float64),
        ("int64", "ij,jk->ik", [(3, 4), (4, 2)], np.int64),
    ]
    for name, eq, shapes, dt in cases:
        if dt == np.int64:
            ops = [RNG.integers(-5, 6, s).astype(dt) for s in shapes]
        else:
            ops = [RNG.standard_normal(s).astype(dt) for s in shapes]
        y = np.einsum(eq.replace(" ", ""), *[o.astype(np.float64) if dt != np.int64 else o for o in ops]).astype(dt)
        names = [f"x{i}" for i in range(len(ops))]
        save(f"einsum_{name}", [helper.make_node("Einsum", names, ["y"], equation=eq)],
             list(zip(names, ops)), [("y", np.asarray(y, dt))], 12)


def einsum_random_cases(count=80):
    """Random equations (1-3 operands, repeated letters, ellipses broadcast with size-1 dims, implicit and explicit
    outputs, summed letters), expected values from np.einsum; equations numpy refuses are skipped."""
    rng = np.random.default_rng(7)
    made = 0
    for t in range(4 * count):
        if made == count:
            break
        sizes = {l: int(rng.integers(1, 5)) for l in "abcde"}
        use_ell = rng.random() < 0.3
        ell_shape = [int(rng.integers(1, 4)) for _ in range(rng.integers(0, 3))]
        terms, shapes = [], []
        for _ in range(int(rng.integers(1, 4))):
            labs = list(rng.choice(list("abcde"), int(rng.integers(0, 4))))
            shp = [sizes[l] for l in labs]
            term = "".join(labs)
            if use_ell:
                e = ell_shape[len(ell_shape) - int(rng.integers(0, len(ell_shape) + 1)):] if ell_shape else []
                e = [1 if rng.random() < 0.3 else d for d in e]
                pos = int(rng.integers(0, len(labs) + 1))
                term = "".join(labs[:pos]) + "..." + "".join(labs[pos:])
                shp = shp[:pos] + e + shp[pos:]
            terms.append(term)
            shapes.append(shp)
        eq = ",".join(terms)
        if rng.random() < 0.5:
            letters = sorted(set("".join(terms).replace(".", "")))
            o = "".join(rng.permutation(letters)[:rng.integers(0, len(letters) + 1)]) if letters else ""
            if use_ell:
                p = int(rng.integers(0, len(o) + 1))
                o = o[:p] + "..." + o[p:]
            eq += "->" + o
        ops = [RNG.standard_normal(sh).astype(np.float32) for sh in shapes]
        try:
            y = np.einsum(eq, *[o.astype(np.float64) for o in ops])
        except ValueError:
            continue
        names = [f"x{i}" for i in range(len(ops))]
        save(f"einsum_random_{made}", [helper.make_node("Einsum", names, ["y"], equation=eq)], list(zip(names, ops)),
             [("y", np.asarray(y, np.float32))], 12)
        made += 1


# ---------------------------------------------------------------- GridSample

def gs_unnorm(v, size, align):
    return (v + 1) / 2 * (size - 1) if align else ((v + 1) * size - 1) / 2


def gs_reflect(v, lo2, hi2):
    if lo2 == hi2:
        return 0.0
    mn, span = lo2 / 2, (hi2 - lo2) / 2
    v = abs(v - mn)
    extra, flips = math.fmod(v, span), math.floor(v / span)
    return extra + mn if flips % 2 == 0 else span - extra + mn


def gs_pad(v, size, pad, align):
    if pad == "border":
        return min(max(v, 0), size - 1)
    if pad == "reflection":
        v = gs_reflect(v, 0, 2 * (size - 1)) if align else gs_reflect(v, -1, 2 * size - 1)
        return min(max(v, 0), size - 1)
    return v


def gs_cubic(t):
    a = -0.75
    def near(x):
        return ((a + 2) * x - (a + 3)) * x * x + 1
    def far(x):
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


def grid_sample_ref(x, grid, mode, pad, align):
    n, c, h, w = x.shape
    _, ho, wo, _ = grid.shape
    y = np.zeros((n, c, ho, wo), np.float64)

    def px(b, ch, yy, xx):
        return float(x[b, ch, yy, xx]) if 0 <= xx < w and 0 <= yy < h else 0.0

    for b in range(n):
        for i in range(ho):
            for j in range(wo):
                ix = gs_unnorm(float(grid[b, i, j, 0]), w, align)
                iy = gs_unnorm(float(grid[b, i, j, 1]), h, align)
                for ch in range(c):
                    if mode == "bicubic":
                        fx, fy = math.floor(ix), math.floor(iy)
                        wx, wy = gs_cubic(ix - fx), gs_cubic(iy - fy)
                        v = 0.0
                        for r in range(4):
                            for q in range(4):
                                tx = gs_pad(fx - 1 + q, w, pad, align)
                                ty = gs_pad(fy - 1 + r, h, pad, align)
                                v += wy[r] * wx[q] * px(b, ch, int(ty), int(tx))
                    else:
                        sx, sy = gs_pad(ix, w, pad, align), gs_pad(iy, h, pad, align)
                        if mode == "nearest":
                            v = px(b, ch, int(np.rint(sy)), int(np.rint(sx)))
                        else:
                            x0, y0 = math.floor(sx), math.floor(sy)
                            tx, ty = sx - x0, sy - y0
                            v = (px(b, ch, y0, x0) * (1 - tx) * (1 - ty) + px(b, ch, y0, x0 + 1) * tx * (1 - ty) +
                                 px(b, ch, y0 + 1, x0) * (1 - tx) * ty + px(b, ch, y0 + 1, x0 + 1) * tx * ty)
                    y[b, ch, i, j] = v
    return y


def gridsample_cases():
    x = RNG.standard_normal((2, 3, 5, 6)).astype(np.float32)
    grid = RNG.uniform(-1.6, 1.6, (2, 4, 7, 2)).astype(np.float32)
    grid[0, 0, 0] = [-1, -1]
    grid[0, 0, 1] = [1, 1]
    grid[1, 1, 2] = [3.7, -2.9]  # far out: several reflections
    for mode in ("bilinear", "nearest", "bicubic"):
        for pad in ("zeros", "border", "reflection"):
            for align in (0, 1):
                y = grid_sample_ref(x, grid, mode, pad, align).astype(np.float32)
                node = helper.make_node("GridSample", ["x", "grid"], ["y"], mode=mode, padding_mode=pad,
                                        align_corners=align)
                save(f"gridsample_{mode}_{pad}_align{align}", [node], [("x", x), ("grid", grid)], [("y", y)], 16)
    x64 = x.astype(np.float64)
    y = grid_sample_ref(x64, grid, "bilinear", "border", 0)
    save("gridsample_f64", [helper.make_node("GridSample", ["x", "grid"], ["y"], padding_mode="border")],
         [("x", x64), ("grid", grid.astype(np.float64))], [("y", y)], 16)


# ---------------------------------------------------------------- signal

def window_ref(kind, size, periodic):
    n = np.arange(size, dtype=np.float64)
    N = size if periodic else size - 1
    t = 2 * np.pi * n / N
    if kind == "HannWindow":
        return 0.5 - 0.5 * np.cos(t)
    if kind == "HammingWindow":
        return 25 / 46 - 21 / 46 * np.cos(t)
    return 0.42 - 0.5 * np.cos(t) + 0.08 * np.cos(2 * t)


def signal_cases():
    for kind in ("HannWindow", "HammingWindow", "BlackmanWindow"):
        for periodic in (0, 1):
            y = window_ref(kind, 33, periodic)
            save(f"{kind.lower()}_f64_size_init_periodic{periodic}",
                 [helper.make_node(kind, ["size"], ["y"], periodic=periodic, output_datatype=TensorProto.DOUBLE)],
                 [], [("y", y)], 17, [init("size", np.array(33, np.int64))])
    # MelWeightMatrix, int64 inputs, float64 output, an upper edge above the Nyquist frequency (points past the
    # spectrogram): the ONNX reference's construction
    bins, dft, rate, lo, hi = 10, 64, 16000, 100.0, 9000.0
    mel = lambda f: 2595 * np.log10(1 + f / 700)
    pts = np.arange(bins + 2) * ((mel(hi) - mel(lo)) / (bins + 2)) + mel(lo)
    pts = np.floor((dft + 1) * (700 * (np.power(10, pts / 2595) - 1)) / rate).astype(int)
    w = np.zeros((dft // 2 + 1, bins))
    for i in range(bins):
        l, m, h = pts[i], pts[i + 1], pts[i + 2]
        if m == l:
            if m < w.shape[0]:
                w[m, i] = 1
        else:
            for j in range(l, min(m + 1, w.shape[0])):
                w[j, i] = (j - l) / (m - l)
        for j in range(m, min(h, w.shape[0])):
            w[j, i] = (h - j) / (h - m)
    save("melweightmatrix_f64_past_nyquist",
         [helper.make_node("MelWeightMatrix", ["b", "d", "r", "lo", "hi"], ["y"], output_datatype=TensorProto.DOUBLE)],
         [], [("y", w)], 17, [init("b", np.array(bins, np.int64)), init("d", np.array(dft, np.int64)),
                              init("r", np.array(rate, np.int64)), init("lo", np.array(lo, np.float32)),
                              init("hi", np.array(hi, np.float32))])
    # DFT: real input, onesided, padded and truncated lengths, another axis, complex inverse
    x = RNG.standard_normal((2, 12, 3, 1)).astype(np.float32)
    xr = x[..., 0].astype(np.float64)
    def pack(z):
        return np.stack((z.real, z.imag), axis=-1).astype(np.float32)
    save("dft_onesided", [helper.make_node("DFT", ["x"], ["y"], axis=1, onesided=1)], [("x", x)],
         [("y", pack(np.fft.rfft(xr, axis=1)))], 17)
    for n in (16, 7, 100, 129):  # radix-2, direct sum, Bluestein (padding beyond the input's 12)
        save(f"dft_length{n}", [helper.make_node("DFT", ["x", "n"], ["y"], axis=1)], [("x", x)],
             [("y", pack(np.fft.fft(xr, n=n, axis=1)))], 17, [init("n", np.array(n, np.int64))])
    save("dft_axis2_negative", [helper.make_node("DFT", ["x"], ["y"], axis=-2)], [("x", x)],
         [("y", pack(np.fft.fft(xr, axis=2)))], 17)
    z = (RNG.standard_normal((3, 10)) + 1j * RNG.standard_normal((3, 10)))
    xc = np.stack((z.real, z.imag), axis=-1).astype(np.float32)
    save("dft_complex_inverse", [helper.make_node("DFT", ["x"], ["y"], axis=1, inverse=1)], [("x", xc)],
         [("y", pack(np.fft.ifft(z.astype(np.complex64).astype(np.complex128), axis=1)))], 17)
    xl = RNG.standard_normal((2, 300, 1)).astype(np.float32)  # Bluestein at the input's own length
    save("dft_long_300", [helper.make_node("DFT", ["x"], ["y"], axis=1)], [("x", xl)],
         [("y", pack(np.fft.fft(xl[..., 0].astype(np.float64), axis=1)))], 17)
    xl = RNG.standard_normal((1, 1024, 2)).astype(np.float32)
    zl = xl[..., 0].astype(np.float64) + 1j * xl[..., 1]
    save("dft_long_1024_inverse", [helper.make_node("DFT", ["x"], ["y"], axis=1, inverse=1)], [("x", xl)],
         [("y", pack(np.fft.ifft(zl, axis=1)))], 17)
    # STFT
    sig = RNG.standard_normal((2, 50, 1)).astype(np.float32)
    win = window_ref("HannWindow", 12, 1).astype(np.float32)
    for onesided in (0, 1):
        frames = (50 - 12) // 5 + 1
        out = np.zeros((2, frames, 7 if onesided else 12, 2), np.float32)
        for b in range(2):
            for f in range(frames):
                spec = np.fft.fft(sig[b, f * 5:f * 5 + 12, 0].astype(np.float64) * win)
                spec = spec[:7] if onesided else spec
                out[b, f] = np.stack((spec.real, spec.imag), axis=-1)
        save(f"stft_window_onesided{onesided}",
             [helper.make_node("STFT", ["sig", "step", "win"], ["y"], onesided=onesided)], [("sig", sig)],
             [("y", out)], 17, [init("step", np.array(5, np.int64)), init("win", win)])
    sig = RNG.standard_normal((1, 400, 1)).astype(np.float32)
    frames = (400 - 100) // 30 + 1
    out = np.zeros((1, frames, 51, 2), np.float32)
    for f in range(frames):
        spec = np.fft.rfft(sig[0, f * 30:f * 30 + 100, 0].astype(np.float64))
        out[0, f] = np.stack((spec.real, spec.imag), axis=-1)
    save("stft_length100_bluestein", [helper.make_node("STFT", ["sig", "step", "", "len"], ["y"])], [("sig", sig)],
         [("y", out)], 17, [init("step", np.array(30, np.int64)), init("len", np.array(100, np.int64))])
    zs = RNG.standard_normal((1, 20, 2)).astype(np.float32)
    zc = zs[..., 0].astype(np.float64) + 1j * zs[..., 1]
    frames = (20 - 8) // 4 + 1
    out = np.zeros((1, frames, 8, 2), np.float32)
    for f in range(frames):
        spec = np.fft.fft(zc[0, f * 4:f * 4 + 8])
        out[0, f] = np.stack((spec.real, spec.imag), axis=-1)
    save("stft_complex_length", [helper.make_node("STFT", ["sig", "step", "", "len"], ["y"], onesided=0)],
         [("sig", zs)], [("y", out)], 17, [init("step", np.array(4, np.int64)), init("len", np.array(8, np.int64))])


# ---------------------------------------------------------------- misc2

def onehot_ref(ind, depth, values, axis):
    ind = np.asarray(ind)
    rank = ind.ndim + 1
    axis = axis + rank if axis < 0 else axis
    k = np.trunc(ind).astype(np.int64)
    k = np.where(k < 0, k + depth, k)
    hot = (np.arange(depth).reshape([-1] + [1] * ind.ndim) == k[None])  # depth first
    hot = np.moveaxis(hot, 0, axis)
    return np.where(hot, values[1], values[0]).astype(values.dtype)


def misc2_cases():
    ind = np.array([[0, 3, -1], [-4, 5, 2]], np.float32)  # 5 and -4 with depth 4: out of range / -4 -> 0
    vals = np.array([-2, 7], np.int64)
    for axis in (0, 1, 2, -1):
        save(f"onehot_float_indices_axis{axis}".replace("-", "m"),
             [helper.make_node("OneHot", ["ind", "depth", "vals"], ["y"], axis=axis)], [("ind", ind)],
             [("y", onehot_ref(ind, 4, vals, axis))], 11,
             [init("depth", np.array([4], np.int64)), init("vals", vals)])
    ind9 = np.array([[1, -1], [3, 0]], np.int64)  # OneHot-9: a negative index is out of range (all off)
    y9 = onehot_ref(np.where(ind9 < 0, 99, ind9), 3, vals, -1)
    save("onehot_opset9_negative_is_off", [helper.make_node("OneHot", ["ind", "depth", "vals"], ["y"])],
         [("ind", ind9)], [("y", y9)], 9, [init("depth", np.array([3], np.int64)), init("vals", vals)])
    ind = np.array([1, -1, 9, 0], np.int32)
    fv = np.array([0.5, 2.0], np.float32)
    save("onehot_int32_depth_float", [helper.make_node("OneHot", ["ind", "depth", "vals"], ["y"])], [("ind", ind)],
         [("y", onehot_ref(ind, 3, fv, -1))], 11, [init("depth", np.array(3.0, np.float32)), init("vals", fv)])

    # depth computed in the graph (Shape -> Gather: a plan-time value), and a window whose size is
    ind = np.array([2, 0, -1, 4], np.int64)
    ref = RNG.standard_normal((3, 5)).astype(np.float32)
    nodes = [helper.make_node("Shape", ["ref"], ["s"]), helper.make_node("Gather", ["s", "one"], ["depth"]),
             helper.make_node("OneHot", ["ind", "depth", "vals"], ["y"], axis=0),
             helper.make_node("HannWindow", ["depth"], ["w"], periodic=0)]
    save("onehot_depth_from_shape", nodes, [("ind", ind), ("ref", ref)],
         [("y", onehot_ref(ind, 5, np.array([0, 1], np.int64), 0)), ("w", window_ref("HannWindow", 5, 0).astype(np.float32))],
         17, [init("one", np.array(1, np.int64)), init("vals", np.array([0, 1], np.int64))])

    # LRN, even size, 3-D input: the window is [c - floor((size-1)/2), c + ceil((size-1)/2)]
    x = RNG.standard_normal((2, 7, 5)).astype(np.float32)
    size, alpha, beta, bias = 4, 2e-3, 0.6, 1.5
    sq = np.zeros_like(x, dtype=np.float64)
    for ch in range(7):
        lo, hi = max(0, ch - (size - 1) // 2), min(6, ch + math.ceil((size - 1) / 2))
        sq[:, ch] = np.sum(x[:, lo:hi + 1].astype(np.float64) ** 2, axis=1)
    y = (x / (bias + alpha / size * sq) ** beta).astype(np.float32)
    save("lrn_even_size_3d", [helper.make_node("LRN", ["x"], ["y"], size=size, alpha=alpha, beta=beta, bias=bias)],
         [("x", x)], [("y", y)], 13)

    # MeanVarianceNormalization over axes [1, 2] of a 3-D input
    x = (RNG.standard_normal((3, 4, 5)) * 3 + 1).astype(np.float32)
    m = x.astype(np.float64).mean(axis=(1, 2), keepdims=True)
    sd = np.sqrt(((x - m) ** 2).mean(axis=(1, 2), keepdims=True))
    save("mvn_axes_1_2", [helper.make_node("MeanVarianceNormalization", ["x"], ["y"], axes=[1, 2])], [("x", x)],
         [("y", ((x - m) / (sd + 1e-9)).astype(np.float32))], 13)

    # ReverseSequence batch-major on int64 with a trailing dim
    x = RNG.integers(-50, 50, (3, 5, 2)).astype(np.int64)
    lens = np.array([5, 0, 3], np.int64)
    y = x.copy()
    for b, L in enumerate(lens):
        y[b, :L] = x[b, :L][::-1]
    save("reversesequence_batch_major_int64",
         [helper.make_node("ReverseSequence", ["x", "lens"], ["y"], batch_axis=0, time_axis=1)],
         [("x", x), ("lens", lens)], [("y", y)], 10)

    # Det: a batch including a singular matrix, float64
    a = RNG.standard_normal((2, 3, 4, 4))
    a[1, 2, 3] = a[1, 2, 0] * 2  # singular
    save("det_batch_f64_singular", [helper.make_node("Det", ["x"], ["y"])], [("x", a)], [("y", np.linalg.det(a))], 11)
    one = RNG.standard_normal((5, 1, 1)).astype(np.float32)
    save("det_1x1", [helper.make_node("Det", ["x"], ["y"])], [("x", one)], [("y", one[:, 0, 0])], 11)

    # MaxPool (3-D, stride 2) -> MaxUnpool with output_shape one larger in each spatial dim
    x = RNG.standard_normal((1, 2, 4, 4, 6)).astype(np.float32)
    pooled = np.zeros((1, 2, 2, 2, 3), np.float32)
    idx = np.zeros(pooled.shape, np.int64)
    for ch in range(2):
        for i in range(2):
            for j in range(2):
                for k in range(3):
                    blk = x[0, ch, 2 * i:2 * i + 2, 2 * j:2 * j + 2, 2 * k:2 * k + 2]
                    a, b, cc = np.unravel_index(np.argmax(blk), blk.shape)
                    pooled[0, ch, i, j, k] = blk[a, b, cc]
                    idx[0, ch, i, j, k] = np.ravel_multi_index((0, ch, 2 * i + a, 2 * j + b, 2 * k + cc), x.shape)
    y = np.zeros((1, 2, 5, 5, 7), np.float32)
    y[:, :, :4, :4, :6] = np.where(np.isin(np.arange(x.size).reshape(x.shape), idx), x, 0)
    save("maxunpool_3d_output_shape",
         [helper.make_node("MaxUnpool", ["p", "i", "shape"], ["y"], kernel_shape=[2, 2, 2], strides=[2, 2, 2])],
         [("p", pooled), ("i", idx)], [("y", y)], 11, [init("shape", np.array(y.shape, np.int64))])


def bad_model(name, node, inputs, inits):
    g = helper.make_graph([node], "bad", inputs, [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                          initializer=inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "model.onnx"), "wb") as f:
        f.write(m.SerializeToString())


def bad_cases():
    a = helper.make_tensor_value_info("a", TensorProto.FLOAT, [2, 3])
    b = helper.make_tensor_value_info("b", TensorProto.FLOAT, [4, 5])
    bad_model("bad_einsum_sizes", helper.make_node("Einsum", ["a", "b"], ["y"], equation="ij,jk->ik",
                                                   name="ein_bad"), [a, b], [])
    for name, eq in (("bad_einsum_syntax", "ij-k"), ("bad_einsum_dots", "i.j,jk->ik"), ("bad_einsum_terms", "ij->ij"),
                     ("bad_einsum_out_letter", "ij,jk->iz")):
        bad_model(name, helper.make_node("Einsum", ["a", "b"], ["y"], equation=eq, name="ein_bad"),
                  [a, helper.make_tensor_value_info("b", TensorProto.FLOAT, [3, 5])], [])
    bad_model("bad_gridsample_grid", helper.make_node("GridSample", ["x", "g"], ["y"], name="gs_bad"),
              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 4, 4]),
               helper.make_tensor_value_info("g", TensorProto.FLOAT, [1, 3, 3, 3])], [])
    bad_model("bad_reversesequence_len", helper.make_node("ReverseSequence", ["x", "l"], ["y"], name="rs_bad"),
              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 2, 3])], [init("l", np.array([2, 9], np.int64))])
    bad_model("bad_dft_axis", helper.make_node("DFT", ["x"], ["y"], axis=2, name="dft_bad"),
              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 8, 1])], [])
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 2, 2])
    bad_model("bad_maxunpool_index", helper.make_node("MaxUnpool", ["x", "i"], ["y"], kernel_shape=[2, 2],
                                                      strides=[2, 2], name="unpool_bad"),
              [x], [init("i", np.array([[[[0, 1], [2, 99]]]], np.int64))])


def resize_linear_ref(x, out_shape, ctm):
    """N-linear Resize-13 of float64 x to out_shape, axis by axis (it is separable), from the spec: each output
    coordinate mapped back by ctm, clamped to the input, interpolated between floor and floor + 1."""
    y = x
    for a in range(x.ndim):
        d, o = x.shape[a], out_shape[a]
        if d == o:
            continue
        scale = o / d
        r = np.arange(o, dtype=np.float64)
        if ctm == "half_pixel":
            xo = (r + 0.5) / scale - 0.5
        elif ctm == "pytorch_half_pixel":
            xo = (r + 0.5) / scale - 0.5 if o > 1 else np.zeros(o)
        elif ctm == "align_corners":
            xo = r * (d - 1) / (o - 1) if o > 1 else np.zeros(o)
        else:  # asymmetric
            xo = r / scale
        xo = np.clip(xo, 0, d - 1)
        i0 = np.floor(xo).astype(np.int64)
        i1 = np.minimum(i0 + 1, d - 1)
        f = xo - i0
        shape = [1] * x.ndim
        shape[a] = o
        f = f.reshape(shape)
        y = np.take(y, i0, axis=a) * (1 - f) + np.take(y, i1, axis=a) * f
    return y


def resize_cases():
    """float linear Resize (runtime/kernels/resize.c: rows interpolated along the last axis once per input row,
    reused by the output rows that read it): LR-ASPP's x8 upsampling of 21 classes, batch 2 with channel counts
    not a multiple of 8, downsampling, align_corners / asymmetric / pytorch_half_pixel, widths of 1, a rank-3
    input (one combination per row) and a rank-5 one (four: the general loop)."""
    for name, shape, out, ctm in (("x8_c21", (1, 21, 7, 9), (1, 21, 56, 72), "half_pixel"),
                                  ("x2_c13_batch2", (2, 13, 14, 14), (2, 13, 28, 28), "half_pixel"),
                                  ("down", (1, 3, 30, 22), (1, 3, 11, 7), "half_pixel"),
                                  ("align_corners", (1, 2, 5, 6), (1, 2, 9, 13), "align_corners"),
                                  ("asymmetric", (1, 4, 4, 4), (1, 4, 10, 7), "asymmetric"),
                                  ("pytorch_to_1", (1, 3, 6, 5), (1, 3, 1, 11), "pytorch_half_pixel"),
                                  ("from_width1", (1, 5, 4, 1), (1, 5, 9, 6), "half_pixel"),
                                  ("rank3", (2, 3, 17), (2, 3, 40), "half_pixel"),
                                  ("rank5", (1, 2, 3, 4, 5), (1, 2, 6, 8, 10), "half_pixel")):
        x = RNG.standard_normal(shape).astype(np.float32)
        y = resize_linear_ref(x.astype(np.float64), out, ctm).astype(np.float32)
        node = helper.make_node("Resize", ["x", "", "", "sizes"], ["y"], mode="linear",
                                coordinate_transformation_mode=ctm)
        save("resize_linear_" + name, [node], [("x", x)], [("y", y)], 13,
             [init("sizes", np.array(out, np.int64))])


def main():
    global OUT
    OUT = sys.argv[1]
    os.makedirs(OUT, exist_ok=True)
    einsum_cases()
    einsum_random_cases()
    gridsample_cases()
    signal_cases()
    misc2_cases()
    resize_cases()
    bad_cases()
    with open(os.path.join(OUT, "manifest.txt"), "w") as f:
        f.write("\n".join(CASES) + "\n")
    print(f"{len(CASES)} cases in {OUT}")


if __name__ == "__main__":
    main()
