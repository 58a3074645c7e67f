// The comparison's wasm-bindgen API (issue 12), driven from Node.js as a JavaScript user would:
// compare, recommend, oddMachines, shiftTest. Run by `cargo xtask test` with node's test runner.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const pkg = process.env.LLMSCOPE_WASM_PKG ?? path.join(here, "../../../target/wasm-node/llmscope_spc.js");
const { compare, recommend, oddMachines, shiftTest } = createRequire(import.meta.url)(pkg);
const fixtures = JSON.parse(readFileSync(path.join(here, "../fixtures/compare/compare.json"), "utf8"));

function close(actual, expected, tol, what) {
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: got ${actual}, expected ${expected} ± ${tol}`);
}

/** Deterministic log-normal-ish latencies around `median`. */
function latencies(n, median, seed) {
  let state = seed * 2654435761 + 12345;
  const next = () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648);
  return Float64Array.from({ length: n }, () => median * Math.exp(0.3 * (next() + next() + next() + next() - 2)));
}

test("shiftTest matches R's wilcox.test on every fixture, from typed arrays and plain arrays", () => {
  for (const c of fixtures.pairs) {
    // Unsorted on purpose: the API sorts.
    const x = Float64Array.from(c.x).reverse();
    const t = shiftTest(x, c.y, 0.95);
    assert.deepEqual(Object.keys(t), ["shift", "lo", "hi", "p_value", "w", "exact"]);
    assert.equal(t.exact, c.exact, `${c.name}: branch`);
    assert.equal(t.w, c.w, `${c.name}: W`);
    close(t.p_value, c.p_value, 1e-9 * c.p_value, `${c.name}: p`);
    close(t.shift, c.hl_median, 1e-9 * Math.max(1, Math.abs(c.hl_median)), `${c.name}: HL`);
    const tol = c.exact ? 1e-9 * Math.max(100, Math.abs(c.hl_median)) : 2e-4;
    close(t.lo, c.lo, tol, `${c.name}: lo`);
    close(t.hi, c.hi, tol, `${c.name}: hi`);
  }
  assert.throws(() => shiftTest([1, 2], [3, NaN]), /b\[1\]: NaN is not a finite number/);
  assert.throws(() => shiftTest([1, "2"], [3]), /a\[1\]: not a number/);
  assert.throws(() => shiftTest([1, 2], [3], 1.5), /confidence/);
  assert.throws(() => shiftTest([], [3]), /sample a is empty/);
});

test("compare finds a known shift, names it in words, and keeps the contract's fields", () => {
  const fast = latencies(400, 300, 1);
  const slow = latencies(400, 360, 2);
  const same = latencies(400, 300, 3);
  const result = compare(
    [
      { name: "A", values: fast, requests: 404, errors: 4 },
      { name: "B", values: Array.from(slow) },
      { name: "C", values: same, quality: { passed: 9, judged: 10 } },
    ],
    { metric: "TTFT", unit: "ms" },
  );
  assert.equal(result.metric, "TTFT");
  assert.deepEqual(result.targets.map((t) => t.name), ["A", "B", "C"]);
  const a = result.targets[0];
  assert.equal(a.n, 404);
  assert.equal(a.n_ok, 400);
  close(a.error_rate.value, 4 / 404, 1e-12, "A's error rate");
  assert.ok(a.p95.lo <= a.p95.value && a.p95.value <= a.p95.hi, "P95 inside its interval");
  assert.equal(result.targets[1].n, 400, "requests default to the values");
  close(result.targets[2].pass_rate.value, 0.9, 1e-12, "C's pass rate");
  assert.equal(result.pairs.length, 3);
  const ab = result.pairs.find((p) => p.a === "A" && p.b === "B");
  for (const k of ["a", "b", "shift", "lo", "hi", "p_value", "significant"]) assert.ok(k in ab, k);
  assert.ok(ab.significant && ab.hi < 0, "A is faster than B");
  assert.match(ab.words, /^A's TTFT is [\d.]+ ms lower than B's \(95% CI [\d.]+–[\d.]+ ms\)$/);
  // The pair's numbers are shiftTest's, Holm-adjusted p aside.
  const alone = shiftTest(fast, slow, 0.95);
  assert.equal(ab.shift, alone.shift);
  assert.equal(ab.lo, alone.lo);
  assert.equal(ab.hi, alone.hi);
  const ac = result.pairs.find((p) => p.a === "A" && p.b === "C");
  assert.equal(ac.significant, false);
  assert.match(ac.words, /^no detectable difference/);

  const against = compare([{ name: "A", values: fast }, { name: "B", values: slow }, { name: "C", values: same }], {
    reference: 2,
  });
  assert.deepEqual(against.pairs.map((p) => [p.a, p.b]), [["C", "A"], ["C", "B"]]);
});

test("compare names the bad argument and field instead of panicking", () => {
  const ok = { name: "A", values: [1, 2, 3] };
  assert.throws(() => compare("x"), /streams: not an array/);
  assert.throws(() => compare([ok, { values: [1] }]), /streams\[1\]\.name: missing or not a string/);
  assert.throws(() => compare([ok, { name: "B", values: [1, "x"] }]), /streams\[1\]\.values\[1\]: not a number/);
  assert.throws(() => compare([ok, { name: "B", values: 7 }]), /streams\[1\]\.values: not an array/);
  assert.throws(() => compare([{ ...ok, errors: -1 }]), /streams\[0\]\.errors: -1 is not a count/);
  assert.throws(() => compare([{ ...ok, requests: "10" }]), /streams\[0\]\.requests: not a number/);
  assert.throws(() => compare([{ ...ok, valeus: [] }]), /streams\[0\]: unknown field 'valeus'/);
  assert.throws(() => compare([{ ...ok, quality: { passed: 1 } }]), /streams\[0\]\.quality\.judged: missing/);
  assert.throws(() => compare([ok], { confidence: "high" }), /options\.confidence: invalid type/);
  assert.throws(() => compare([ok], { confidense: 0.9 }), /options: unknown field 'confidense'/);
  assert.throws(() => compare([ok], { reference: 4 }), /stream 4 does not exist/);
  assert.throws(() => compare([{ name: "A", values: [1, NaN] }]), /stream "A": value 1 is NaN/);
  assert.throws(() => compare([{ ...ok, requests: 2 }]), /3 values but only 2 successful requests/);
});

test("recommend ranks candidates, honours constraints and uses the latency pairs", () => {
  const iv = (value, lo, hi) => ({ value, lo, hi });
  const candidates = [
    { name: "fast", n: 500, latency: iv(300, 290, 310), error_rate: iv(0.01, 0.005, 0.02), cost_per_success: 0.002, in_control: true },
    { name: "cheap", n: 500, latency: iv(600, 580, 620), error_rate: iv(0.05, 0.04, 0.07), cost_per_success: 0.0005, in_control: true },
    { name: "drifty", n: 500, latency: iv(200, 150, 260), error_rate: iv(0.01, 0.005, 0.02), cost_per_success: 0.001, in_control: false },
  ];
  const strict = recommend(candidates, { max_latency: 500, max_error_rate: 0.02 }, { cost: 1, latency: 1, speed: 0, quality: 0 });
  assert.equal(strict.recommendation.name, "fast");
  assert.ok(strict.recommendation.caveats.some((c) => c.includes("drifty")), "the unstable one is called out");
  assert.ok(!strict.pareto.includes("drifty"), "out of control is off the frontier");
  const thrifty = recommend(candidates, undefined, { cost: 4, latency: 1, speed: 0, quality: 0 }, { latency: "P95 TTFT" }, []);
  assert.equal(thrifty.recommendation.name, "cheap");
  assert.deepEqual(thrifty.ranking.map((r) => r.name).slice(0, 2), ["cheap", "fast"]);

  assert.throws(() => recommend({}), /candidates: not an array/);
  assert.throws(() => recommend([{ ...candidates[0], latncy: 1 }]), /candidates\[0\]: unknown field 'latncy'/);
  assert.throws(() => recommend([{ ...candidates[0], n: "many" }]), /candidates\[0\]\.n: invalid type/);
  assert.throws(() => recommend(candidates, { max_latency: "fast" }), /constraints\.max_latency: invalid type/);
  assert.throws(() => recommend(candidates, undefined, { costs: 1 }), /weights: unknown field 'costs'/);
  assert.throws(() => recommend(candidates, undefined, { cost: -1 }), /weight/);
  assert.throws(() => recommend(candidates, undefined, undefined, undefined, [{ a: "fast" }]), /latencyPairs\[0\]: missing field/);
});

test("oddMachines flags the one press unlike its peers, with its evidence", () => {
  const machines = Array.from({ length: 12 }, (_, i) => ({
    name: `press-${i}`,
    values: latencies(200, i === 7 ? 420 : 300 + (i % 3), 10 + i),
  }));
  const report = oddMachines(machines, "ms");
  assert.deepEqual(report.odd, ["press-7"]);
  const seven = report.machines.find((m) => m.name === "press-7");
  assert.ok(seven.odd && seven.z > 3.5, `z = ${seven.z}`);
  assert.equal(report.enough, true);
  assert.equal(oddMachines(machines.slice(0, 3)).enough, false, "three machines are not judged");
  assert.throws(() => oddMachines([{ name: "p", values: [1], extra: 1 }]), /machines\[0\]: unknown field 'extra'/);
  assert.throws(() => oddMachines([{ name: 5, values: [1] }]), /machines\[0\]\.name: missing or not a string/);
});
