#!/usr/bin/env node
// Runs an ONNX model with ONNX Runtime (npm onnxruntime-node, pinned in bench/package.json): inputs from NumPy
// .npy files, every output written as <outdir>/<output name>.npy, so onnxc's executor can be checked against it.
//
// usage: node bench/ort_run.js MODEL OUTDIR [NAME=FILE.npy | FILE.npy]... [--threads N] [--opt LEVEL]
//   NAME=FILE.npy  input NAME from a .npy file (FILE.npy alone: the model's only input)
//   --threads N    intra-op threads (default 1, so runs are reproducible)
//   --opt LEVEL    graph optimization level: disabled, basic, extended or all (default all)
// Output file names: characters other than letters, digits, '.', '-' and '_' become '_' (as `onnxc run`).
// Prints one JSON line: {"outputs": [{"name", "file", "dtype", "shape"}...]}. Exit 1 on any failure.
'use strict';

const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

// NumPy descr <-> ORT tensor type and typed array. Little-endian only ('<' or '|' for one-byte types).
const TYPES = {
  f4: ['float32', Float32Array], f8: ['float64', Float64Array], f2: ['float16', Uint16Array],
  i8: ['int64', BigInt64Array], i4: ['int32', Int32Array], i2: ['int16', Int16Array], i1: ['int8', Int8Array],
  u8: ['uint64', BigUint64Array], u4: ['uint32', Uint32Array], u2: ['uint16', Uint16Array],
  u1: ['uint8', Uint8Array], b1: ['bool', Uint8Array],
};

function fail(msg) {
  process.stderr.write(`ort_run: ${msg}\n`);
  process.exit(1);
}

// Parse a .npy file: {type, dims, data (typed array)}.
function readNpy(file) {
  const buf = fs.readFileSync(file);
  if (buf.length < 10 || buf.toString('latin1', 0, 6) !== '\x93NUMPY') fail(`${file}: not a .npy file`);
  const major = buf[6];
  let hlen, hstart;
  if (major === 1) {
    hlen = buf.readUInt16LE(8);
    hstart = 10;
  } else if (major === 2 || major === 3) {
    hlen = buf.readUInt32LE(8);
    hstart = 12;
  } else {
    fail(`${file}: .npy version ${major} is not supported`);
  }
  if (hstart + hlen > buf.length) fail(`${file}: header runs past the end of the file`);
  const header = buf.toString(major === 3 ? 'utf8' : 'latin1', hstart, hstart + hlen);
  const descr = /'descr':\s*'([^']*)'/.exec(header);
  const fortran = /'fortran_order':\s*(True|False)/.exec(header);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!descr || !fortran || !shape) fail(`${file}: malformed header ${header.trim()}`);
  if (fortran[1] === 'True') fail(`${file}: Fortran-order arrays are not supported`);
  const d = descr[1];
  const order = d[0], code = d.slice(1);
  if (order === '>' || !TYPES[code] || (order !== '<' && order !== '|')) fail(`${file}: dtype '${d}' is not supported`);
  const dims = shape[1].split(',').map((s) => s.trim()).filter((s) => s.length).map((s) => parseInt(s, 10));
  if (dims.some((x) => !Number.isInteger(x) || x < 0)) fail(`${file}: bad shape (${shape[1]})`);
  const [type, Arr] = TYPES[code];
  const count = dims.reduce((a, b) => a * b, 1);
  const start = hstart + hlen;
  if (buf.length - start !== count * Arr.BYTES_PER_ELEMENT) {
    fail(`${file}: ${buf.length - start} data bytes for ${count} elements of ${d}`);
  }
  // copy into an aligned buffer (the data offset need not be a multiple of the element size)
  const bytes = new Uint8Array(count * Arr.BYTES_PER_ELEMENT);
  buf.copy(Buffer.from(bytes.buffer), 0, start);
  let data = new Arr(bytes.buffer);
  if (type === 'bool') data = Uint8Array.from(data, (v) => (v ? 1 : 0));
  return { type, dims, data };
}

const DESCR = {
  float32: '<f4', float64: '<f8', float16: '<f2', int64: '<i8', int32: '<i4', int16: '<i2', int8: '|i1',
  uint64: '<u8', uint32: '<u4', uint16: '<u2', uint8: '|u1', bool: '|b1',
};

// Write a .npy (version 1.0, header padded so the data starts at a multiple of 64 bytes).
function writeNpy(file, tensor) {
  const descr = DESCR[tensor.type];
  if (!descr) fail(`output type ${tensor.type} cannot be written as .npy`);
  const dims = tensor.dims.map(Number);
  const shape = dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const pre = Buffer.alloc(10);
  Buffer.from('\x93NUMPY', 'latin1').copy(pre, 0);
  pre[6] = 1;
  pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  let data = tensor.data;
  if (tensor.type === 'bool') data = Uint8Array.from(data, (v) => (v ? 1 : 0));
  const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const tmp = `${file}.tmp${process.pid}`;
  fs.writeFileSync(tmp, Buffer.concat([pre, Buffer.from(header, 'latin1'), body]));
  fs.renameSync(tmp, file);
}

async function main() {
  const args = process.argv.slice(2);
  const pos = [];
  let threads = 1, opt = 'all';
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--threads') threads = parseInt(args[++i], 10);
    else if (args[i] === '--opt') opt = args[++i];
    else if (args[i] === '--help' || args[i] === '-h') {
      process.stdout.write(fs.readFileSync(__filename, 'utf8').split('\n').slice(1, 10).join('\n') + '\n');
      return;
    } else pos.push(args[i]);
  }
  if (pos.length < 2) fail('usage: node bench/ort_run.js MODEL OUTDIR [NAME=FILE.npy]... [--threads N] [--opt LEVEL]');
  if (!Number.isInteger(threads) || threads < 1) fail('--threads takes a whole number from 1');
  if (!['disabled', 'basic', 'extended', 'all'].includes(opt)) {
    fail(`--opt takes disabled, basic, extended or all, not '${opt}'`);
  }
  const [model, outdir, ...inputs] = pos;
  let session;
  try {
    session = await ort.InferenceSession.create(model, {
      intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: opt,
    });
  } catch (e) {
    fail(`${model}: ONNX Runtime cannot load it: ${e.message}`);
  }
  const feeds = {};
  for (const spec of inputs) {
    const eq = spec.indexOf('=');
    let name, file;
    if (eq > 0) {
      name = spec.slice(0, eq);
      file = spec.slice(eq + 1);
    } else {
      if (session.inputNames.length !== 1) {
        fail(`${spec}: the model has ${session.inputNames.length} inputs; use NAME=FILE`);
      }
      name = session.inputNames[0];
      file = spec;
    }
    if (!session.inputNames.includes(name)) {
      fail(`input '${name}' is not an input of the model (${session.inputNames.join(', ')})`);
    }
    const t = readNpy(file);
    feeds[name] = new ort.Tensor(t.type, t.data, t.dims);
  }
  for (const n of session.inputNames) if (!feeds[n]) fail(`input '${n}' is not given`);
  let results;
  try {
    results = await session.run(feeds);
  } catch (e) {
    fail(`${model}: the run failed: ${e.message}`);
  }
  fs.mkdirSync(outdir, { recursive: true });
  const outs = [];
  for (const name of session.outputNames) {
    const t = results[name];
    const file = path.join(outdir, name.replace(/[^A-Za-z0-9._-]/g, '_') + '.npy');
    writeNpy(file, t);
    outs.push({ name, file, dtype: t.type, shape: t.dims.map(Number) });
  }
  process.stdout.write(JSON.stringify({ outputs: outs }) + '\n');
}

main().catch((e) => fail(e.stack || String(e)));
