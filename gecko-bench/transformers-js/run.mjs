// Peer benchmark: transformers.js (onnxruntime-node) on the same ONNX files and texts as
// dev.gecko.bench.peers.PeerBenchmark. Offline: models come from ./models (built by
// bench/run-peers.sh from the Maven jars), never from the network.
//
// usage: node run.mjs SETS_DIR [--repeats N] [--batch 32] [--threads 2] [--models int8,fp32]
//        [--sets short,passages,mixed] [--out results.json]
// SETS_DIR holds short.jsonl, passages.jsonl, mixed.jsonl as written by
// `java dev.gecko.bench.peers.TextSets SETS_DIR`.
import { env, pipeline } from '@huggingface/transformers';
import { readFileSync, writeFileSync } from 'node:fs';
import { loadavg, cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = join(here, 'models');

const args = process.argv.slice(2);
if (args.length < 1) {
  console.error('usage: node run.mjs SETS_DIR [--repeats N] [--batch 32] [--threads 2] [--models int8,fp32] [--sets ...] [--out F]');
  process.exit(2);
}
const opt = (name, dflt) => {
  const i = args.indexOf('--' + name);
  return i >= 0 ? args[i + 1] : dflt;
};
const setsDir = args[0];
const repeats = Number(opt('repeats', 5));
const batch = Number(opt('batch', 32));
const threads = Number(opt('threads', 2));
const models = opt('models', 'int8,fp32').split(',');
const sets = opt('sets', 'short,passages,mixed').split(',');
const out = opt('out', null);
const load = () => 'load average: ' + loadavg().map((x) => x.toFixed(2)).join(' ');

const readSet = (name) => readFileSync(join(setsDir, name + '.jsonl'), 'utf8')
  .split('\n').filter((l) => l.trim()).map((l, i) => {
    const t = JSON.parse(l).text;
    if (typeof t !== 'string') throw new Error(`${name}.jsonl:${i + 1}: no string field "text"`);
    return t;
  });
const median = (v) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

console.log(`# transformers.js peer: batch ${batch}, ${threads} intra-op threads, repeats ${repeats}, ${cpus().length} cpus, node ${process.version}, ${load()}`);
const results = [];
for (const model of models) {
  const extractor = await pipeline('feature-extraction', 'bge-small-en-v1.5', {
    dtype: model === 'int8' ? 'q8' : 'fp32',
    device: 'cpu',
    session_options: { intraOpNumThreads: threads, interOpNumThreads: 1 },
  });
  for (const set of sets) {
    const texts = readSet(set);
    // Token counts (with [CLS]/[SEP]) and padding, from the same tokenizer.json.
    let tokens = 0;
    let padded = 0;
    for (let i = 0; i < texts.length; i += batch) {
      const enc = extractor.tokenizer(texts.slice(i, i + batch), { padding: true, truncation: true });
      const mask = enc.attention_mask;
      padded += mask.dims[0] * mask.dims[1];
      for (const v of mask.data) tokens += Number(v);
    }
    const pass = async () => {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < texts.length; i += batch) {
        const r = await extractor(texts.slice(i, i + batch), { pooling: 'cls', normalize: true });
        r.dispose?.();
      }
      return Number(process.hrtime.bigint() - t0) / 1e9;
    };
    await pass(); // warm-up
    const before = load();
    const times = [];
    for (let r = 0; r < repeats; r++) times.push(await pass());
    const med = median(times);
    const row = {
      model, set, texts: texts.length, tokens, padding: padded / tokens - 1,
      medianSeconds: med, times, textsPerSecond: texts.length / med, tokensPerSecond: tokens / med,
      load: before + ' -> ' + load().replace('load average: ', ''),
    };
    results.push(row);
    console.log(`${model} ${set}: ${texts.length} texts, ${tokens} tokens, padding ${(100 * row.padding).toFixed(1)}%, `
      + `median ${med.toFixed(3)} s, ${row.textsPerSecond.toFixed(1)} texts/s, ${row.tokensPerSecond.toFixed(0)} tokens/s, `
      + `runs [${times.map((t) => t.toFixed(3)).join(', ')}], ${row.load}`);
  }
  await extractor.dispose();
}
if (out) writeFileSync(out, JSON.stringify({ batch, threads, repeats, results }, null, 2));
