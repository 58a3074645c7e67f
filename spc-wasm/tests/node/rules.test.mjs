// The rule language's wasm-bindgen API (issue 16), driven from Node.js as a rule editor would.
// Run by `cargo xtask test` (which builds target/wasm-node/ first) with node's test runner.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const pkg = process.env.LLMSCOPE_WASM_PKG ?? path.join(here, "../../../target/wasm-node/llmscope_spc.js");
const { checkRules, Chart } = createRequire(import.meta.url)(pkg);

test("a rule set's false-alarm rate in words, and the ARL it comes from", () => {
  const we = checkRules("western-electric");
  assert.equal(we.ok, true);
  assert.deepEqual(we.tests, [1, 2, 5, 6]);
  assert.equal(we.words, "this set alarms falsely about every 92 points");
  assert.ok(Math.abs(we.arl.value - 91.75) < 0.01, `${we.arl.value}`);
  const westgard = checkRules("westgard");
  assert.deepEqual(westgard.rules.map((r) => r.name), ["1-2s", "1-3s", "2-2s", "R-4s", "4-1s", "10-x"]);
  assert.equal(westgard.rules[0].warning, true);
  assert.equal(westgard.arl.method, "markov-chain");
});

test("a bad rule answers where it is wrong instead of throwing", () => {
  const bad = checkRules("ok: 1 beyond 3s; a: 2 of 2 beyond x");
  assert.equal(bad.ok, false);
  assert.equal(bad.error.line, 1);
  assert.equal(bad.error.column, 35);
  assert.match(bad.error.message, /rule 'a': expected a distance in sigma/);
  assert.throws(() => checkRules("a: 1 above 2500", 10), /center and sigma/);
  const slo = checkRules("slow: 1 above usl", 2000, 100, undefined, 2300);
  assert.ok(Math.abs(slo.arl.value - 740.8) < 0.1, `${slo.arl.value}`);
});

test("a chart with named rules returns their signals by name, Nelson's tests by number", () => {
  const chart = new Chart({ chart: "individuals", mu: 0, sigma: 1, tests: "1; 2-2s: 2 of 2 beyond 2s" });
  assert.deepEqual(chart.push(3.5), [{ chart: "primary", test: 1, index: 0, first: 0, last: 0 }]);
  assert.deepEqual(chart.push(2.5), [{ chart: "primary", rule: "2-2s", index: 1, first: 0, last: 1 }]);
  // Westgard's preset: 1-2s is a warning, and says so; at a point, the set's order.
  const westgard = new Chart({ chart: "individuals", mu: 0, sigma: 1, tests: "westgard" });
  assert.deepEqual(westgard.pushBatch(new Float64Array([0.5, 2.5])), [
    { chart: "primary", rule: "1-2s", index: 1, first: 1, last: 1, warning: true },
  ]);
  assert.deepEqual(westgard.push(2.5).map((s) => s.rule), ["1-2s", "2-2s"]);
  // Packed, a named rule is test 9 + its place in the set (checkRules' order): 2-2s is 9 + 2.
  assert.deepEqual([...westgard.pushBatchPacked(new Float64Array([2.5]))], [0, 9, 3, 3, 0, 11, 3, 2]);
  assert.equal(westgard.signals().length, 5);
  assert.equal(westgard.signals()[4].rule, "2-2s");
});
