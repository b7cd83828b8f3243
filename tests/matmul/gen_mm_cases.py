#!/usr/bin/python3
"""Write node-test folders (model.onnx + test_data_set_0/{input,output}_0.pb) for float MatMul and Gemm in the
shapes whose work the thread pool splits by rows of the output (runtime/kernels/sgemm_packed.c,
oc_sgemm_pool_ep: more rows than columns) and by columns (fewer), with expected outputs computed here in float64
by numpy: ConvNeXt-Tiny's pointwise MLPs on NHWC ([3136, 96] x [96, 384], [3136, 384] x [384, 96], [49, 768] x
[768, 3072]), odd sizes just either side of the rule (m = n + 1, m = n - 1), a batched A over one B, Gemm with
transA / transB / alpha / beta and a C, and a MatMul followed by a bias Add, a residual Add and Erf-GELU (the
fused epilogue, applied to each row or column block by the thread that computed it); and Convs on 1 x 1 planes (the
squeeze-excite products, runtime/kernels/conv_vec.c: packed weights in blocks of 64 output channels split over the
pool, a last block rounded up to 8) with a bias or none, batch 2, and a fused HardSigmoid; then the MatMuls
through the kernel of weights packed at plan time (sgemm_packb.c) at the edges of its tiles, panels and depth blocks.
Inputs are uniform in [0, 1) (every product non-negative, so no cancellation): float32 accumulation over K terms
is then within K * 2^-24 relative of the float64 result (K <= 1536: < 1e-4), well inside the runner's rtol 1e-3,
while a block computed from wrong rows or columns, or written to the wrong place, is off by percents.
Usage: gen_mm_cases.py OUT_DIR (numpy and onnx only; also writes OUT_DIR/manifest.txt)."""
import math
import os
import sys

import numpy as np
from onnx import helper, numpy_helper

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from casegen import write_case  # noqa: E402

RNG = np.random.default_rng(20261203)
OUT = sys.argv[1]
CASES = []


def u(*shape):
    return RNG.random(shape).astype(np.float32)


def write(name, nodes, x, inits, y):
    CASES.append(write_case(OUT, "test_" + name, nodes, [("x", x)], [("y", y.astype(np.float32))], 13,
                            [numpy_helper.from_array(v, k) for k, v in inits.items()], "gen_mm_cases"))


def matmul(name, ashape, k, n, epilogue=None):
    """x [..., k] (an input) times the initializer w [k, n]; epilogue: None, 'bias', 'bias_res' or 'gelu'."""
    x, w = u(*ashape, k), u(k, n)
    if epilogue == "gelu":  # products of about 0.5 (and a bias in [0, 1)), where GELU is not the identity
        x = (x * np.float32(2.0 / k)).astype(np.float32)
    y = x.astype(np.float64) @ w.astype(np.float64)
    inits, nodes, out = {"w": w}, [], "y" if epilogue is None else "p"
    nodes.append(helper.make_node("MatMul", ["x", "w"], [out]))
    if epilogue in ("bias", "bias_res", "gelu"):
        b = u(n)
        inits["b"] = b
        y = y + b.astype(np.float64)
        nodes.append(helper.make_node("Add", [out, "b"], ["y" if epilogue == "bias" else "q"]))
    if epilogue == "bias_res":
        r = u(*ashape, n)
        inits["r"] = r
        y = y + r.astype(np.float64)
        nodes.append(helper.make_node("Add", ["q", "r"], ["y"]))
    if epilogue == "gelu":
        # GELU as the exporters write it: 0.5 * q * (1 + erf(q / sqrt(2))), on q of about 0.5 (x scaled below)
        inits.update({"r2": np.array(math.sqrt(2.0), np.float32), "one": np.array(1.0, np.float32),
                      "half": np.array(0.5, np.float32)})
        y = 0.5 * y * (1.0 + np.vectorize(math.erf)(y / math.sqrt(2.0)))
        nodes += [helper.make_node("Div", ["q", "r2"], ["g1"]), helper.make_node("Erf", ["g1"], ["g2"]),
                  helper.make_node("Add", ["g2", "one"], ["g3"]), helper.make_node("Mul", ["q", "g3"], ["g4"]),
                  helper.make_node("Mul", ["g4", "half"], ["y"])]
    write(name, nodes, x, inits, y)


def gemm(name, m, n, k, ta, tb, alpha, beta, cshape):
    """cshape None: Gemm without C."""
    x = u(k, m) if ta else u(m, k)
    w = u(n, k) if tb else u(k, n)
    a64 = x.astype(np.float64).T if ta else x.astype(np.float64)
    b64 = w.astype(np.float64).T if tb else w.astype(np.float64)
    y = np.float64(np.float32(alpha)) * (a64 @ b64)
    inits = {"w": w}
    if cshape is not None:
        c = u(*cshape)
        y = y + np.float64(np.float32(beta)) * c.astype(np.float64)
        inits["c"] = c
    node = helper.make_node("Gemm", ["x", "w"] + (["c"] if cshape is not None else []), ["y"], transA=ta,
                            transB=tb, alpha=alpha, beta=beta)
    write(name, [node], x, inits, y)


def conv_vec(name, n, k, m, bias=True, hardsigmoid=False):
    """x [n, k, 1, 1] through a 1 x 1 Conv to m channels (the matrix-vector path), optional HardSigmoid."""
    x, w = u(n, k, 1, 1), u(m, k, 1, 1)
    x = (x * np.float32(4.0 / k)).astype(np.float32)  # products of about 1, where HardSigmoid is not clipped
    y = np.einsum("nk,mk->nm", x[:, :, 0, 0].astype(np.float64), w[:, :, 0, 0].astype(np.float64))
    inits = {"w": w}
    if bias:
        inits["b"] = u(m) - np.float32(0.5)
        y = y + inits["b"].astype(np.float64)
    nodes = [helper.make_node("Conv", ["x", "w"] + (["b"] if bias else []), ["p" if hardsigmoid else "y"])]
    if hardsigmoid:
        nodes.append(helper.make_node("HardSigmoid", ["p"], ["y"], alpha=0.2, beta=0.5))
        y = np.clip(y * np.float64(np.float32(0.2)) + 0.5, 0, 1)
    write(name, nodes, x, inits, y.reshape(n, m, 1, 1))


def main():
    os.makedirs(OUT, exist_ok=True)
    # ConvNeXt-Tiny's MLPs (stage 1 split by rows, stage 4 by columns)
    matmul("mm_convnext_s1_fc1", (1, 56, 56), 96, 384)
    matmul("mm_convnext_s1_fc2", (1, 56, 56), 384, 96)
    matmul("mm_convnext_s4_fc1", (1, 7, 7), 768, 3072)
    # either side of the rule, sizes not a multiple of any tile
    matmul("mm_rows_m_n_plus_1", (201,), 67, 200)
    matmul("mm_cols_m_n_minus_1", (199,), 67, 200)
    matmul("mm_rows_narrow", (997,), 33, 17)
    matmul("mm_one_row", (1,), 300, 257)
    # A's batches stacked over one B
    matmul("mm_batched_rows", (3, 350), 64, 48)
    # the fused epilogues in row blocks (and one in column blocks)
    matmul("mm_rows_bias", (1, 40, 40), 96, 130, "bias")
    matmul("mm_rows_bias_res", (1, 28, 28), 192, 96, "bias_res")
    matmul("mm_rows_gelu", (1, 30, 30), 64, 256, "gelu")
    matmul("mm_cols_gelu", (1, 5, 5), 128, 512, "gelu")
    # Gemm: transposes, alpha, beta, C as a row, a column or a matrix
    gemm("gemm_rows_ta", 640, 96, 80, 1, 0, 1.0, 1.0, (96,))
    gemm("gemm_rows_tb_alpha", 700, 120, 64, 0, 1, 0.5, 2.0, (700, 1))
    gemm("gemm_rows_ta_tb", 513, 77, 96, 1, 1, 1.5, 0.25, (513, 77))
    gemm("gemm_cols_tb", 60, 500, 128, 0, 1, 1.0, 1.0, (500,))
    # 1 x 1 planes: MobileNetV3-Large's 240 -> 960 (15 blocks, split over the pool), EfficientNet's 1152 -> 48
    # (one block of 48) and 48 -> 1152, tails of 4 and 12 channels, batch 2
    conv_vec("conv_vec_k240_m960_hardsigmoid", 1, 240, 960, hardsigmoid=True)
    conv_vec("conv_vec_k1152_m48_nobias", 1, 1152, 48, bias=False)
    conv_vec("conv_vec_k48_m1152_batch2", 2, 48, 1152)
    conv_vec("conv_vec_k300_m100", 1, 300, 100)
    conv_vec("conv_vec_k7_m140_batch2", 2, 7, 140, hardsigmoid=True)
    # Against weights packed at plan time (runtime/kernels/sgemm_packb.c: panels of 32 columns with AVX-512, 16
    # with AVX2; tiles of up to 12 or 6 rows, all of equal height; depth blocks of 512): every tile height, a
    # last panel of 1, 15, 17, 31 and 33 columns, depth 1, 3 and past one block (1100), the row split over a
    # shallow B and the panel split, batches of A stacked, epilogues on each split
    for m in range(2, 14):
        matmul("mm_packb_rows%d" % m, (m,), 45, 33 + 2 * m)
    matmul("mm_packb_n1", (7,), 64, 1)
    matmul("mm_packb_n15", (30,), 64, 15)
    matmul("mm_packb_n17", (30,), 64, 17)
    matmul("mm_packb_n31", (49,), 80, 31)
    matmul("mm_packb_k1", (25,), 1, 70)
    matmul("mm_packb_k3", (301,), 3, 40)
    matmul("mm_packb_deep", (9,), 1100, 70)
    matmul("mm_packb_deep_rows", (211,), 1100, 20)
    matmul("mm_packb_batched", (3, 5), 96, 100)
    matmul("mm_packb_rows_gelu", (500,), 96, 200, "gelu")
    matmul("mm_packb_cols_bias_res", (1, 7, 7), 300, 700, "bias_res")
    matmul("mm_packb_deep_gelu", (49,), 1536, 96, "gelu")
    # Gemm on packed weights: B transposed or not, no C, C scaled by beta; alpha != 1 or transA stays on BLAS
    gemm("gemm_packb_tb_noc", 3, 1000, 200, 0, 1, 1.0, 1.0, None)
    gemm("gemm_packb_beta", 40, 65, 50, 0, 0, 1.0, 0.25, (40, 65))
    gemm("gemm_packb_two_rows", 2, 130, 77, 0, 1, 1.0, 1.0, (130,))
    with open(os.path.join(OUT, "manifest.txt"), "w") as f:
        f.write("\n".join(CASES) + "\n")


if __name__ == "__main__":
    main()
