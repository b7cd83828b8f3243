#!/usr/bin/python3
"""Compressed .npz archives through `onnxc run` (the npz reader and src/inflate.c): every array comes back bit for
bit through an Identity model, whatever DEFLATE blocks the writer chose; broken archives give one error line that
names the file and member, exit 2.

The archives are written here by numpy.savez_compressed, by zipfile at levels 0-9, and by zipfile-compatible
archives assembled from zlib streams of a chosen strategy (Z_FIXED, Z_HUFFMAN_ONLY, Z_RLE, mixed blocks through
Z_FULL_FLUSH), so the expected values are numpy's arrays and the block types are checked by reading each
stream's block headers here (an independent walk of RFC 1951's block structure).
"""
import io
import os
import struct
import subprocess
import sys
import tempfile
import unittest
import zipfile
import zlib

import numpy as np
import onnx
from onnx import TensorProto, helper

ONNXC = os.environ.get("ONNXC", "onnxc")


def onnxc(*args):
    return subprocess.run([ONNXC] + [str(a) for a in args], capture_output=True, text=True, errors="replace",
                          timeout=300)


def npy_bytes(a):
    f = io.BytesIO()
    np.save(f, a)
    return f.getvalue()


def deflate(data, level=6, strategy=zlib.Z_DEFAULT_STRATEGY, chunks=None):
    """Raw DEFLATE of data; with chunks, a list of (level, strategy) switched between equal pieces (full flush
    between them, so one stream holds blocks of several kinds)."""
    if not chunks:
        c = zlib.compressobj(level, zlib.DEFLATED, -15, 9, strategy)
        return c.compress(data) + c.flush()
    # one compressor per piece, each primed with the data before it (so matches reach back across pieces);
    # all but the last end with a full flush: byte-aligned, no final block, so the pieces concatenate
    out, step = [], (len(data) + len(chunks) - 1) // len(chunks)
    for k, (lv, stg) in enumerate(chunks):
        prev = data[max(0, k * step - 32768):k * step]
        c = zlib.compressobj(lv, zlib.DEFLATED, -15, 9, stg, **({"zdict": prev} if prev else {}))
        out.append(c.compress(data[k * step:(k + 1) * step]))
        out.append(c.flush(zlib.Z_FINISH if k == len(chunks) - 1 else zlib.Z_FULL_FLUSH))
    return b"".join(out)


class Bits:
    def __init__(self, b):
        self.b, self.pos = b, 0

    def get(self, n):
        v = 0
        for i in range(n):
            byte = self.b[self.pos >> 3]
            v |= ((byte >> (self.pos & 7)) & 1) << i
            self.pos += 1
        return v


def block_types(stream):
    """The BTYPE of every block of a raw DEFLATE stream (walks it fully, with its own Huffman decoding)."""
    br, types = Bits(stream), []

    def table(lens):
        # canonical codes: {(length, code): symbol}
        codes, code = {}, 0
        for L in range(1, 16):
            for sym, l in enumerate(lens):
                if l == L:
                    codes[(L, code)] = sym
                    code += 1
            code <<= 1
        return codes

    def sym(codes):
        code = 0
        for L in range(1, 16):
            code = code << 1 | br.get(1)
            if (L, code) in codes:
                return codes[(L, code)]
        raise ValueError("bad code")

    LB = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258]
    LE = [0] * 8 + [1] * 4 + [2] * 4 + [3] * 4 + [4] * 4 + [5] * 4 + [0]
    DE = [0, 0, 0, 0] + [i // 2 for i in range(2, 28)]
    fixed = (table([8] * 144 + [9] * 112 + [7] * 24 + [8] * 8), table([5] * 30))
    while True:
        last, bt = br.get(1), br.get(2)
        types.append(bt)
        if bt == 0:
            br.pos = (br.pos + 7) & ~7
            n = br.get(16)
            br.get(16)
            br.pos += 8 * n
        elif bt in (1, 2):
            if bt == 1:
                lit, dist = fixed
            else:
                hlit, hdist, hclen = br.get(5) + 257, br.get(5) + 1, br.get(4) + 4
                order = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]
                cl = [0] * 19
                for i in range(hclen):
                    cl[order[i]] = br.get(3)
                clt, lens = table(cl), []
                while len(lens) < hlit + hdist:
                    s = sym(clt)
                    if s < 16:
                        lens.append(s)
                    elif s == 16:
                        lens += [lens[-1]] * (3 + br.get(2))
                    elif s == 17:
                        lens += [0] * (3 + br.get(3))
                    else:
                        lens += [0] * (11 + br.get(7))
                lit, dist = table(lens[:hlit]), table(lens[hlit:])
            while True:
                s = sym(lit)
                if s == 256:
                    break
                if s > 256:
                    br.get(LE[s - 257])
                    br.get(DE[sym(dist)])
        else:
            raise ValueError("block type 3")
        if last:
            return types


def write_zip(path, members):
    """A zip archive as zipfile writes it, from (name, plain bytes, method, compressed bytes) members; crc and
    sizes may be overridden per member with a dict as a fifth item."""
    out, central = bytearray(), bytearray()
    for m in members:
        name, plain, method, comp = m[:4]
        over = m[4] if len(m) > 4 else {}
        crc = over.get("crc", zlib.crc32(plain))
        usize = over.get("usize", len(plain))
        nm = name.encode()
        off = len(out)
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, method, 0, 0x21, crc, len(comp), usize, len(nm), 0)
        out += nm + comp
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, method, 0, 0x21, crc, len(comp), usize,
                               len(nm), 0, 0, 0, 0, 0, off) + nm
    cd = len(out)
    out += central
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(central), cd, 0)
    with open(path, "wb") as f:
        f.write(out)


def identity_model(path, arrays):
    """A model whose outputs are its inputs (one Identity per array)."""
    nodes, ins, outs = [], [], []
    for name, a in arrays.items():
        et = helper.np_dtype_to_tensor_dtype(a.dtype) if hasattr(helper, "np_dtype_to_tensor_dtype") else \
            onnx.mapping.NP_TYPE_TO_TENSOR_TYPE[a.dtype]
        ins.append(helper.make_tensor_value_info(name, et, list(a.shape)))
        outs.append(helper.make_tensor_value_info(name + "_out", et, list(a.shape)))
        nodes.append(helper.make_node("Identity", [name], [name + "_out"]))
    g = helper.make_graph(nodes, "g", ins, outs)
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 15)]), path)


class Compressed(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.d = self.tmp.name
        rng = np.random.default_rng(18)
        self.arrays = {
            "rand": rng.standard_normal((3, 4000)).astype(np.float32),      # incompressible: dynamic (or stored)
            "zeros": np.zeros((64, 64, 32), np.float32),                     # long matches
            "small": np.arange(6, dtype=np.int64).reshape(2, 3),             # a few bytes: fixed Huffman
            "ramp": (np.arange(70000) % 251).astype(np.uint8),               # matches far back (32 KB window)
            "half": rng.standard_normal((5, 7, 9)).astype(np.float16),
            "flags": rng.integers(0, 2, (1000,)).astype(np.bool_),
            "empty": np.zeros((0, 4), np.float32),
            "scalar": np.array(3.25, np.float64),
        }
        self.model = os.path.join(self.d, "id.onnx")
        identity_model(self.model, self.arrays)

    def tearDown(self):
        self.tmp.cleanup()

    def run_archive(self, path, arrays=None):
        arrays = arrays or self.arrays
        out = os.path.join(self.d, "out")
        p = onnxc("run", self.model, "--input", path, "--output-dir", out)
        self.assertEqual(p.returncode, 0, p.stderr)
        for name, a in arrays.items():
            got = np.load(os.path.join(out, name + "_out.npy"))
            self.assertEqual(got.dtype, a.dtype, name)
            self.assertEqual(got.shape, a.shape, name)
            self.assertEqual(got.tobytes(), a.tobytes(), name)
        return p

    def members(self, deflater):
        res, types = [], set()
        for name, a in self.arrays.items():
            plain = npy_bytes(a)
            comp = deflater(plain)
            self.assertEqual(zlib.decompress(comp, -15), plain)  # the writer's own check
            types.update(block_types(comp))
            res.append((name + ".npy", plain, 8, comp))
        return res, types

    def test_savez_compressed(self):
        p = os.path.join(self.d, "a.npz")
        np.savez_compressed(p, **self.arrays)
        with zipfile.ZipFile(p) as z:
            self.assertTrue(all(i.compress_type == zipfile.ZIP_DEFLATED for i in z.infolist()))
        self.run_archive(p)

    def test_zipfile_levels(self):
        seen = set()
        for level in (0, 1, 6, 9):
            p = os.path.join(self.d, "l%d.npz" % level)
            with zipfile.ZipFile(p, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as z:
                for name, a in self.arrays.items():
                    z.writestr(name + ".npy", npy_bytes(a))
                    seen.update(block_types(deflate(npy_bytes(a), level)))
            self.run_archive(p)
        self.assertEqual(seen, {0, 1, 2})  # level 0 stored, the small arrays fixed, the rest dynamic

    def test_every_block_kind_and_mixed_streams(self):
        kinds = {
            "stored": lambda b: deflate(b, 0),
            "fixed": lambda b: deflate(b, 6, zlib.Z_FIXED),
            "huffman_only": lambda b: deflate(b, 6, zlib.Z_HUFFMAN_ONLY),
            "rle": lambda b: deflate(b, 6, zlib.Z_RLE),
            "mixed": lambda b: deflate(b, chunks=[(0, 0), (6, zlib.Z_FIXED), (9, 0), (0, 0), (1, zlib.Z_RLE), (6, zlib.Z_FIXED)]),
        }
        want = {"stored": {0}, "fixed": {1}, "mixed": {0, 1, 2}}
        for kind, f in kinds.items():
            members, types = self.members(f)
            if kind in want:
                self.assertTrue(want[kind] <= types, (kind, types))
            p = os.path.join(self.d, kind + ".npz")
            write_zip(p, members)
            self.run_archive(p)

    def test_stored_and_deflated_members_together(self):
        a = self.arrays
        p = os.path.join(self.d, "mix.npz")
        write_zip(p, [(n + ".npy", npy_bytes(v), 0, npy_bytes(v)) if k % 2 else
                      (n + ".npy", npy_bytes(v), 8, deflate(npy_bytes(v))) for k, (n, v) in enumerate(a.items())])
        self.run_archive(p)

    def refused(self, path, *needles):
        p = onnxc("run", self.model, "--input", path, "--output-dir", os.path.join(self.d, "bad"))
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        lines = p.stderr.splitlines()
        self.assertEqual(len(lines), 1, p.stderr)
        self.assertTrue(lines[0].startswith("onnxc: "), lines[0])
        for n in needles:
            self.assertIn(n, lines[0])
        self.assertFalse(os.path.exists(os.path.join(self.d, "bad")))

    def broken(self, tag, rand_edit=None, over=None, comp_edit=None, method=8):
        """An archive of every array, the 'rand' member damaged."""
        members = []
        for name, a in self.arrays.items():
            plain = npy_bytes(a)
            comp = deflate(plain) if method == 8 else plain
            m = [name + ".npy", plain, method, comp, {}]
            if name == "rand":
                if comp_edit:
                    m[3] = comp_edit(comp)
                if over:
                    m[4] = over
            members.append(tuple(m))
        p = os.path.join(self.d, tag + ".npz")
        write_zip(p, members)
        return p

    def test_corrupted_archives_are_named(self):
        member = "[rand]"
        # CRC-32 of the decompressed bytes (deflated and stored members)
        self.refused(self.broken("crc", over={"crc": 1234}), "crc.npz" + member, "CRC-32")
        self.refused(self.broken("crcs", over={"crc": 1234}, method=0), "crcs.npz" + member, "CRC-32")
        # the stream cut short (the archive itself intact)
        self.refused(self.broken("cut", comp_edit=lambda c: c[:len(c) // 2]), "cut.npz" + member, "ends early")
        self.refused(self.broken("cut1", comp_edit=lambda c: c[:1]), "cut1.npz" + member)
        self.refused(self.broken("nothing", comp_edit=lambda c: b""), "nothing.npz" + member)
        # a flipped byte inside the Huffman data: some error, never a crash (CRC or a bad code)
        for k in (3, 40, 1000, 20000):
            self.refused(self.broken("flip%d" % k, comp_edit=lambda c: c[:k] + bytes([c[k] ^ 0x5A]) + c[k + 1:]),
                         "flip%d.npz%s" % (k, member))
        # block type 3
        self.refused(self.broken("bt3", comp_edit=lambda c: bytes([0x07]) + c[1:]), "bt3.npz" + member, "block type 3")
        # a stored block whose length disagrees with its complement
        self.refused(self.broken("nlen", comp_edit=lambda c: bytes([0x01, 0x10, 0x00, 0x00, 0x00]) + c),
                     "nlen.npz" + member, "complement")
        # the directory lies about the size: smaller, larger, far beyond what DEFLATE can make (a bomb)
        n = len(npy_bytes(self.arrays["rand"]))
        self.refused(self.broken("small", over={"usize": n - 100}), "small.npz" + member, "more than")
        self.refused(self.broken("large", over={"usize": n + 100}), "large.npz" + member, "ends after")
        self.refused(self.broken("bomb", over={"usize": 0xFFFFFFF0}, comp_edit=lambda c: c[:1000]),
                     "bomb.npz" + member, "more than DEFLATE can produce")
        # a match reaching back before the first byte: fixed block, literal-free length 3 / distance 1
        self.refused(self.broken("far", comp_edit=lambda c: bytes([0x03, 0x02, 0x00]), over={"usize": 3}), "far.npz" + member, "back")
        # directory entries that share one member's bytes (each would be read in full: a bomb by repetition)
        plain = npy_bytes(self.arrays["zeros"])
        comp = deflate(plain)
        nm = b"zeros.npy"
        local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, zlib.crc32(plain), len(comp), len(plain),
                            len(nm), 0) + nm + comp
        central = b"".join(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21, zlib.crc32(plain),
                                       len(comp), len(plain), 2, 0, 0, 0, 0, 0, 0) + b"z%d" % k for k in range(4))
        body = local + central + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 4, 4, len(central), len(local), 0)
        with open(os.path.join(self.d, "rep.npz"), "wb") as f:
            f.write(body)
        self.refused(os.path.join(self.d, "rep.npz"), "rep.npz[z", "overlap")
        # an unknown method
        self.refused(self.broken("m12", method=12), "m12.npz" + member, "method 12")
        # the whole file truncated
        p = os.path.join(self.d, "a.npz")
        np.savez_compressed(p, **self.arrays)
        with open(p, "rb") as f:
            data = f.read()
        for cut in (len(data) // 3, len(data) - 10):
            q = os.path.join(self.d, "trunc%d.npz" % cut)
            with open(q, "wb") as f:
                f.write(data[:cut])
            self.refused(q, "trunc%d.npz" % cut, "truncated")

    def test_a_real_bomb_is_read_within_its_bounds(self):
        # 50 MB of zeros deflate to ~50 KB: a legitimate ratio, read and checked
        z = {"zeros": np.zeros((50, 1024, 256), np.float32)}
        m = os.path.join(self.d, "z.onnx")
        identity_model(m, z)
        p = os.path.join(self.d, "z.npz")
        np.savez_compressed(p, **z)
        self.assertLess(os.path.getsize(p), 100000)
        r = onnxc("run", m, "--input", p)
        self.assertEqual(r.returncode, 0, r.stderr)


if __name__ == "__main__":
    unittest.main()
