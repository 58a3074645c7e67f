// The explain wasm-bindgen API (issue 13), driven from Node.js as a JavaScript user would.
// Run by `cargo xtask test` with node's test runner.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const pkg = process.env.LLMSCOPE_WASM_PKG ?? path.join(here, "../../../target/wasm-node/llmscope_spc.js");
const { explain } = createRequire(import.meta.url)(pkg);

/** Deterministic noise in [-1, 1). */
function noise(seed) {
  let state = seed * 2654435761 + 12345;
  return () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
}

/** A press: the temperature steps with its setpoint at 200; the pressure never moves. */
function press() {
  const [a, b] = [noise(1), noise(2)];
  const setpoint = Float64Array.from({ length: 300 }, (_, i) => (i >= 200 ? 65 : 60));
  const temperature = setpoint.map((sp) => sp - 10 + a());
  const pressure = Array.from({ length: 300 }, () => 120 + 3 * b());
  return [
    { name: "temperature", values: temperature },
    { name: "pressure", values: pressure },
    { name: "setpoint", values: setpoint },
  ];
}

test("a step is explained with its setpoint first in what else changed", () => {
  const [temperature] = explain(press(), {
    columns: [0],
    chart: { chart: "individuals", phase1: 150 },
    domain: "plant",
  });
  assert.equal(temperature.column, "temperature");
  const e = temperature.episodes.find((e) => e.first >= 195 && e.first <= 205);
  assert.ok(e, JSON.stringify(temperature.episodes.map((e) => [e.first, e.last])));
  assert.equal(e.shape, "step");
  assert.equal(e.co_moving[0].stream, "setpoint");
  assert.ok(e.co_moving[0].statistic > 0.9 && e.co_moving[0].p_value < 1e-6);
  assert.equal(e.suggestions[0].cause, "setpoint change");
  for (const field of ["tests", "evidence", "similar"]) assert.ok(field in e, field);
});

test("a long episode still finds its partner (a window times its baseline past 2^32)", () => {
  // 40,000 stepped points after 140,000: KS D counts m·n = 5.6e9 pairs, beyond wasm's usize.
  const [a, b] = [noise(3), noise(4)];
  const length = 180_000;
  const setpoint = Float64Array.from({ length }, (_, i) => (i >= 140_000 ? 65 : 60));
  const temperature = setpoint.map((sp) => sp - 10 + a());
  const pressure = Float64Array.from({ length }, () => 120 + 3 * b());
  const streams = [
    { name: "temperature", values: temperature },
    { name: "pressure", values: pressure },
    { name: "setpoint", values: setpoint },
  ];
  const [report] = explain(streams, { chart: { phase1: 150 }, domain: "plant" });
  const e = report.episodes.find((e) => e.first >= 139_990 && e.first <= 140_010);
  assert.ok(e, JSON.stringify(report.episodes.map((e) => [e.first, e.last])));
  assert.ok(e.last - e.first > 39_000, `${e.first}..${e.last}`);
  assert.equal(e.co_moving[0].stream, "setpoint");
  assert.ok(e.co_moving[0].statistic > 0.99, JSON.stringify(e.co_moving));
  for (const c of e.co_moving) assert.ok(c.statistic >= 0 && c.statistic <= 1, JSON.stringify(c));
});

test("every column asked for is explained, with the defaults", () => {
  const all = explain(press(), { columns: [0, 1], chart: { phase1: 150 } });
  assert.deepEqual(all.map((c) => c.column), ["temperature", "pressure"]);
  assert.equal(explain(press()).length, 1, "column 0 by default");
});

test("bad input is refused with the field named", () => {
  const streams = press();
  assert.throws(() => explain(streams, { column: 0 }), /options: unknown field 'column'/);
  assert.throws(() => explain(streams, { columns: [3] }), /options.columns\[0\]: not a stream index/);
  assert.throws(() => explain(streams, { domain: "factory" }), /options.domain/);
  assert.throws(
    () => explain(streams, { chart: { chart: "xbar-r" } }),
    /use individuals, ewma or cusum/,
  );
  const bad = [{ name: "x", values: [1, 2, "3"] }];
  assert.throws(() => explain(bad), /streams\[0\].values\[2\]: not a number/);
  assert.throws(() => explain([{ values: [1] }]), /streams\[0\].name/);
});
