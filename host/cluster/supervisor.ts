// The primary of a cluster (docs/architecture.md, "Workers"): N workers sharing the listening sockets it holds,
// each restarted when it ends unasked (with a capped exponential back-off, and not at all once it crashes in a
// loop), stopped by draining over its control channel, replaced one at a time on a rolling restart, and killed
// when its loop stops turning (the watchdog). One line per lifecycle event goes to `log`.
import { EventEmitter } from "node:events";
import { FORCED_STOP_EXIT_CODE, type StopOutcome } from "../engines/engine.js";
import { startWorker, type ClusterWorker, type WorkerTemplate } from "./worker.js";
import type { HeldListeners } from "./hold.js";

const BACKOFF_FIRST_MS = 100;
const BACKOFF_MAX_MS = 5000;
/** A worker that served this long before it ended starts its slot's back-off afresh. */
const BACKOFF_RESET_AFTER_MS = 10_000;
/** CRASH_LOOP_COUNT ends of a slot's workers within CRASH_LOOP_WINDOW_MS: the slot is given up. */
const CRASH_LOOP_COUNT = 5;
const CRASH_LOOP_WINDOW_MS = 10_000;
/**
 * How long a worker may take to become ready (its app's script run, wasmtime's compilation included): the watchdog
 * kills one that takes longer (a script that never returns), and a rolling restart then keeps the old worker.
 */
const READY_WITHIN_MS = 30_000;
/** How often each worker is told its share of the open connections (BALANCE), as heartbeats come. */
const BALANCE_EVERY_MS = 250;

export interface ClusterOptions {
  workers: number;
  /** Kill a ready worker from which no frame came for this long (ms); 0: never. */
  watchdogMs: number;
  template: WorkerTemplate;
  held: HeldListeners;
  /** Where the lifecycle lines go. */
  log: (line: string) => void;
}

interface Slot {
  id: number;
  worker: ClusterWorker | undefined;
  /** Ends of this slot's workers that were not asked for (performance.now(), ms), for the crash-loop rule. */
  crashes: number[];
  /** Ends in a row without a worker serving BACKOFF_RESET_AFTER_MS: the exponent of the back-off. */
  failures: number;
  restartTimer: NodeJS.Timeout | undefined;
  gaveUp: boolean;
  /** Set while a rolling restart starts this slot's replacement: an end of the old worker is not restarted. */
  replacing: boolean;
}

/**
 * Emits 'worker-start' (worker) when a worker process has started, 'worker-ready' (worker) when its app listens,
 * 'worker-exit' (worker, code: number | null, signal: string | null), and 'message' (worker, data: string | Buffer).
 */
export class Cluster extends EventEmitter {
  /** Resolves with the primary's exit code: 0 after a clean drain, 124 after a forced stop, 1 when every slot gave up. */
  readonly exited: Promise<number>;
  private resolveExit!: (code: number) => void;
  private readonly slots: Slot[] = [];
  private readonly live = new Set<ClusterWorker>();
  private stopping: Promise<StopOutcome> | undefined;
  private ended = false;
  /** kill() ended workers: a stop is then forced. */
  private killed = false;
  private readonly balancer: NodeJS.Timeout;
  private rolling: Promise<void> = Promise.resolve();

  constructor(private readonly options: ClusterOptions) {
    super();
    this.exited = new Promise((resolve) => (this.resolveExit = resolve));
    // A worker outlives a primary that dies only by its drain (the channel's end is its STOP), but a worker
    // whose loop never turns would not notice: when this process exits, whatever is left is killed.
    process.on("exit", this.killOnExit);
    this.balancer = setInterval(() => this.balance(), BALANCE_EVERY_MS);
    this.balancer.unref();
    for (let id = 1; id <= options.workers; id++) {
      this.slots.push({ id, worker: undefined, crashes: [], failures: 0, restartTimer: undefined, gaveUp: false, replacing: false });
    }
  }

  /** Worker memory is not visible from the primary. */
  memoryBytes(): undefined {
    return undefined;
  }

  /** The current worker of each slot that has one, by id. */
  get workers(): ClusterWorker[] {
    return this.slots.flatMap((s) => (s.worker ? [s.worker] : []));
  }

  /** Starts every worker; resolves once each is ready or its slot gave up. */
  async start(): Promise<void> {
    await Promise.all(this.slots.map((slot) => this.startSlot(slot)));
    await Promise.all(this.slots.map((slot) => this.readyOrGivenUp(slot)));
  }

  /** Sends `data` to every current worker but `except`; see ClusterWorker.send for its errors. */
  broadcast(data: string | Uint8Array, except?: ClusterWorker): void {
    for (const worker of this.workers) if (worker !== except) worker.send(data);
  }

  /**
   * Drains every worker (STOP) and waits for all to end; those left after `graceMs` are killed ("forced").
   * A second call returns the first one's result.
   */
  stop(graceMs: number): Promise<StopOutcome> {
    this.stopping ??= (async () => {
      for (const slot of this.slots) clearTimeout(slot.restartTimer);
      for (const worker of this.live) worker.stop();
      const force = setTimeout(() => this.kill(), graceMs);
      await this.allEnded();
      clearTimeout(force);
      const outcome: StopOutcome = this.killed ? "forced" : "graceful";
      this.finish(outcome === "forced" ? FORCED_STOP_EXIT_CODE : 0);
      return outcome;
    })();
    return this.stopping;
  }

  /** SIGKILL to every worker at once (a second SIGINT/SIGTERM); a stop that comes to this is forced. */
  kill(): void {
    for (const slot of this.slots) clearTimeout(slot.restartTimer);
    this.killed ||= this.live.size > 0;
    for (const worker of this.live) worker.kill();
  }

  /**
   * Rolling restart: for each slot in turn, starts a replacement, waits until it is ready, then drains the old
   * worker (killed after `graceMs`). A replacement that fails to become ready is ended and the old worker kept.
   * A slot that gave up is started afresh.
   */
  restart(graceMs: number): Promise<void> {
    // One roll at a time: a restart asked for during one (a second SIGHUP) follows it.
    this.rolling = this.rolling.then(() => this.roll(graceMs));
    return this.rolling;
  }

  private async roll(graceMs: number): Promise<void> {
    for (const slot of this.slots) {
      if (this.stopping) return;
      const old = slot.worker;
      if (!old || !old.alive) {
        Object.assign(slot, { crashes: [], failures: 0, gaveUp: false });
        clearTimeout(slot.restartTimer);
        await this.startSlot(slot);
        continue;
      }
      slot.replacing = true;
      const next = await this.spawn(slot.id);
      const ready = await this.whenReady(next, READY_WITHIN_MS);
      slot.replacing = false;
      if (!ready) {
        this.log(next, `did not become ready; keeping worker ${slot.id} (pid ${old.pid})`);
        next.kill();
        if (!old.alive && slot.worker === old) await this.startSlot(slot); // it ended meanwhile
        continue;
      }
      slot.worker = next;
      if (old.alive) await this.drain(old, graceMs);
    }
  }

  /**
   * Workers sharing a listener don't share its connections evenly by themselves (docs/architecture.md): each
   * ready worker is told ⌈open connections of all ÷ ready workers⌉ and sheds what it holds beyond that.
   */
  private balance(): void {
    const ready = [...this.live].filter((w) => w.ready && !w.draining);
    // Alone, a worker has no sibling to leave connections to: 0 lifts its limit.
    const share = ready.length < 2 ? 0 : Math.ceil(ready.reduce((sum, w) => sum + w.connections, 0) / ready.length);
    for (const worker of ready) worker.balance(share);
  }

  private async startSlot(slot: Slot): Promise<void> {
    slot.restartTimer = undefined;
    if (this.stopping) return;
    slot.worker = await this.spawn(slot.id);
  }

  private async spawn(id: number): Promise<ClusterWorker> {
    const worker = await startWorker(id, this.options.template);
    this.live.add(worker);
    this.log(worker, "started");
    this.watch(worker);
    worker.on("ready", () => {
      this.log(worker, "ready");
      this.emit("worker-ready", worker);
      this.emit("slot-settled");
    });
    worker.on("message", (data: string | Buffer) => this.emit("message", worker, data));
    worker.on("exit", (code: number | null, signal: string | null) => this.onExit(worker, code, signal));
    this.emit("worker-start", worker);
    return worker;
  }

  /**
   * The watchdog: a ready worker that sends no frame (heartbeats come every 250 ms) for watchdogMs, or one not ready
   * within READY_WITHIN_MS, is killed.
   */
  private watch(worker: ClusterWorker): void {
    const limit = this.options.watchdogMs;
    if (limit <= 0) return;
    const spawnedAt = performance.now();
    const check = setInterval(() => {
      if (!worker.alive) return clearInterval(check);
      const now = performance.now();
      if (worker.ready ? now - worker.lastFrameAt < limit : now - spawnedAt < READY_WITHIN_MS) return;
      clearInterval(check);
      this.log(worker, worker.ready ? `killed by the watchdog: no heartbeat for ${limit} ms`
        : `killed by the watchdog: not ready after ${READY_WITHIN_MS} ms`);
      worker.kill();
    }, Math.min(250, limit / 4));
    check.unref();
  }

  private onExit(worker: ClusterWorker, code: number | null, signal: string | null): void {
    this.live.delete(worker);
    const how = code !== null ? `exited with code ${code}` : `was ended by ${signal}`;
    const why = worker.lastError && code !== 0 ? `: ${worker.lastError}` : "";
    this.log(worker, how + why);
    this.emit("worker-exit", worker, code, signal);
    const slot = this.slots[worker.id - 1];
    if (this.stopping || slot.worker !== worker || slot.replacing) {
      if (this.live.size === 0) this.emit("all-ended");
      return;
    }
    slot.worker = undefined;
    const now = performance.now();
    slot.crashes = [...slot.crashes.filter((t) => now - t < CRASH_LOOP_WINDOW_MS), now];
    if (slot.crashes.length >= CRASH_LOOP_COUNT) {
      slot.gaveUp = true;
      this.options.log(`eventide: worker ${slot.id} ended ${slot.crashes.length} times within ${CRASH_LOOP_WINDOW_MS / 1000} s ` +
        `(last: ${how}${why}); not restarting it`);
      this.emit("slot-settled");
      if (this.slots.every((s) => s.gaveUp)) this.finish(1);
      return;
    }
    if (worker.readyAt > 0 && now - worker.readyAt >= BACKOFF_RESET_AFTER_MS) slot.failures = 0;
    const delay = Math.min(BACKOFF_FIRST_MS * 2 ** slot.failures, BACKOFF_MAX_MS);
    slot.failures++;
    this.options.log(`eventide: worker ${slot.id} restarting in ${delay} ms`);
    slot.restartTimer = setTimeout(() => void this.startSlot(slot), delay);
  }

  private async drain(worker: ClusterWorker, graceMs: number): Promise<void> {
    const ended = new Promise((resolve) => worker.once("exit", resolve));
    worker.stop();
    const force = setTimeout(() => worker.kill(), graceMs);
    await ended;
    clearTimeout(force);
  }

  /** True once `worker` is ready; false if it ends first or `ms` pass. */
  private whenReady(worker: ClusterWorker, ms: number): Promise<boolean> {
    if (worker.ready) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer);
        worker.off("ready", onReady);
        worker.off("exit", onExit);
        resolve(ok);
      };
      const onReady = () => done(true);
      const onExit = () => done(false);
      const timer = setTimeout(onExit, ms);
      worker.on("ready", onReady);
      worker.on("exit", onExit);
    });
  }

  private readyOrGivenUp(slot: Slot): Promise<void> {
    if (slot.gaveUp || this.ended || slot.worker?.ready) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => {
        if (!(slot.gaveUp || this.ended || slot.worker?.ready)) return;
        this.off("slot-settled", check);
        resolve();
      };
      this.on("slot-settled", check);
    });
  }

  private allEnded(): Promise<void> {
    if (this.live.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.once("all-ended", resolve));
  }

  private readonly killOnExit = (): void => this.kill();

  private finish(code: number): void {
    if (this.ended) return;
    this.ended = true;
    process.off("exit", this.killOnExit);
    clearInterval(this.balancer);
    this.emit("slot-settled");
    // Exited means the listeners are closed too: the port can be bound again at once.
    void this.options.held.release().then(() => this.resolveExit(code));
  }

  private log(worker: ClusterWorker, event: string): void {
    this.options.log(`eventide: worker ${worker.id} (pid ${worker.pid}, ${worker.engine}) ${event}`);
  }
}
