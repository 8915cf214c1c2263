// A Node-engine worker process of a cluster (host/cluster/worker.ts starts it): the Node engine on the listening
// sockets inherited as fds 3, 4, … and the control listener after them, so the guest sees what it sees under
// wasmtime. It exits with the app's exit code.
import type { AppOptions } from "../engines/engine.js";
import { startNodeEngine } from "../engines/node.js";

/** argv[2], as JSON: the app, and how many listening sockets it inherits as fds 3, 4, … (the control one is next). */
export type NodeWorkerSetup = AppOptions & { listeners: number };

const setup = JSON.parse(process.argv[2]) as NodeWorkerSetup;
const { listeners, ...app } = setup;
const engine = await startNodeEngine({
  ...app, listen: Array.from({ length: listeners }, (_, i) => ({ fd: 3 + i })), control: { fd: 3 + listeners },
});
process.exitCode = await engine.exited;
