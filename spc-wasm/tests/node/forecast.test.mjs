// The forecast wasm-bindgen API (issue 14), driven from Node.js as a JavaScript user would.
// Run by `cargo xtask test` with node's test runner.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import path from "node:path";

const here = path.dirname(fileURLToPath(import.meta.url));
const pkg = process.env.LLMSCOPE_WASM_PKG ?? path.join(here, "../../../target/wasm-node/llmscope_spc.js");
const { forecast } = createRequire(import.meta.url)(pkg);

/** Deterministic noise in [-1, 1). */
function noise(seed) {
  let state = seed * 2654435761 + 12345;
  return () => ((state = (state * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1;
}

/** 1,000 flat points at 50, then 1,000 rising 0.01 a point: 59.99 at the end, so USL 62 is
 *  about 200 points away. */
function drifting() {
  const e = noise(1);
  return Float64Array.from({ length: 2000 }, (_, i) => 50 + e() + 0.01 * Math.max(0, i - 1000));
}

const flat = () => {
  const e = noise(2);
  return Array.from({ length: 2000 }, () => 50 + e());
};

test("a drift is alerted with its time to the USL; a flat stream is not", () => {
  const [wear, calm] = forecast(
    [
      { name: "press1/temperature", values: drifting() },
      { name: "press2/temperature", values: flat() },
    ],
    { horizon: 400, usl: 62 },
  );
  assert.equal(wear.column, "press1/temperature");
  assert.equal(wear.n, 2000);
  assert.ok(wear.degradation.detected);
  assert.ok(wear.degradation.start >= 900 && wear.degradation.start <= 1100, JSON.stringify(wear.degradation));
  assert.ok(Math.abs(wear.degradation.slope - 0.01) < 0.001, JSON.stringify(wear.degradation));
  const t = wear.time_to_limit;
  assert.equal(t.limit, "usl");
  assert.equal(t.value, 62);
  assert.ok(t.lo80 < 200 && 200 < t.hi80 && t.median > 150 && t.median < 250, JSON.stringify(t));
  assert.ok(t.lo95 <= t.lo80 && t.hi80 <= t.hi95);
  assert.ok(wear.alert && t.probability > 0.99);
  assert.equal(wear.forecast, undefined, "no band unless asked for");
  assert.equal(calm.alert, false);
  assert.equal(calm.time_to_limit.median, null, "not reached within the horizon");
});

test("the band and a stream's own limits", () => {
  const [wear] = forecast([{ name: "x", values: drifting(), lsl: 40, usl: 70 }], {
    horizon: 50,
    usl: 62,
    band: true,
    model: "linear",
  });
  assert.equal(wear.time_to_limit.value, 70, "the stream's own USL");
  assert.equal(wear.forecast.length, 50);
  const s = wear.forecast[0];
  assert.equal(s.index, 2000);
  assert.ok(s.lo95 < s.lo80 && s.lo80 < s.median && s.median < s.hi80 && s.hi80 < s.hi95);
  assert.equal(wear.alert, false, "70 is out of a 50-point reach");
  assert.equal(forecast([]).length, 0);
});

test("bad input is refused with the field named", () => {
  const streams = [{ name: "x", values: drifting() }];
  assert.throws(() => forecast(streams, { horizn: 10 }), /options: unknown field 'horizn'/);
  assert.throws(() => forecast(streams, { horizon: 0 }), /options.horizon/);
  assert.throws(() => forecast(streams, { probability: 2 }), /probability/);
  assert.throws(() => forecast(streams, { model: "arima" }), /options.model/);
  assert.throws(() => forecast(streams, { usl: "80" }), /options.usl: not a finite number/);
  assert.throws(() => forecast(streams, { lsl: 60, usl: 50 }), /streams\[0\] \(x\): .*lower limit/);
  assert.throws(() => forecast([{ name: "y", values: [1, 2, "3"] }]), /streams\[0\].values\[2\]: not a number/);
  assert.throws(() => forecast([{ name: "y", values: [1, 2, 3] }]), /streams\[0\] \(y\)/);
  assert.throws(() => forecast([{ values: [1] }]), /streams\[0\].name/);
  assert.throws(() => forecast([{ name: "z", values: [1], slo: 3 }]), /streams\[0\]: unknown field 'slo'/);
});
