// Runs tests/apps/codec-harness under an engine with a mode and inputs; resolves with its output lines.
// Test files name the app themselves (APP below), so the mutation check knows what to rebuild.
import { startApp, within } from "../helpers/engines.mjs";

/** As the harness writes: every character outside printable ASCII, and "\\", as \uXXXX. */
export function escaped(s) {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    out += c >= 0x20 && c < 0x7f && c !== 0x5c ? s[i] : "\\u" + c.toString(16).padStart(4, "0");
  }
  return out;
}

/**
 * Runs the harness on `inputs` (`perCase` arguments make one case, one output line), `batch` cases per run: each
 * run's output must fit a pipe's buffer (64 KiB), because under the Node engine a console.log into a full
 * stdout pipe aborts the app (wasi-shim's fd_write gets EAGAIN).
 */
export async function harness(app, engine, mode, inputs, { perCase = 1, batch = 100 } = {}) {
  const lines = [];
  for (let at = 0; at < inputs.length; at += batch * perCase) {
    const args = inputs.slice(at, at + batch * perCase);
    const run = await startApp(app, { engine, listen: false, args: [mode, ...args] });
    const { code } = await within(run.exited, 30_000, "codec-harness");
    if (code !== 0) throw new Error(`codec-harness exited with ${code}: ${run.stderr}`);
    lines.push(...run.stdout.split("\n").slice(0, -1));
  }
  return lines;
}
