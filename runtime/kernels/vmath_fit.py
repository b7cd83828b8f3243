#!/usr/bin/python3
"""The polynomial of vmath.c's sigmoid exponential (OC_SE2..OC_SE6), fitted once at authoring time; run by hand.

e^r ~ 1 + r (1 + r (c2 + r (c3 + ... r c6))) on the reduced range [-ln2/2, ln2/2], coefficients chosen toward the
minimax relative error by iteratively reweighted least squares (numpy, in double), then rounded to float32 and the
rounded polynomial's relative error measured in double on a fine grid. Prints the C definitions and that error
(1.7e-8 for the committed coefficients). Usage: /usr/bin/python3 runtime/kernels/vmath_fit.py
"""
import re

import numpy as np


def fit(deg=6, iters=200):
    x = np.linspace(-np.log(2) / 2 * 1.0001, np.log(2) / 2 * 1.0001, 100001)
    cols = np.stack([x**k for k in range(1, deg + 1)], 1)
    w = np.exp(-x)  # relative error: residuals divided by e^x
    wt = np.ones_like(x)
    for _ in range(iters):
        W = wt * w
        c = np.linalg.lstsq(cols * W[:, None], (np.exp(x) - 1) * W, rcond=None)[0]
        e = np.abs((1 + cols @ c) / np.exp(x) - 1)
        wt = wt * (e / e.max()) ** 0.5 + 1e-12  # weight up where the error is largest
        wt /= wt.max()
    c32 = [float(np.float32(v)) for v in c]
    p = 0.0
    for v in c32[::-1]:
        p = p * x + v
    err = np.max(np.abs((1 + p * x) / np.exp(x) - 1))
    return c32, err


if __name__ == "__main__":
    c, err = fit()
    assert c[0] == 1.0, "the r term is expected to round to exactly 1"
    for k in range(len(c) - 1, 0, -1):
        print("#define OC_SE%d %sf" % (k + 1, re.sub(r"0+p", "p", float(c[k]).hex())))
    print("max relative error of the float polynomial: %.3g" % err)
