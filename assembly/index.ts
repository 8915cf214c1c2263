// Eventide's runtime API for apps: Node's names, closure-free callbacks (see docs/api.md).
// `import { setTimeout, net, http } from "eventide"` — or a module at a time, as "eventide/net".
import * as net from "./net";
import * as http from "./http/index";
import * as cluster from "./cluster";
import * as fs from "./fs";
export { net, http, cluster, fs };
export { EventEmitter } from "./events";
export { Buffer } from "./buffer";
export { URL, URLSearchParams, percentDecode } from "./url";
export { Router, Params } from "./router";
export { setTimeout, setInterval, setImmediate, clearTimeout, clearInterval, clearImmediate, Timeout, Immediate } from "./timers";
export { nextTick } from "./tasks";
