// An asc transform: the global `console` and `abort` of every app are the runtime's (assembly/globals.ts, which
// says how they differ from the WASI shim's). The shim's asconfig.json aliases those names to its own with `use`,
// and asc merges an extended config's `use` after the command line's and ours, so the last word on an alias can't
// be had there; it can here, after parsing (when every @global is declared) and before the program resolves its
// aliases.
const ALIASES = { console: "eventide_console", abort: "eventide_abort" };

export default class NodeGlobals {
  afterParse() {
    const options = this.program.options;
    options.globalAliases ??= new Map();
    for (const [name, target] of Object.entries(ALIASES)) options.globalAliases.set(name, target);
  }
}
