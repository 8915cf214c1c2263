// as-pect runs the AssemblyScript unit tests in tests/as/. The runtime's own WASI calls (clock,
// poll_oneoff) are served by node:wasi, so the loop really runs and waits inside these tests.
const { WASI } = require("node:wasi");

module.exports = {
  entries: ["tests/as/**/*.spec.ts"],
  include: ["tests/as/**/*.include.ts"],
  disclude: [/node_modules/],
  async instantiate(memory, createImports, instantiate, binary) {
    const wasi = new WASI({ version: "preview1", env: {}, args: [] });
    const result = await instantiate(binary, createImports({ env: { memory }, wasi_snapshot_preview1: wasi.wasiImport }));
    wasi.initialize({ exports: { memory: result.exports.memory } }); // binds node:wasi to this memory
    return result;
  },
  outputBinary: false,
};
