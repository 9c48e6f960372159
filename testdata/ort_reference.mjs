// ONNX Runtime's figures for testdata/reference.json, computed independently
// of onnxguard's Go code with onnxruntime-node.
//
// Setup once (outside the repository; the package's install script would
// fetch CUDA binaries from nuget, which CPU inference does not need):
//
//     mkdir -p /tmp/ortnode && cd /tmp/ortnode && npm init -y
//     ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node@1.24.1
//
// Run from the repository root after `/usr/bin/python3 testdata/make_models.py`
// (which rewrites reference.json without ONNX Runtime's keys):
//
//     NODE_PATH=/tmp/ortnode/node_modules node testdata/ort_reference.mjs
//
// It runs fmnist_cnn.onnx (pixels/255) and fmnist_cnn_b1_255.onnx (raw
// pixels, one image per run) over the full Fashion-MNIST test set and the
// committed 1000-image slice, compares ORT's slice logits with PyTorch's, runs
// every interpreter test model on its NAME.input.npy against NAME.output.npy,
// and merges the results into testdata/reference.json.

import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
let ort;
try {
  ort = require('onnxruntime-node'); // NODE_PATH applies to require, not to import
} catch {
  ort = require('/tmp/ortnode/node_modules/onnxruntime-node');
}

const here = path.dirname(fileURLToPath(import.meta.url));
const models = path.join(here, 'models');
const src = process.env.FASHION_MNIST_DIR || '/usr/share/datasets/fashion-mnist';
const sessionOptions = { intraOpNumThreads: 2, interOpNumThreads: 1 };

function readIdx(file) {
  const b = zlib.gunzipSync(fs.readFileSync(file));
  const magic = b.readUInt32BE(0);
  const n = b.readUInt32BE(4);
  if (magic === 0x803) {
    const rows = b.readUInt32BE(8);
    const cols = b.readUInt32BE(12);
    return { n, size: rows * cols, data: b.subarray(16, 16 + n * rows * cols) };
  }
  if (magic === 0x801) return { n, data: b.subarray(8, 8 + n) };
  throw new Error(`${file}: unknown IDX magic ${magic.toString(16)}`);
}

function readNpyFloat32(file) {
  const b = fs.readFileSync(file);
  if (b.toString('latin1', 1, 6) !== 'NUMPY') throw new Error(`${file}: not .npy`);
  const major = b[6];
  const hlen = major === 1 ? b.readUInt16LE(8) : b.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = b.toString('latin1', start, start + hlen);
  if (!header.includes("'descr': '<f4'") || header.includes("'fortran_order': True")) {
    throw new Error(`${file}: want little-endian C-order float32, header ${header}`);
  }
  const shape = header.match(/'shape': \(([^)]*)\)/)[1].split(',').filter((s) => s.trim()).map(Number);
  const off = start + hlen;
  const data = new Float32Array(b.buffer.slice(b.byteOffset + off, b.byteOffset + b.length));
  return { shape, data };
}

function argmax(a, off, len) {
  let best = 0;
  for (let j = 1; j < len; j++) if (a[off + j] > a[off + best]) best = j;
  return best;
}

// pixels: Uint8Array [n*784]; scale: divide by 255 (in float64, then rounded
// to float32: the same value as float32 division) or feed raw 0..255.
async function evaluate(file, img, lab, { batch, scale }) {
  const session = await ort.InferenceSession.create(file, sessionOptions);
  const inName = session.inputNames[0];
  const outName = session.outputNames[0];
  const correct = new Uint8Array(img.n);
  const logits = new Float32Array(img.n * 10);
  for (let i = 0; i < img.n; i += batch) {
    const m = Math.min(batch, img.n - i);
    const x = new Float32Array(m * img.size);
    for (let k = 0; k < x.length; k++) {
      const p = img.data[i * img.size + k];
      x[k] = scale ? p / 255 : p;
    }
    const out = await session.run({ [inName]: new ort.Tensor('float32', x, [m, 1, 28, 28]) });
    const y = out[outName].data;
    logits.set(y, i * 10);
    for (let r = 0; r < m; r++) correct[i + r] = argmax(y, r * 10, 10) === lab.data[i + r] ? 1 : 0;
  }
  await session.release();
  return { correct, logits };
}

const sum = (a, n = a.length) => a.subarray(0, n).reduce((s, v) => s + v, 0);

function maxAbsDiff(a, b) {
  if (a.length !== b.length) throw new Error(`length ${a.length} != ${b.length}`);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

async function main() {
  const img = readIdx(path.join(src, 't10k-images-idx3-ubyte.gz'));
  const lab = readIdx(path.join(src, 't10k-labels-idx1-ubyte.gz'));
  const sliceImg = readIdx(path.join(here, 'fashion', 't10k-images-1000-idx3-ubyte.gz'));
  const sliceLab = readIdx(path.join(here, 'fashion', 't10k-labels-1000-idx1-ubyte.gz'));
  const n = sliceImg.n;
  if (!Buffer.from(sliceImg.data).equals(Buffer.from(img.data.subarray(0, n * img.size))) ||
      !Buffer.from(sliceLab.data).equals(Buffer.from(lab.data.subarray(0, n)))) {
    throw new Error('the committed slice is not the first images of the test set');
  }

  const refPath = path.join(here, 'reference.json');
  const ref = JSON.parse(fs.readFileSync(refPath, 'utf8'));

  const cnn = await evaluate(path.join(models, 'fmnist_cnn.onnx'), img, lab, { batch: 500, scale: true });
  const cnnSlice = await evaluate(path.join(models, 'fmnist_cnn.onnx'), sliceImg, sliceLab, { batch: 500, scale: true });
  const torchLogits = readNpyFloat32(path.join(models, 'fmnist_cnn.slice1000.logits.npy'));
  Object.assign(ref.fmnist_cnn, {
    ort_node_version: ort.env.versions.node,
    ort_node_test_correct: sum(cnn.correct),
    ort_node_test_accuracy: sum(cnn.correct) / img.n,
    ort_node_slice1000_correct: sum(cnnSlice.correct),
    ort_node_slice1000_accuracy: sum(cnnSlice.correct) / n,
    ort_node_slice1000_logits_max_abs_diff_vs_pytorch: maxAbsDiff(cnnSlice.logits, torchLogits.data),
  });

  const b1 = await evaluate(path.join(models, 'fmnist_cnn_b1_255.onnx'), img, lab, { batch: 1, scale: false });
  const b1Slice = await evaluate(path.join(models, 'fmnist_cnn_b1_255.onnx'), sliceImg, sliceLab, { batch: 1, scale: false });
  Object.assign(ref.fmnist_cnn_b1_255, {
    ort_node_version: ort.env.versions.node,
    ort_node_test_correct: sum(b1.correct),
    ort_node_test_accuracy: sum(b1.correct) / img.n,
    ort_node_slice1000_correct: sum(b1Slice.correct),
    ort_node_slice1000_accuracy: sum(b1Slice.correct) / n,
    ort_node_test_logits_max_abs_diff_vs_fmnist_cnn: maxAbsDiff(b1.logits, cnn.logits),
  });

  ref.interpreter_models = {};
  for (const name of ['resblock', 'mobile', 'normalized', 'dropout', 'opset7_mlp']) {
    const x = readNpyFloat32(path.join(models, `${name}.input.npy`));
    const want = readNpyFloat32(path.join(models, `${name}.output.npy`));
    const session = await ort.InferenceSession.create(path.join(models, `${name}.onnx`), sessionOptions);
    const out = await session.run({ input: new ort.Tensor('float32', x.data, x.shape) });
    const got = out[session.outputNames[0]];
    ref.interpreter_models[name] = {
      input_shape: x.shape,
      output_shape: want.shape,
      ort_node_max_abs_diff_vs_pytorch: maxAbsDiff(got.data, want.data),
    };
    await session.release();
  }

  fs.writeFileSync(refPath, JSON.stringify(ref, null, 2) + '\n');
  console.log(JSON.stringify(ref, null, 2));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
