#!/usr/bin/env node
// Time ONNX Runtime (onnxruntime-node, CPU provider) on one model the way `onnxc bench` times onnxc: session
// create time, latency min / median / p90 over timed runs after warm-up, peak memory; prints one JSON object.
// Inputs are the seeded random values `onnxc bench --seed S` uses (splitmix64, floats uniform in [-1, 1)).
//
// usage: node bench/ort_bench.js MODEL [--threads N] [--runs N] [--warmup N] [--seed S] [--shape NAME=DIMS]...
//                                [--opt all|extended|basic|disabled] [--profile PREFIX]
// --profile: ONNX Runtime's own profiler on (enableProfiling) over the warm-up and timed runs; its trace goes to
// PREFIX_<date>.json and a per-op-type and per-node table of kernel time per run is printed on stderr (compare with
// `onnxc bench --profile`).
'use strict';

const baseRss = process.memoryUsage().rss; // before ONNX Runtime is loaded: the node runtime's own footprint
const ort = require('onnxruntime-node');

function usage(msg) {
    process.stderr.write(`ort_bench: ${msg}\nusage: node ort_bench.js MODEL [--threads N] [--runs N] ` +
                         `[--warmup N] [--seed S] [--shape NAME=DIMS]... [--opt LEVEL]\n`);
    process.exit(2);
}

function parseArgs(argv) {
    const a = {model: null, threads: 2, runs: 50, warmup: 5, seed: 0n, shapes: {}, opt: 'all', profile: null};
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        const next = () => {
            if (i + 1 >= argv.length) usage(`${arg} needs a value`);
            return argv[++i];
        };
        if (arg === '--threads') a.threads = parseInt(next(), 10);
        else if (arg === '--runs') a.runs = parseInt(next(), 10);
        else if (arg === '--warmup') a.warmup = parseInt(next(), 10);
        else if (arg === '--seed') a.seed = BigInt(next());
        else if (arg === '--opt') a.opt = next();
        else if (arg === '--profile') a.profile = next();
        else if (arg === '--shape') {
            const [name, dims] = next().split('=');
            if (!dims) usage('--shape wants NAME=DIMS');
            a.shapes[name] = dims.split('x').map((d) => parseInt(d, 10));
        } else if (arg.startsWith('-')) usage(`unknown option ${arg}`);
        else if (a.model === null) a.model = arg;
        else usage(`unexpected argument ${arg}`);
    }
    if (a.model === null) usage('no model');
    if (!(a.threads >= 1) || !(a.runs >= 1) || !(a.warmup >= 0)) usage('bad --threads, --runs or --warmup');
    return a;
}

// splitmix64 exactly as src/cli/cli_common.c has it, so both runtimes see the same input values.
const MASK = (1n << 64n) - 1n;
function makeRng(seed) {
    let state = seed & MASK;
    return () => {
        state = (state + 0x9E3779B97F4A7C15n) & MASK;
        let z = state;
        z = ((z ^ (z >> 30n)) * 0xBF58476D1CE4E5B9n) & MASK;
        z = ((z ^ (z >> 27n)) * 0x94D049BB133111EBn) & MASK;
        return z ^ (z >> 31n);
    };
}

// float32 -> IEEE half bits, round to nearest even (as onnxc's oc_float_to_half), for float16 inputs.
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
function toHalf(v) {
    f32[0] = v;
    const u = u32[0];
    const sign = (u >>> 16) & 0x8000;
    const abs = u & 0x7fffffff;
    if (abs >= 0x7f800000) return sign | (abs === 0x7f800000 ? 0x7c00 : 0x7e00);
    if (abs >= 0x477ff000) return sign | 0x7c00;
    if (abs < 0x38800000) {
        if (abs < 0x33000000) return sign;
        const e = abs >>> 23, m = (abs & 0x7fffff) | 0x800000, shift = 126 - e;
        let q = m >>> shift;
        const rem = m & ((1 << shift) - 1), half = 1 << (shift - 1);
        if (rem > half || (rem === half && (q & 1))) q++;
        return sign | q;
    }
    const r = abs - 0x38000000;
    let q = r >>> 13;
    const rem = r & 0x1fff;
    if (rem > 0x1000 || (rem === 0x1000 && (q & 1))) q++;
    return sign | q;
}

function makeInput(meta, shapes, rng) {
    let dims = shapes[meta.name];
    if (!dims) {
        dims = meta.shape.map((d) => {
            if (typeof d === 'number' && d >= 0) return d;
            if (typeof d === 'string' && shapes[d]) return shapes[d][0];
            return 1; // a symbolic dim without a value is 1, as onnxc's generator has it
        });
    }
    const n = dims.reduce((x, y) => x * y, 1);
    if (meta.type === 'float32') {
        const data = new Float32Array(n);
        for (let i = 0; i < n; i++) data[i] = Number(rng() >> 40n) * 2 ** -23 - 1;
        return new ort.Tensor('float32', data, dims);
    }
    if (meta.type === 'float16') { // the same values as float32, rounded to half
        const data = new Uint16Array(n);
        for (let i = 0; i < n; i++) data[i] = toHalf(Number(rng() >> 40n) * 2 ** -23 - 1);
        return new ort.Tensor('float16', data, dims);
    }
    if (meta.type === 'int64') {
        const data = new BigInt64Array(n);
        for (let i = 0; i < n; i++) data[i] = rng() % 10n;
        return new ort.Tensor('int64', data, dims);
    }
    if (meta.type === 'int32') {
        const data = new Int32Array(n);
        for (let i = 0; i < n; i++) data[i] = Number(rng() % 10n);
        return new ort.Tensor('int32', data, dims);
    }
    throw new Error(`input '${meta.name}' has type ${meta.type}; this script generates float32, float16, int64, int32`);
}

function quantile(sorted, q) {
    // nearest rank, as onnxc bench computes it
    const idx = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
    return sorted[idx];
}

// The newest PREFIX_*.json trace: kernel time per run by op type and the 15 slowest nodes, on stderr.
function printProfile(prefix, nruns) {
    const fs = require('fs'), path = require('path');
    const dir = path.dirname(prefix), base = path.basename(prefix) + '_';
    const files = fs.readdirSync(dir).filter((f) => f.startsWith(base) && f.endsWith('.json'))
        .map((f) => path.join(dir, f)).sort((x, y) => fs.statSync(y).mtimeMs - fs.statSync(x).mtimeMs);
    if (!files.length) throw new Error(`no profile written under ${prefix}`);
    const ev = JSON.parse(fs.readFileSync(files[0], 'utf8'));
    const byOp = new Map(), byNode = new Map();
    let total = 0;
    for (const e of ev) {
        if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
        const op = (e.args && e.args.op_name) || '?', node = e.name.slice(0, -'_kernel_time'.length);
        byOp.set(op, (byOp.get(op) || 0) + e.dur);
        const n = byNode.get(node) || {op, us: 0};
        n.us += e.dur;
        byNode.set(node, n);
        total += e.dur;
    }
    const runs = nruns + 1; // the first run too
    const ms = (us) => (us / runs / 1000).toFixed(3);
    let txt = `ONNX Runtime kernel time per run: ${ms(total)} ms (${runs} runs, ${files[0]})\n`;
    txt += 'op type                     ms/run      %\n';
    for (const [op, us] of [...byOp].sort((x, y) => y[1] - x[1]))
        txt += `${op.padEnd(24)} ${ms(us).padStart(9)} ${(100 * us / total).toFixed(1).padStart(6)}\n`;
    txt += 'slowest nodes\n';
    for (const [node, n] of [...byNode].sort((x, y) => y[1].us - x[1].us).slice(0, 15))
        txt += `  ${ms(n.us).padStart(8)}  ${n.op.padEnd(20)} ${node}\n`;
    process.stderr.write(txt);
    return files[0];
}

async function main() {
    const a = parseArgs(process.argv.slice(2));
    const opts = {
        executionProviders: ['cpu'],
        graphOptimizationLevel: a.opt,
        intraOpNumThreads: a.threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
    };
    if (a.profile) {
        opts.enableProfiling = true;
        opts.profileFilePrefix = a.profile;
    }
    const t0 = process.hrtime.bigint();
    const session = await ort.InferenceSession.create(a.model, opts);
    const createMs = Number(process.hrtime.bigint() - t0) / 1e6;

    const rng = makeRng(a.seed);
    const feeds = {};
    for (const meta of session.inputMetadata) feeds[meta.name] = makeInput(meta, a.shapes, rng);

    const t1 = process.hrtime.bigint();
    await session.run(feeds);
    const firstMs = Number(process.hrtime.bigint() - t1) / 1e6;
    for (let i = 1; i < a.warmup; i++) await session.run(feeds);
    const times = [];
    for (let i = 0; i < a.runs; i++) {
        const t = process.hrtime.bigint();
        await session.run(feeds);
        times.push(Number(process.hrtime.bigint() - t) / 1e6);
    }
    times.sort((x, y) => x - y);
    const peakRss = process.resourceUsage().maxRSS * 1024; // KiB -> bytes
    const med = quantile(times, 0.5);
    const out = {
        runtime: `onnxruntime-node ${require('onnxruntime-node/package.json').version}`,
        model: a.model,
        threads: a.threads,
        runs: a.runs,
        warmup: a.warmup,
        session_create_ms: createMs,
        first_run_ms: firstMs,
        latency_ms: {min: times[0], median: med, p90: quantile(times, 0.9), mean: times.reduce((x, y) => x + y, 0) / times.length},
        throughput_per_s: 1000 / med,
        peak_rss_mb: peakRss / 1048576,
        base_rss_mb: baseRss / 1048576,
    };
    if (a.profile) {
        session.endProfiling();
        out.profile_file = printProfile(a.profile, a.warmup + a.runs);
    }
    process.stdout.write(JSON.stringify(out) + '\n');
    await session.release();
}

main().catch((e) => {
    process.stderr.write(`ort_bench: ${e && e.message ? e.message : e}\n`);
    process.exit(1);
});
