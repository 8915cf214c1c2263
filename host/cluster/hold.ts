// The primary binds each listening address once and keeps it open for the workers it starts, now and as
// replacements, without ever accepting on it itself (docs/architecture.md, "Workers").
import { Worker } from "node:worker_threads";
import type { ListenAddress, ListenTarget } from "../listeners.js";
import { EventideError } from "../errors.js";
import type { HolderReport, HolderSetup } from "./holder-thread.js";

/** The holding thread, as bundled beside this file's chunk (rollup.config.mjs). */
const HOLDER_ENTRY = new URL("./cluster/holder-thread.js", import.meta.url);

export interface HeldListener {
  /** The listening socket's fd in this process: pass it in spawn's stdio array. */
  fd: number;
  address: ListenAddress;
}

export interface HeldListeners {
  listeners: HeldListener[];
  /** Closes the sockets (ends the holding thread). */
  release(): Promise<void>;
}

/**
 * Binds `addresses` on a thread that then blocks for good (a socket bound on this thread would be accepted on by
 * its event loop). Rejects with EventideError EVENTIDE_E_ADDR_IN_USE or EVENTIDE_E_LISTEN, as bindListeners does.
 */
export async function holdListeners(addresses: ListenTarget[]): Promise<HeldListeners> {
  const setup: HolderSetup = { addresses, block: new SharedArrayBuffer(4) };
  const thread = new Worker(HOLDER_ENTRY, { workerData: setup });
  const report = await new Promise<HolderReport>((resolve, reject) => {
    thread.once("message", resolve);
    thread.once("error", reject);
  });
  thread.unref(); // blocked for good from now on: it must not keep this process alive
  if ("error" in report) {
    await thread.terminate();
    throw new EventideError(report.error.code, report.error.message, report.error.fix);
  }
  return { listeners: report.listeners, release: () => thread.terminate().then(() => undefined) };
}
