// The engine's wasm-bindgen API, driven from Node.js as a JavaScript user would.
// Run by `cargo xtask test` (which builds target/wasm-node/ first) with node's test runner.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const pkg = process.env.LLMSCOPE_WASM_PKG ?? path.join(here, "../../../target/wasm-node/llmscope_spc.js");
const { Chart, analyze, averageRunLength } = createRequire(import.meta.url)(pkg);

function csv(name) {
  const [header, ...rows] = readFileSync(path.join(here, "../data", name), "utf8").trim().split("\n");
  const cols = header.split(",");
  return rows.map((r) => Object.fromEntries(r.split(",").map((v, i) => [cols[i], v])));
}

function close(actual, expected, tol, what) {
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: got ${actual}, expected ${expected} ± ${tol}`);
}

test("X-bar/R on Montgomery's piston rings, streamed subgroup by subgroup", () => {
  const groups = new Map();
  for (const r of csv("pistonrings.csv")) {
    if (!groups.has(r.subgroup)) groups.set(r.subgroup, []);
    groups.get(r.subgroup).push(Number(r.value));
  }
  const chart = new Chart({ chart: "xbar-r", phase1: 25 });
  const signals = [];
  let i = 0;
  for (const g of groups.values()) {
    const fresh = chart.pushSubgroup(new Float64Array(g));
    if (++i < 25) assert.equal(chart.limits(), undefined, "no limits before the baseline is complete");
    signals.push(...fresh);
  }
  const limits = chart.limits();
  close(limits.center, 74.0012, 5e-5, "center");
  close(limits.primary.lcl, 73.988, 5e-5, "LCL");
  close(limits.primary.ucl, 74.0143, 5e-5, "UCL");
  close(limits.secondary.ucl, 0.04813, 5e-5, "R UCL");
  const beyond = signals.filter((s) => s.test === 1 && s.chart === "primary").map((s) => s.index);
  assert.deepEqual(beyond, [36, 37, 38]);
  // A signal is a plain object with exactly these fields (the README's contract).
  const first = signals.find((s) => s.test === 1 && s.chart === "primary");
  assert.deepEqual(first, { chart: "primary", test: 1, index: 36, first: 36, last: 36 });
  assert.deepEqual(Object.keys(first), ["chart", "test", "index", "first", "last"]);
  assert.deepEqual(chart.signals(), signals, "signals() returns everything push returned");
  chart.free();
});

test("pushBatch(Float64Array) gives what push gives one value at a time", () => {
  const values = Float64Array.from({ length: 500 }, (_, i) => 10 + Math.sin(i * 1.7) + (i > 300 ? 2.5 : 0));
  const one = new Chart({ chart: "individuals", phase1: 100, tests: "western-electric" });
  const seen = [];
  for (const x of values) seen.push(...one.push(x));
  const batch = new Chart({ chart: "individuals", phase1: 100, tests: "western-electric" });
  assert.deepEqual(batch.pushBatch(values), seen);
  assert.ok(seen.some((s) => s.index > 300), "the shift after point 300 is found");
  assert.equal(batch.length, 500);
});

test("signals of both charts cross with their chart, test, first and last point", () => {
  // Rising values with rising steps: test 3 (six in a row increasing) fires on the values at
  // points 5 and 6, and on their moving ranges (1, 2, ..., 6 at points 1 to 6) at point 6.
  const chart = new Chart({ chart: "individuals", mu: 10, sigma: 10, tests: "3" });
  const signals = chart.pushBatch(new Float64Array([0, 1, 3, 6, 10, 15, 21].map((d) => 10 + d)));
  assert.deepEqual(signals, [
    { chart: "primary", test: 3, index: 5, first: 0, last: 5 },
    { chart: "primary", test: 3, index: 6, first: 1, last: 6 },
    { chart: "secondary", test: 3, index: 6, first: 1, last: 6 },
  ]);
  assert.deepEqual(chart.signals(), signals);
  assert.deepEqual(chart.pushBatch(new Float64Array([30])), [], "nothing returned twice");
  chart.free();
});

test("pushBatchPacked returns pushBatch's signals as four numbers each", () => {
  const values = Float64Array.from({ length: 500 }, (_, i) => 10 + Math.sin(i * 1.7) + (i > 300 ? 2.5 : 0));
  const config = { chart: "individuals", phase1: 100 };
  const objects = new Chart(config).pushBatch(values);
  const chart = new Chart(config);
  const packed = chart.pushBatchPacked(values);
  assert.ok(packed instanceof Uint32Array);
  assert.ok(objects.some((s) => s.chart === "secondary"), "both charts are covered");
  const unpacked = [];
  for (let j = 0; j < packed.length; j += 4) {
    const [chart, test, index, first] = packed.subarray(j, j + 4);
    unpacked.push({ chart: chart === 0 ? "primary" : "secondary", test, index, first, last: index });
  }
  assert.deepEqual(unpacked, objects);
  assert.deepEqual(chart.signals(), objects, "signals() keeps what pushBatchPacked returned");
  assert.throws(() => chart.pushBatchPacked(new Float64Array([4, NaN])), /observation 501: NaN/);
  assert.equal(chart.length, 501);
  chart.free();
});

test("bad settings and bad values throw a clear Error and change nothing", () => {
  assert.throws(() => new Chart({ chart: "pie" }), /'pie' is not a chart/);
  assert.throws(() => new Chart({ chart: "ewma", lambda: 2 }), /lambda/);
  assert.throws(() => new Chart({ tests: "1,9" }), /not a test/);
  assert.throws(() => new Chart({ phase1: 5, colour: "red" }), /colour/);
  const chart = new Chart({ phase1: 5 });
  for (const x of [1, 2, 3]) chart.push(x);
  assert.throws(() => chart.push(NaN), /observation 3: NaN is not a finite number/);
  assert.throws(() => chart.pushBatch(new Float64Array([4, Infinity])), /not a finite number/);
  assert.equal(chart.length, 4, "the good value before the bad one is kept, the bad one is not");
  assert.throws(() => chart.pushSubgroup(new Float64Array([1, 2])), /takes/);
});

test("batch analyze returns the chart as a value", () => {
  const values = csv("viscosity.csv").map((r) => Number(r.value));
  const chart = analyze({ chart: "individuals", phase1: 20 }, new Float64Array(values));
  assert.equal(chart.primary.points.length, 35);
  assert.equal(chart.secondary.points[0].index, 1);
  close(chart.estimate.center, 34.088, 1e-9, "mean");
  close(chart.estimate.sigma, 0.5726315789473682 / 1.1283791670955126, 1e-9, "MR-bar/d2");
});

test("false-alarm rates match Champ & Woodall (1987)", () => {
  close(averageRunLength("1", 0).value, 370.4, 0.05, "test 1 alone");
  close(averageRunLength("western-electric", 0).value, 91.75, 0.05, "Western Electric set");
  close(averageRunLength("1", 1).value, 43.89, 0.05, "test 1, 1-sigma shift");
});
