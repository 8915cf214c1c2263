// The host bundle: host/*.ts → dist/host/ (ES modules + declarations). Node built-ins stay external.
import typescript from "@rollup/plugin-typescript";
import { builtinModules } from "node:module";

const external = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

export default {
  input: { index: "host/index.ts", cli: "host/cli.ts", shim: "host/shim.ts" }, // shim: for tests/host/shim.test.mjs
  external,
  output: {
    dir: "dist/host",
    format: "es",
    entryFileNames: "[name].js",
    chunkFileNames: "[name]-[hash].js",
    banner: (chunk) => (chunk.name === "cli" ? "#!/usr/bin/env node" : ""),
  },
  plugins: [typescript({ tsconfig: "./tsconfig.json" })],
};
