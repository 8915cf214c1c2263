// Test app for --memory-limit: one callback that keeps allocating and never returns, so only a hard cap on
// linear memory stops it (a check between callbacks never gets the chance).
import { setTimeout } from "eventide/timers";

const kept = new Array<ArrayBuffer>();

setTimeout(() => {
  console.log("allocating");
  while (true) kept.push(new ArrayBuffer(1 << 20)); // zero-filled, so every page is touched
}, 0);
