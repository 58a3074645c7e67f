// The wasm path from Node.js, for `cargo xtask bench`: the same series as
// spc-wasm/examples/stream_throughput.rs, pushed with Chart.pushBatch.
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const pkg = process.env.LLMSCOPE_WASM_PKG ?? path.join(here, "../../../target/wasm-node/llmscope_spc.js");
const { Chart } = createRequire(import.meta.url)(pkg);

const n = Number(process.argv[2] ?? 2000000);
const values = Float64Array.from({ length: n }, (_, i) => 10 + Math.sin(i * 1.7) + ((i * 7919) % 13) * 0.05);
let best = Infinity;
let signals = 0;
for (let run = 0; run < 5; run++) {
  const chart = new Chart({ chart: "individuals", phase1: 100 });
  const start = process.hrtime.bigint();
  signals = chart.pushBatch(values).length;
  best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e9);
  chart.free();
}
console.log(`wasm: ${n} points in ${best.toFixed(4)} s = ${(n / best / 1e6).toFixed(1)} M points/s (${signals} signals)`);
