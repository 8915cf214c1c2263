// When garbage is collected. The runtime is AssemblyScript's stop-the-world collector ("minimal"): no write
// barrier on every reference store and no shadow stack of references around every call, which makes a
// request a third cheaper than under the incremental collector. It cannot see references held only on the
// wasm stack, so it runs only where the loop holds none: between callbacks (nginx frees a request's memory
// pool at the same kind of boundary). What one callback allocates stays until it returns.
import { Runtime } from "shared/runtime";

/** Garbage allowed beyond the live heap before a collection, so a small heap is not collected constantly. */
const SLACK: usize = 256 << 10;

let threshold: usize = SLACK;

/**
 * Bytes the collector holds, live or not yet swept. A stub: the build (scripts/heap-counter.mjs) replaces its
 * body with a read of the runtime's own counter, which AssemblyScript keeps private.
 */
function allocatedBytes(): usize {
  abort("built without scripts/heap-counter.mjs: use scripts/build.mjs or `eventide build`");
  return 0;
}

/**
 * The loop calls this after each callback (or phase of callbacks), with no reference on its stack. Collects
 * once the heap holds as much garbage as it held live data after the last collection (plus SLACK), the
 * incremental collector's default pacing.
 */
export function afterCallback(): void {
  if (ASC_RUNTIME != Runtime.Minimal) return; // the incremental collector (as-pect's builds) paces itself
  if (allocatedBytes() < threshold) return;
  __collect();
  threshold = allocatedBytes() * 2 + SLACK;
}
