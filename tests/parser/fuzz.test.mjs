// 1,000,000 random and mutated inputs through the wasm parser (fixed seed): no trap, memory bounded, every
// result well-formed. Inputs sit flush against the end of linear memory, so an over-read would trap.
// EVENTIDE_FUZZ_ITERATIONS=N (and EVENTIDE_FUZZ_SEED) run longer or different campaigns.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { loadEventideParser, ERRORS } from "./harness.mjs";
import { VALID, INVALID, mutate, prng } from "./corpus.mjs";

const ITERATIONS = Number(process.env.EVENTIDE_FUZZ_ITERATIONS ?? 1_000_000);
const SEED = Number(process.env.EVENTIDE_FUZZ_SEED ?? 1);

describe("parser fuzzing", () => {
  it(`survives ${ITERATIONS} random and mutated inputs with bounded memory`, () => {
    const parser = loadEventideParser();
    const seeds = [...VALID, ...INVALID].map((s) => Buffer.from(s, "latin1"));
    const rnd = prng(SEED);
    const random = Buffer.alloc(4096);
    const counts = { complete: 0, incomplete: 0, error: 0 };
    let peak = 0;
    for (let i = 0; i < ITERATIONS; i++) {
      let input;
      const pick = rnd();
      if (pick < 0.15) {
        const n = Math.floor(rnd() * random.length);
        for (let k = 0; k < n; k++) random[k] = Math.floor(rnd() * 256);
        input = random.subarray(0, n);
      } else {
        input = seeds[Math.floor(rnd() * seeds.length)];
        for (let rounds = 1 + Math.floor(rnd() * 4); rounds > 0; rounds--) input = mutate(input, rnd);
      }
      const kind = rnd() < 0.2 ? "response" : "request";
      const chunk = rnd() < 0.3 ? 1 + Math.floor(rnd() * 16) : input.length;
      const r = parser.parse(input, { kind, chunk });
      counts[r.state]++;
      if (r.state === "error") assert.ok(ERRORS.includes(r.error) && r.error !== "NONE", `bad error code for ${JSON.stringify(input.toString("latin1"))}`);
      assert.ok(r.consumed >= 0 && r.consumed <= input.length, "consumed out of range");
      if ((i & 0xffff) === 0) peak = Math.max(peak, parser.exports.memory.buffer.byteLength);
    }
    peak = Math.max(peak, parser.exports.memory.buffer.byteLength);
    console.log(`# ${ITERATIONS} inputs: ${JSON.stringify(counts)}; linear memory ${peak} bytes`);
    assert.ok(peak <= 16 << 20, `linear memory grew to ${peak} bytes`);
    assert.ok(counts.complete > 0 && counts.error > 0 && counts.incomplete > 0);
  });
});
