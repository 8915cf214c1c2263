// Runs tests/apps/codec-harness under an engine with a mode and inputs; resolves with its output lines.
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

export async function harness(engine, mode, inputs) {
  const app = await startApp("dist/tests/apps/codec-harness.wasm", { engine, listen: false, args: [mode, ...inputs] });
  const { code } = await within(app.exited, 30_000, "codec-harness");
  if (code !== 0) throw new Error(`codec-harness exited with ${code}: ${app.stderr}`);
  return app.stdout.split("\n").slice(0, -1);
}
