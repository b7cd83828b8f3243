#!/usr/bin/env node
// Writes the graph ONNX Runtime (npm onnxruntime-node, bench/package.json) optimizes a model into, at a given
// graph optimization level, through the session option optimizedModelFilePath: the other column of
// bench/node_counts.py.
//
// usage: node bench/ort_optimize.js MODEL OUT [LEVEL]   (LEVEL: disabled, basic, extended or all; default basic)
// Exit 1 with a one-line message on failure.
'use strict';

const ort = require('onnxruntime-node');

async function main() {
  const [model, out, level = 'basic'] = process.argv.slice(2);
  if (!model || !out) {
    process.stderr.write('usage: node bench/ort_optimize.js MODEL OUT [LEVEL]\n');
    process.exit(1);
  }
  await ort.InferenceSession.create(model, {
    graphOptimizationLevel: level, optimizedModelFilePath: out, executionProviders: ['cpu'], intraOpNumThreads: 1,
  });
}

main().catch((e) => {
  process.stderr.write(`ort_optimize: ${e.message.split('\n')[0]}\n`);
  process.exit(1);
});
