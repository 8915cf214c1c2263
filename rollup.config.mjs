// The host bundle: host/*.ts → dist/host/ (ES modules + declarations). Node built-ins stay external.
import typescript from "@rollup/plugin-typescript";
import { builtinModules } from "node:module";

const external = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

export default {
  input: {
    index: "host/index.ts",
    cli: "host/cli.ts",
    shim: "host/shim.ts", // for tests/host/shim.test.mjs
    "engines/node-worker": "host/engines/node/worker.ts", // the Node engine's guest thread (engines/node.ts loads it)
    "cluster/holder-thread": "host/cluster/holder-thread.ts", // holds a cluster's listeners (cluster/hold.ts loads it)
    "cluster/node-worker": "host/cluster/node-worker.ts", // a Node-engine worker process (cluster/worker.ts starts it)
  },
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
