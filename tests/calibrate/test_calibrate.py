#!/usr/bin/python3
"""swap-norm --calibrate (issue 19) on models/shapes_cnn.onnx, a CNN trained in PyTorch (models/author_shapes_cnn.py)
on a held-out test set, against independent truth:
  accuracy   accuracy of the original, the naive and the calibrated swaps (group, instance, layer; head refit
             off and on) on the 600 held-out test images (labels from the generator); prints the table, asserts
             that calibration recovers what the naive group/layer swaps lose and that the head refit (default)
             brings group and layer within 0.05 of the original, also with --calibrate-fit act
  accuracy_plain  the same for group and layer on models/shapes_plain_cnn.onnx (a second truth model: shapes
             with fixed levels, another seed; models/author_shapes_cnn.py --variant plain)
  torch      the calibrated GroupNormalization-21 file run by onnxc equals PyTorch's nn.GroupNorm net carrying
             the same scale/bias (models/expected/shapes_cnn/logits_gn.npy; with the head refit also its fc:
             logits_gn_head.npy); the decomposition gets the same fit;
             --only calibrates the selected layer alone; --json parses
  report     the --report page against the --json of the same run (html.parser), bad --report paths
  report_chromium  the page in headless Chromium (DOM and screenshot)
  head       the head refit equals a numpy ridge (lambda by exact leave-one-out) on the same rows, in the dual
             (64 rows) and the primal (240 rows) form
  act        --calibrate-fit act against numpy: on models/shapes_cnn.onnx's first layer (its input, the Conv of
             the image, is the same in both models) and on a small Conv-BN-Clip(0,6)-Conv-BN-LeakyRelu(0.1) model
             made here (each layer's input computed by numpy from the calibrated file), the reported residuals
             after the activation equal numpy's, and the act fit's error after the activation is below the bn
             fit's (the default), whose scale and bias numpy's least squares reproduces
  badinput   missing folder, empty folder, wrong shape, wrong dtype, a folder for an input the model lacks,
             NAME=DIR with an unknown name, an unknown --calibrate-fit: each exit 2, a one-line message, nothing written
usage: test_calibrate.py GROUP ONNXC MODELS_DIR WORK_DIR"""
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import onnx
import onnx.numpy_helper

GROUP, ONNXC, MODELS, WORK = sys.argv[1:5]
MODEL = os.path.join(MODELS, "shapes_cnn.onnx")
CALIB = os.path.join(MODELS, "shapes_data", "calib")
W = os.path.join(WORK, GROUP)
shutil.rmtree(W, ignore_errors=True)
os.makedirs(W)
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def run(*args):
    return subprocess.run([ONNXC] + list(args), capture_output=True, text=True)


def logits(model, inp):
    out = os.path.join(W, "out")
    p = run("run", model, "--input", f"input={inp}", "--output-dir", out)
    assert p.returncode == 0, p.stderr
    return np.load(os.path.join(out, "logits.npy"))


def swap(out, *extra):
    p = run("swap-norm", MODEL, "-o", out, *extra)
    assert p.returncode == 0, p.stderr
    return p


def params(path):
    m = onnx.load(path)
    inits = {t.name: onnx.numpy_helper.to_array(t) for t in m.graph.initializer}
    return {k: v.reshape(-1) for k, v in inits.items() if k.endswith(("_gn_scale", "_gn_bias", "_gamma", "_beta"))}


def act_acc(model, calib, x, y, acc):
    """--calibrate-fit act (head refit on, the default) for group and layer: printed, and it recovers too."""
    test = os.path.join(W, "test_act.npy")
    np.save(test, x)
    for to in ("group", "layer"):
        out = os.path.join(W, f"{to}_act.onnx")
        p = run("swap-norm", model, "-o", out, "--to", to, "--calibrate", calib, "--calibrate-fit", "act")
        assert p.returncode == 0, p.stderr
        a = (logits(out, test).argmax(1) == y).mean()
        print(f"--calibrate-fit act, {to}, head refit: {a:.3f} (bn: {acc[(to, 'on')]:.3f})")
        check(a >= acc["original"] - 0.05, f"act-calibrated {to} swap with the head refit recovers nearly all")


if GROUP == "accuracy":
    x = np.load(os.path.join(MODELS, "shapes_data", "test_images.npy")).astype(np.float32) / 255
    y = np.load(os.path.join(MODELS, "shapes_data", "test_labels.npy"))
    test = os.path.join(W, "test.npy")
    np.save(test, x)
    acc = {"original": (logits(MODEL, test).argmax(1) == y).mean()}
    heads = {}
    for to in ("group", "instance", "layer"):
        for cal in ("naive", "off", "on"):
            out = os.path.join(W, f"{to}_{cal}.onnx")
            extra = [] if cal == "naive" else ["--calibrate", CALIB, "--calibrate-head", cal, "--json"]
            p = swap(out, "--to", to, *extra)
            if cal == "on":
                heads[to] = json.loads(p.stdout)["calibration"]["heads"]
            acc[(to, cal)] = (logits(out, test).argmax(1) == y).mean()
    print(f"| swap (GroupNorm: 32 groups) | naive | calibrated, head kept | calibrated + head refit |  "
          f"(original: {acc['original']:.3f}, {len(y)} test images, 64 calibration images)")
    for to in ("group", "instance", "layer"):
        h = heads[to][0]
        print(f"| {to} | {acc[(to, 'naive')]:.3f} | {acc[(to, 'off')]:.3f} | {acc[(to, 'on')]:.3f} |  logits "
              f"residual on the calibration images {h['residual_before']:.3f} -> {h['residual_after']:.3f} "
              f"(left out {h['residual_loo']:.3f}, lambda {h['lambda_rel']:.3g} x trace/d)")
    check(acc["original"] >= 0.95, "the trained model is accurate")
    for to in ("group", "layer"):
        check(acc[(to, "naive")] < acc["original"] - 0.3, f"naive {to} swap collapses")
        check(acc[(to, "off")] >= acc["original"] - 0.1, f"calibrated {to} swap recovers")
        check(acc[(to, "off")] > acc[(to, "naive")] + 0.3, f"calibration improves {to}")
        check(acc[(to, "on")] >= acc["original"] - 0.05, f"calibrated {to} swap with the head refit recovers nearly all")
    check(acc[("group", "on")] >= acc[("group", "off")] + 0.03, "the head refit helps group")
    act_acc(MODEL, CALIB, x, y, acc)
    for to in ("group", "instance", "layer"):
        h = heads[to]
        check(len(h) == 1 and h[0]["output"] == "logits" and h[0]["inputs"] == 128 and h[0]["outputs"] == 4 and
              h[0]["rows"] == 64 and h[0]["bias"], f"{to}: the classifier is the one head")
        check(h[0]["residual_after"] < h[0]["residual_before"] and h[0]["residual_loo"] < h[0]["residual_before"],
              f"{to}: the head refit lowers the logits' residual, also on left-out rows")
elif GROUP == "accuracy_plain":
    # the second truth model: the same shapes with fixed levels (no per-image contrast), another seed
    pm = os.path.join(MODELS, "shapes_plain_cnn.onnx")
    pd = os.path.join(MODELS, "shapes_plain_data")
    x = np.load(os.path.join(pd, "test_images.npy")).astype(np.float32) / 255
    y = np.load(os.path.join(pd, "test_labels.npy"))
    test = os.path.join(W, "test.npy")
    np.save(test, x)
    acc = {"original": (logits(pm, test).argmax(1) == y).mean()}
    for to in ("group", "layer"):
        for cal in ("naive", "off", "on"):
            out = os.path.join(W, f"{to}_{cal}.onnx")
            extra = [] if cal == "naive" else ["--calibrate", os.path.join(pd, "calib"), "--calibrate-head", cal]
            p = run("swap-norm", pm, "-o", out, "--to", to, *extra)
            assert p.returncode == 0, p.stderr
            acc[(to, cal)] = (logits(out, test).argmax(1) == y).mean()
        print(f"| {to} | {acc[(to, 'naive')]:.3f} | {acc[(to, 'off')]:.3f} | {acc[(to, 'on')]:.3f} |  (original "
              f"{acc['original']:.3f}, shapes without per-image contrast)")
    check(acc["original"] >= 0.95, "the trained model is accurate")
    for to in ("group", "layer"):
        check(acc[(to, "naive")] < acc["original"] - 0.3, f"naive {to} swap collapses")
        check(acc[(to, "on")] >= acc["original"] - 0.05, f"calibrated {to} swap with the head refit recovers nearly all")
    check(acc[("group", "on")] >= acc[("group", "off")] + 0.03, "the head refit helps group")
    act_acc(pm, os.path.join(pd, "calib"), x, y, acc)
elif GROUP == "torch":
    exp = os.path.join(MODELS, "expected", "shapes_cnn")
    cal = os.path.join(W, "gn.onnx")
    swap(cal, "--to", "group", "--groups", "32", "--form", "op", "--calibrate", CALIB, "--calibrate-head", "off",
         "--threads", "1")
    want = np.load(os.path.join(exp, "logits_gn.npy"))
    got = logits(cal, os.path.join(exp, "input.npy"))
    nmse = ((got - want) ** 2).sum() / (want ** 2).sum()
    print(f"onnxc on the calibrated file vs PyTorch nn.GroupNorm with its scale/bias: NMSE {nmse:.3g}")
    check(nmse <= 1e-10, "calibrated GroupNormalization-21 equals PyTorch's nn.GroupNorm")
    calh = os.path.join(W, "gn_head.onnx")
    swap(calh, "--to", "group", "--groups", "32", "--form", "op", "--calibrate", CALIB, "--threads", "1")
    want = np.load(os.path.join(exp, "logits_gn_head.npy"))
    got = logits(calh, os.path.join(exp, "input.npy"))
    nmse = ((got - want) ** 2).sum() / (want ** 2).sum()
    print(f"the same with the head refit (the default) vs PyTorch carrying its scale/bias and fc: NMSE {nmse:.3g}")
    check(nmse <= 1e-10, "calibrated file with the head refit equals PyTorch's nn.GroupNorm net")
    ph = {t.name: onnx.numpy_helper.to_array(t) for t in onnx.load(calh).graph.initializer}
    pk = {t.name: onnx.numpy_helper.to_array(t) for t in onnx.load(cal).graph.initializer}
    check(not np.array_equal(ph["fc.weight"], pk["fc.weight"]), "the head refit changed fc.weight")
    check(all(np.array_equal(ph[k], pk[k]) for k in pk if k.startswith("features")),
          "the head refit leaves the layers' fit alone")
    # the original's outputs against PyTorch model.eval(): the test inputs are right
    o = logits(MODEL, os.path.join(exp, "input.npy"))
    want_o = np.load(os.path.join(exp, "logits.npy"))
    check(((o - want_o) ** 2).sum() / (want_o ** 2).sum() <= 1e-10, "original equals PyTorch model.eval()")
    dec = os.path.join(W, "dec.onnx")
    swap(dec, "--to", "group", "--form", "decomposed", "--calibrate", CALIB, "--threads", "1")
    pdec = {t.name: onnx.numpy_helper.to_array(t) for t in onnx.load(dec).graph.initializer}
    check(all(np.allclose(pdec[k], ph[k], rtol=1e-4, atol=1e-6) for k in ("fc.weight", "fc.bias")),
          "decomposed form gets the same head refit")
    po, pd = params(cal), params(dec)
    for k in ("_gn_scale", "_gn_bias"):
        a = np.concatenate([v for n, v in sorted(po.items()) if n.endswith(k)])
        b = np.concatenate([v for n, v in sorted(pd.items()) if n.endswith("_gamma" if k == "_gn_scale" else "_beta")])
        check(a.shape == b.shape and np.allclose(a, b, rtol=1e-5, atol=1e-6), f"decomposed form gets the same fit {k}")
    naive = os.path.join(W, "naive.onnx")
    swap(naive, "--to", "group", "--form", "op")
    pn = params(naive)
    only = os.path.join(W, "only.onnx")
    p = swap(only, "--to", "group", "--form", "op", "--only", "features.4", "--calibrate", CALIB, "--json")
    j = json.loads(p.stdout)
    check([l["output"] for l in j["calibration"]["layers"]] == ["/features/features.4/BatchNormalization_output_0"],
          "--only: one layer calibrated")
    check(all(l["residual_after"] <= l["residual_before"] for l in j["calibration"]["layers"]),
          "residual does not grow")
    check(sum(o.op_type == "BatchNormalization" for o in onnx.load(only).graph.node) == 2, "--only leaves 2 BNs")
    pl = params(only)
    check(any(not np.array_equal(pl[k], pn[k]) for k in pl), "--only: the selected layer changed")
elif GROUP == "head":
    # the head refit against a numpy ridge on the same rows: X = the calibrated model's classifier input (read
    # out of the head-off file through an added output), Y = the original's logits, W0 = the carried fc;
    # lambda by the exact leave-one-out residual on the same grid. 64 rows (dual form, rows <= d + 1) and 240
    # rows in 4 batched files (primal form).
    import glob
    rng = np.random.default_rng(5)
    sets = {"calib64": sorted(glob.glob(os.path.join(CALIB, "*.npy")))}
    d = os.path.join(W, "batched")
    os.makedirs(d)
    for k in range(4):
        np.save(os.path.join(d, f"{k}.npy"), rng.uniform(0, 1, (60, 1, 32, 32)).astype(np.float32))
    sets["batched240"] = sorted(glob.glob(os.path.join(d, "*.npy")))
    for name, files in sets.items():
        folder = CALIB if name == "calib64" else d
        off, on = os.path.join(W, f"{name}_off.onnx"), os.path.join(W, f"{name}_on.onnx")
        swap(off, "--to", "group", "--calibrate", folder, "--calibrate-head", "off")
        h = json.loads(swap(on, "--to", "group", "--calibrate", folder, "--json").stdout)["calibration"]["heads"][0]
        m = onnx.load(off)
        m.graph.node.append(onnx.helper.make_node("Identity", ["/ReduceMean_output_0"], ["feat"]))
        m.graph.output.append(onnx.helper.make_tensor_value_info("feat", onnx.TensorProto.FLOAT, None))
        feat = os.path.join(W, f"{name}_feat.onnx")
        onnx.save(m, feat)
        x = np.concatenate([np.load(f) for f in files])
        xin = os.path.join(W, f"{name}_x.npy")
        np.save(xin, x)
        out = os.path.join(W, "out")
        p = run("run", feat, "--input", f"input={xin}", "--output-dir", out)
        assert p.returncode == 0, p.stderr
        X = np.concatenate([np.load(os.path.join(out, "feat.npy")).astype(np.float64), np.ones((len(x), 1))], 1)
        Y = logits(MODEL, xin).astype(np.float64)
        init = {t.name: onnx.numpy_helper.to_array(t) for t in onnx.load(off).graph.initializer}
        W0 = np.concatenate([init["fc.weight"].T, init["fc.bias"][None]]).astype(np.float64)
        A, d1 = X.T @ X, X.shape[1]
        e0 = ((Y - X @ W0) ** 2).sum()
        best, best_rel, best_w = e0, None, W0
        for k in range(11):
            rel = 10 ** (0.5 * k - 4)
            M = A + rel * np.trace(A) / d1 * np.eye(d1)
            Wk = np.linalg.solve(M, X.T @ Y + rel * np.trace(A) / d1 * W0)
            hii = np.einsum("ij,ji->i", X, np.linalg.solve(M, X.T))
            loo = (((Y - X @ Wk) / (1 - hii)[:, None]) ** 2).sum()
            if loo < best:
                best, best_rel, best_w = loo, rel, Wk
        got = {t.name: onnx.numpy_helper.to_array(t) for t in onnx.load(on).graph.initializer}
        yy = (Y ** 2).sum()
        print(f"{name}: {len(X)} rows; numpy: lambda {best_rel} x trace/d, residual {np.sqrt(e0 / yy):.4g} -> "
              f"{np.sqrt(((Y - X @ best_w) ** 2).sum() / yy):.4g} (left out {np.sqrt(best / yy):.4g}); onnxc: "
              f"lambda {h['lambda_rel']}, {h['residual_before']:.4g} -> {h['residual_after']:.4g} "
              f"(left out {h['residual_loo']:.4g})")
        check(h["rows"] == len(X), f"{name}: rows")
        check(best_rel is not None and h["refitted"] and np.isclose(h["lambda_rel"], best_rel), f"{name}: lambda")
        check(np.isclose(h["residual_loo"], np.sqrt(best / yy), rtol=1e-3), f"{name}: left-out residual")
        check(np.isclose(h["residual_before"], np.sqrt(e0 / yy), rtol=1e-3), f"{name}: residual before")
        scale = np.abs(best_w).max()
        check(np.allclose(got["fc.weight"], best_w[:-1].T, rtol=1e-3, atol=1e-4 * scale) and
              np.allclose(got["fc.bias"], best_w[-1], rtol=1e-3, atol=1e-4 * scale), f"{name}: the refitted fc")
elif GROUP == "act":
    from onnx import TensorProto, helper

    def conv(x, w, stride, pad):
        """numpy Conv (no groups, no dilation): x [N,C,H,W], w [M,C,k,k]."""
        n, c, h, wd = x.shape
        m, _, k, _ = w.shape
        xp = np.pad(x.astype(np.float64), ((0, 0), (0, 0), (pad, pad), (pad, pad)))
        ho, wo = (h + 2 * pad - k) // stride + 1, (wd + 2 * pad - k) // stride + 1
        cols = np.empty((n, c, k, k, ho, wo))
        for i in range(k):
            for j in range(k):
                cols[:, :, i, j] = xp[:, :, i:i + stride * ho:stride, j:j + stride * wo:stride]
        return np.einsum("nckluv,mckl->nmuv", cols, w.astype(np.float64))

    def gn_norm(z, groups, eps):
        n, c = z.shape[:2]
        g = z.reshape(n, groups, -1)
        return ((g - g.mean(-1, keepdims=True)) / np.sqrt(g.var(-1, keepdims=True) + eps)).reshape(z.shape)

    def bn(z, inits, node):
        sc, bi, mu, var = (inits[node.input[k]].astype(np.float64)[None, :, None, None] for k in range(1, 5))
        eps = next((a.f for a in node.attribute if a.name == "epsilon"), 1e-5)
        return sc * (z - mu) / np.sqrt(var + eps) + bi

    def layer(path, k):
        """scale, bias, groups, epsilon of the k-th GroupNormalization of a calibrated file."""
        m = onnx.load(path)
        inits = {t.name: onnx.numpy_helper.to_array(t) for t in m.graph.initializer}
        g = [nd for nd in m.graph.node if nd.op_type == "GroupNormalization"][k]
        at = {a.name: a for a in g.attribute}
        return (inits[g.input[1]].astype(np.float64)[None, :, None, None],
                inits[g.input[2]].astype(np.float64)[None, :, None, None], at["num_groups"].i,
                at["epsilon"].f if "epsilon" in at else 1e-5)

    def rel(f, pred, y):
        return np.sqrt(((f(pred) - f(y)) ** 2).sum() / (f(y) ** 2).sum())

    def fits(model, calib, G):
        """swap-norm --to group --groups G --form op with both objectives: {fit: (file, json layers)}."""
        res = {}
        for fit in ("bn", "act"):
            out = os.path.join(W, f"{os.path.basename(model)}_{fit}.onnx")
            p = run("swap-norm", model, "-o", out, "--to", "group", "--groups", str(G), "--form", "op",
                    "--calibrate", calib, "--calibrate-head", "off", "--calibrate-fit", fit, "--threads", "1",
                    "--json")
            check(p.returncode == 0, f"{model} {fit}: {p.stderr}")
            res[fit] = (out, json.loads(p.stdout)["calibration"]["layers"])
        return res

    def check_layer(what, res, k, z, y, f, fname, carried):
        """layer k: input z (numpy), original BN output y, activation f: residuals and fits against numpy."""
        a, b, G, eps = layer(res["act"][0], k)
        nz = gn_norm(z, G, eps)
        La, Lb = res["act"][1][k], res["bn"][1][k]
        check(La["objective"] == fname and Lb["objective"] == "bn", f"{what}: objectives {La['objective']}, "
              f"{Lb['objective']}")
        e_act = rel(f, a * nz + b, y)
        e_carried = rel(f, carried[0] * nz + carried[1], y)
        ab, bb, _, _ = layer(res["bn"][0], k)
        nzb = gn_norm(zb[k], G, eps) if k else nz
        e_bn = rel(f, ab * nzb + bb, y)
        # numpy's least squares of the BN output on the normalized value, per channel: the bn fit
        C = z.shape[1]
        nn_ = np.moveaxis(nzb, 1, 0).reshape(C, -1)
        yy = np.moveaxis(y, 1, 0).reshape(C, -1)
        slope = ((nn_ - nn_.mean(1, keepdims=True)) * (yy - yy.mean(1, keepdims=True))).mean(1) / nn_.var(1)
        icpt = yy.mean(1) - slope * nn_.mean(1)
        print(f"{what}: after the {fname}: carried {e_carried:.4f}, bn fit {e_bn:.4f}, act fit {e_act:.4f} "
              f"(reported {La['residual_before']:.4f} -> {La['residual_after']:.4f})")
        check(np.allclose(ab.reshape(-1), slope, rtol=1e-3, atol=1e-5) and
              np.allclose(bb.reshape(-1), icpt, rtol=1e-3, atol=1e-5), f"{what}: bn fit is numpy's least squares")
        check(np.isclose(La["residual_after"], e_act, rtol=2e-3), f"{what}: reported residual after the {fname}")
        check(np.isclose(La["residual_before"], e_carried, rtol=2e-3), f"{what}: residual before (carried)")
        check(Lb["residual_bn_fit"] is None, f"{what}: no residual_bn_fit for the bn objective")
        if k == 0:
            check(np.isclose(La["residual_bn_fit"], e_bn, rtol=2e-3), f"{what}: residual_bn_fit")
            check(e_act < e_bn * 0.995, f"{what}: the act fit lowers the error after the {fname} below the bn fit's")

    relu = lambda v: np.maximum(v, 0)
    # 1. models/shapes_cnn.onnx, first layer: Conv(1->64, 3x3, stride 2, pad 1) of the image
    m = onnx.load(MODEL)
    inits = {t.name: onnx.numpy_helper.to_array(t) for t in m.graph.initializer}
    x = np.concatenate([np.load(os.path.join(CALIB, f)) for f in sorted(os.listdir(CALIB))])
    cv = [nd for nd in m.graph.node if nd.op_type == "Conv"][0]
    bn0 = [nd for nd in m.graph.node if nd.op_type == "BatchNormalization"][0]
    z0 = conv(x, inits[cv.input[1]], 2, 1)
    zb = {}
    res = fits(MODEL, CALIB, 32)
    check([L["objective"] for L in res["act"][1]] == ["Relu"] * 3, "shapes_cnn: every layer through its Relu")
    check_layer("shapes_cnn layer 1", res, 0, z0, bn(z0, inits, bn0), relu, "Relu",
                (inits[bn0.input[1]][None, :, None, None], inits[bn0.input[2]][None, :, None, None]))
    # 2. a small model made here: Conv-BN-Clip(0,6)-Conv-BN-LeakyRelu(0.1)
    rng = np.random.default_rng(5)
    w1 = rng.normal(0, 0.4, (16, 3, 3, 3)).astype(np.float32)
    w2 = rng.normal(0, 0.2, (16, 16, 3, 3)).astype(np.float32)
    P = {"w1": w1, "w2": w2, "lo": np.array(0, np.float32), "hi": np.array(6, np.float32)}
    for i in (1, 2):
        P[f"g{i}"] = rng.uniform(0.5, 2, 16).astype(np.float32)
        P[f"b{i}"] = rng.normal(0, 1, 16).astype(np.float32)
        P[f"m{i}"] = rng.normal(0, 1, 16).astype(np.float32)
        P[f"v{i}"] = rng.uniform(0.5, 3, 16).astype(np.float32)
    nodes = [helper.make_node("Conv", ["input", "w1"], ["c1"], pads=[1, 1, 1, 1]),
             helper.make_node("BatchNormalization", ["c1", "g1", "b1", "m1", "v1"], ["n1"], epsilon=1e-5),
             helper.make_node("Clip", ["n1", "lo", "hi"], ["a1"]),
             helper.make_node("Conv", ["a1", "w2"], ["c2"], pads=[1, 1, 1, 1]),
             helper.make_node("BatchNormalization", ["c2", "g2", "b2", "m2", "v2"], ["n2"], epsilon=1e-5),
             helper.make_node("LeakyRelu", ["n2"], ["out"], alpha=0.1)]
    gr = helper.make_graph(nodes, "act", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 12, 12])],
                           [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, 16, 12, 12])],
                           [onnx.numpy_helper.from_array(v, k) for k, v in P.items()])
    small = os.path.join(W, "small.onnx")
    onnx.save(helper.make_model(gr, opset_imports=[helper.make_opsetid("", 13)]), small)
    cd = os.path.join(W, "calib")
    os.makedirs(cd)
    xs = []
    for i in range(12):
        # per-sample level and contrast, so that per-sample normalisation loses something
        xi = (rng.normal(0, 1, (1, 3, 12, 12)) * rng.uniform(0.3, 3) + rng.normal(0, 2)).astype(np.float32)
        np.save(os.path.join(cd, f"{i:02d}.npy"), xi)
        xs.append(xi)
    x = np.concatenate(xs)
    clip = lambda v: np.clip(v, 0, 6)
    leaky = lambda v: np.where(v > 0, v, 0.1 * v)
    res = fits(small, cd, 4)
    check([L["objective"] for L in res["act"][1]] == ["Clip", "LeakyRelu"], "small: Clip and LeakyRelu found")
    z1 = conv(x, w1, 1, 1)
    bnode = [helper.make_node("BatchNormalization", ["", f"g{i}", f"b{i}", f"m{i}", f"v{i}"], [""], epsilon=1e-5)
             for i in (1, 2)]
    check_layer("small layer 1 (Clip)", res, 0, z1, bn(z1, P, bnode[0]), clip, "Clip", (P["g1"][None, :, None, None],
                P["b1"][None, :, None, None]))
    # layer 2's input in each calibrated file: numpy from that file's layer 1
    y1 = clip(bn(z1, P, bnode[0]))
    def z2_of(fit):
        a, b, G, eps = layer(res[fit][0], 0)
        return conv(clip(a * gn_norm(z1, G, eps) + b), w2, 1, 1)
    zb[1] = z2_of("bn")
    y2 = bn(conv(y1, w2, 1, 1), P, bnode[1])
    check_layer("small layer 2 (LeakyRelu)", res, 1, z2_of("act"), y2, leaky, "LeakyRelu",
                (P["g2"][None, :, None, None], P["b2"][None, :, None, None]))
elif GROUP == "badinput":
    out = os.path.join(W, "out.onnx")

    def bad(what, *args, must=None):
        p = run("swap-norm", MODEL, "-o", out, *args)
        msg = p.stderr.strip().splitlines()[-1] if p.stderr.strip() else ""
        print(f"{what}: exit {p.returncode}: {msg}")
        check(p.returncode == 2, f"{what}: exit 2")
        check(not os.path.exists(out), f"{what}: nothing written")
        if must:
            check(must in msg, f"{what}: message names {must!r}")

    bad("missing folder", "--calibrate", os.path.join(W, "nope"), must="nope")
    os.makedirs(os.path.join(W, "empty"))
    bad("empty folder", "--calibrate", os.path.join(W, "empty"), must="no sample")
    d = os.path.join(W, "shape")
    os.makedirs(d)
    np.save(os.path.join(d, "a.npy"), np.zeros((1, 1, 16, 16), np.float32))
    bad("wrong shape", "--calibrate", d, must="a.npy")
    d = os.path.join(W, "dtype")
    os.makedirs(d)
    np.save(os.path.join(d, "a.npy"), np.zeros((1, 1, 32, 32), np.float64))
    bad("wrong dtype", "--calibrate", d, must="double")
    d = os.path.join(W, "names")
    os.makedirs(os.path.join(d, "image"))
    np.save(os.path.join(d, "image", "a.npy"), np.zeros((1, 1, 32, 32), np.float32))
    bad("folder for an unknown input", "--calibrate", d, must="'image'")
    bad("NAME=DIR with an unknown name", "--calibrate", "image=" + os.path.join(d, "image"), must="'image'")
    bad("both flags", "--calibrate", CALIB, "--calibrate-random", "2")
    bad("unknown --calibrate-fit", "--calibrate", CALIB, "--calibrate-fit", "relu", must="bn or act")
elif GROUP in ("report", "report_chromium"):
    # the --report page: parsed with html.parser (well-formed, nothing fetched) and checked against the --json of
    # the same run; report_chromium: headless Chromium builds the same DOM and renders it
    import importlib.util
    import struct
    import tempfile
    import urllib.request
    spec = importlib.util.spec_from_file_location(
        "test_compare", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "compare", "test_compare.py"))
    tc = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tc)
    chromium = os.environ.get("ONNXC_CHROMIUM", "/usr/bin/chromium")
    if GROUP == "report_chromium" and not os.access(chromium, os.X_OK):
        print(f"{chromium} is not installed (Debian package chromium): skipped")
        sys.exit(77)
    out, page_path = os.path.join(W, "gn.onnx"), os.path.join(W, "r.html")
    p = run("swap-norm", MODEL, "-o", out, "--calibrate", CALIB, "--threads", "1", "--json", "--report", page_path)
    assert p.returncode == 0, p.stderr
    cal = json.loads(p.stdout)["calibration"]
    layers, outs = cal["layers"], cal["outputs"]
    check(len(layers) == 3, "three calibrated layers")

    def check_page(text, from_file):
        page = tc.PageParser().parse_page(text)
        check(page.problems == [], f"well-formed: {page.problems}")
        check(page.fetching == [], f"nothing fetched: {page.fetching}")
        if from_file:
            check(text.startswith("<!DOCTYPE html>"), "a page")
            for bad in ("://", "url(", "@import", "<script"):
                check(bad not in text, f"no {bad!r}")
        rows = page.tables.get("layers", [])
        check(len(rows) == 1 + len(layers), "one row per layer")
        for row, L in zip(rows[1:], layers):
            check(row[1] == L["node"] and row[2] == L["output"], f"layer {L['node']}: names")
            check(row[3:5] == [str(L["channels"]), str(L["groups"])], f"layer {L['node']}: C and G")
            check(row[5:7] == ["%.3e" % L["residual_before"], "%.3e" % L["residual_after"]],
                  f"layer {L['node']}: residuals {row[5:7]}")
        rows = page.tables.get("outputs", [])
        check(len(rows) == 1 + len(outs), "one row per output")
        for row, o in zip(rows[1:], outs):
            check(row[0] == o["name"] and row[1] == "%.3e" % o["nmse"] and row[2] == "%.3e" % o["max_abs"] and
                  row[4] == "%.9f" % o["cosine"], f"output {o['name']}: {row}")
            check(row[5] == f"{o['top1_agree']} of {o['top1_rows']}", f"output {o['name']}: top-1")
        # two points per layer, left to right in execution order; on one log scale: a smaller residual is lower
        pts = {k: [q for q in page.points if k in q["class"].split()] for k in ("before", "after")}
        check(len(pts["before"]) == len(layers) and len(pts["after"]) == len(layers), "two points per layer")
        for k in pts:
            xs = [float(q["cx"]) for q in pts[k]]
            check(xs == sorted(xs) and len(set(xs)) == len(xs), f"{k} points in execution order")
        res = [(L["residual_before"], float(q["cy"])) for L, q in zip(layers, pts["before"])] + \
              [(L["residual_after"], float(q["cy"])) for L, q in zip(layers, pts["after"])]
        res.sort()
        check(all(a[1] >= b[1] for a, b in zip(res, res[1:])), f"y falls as the residual grows: {res}")
        lg = [(np.log10(r), y) for r, y in res if r > 0]
        slope = (lg[-1][1] - lg[0][1]) / (lg[-1][0] - lg[0][0])
        check(all(abs(lg[0][1] + slope * (a - lg[0][0]) - y) < 0.2 for a, y in lg), "y is linear in log10(residual)")
        return page

    with open(page_path, encoding="utf-8") as f:
        text = f.read()
    check_page(text, True)
    check(page_path not in os.listdir(W) or [n for n in os.listdir(W) if n.startswith("r.html")] == ["r.html"],
          "no temporary file left")
    if GROUP == "report_chromium":
        def chromium_run(*args):
            prof = tempfile.mkdtemp(dir=W)
            q = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                                "--disable-component-update", "--disable-sync", "--no-first-run",
                                "--user-data-dir=" + prof] + list(args), capture_output=True, text=True,
                               errors="replace", timeout=300)
            assert q.returncode == 0, q.stderr
            return q.stdout
        url = "file://" + urllib.request.pathname2url(page_path)
        check_page(chromium_run("--dump-dom", url), False)
        shot = os.path.join(W, "r.png")
        chromium_run("--screenshot=" + shot, "--window-size=1100,900", url)
        with open(shot, "rb") as f:
            png = f.read()
        check(png[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", png[16:24]) == (1100, 900), "a screenshot")
    else:
        # refused before anything runs or is written: no calibration, a missing folder, a folder, OUT itself
        for args, must in ((["--report", os.path.join(W, "x.html")], "--calibrate"),
                           (["--calibrate", CALIB, "--report", os.path.join(W, "no", "r.html")], "does not exist"),
                           (["--calibrate", CALIB, "--report", W], "is a folder"),
                           (["--calibrate", CALIB, "--report", os.path.join(W, "o.onnx")], "OUT itself")):
            q = run("swap-norm", MODEL, "-o", os.path.join(W, "o.onnx"), *args)
            lines = q.stderr.splitlines()
            check(q.returncode == 2 and len(lines) == 1 and must in lines[0], f"--report refused: {args}: {q.stderr}")
            check(not os.path.exists(os.path.join(W, "o.onnx")) and not os.path.exists(os.path.join(W, "x.html")),
                  f"nothing written: {args}")
        # a dry run writes the page alone
        q = run("swap-norm", MODEL, "--dry-run", "--calibrate-random", "2", "--report", os.path.join(W, "d.html"))
        check(q.returncode == 0 and os.path.exists(os.path.join(W, "d.html")), "--dry-run --report writes the page")
else:
    sys.exit(f"unknown group {GROUP}")
print("FAILED" if failures else "ok", GROUP)
sys.exit(1 if failures else 0)
