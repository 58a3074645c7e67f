// The wasm path from Node.js, for `cargo xtask bench`: the same series as
// spc-wasm/examples/stream_throughput.rs, pushed with Chart.pushBatch (signals as objects, the
// API most callers use) and Chart.pushBatchPacked (signals as a Uint32Array: the engine plus
// the copy of the values into wasm memory). The two alternate, best of 10 each.
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const pkg = process.env.LLMSCOPE_WASM_PKG ?? path.join(here, "../../../target/wasm-node/llmscope_spc.js");
const { Chart } = createRequire(import.meta.url)(pkg);

const n = Number(process.argv[2] ?? 2000000);
const values = Float64Array.from({ length: n }, (_, i) => 10 + Math.sin(i * 1.7) + ((i * 7919) % 13) * 0.05);
const methods = {
  pushBatch: (chart) => chart.pushBatch(values).length,
  pushBatchPacked: (chart) => chart.pushBatchPacked(values).length / 4,
};
const best = {};
const signals = {};
for (let run = 0; run < 10; run++) {
  for (const [name, push] of Object.entries(methods)) {
    const chart = new Chart({ chart: "individuals", phase1: 100 });
    const start = process.hrtime.bigint();
    signals[name] = push(chart);
    best[name] = Math.min(best[name] ?? Infinity, Number(process.hrtime.bigint() - start) / 1e9);
    chart.free();
  }
}
for (const name of Object.keys(methods)) {
  const s = best[name];
  console.log(`wasm ${name}: ${n} points in ${s.toFixed(4)} s = ${(n / s / 1e6).toFixed(1)} M points/s (${signals[name]} signals)`);
}
