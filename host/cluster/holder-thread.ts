// The thread that holds the cluster's listening sockets (host/cluster/hold.ts): it binds them, reports their fds
// and ports, then blocks in Atomics.wait for good. Its libuv loop never turns again, so it never accepts a
// connection: every connection waits in the kernel's queue for a worker process holding the same socket.
import { workerData, parentPort } from "node:worker_threads";
import { bindListeners, type ListenAddress, type ListenTarget } from "../listeners.js";
import { EventideError } from "../errors.js";
import { serverFd } from "./control.js";

export interface HolderSetup {
  addresses: ListenTarget[];
  /** One Int32 that never changes: the wait has nothing to wake it, only Worker.terminate() ends it. */
  block: SharedArrayBuffer;
}

export type HolderReport =
  | { listeners: Array<{ fd: number; address: ListenAddress }> }
  | { error: { code: EventideError["code"]; message: string; fix: string } };

const setup = workerData as HolderSetup;
try {
  const bound = await bindListeners(setup.addresses);
  parentPort!.postMessage({ listeners: bound.map((l) => ({ fd: serverFd(l.server), address: l.address })) } satisfies HolderReport);
  Atomics.wait(new Int32Array(setup.block), 0, 0);
} catch (err) {
  const e = err as EventideError;
  parentPort!.postMessage({ error: { code: e.code, message: e.message.split("\n  fix: ")[0], fix: e.fix } } satisfies HolderReport);
}
