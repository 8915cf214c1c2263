// Eventide's runtime API for apps: Node's names, closure-free callbacks (see docs/api.md).
export { EventEmitter } from "./events";
export { Buffer } from "./buffer";
export { setTimeout, setInterval, setImmediate, clearTimeout, clearInterval, clearImmediate, Timeout, Immediate } from "./timers";
export { nextTick } from "./tasks";
export * as net from "./net";
