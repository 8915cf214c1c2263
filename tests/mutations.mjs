// The mutation check's list (scripts/mutations.mjs, `npm run test:mutations`; CONTRIBUTING.md says how to add
// one). Each entry is a small realistic bug: in `file`, the text `find` (which must occur exactly once) becomes
// `replace`; `tests` are the files expected to fail with it in; `why` says what the bug would break.
export const MUTATIONS = [
  // ---- parser ----
  {
    id: "parser-chunk-size-4-digits", area: "parser", file: "assembly/http/parser.ts",
    find: "if (++this.sizeDigits > 15)", replace: "if (++this.sizeDigits > 3)",
    tests: ["tests/parser/differential.test.mjs"],
    why: "chunks of 64 KiB and more rejected as an overflow (once hidden by a loose differential rule)",
  },
  {
    id: "parser-http11-505", area: "parser", file: "assembly/http/parser.ts",
    find: "if (major != 1 || minor > 1) return this.fail(ParseError.UNSUPPORTED_VERSION);",
    replace: "if (major != 1 || minor > 0) return this.fail(ParseError.UNSUPPORTED_VERSION);",
    tests: ["tests/parser/differential.test.mjs", "tests/as/parser.spec.ts"],
    why: "HTTP/1.1 answered 505",
  },
  {
    id: "parser-space-before-colon", area: "parser", file: "assembly/http/parser.ts",
    find: "if (nameLength > 0 && (c == SP || c == HTAB)) return this.fail(ParseError.WHITESPACE_BEFORE_COLON);",
    replace: "if (nameLength > 0 && c == HTAB) return this.fail(ParseError.WHITESPACE_BEFORE_COLON);",
    tests: ["tests/parser/differential.test.mjs", "tests/as/parser.spec.ts"],
    why: "'Host : x' accepted (RFC 9112 §5.1: a smuggling vector)",
  },
  {
    id: "parser-duplicate-content-length", area: "parser", file: "assembly/http/parser.ts",
    find: "if (this.contentLength >= 0) return this.reject(ParseError.DUPLICATE_CONTENT_LENGTH);",
    replace: "if (false) return this.reject(ParseError.DUPLICATE_CONTENT_LENGTH);",
    tests: ["tests/parser/differential.test.mjs", "tests/as/parser.spec.ts"],
    why: "a second Content-Length silently wins (request smuggling)",
  },
  {
    id: "parser-keep-alive-after-close", area: "parser", file: "assembly/http/parser.ts",
    find: "this.keepAlive = (tokens & CONNECTION_CLOSE) == 0 && (this.versionMinor == 1 || (tokens & CONNECTION_KEEP_ALIVE) != 0);",
    replace: "this.keepAlive = this.versionMinor == 1 || (tokens & CONNECTION_KEEP_ALIVE) != 0;",
    tests: ["tests/parser/differential.test.mjs"],
    why: "Connection: close ignored by the parser: the connection stays open",
  },
  // ---- timers ----
  {
    id: "timers-equal-deadlines-lifo", area: "timers", file: "assembly/timers.ts",
    find: "(this.when == other.when && this.sequence < other.sequence)",
    replace: "(this.when == other.when && this.sequence > other.sequence)",
    tests: ["tests/as/timers.spec.ts"],
    why: "timers due together fire newest first, not in creation order",
  },
  {
    id: "timers-linear-removal", area: "timers", file: "assembly/timers.ts",
    find: "    if (this.heapIndex >= 0) removeAt(this.heapIndex);\n    this._deactivate();",
    replace: "    if (this.heapIndex >= 0) removeAt(heap.indexOf(this));\n    this._deactivate();",
    tests: ["tests/as/timers.spec.ts"],
    why: "clearTimeout searches the heap: O(n) per change (the 100k-timers cost bound)",
  },
  {
    id: "timers-interval-once", area: "timers", file: "assembly/timers.ts",
    find: "if (this.repeat) this.arm(this.delay);",
    replace: "if (false) this.arm(this.delay);",
    tests: ["tests/as/timers.spec.ts", "tests/net/net.test.mjs"],
    why: "setInterval fires once",
  },
  // ---- loop and tasks ----
  {
    id: "loop-never-exits", area: "loop", file: "assembly/loop.ts",
    find: "return activeHandleCount() > 0 || hasClosing() || hasTicks();",
    replace: "return activeHandleCount() >= 0 || hasClosing() || hasTicks();",
    tests: ["tests/as/timers.spec.ts", "tests/net/net.test.mjs", "tests/host/embedding.test.mjs"],
    why: "the loop never runs out of work: no app exits by itself, and no stop is graceful",
  },
  {
    id: "loop-script-ticks-late", area: "loop", file: "assembly/loop.ts",
    find: "  runTicks(); // the script's own nextTicks run before the loop starts, as in Node\n",
    replace: "",
    tests: ["tests/net/net.test.mjs"],
    why: "under wasmtime the script's nextTick runs after the first phase's callbacks",
  },
  {
    id: "tasks-ticks-queued-while-draining", area: "loop", file: "assembly/tasks.ts",
    find: "  while (ticks.length > 0) {",
    replace: "  if (ticks.length > 0) {",
    tests: ["tests/as/timers.spec.ts", "tests/as/events.spec.ts", "tests/net/net.test.mjs"],
    why: "a nextTick queued by a nextTick waits for the next callback instead of running at once",
  },
  {
    id: "events-once-kept", area: "loop", file: "assembly/events.ts",
    find: "if (l.once) this.removeRecord(l);",
    replace: "if (false) this.removeRecord(l);",
    tests: ["tests/as/events.spec.ts"],
    why: "once() listeners fire on every emit",
  },
  // ---- net ----
  {
    id: "net-write-ignores-high-water-mark", area: "net", file: "assembly/net.ts",
    find: "    if (this.writableLength < this.writableHighWaterMark) return true;\n    this.state |= NEED_DRAIN;",
    replace: "    if (true) return true;\n    this.state |= NEED_DRAIN;",
    tests: ["tests/net/net.test.mjs"],
    why: "write() never says to wait: a slow reader makes the server buffer everything (64 MB echo, RSS bound)",
  },
  {
    id: "net-end-sends-no-fin", area: "net", file: "assembly/net.ts",
    find: "    sys.shutdownWrite(<u32>this.fd); // a peer that already left makes this fail harmlessly",
    replace: "",
    tests: ["tests/net/net.test.mjs"],
    why: "socket.end() never half-closes: clients wait for an EOF that never comes",
  },
  // ---- HTTP server ----
  {
    id: "server-keep-alive-after-connection-close", area: "server", file: "assembly/http/connection.ts",
    find: "new ServerResponse(this, req, parser.keepAlive && !server.closing",
    replace: "new ServerResponse(this, req, !server.closing",
    tests: ["tests/http-server/hardening.test.mjs"],
    why: "the connection stays open after Connection: close and after HTTP/1.0 without keep-alive",
  },
  {
    id: "server-no-close-after-4xx", area: "server", file: "assembly/http/connection.ts",
    find: "    if (res == null || !res.headersSent) this.sendClosing(new HttpParseError(code).statusCode);\n    this.closeLingering();",
    replace: "    if (res == null || !res.headersSent) this.sendClosing(new HttpParseError(code).statusCode);",
    tests: ["tests/http-server/hardening.test.mjs", "tests/http-server/server.test.mjs"],
    why: "after answering a malformed request with 400 the connection stays open (until a timeout)",
  },
  {
    id: "server-no-100-continue", area: "server", file: "assembly/http/connection.ts",
    find: "      res.writeContinue();\n",
    replace: "",
    tests: ["tests/http-server/hardening.test.mjs"],
    why: "Expect: 100-continue is never answered: the client waits before sending its body",
  },
  // ---- the Node engine's socket shim ----
  {
    id: "shim-every-socket-writable", area: "shim", file: "host/shim.ts",
    find: "    return !socket.writableNeedDrain;\n",
    replace: "    return true;\n",
    tests: ["tests/host/shim.test.mjs", "tests/http-server/server.test.mjs"],
    why: "poll_oneoff reports a blocked socket writable: the server spins at a full core behind a slow reader",
  },
  {
    id: "shim-no-bounds-check", area: "shim", file: "host/shim.ts",
    find: "    return ptr + len <= this.bytes.length;",
    replace: "    return true;",
    tests: ["tests/host/shim.test.mjs"],
    why: "guest pointers and lengths are used unchecked: a bad one throws in the host instead of EFAULT",
  },
  // ---- CLI and embedding ----
  {
    id: "cli-wasmtime-loses-listener", area: "CLI", file: "host/engines/wasmtime.ts",
    find: 'if (fds.length) args.push("-S", "listenfd");',
    replace: "",
    tests: ["tests/host/cli.test.mjs"],
    why: "eventide run --engine wasmtime --listen: wasmtime never gets the listening socket",
  },
  {
    id: "cli-wasmtime-drops-env", area: "CLI", file: "host/engines/wasmtime.ts",
    find: "const env: Record<string, string> = { ...options.env };",
    replace: "const env: Record<string, string> = {};",
    tests: ["tests/host/cli.test.mjs"],
    why: "--env never reaches an app under wasmtime",
  },
  {
    id: "cli-wasmtime-stop-kills", area: "CLI", file: "host/engines/wasmtime.ts",
    find: "if (running()) channel.send(encodeFrame(FrameType.STOP));",
    replace: "if (running()) child.kill(\"SIGKILL\");",
    tests: ["tests/host/cli.test.mjs", "tests/host/embedding.test.mjs"],
    why: "a stop under wasmtime kills the app and its requests instead of draining it",
  },
  {
    id: "cli-sigterm-unhandled", area: "CLI", file: "host/cli.ts",
    find: "  process.once(\"SIGTERM\", stop);\n",
    replace: "",
    tests: ["tests/host/cli.test.mjs"],
    why: "SIGTERM kills eventide run outright: no drain, and a wasmtime child is left running",
  },
  {
    id: "api-forced-stop-reads-graceful", area: "CLI", file: "host/index.ts",
    find: "      if (this.stopped === \"forced\") code = FORCED_STOP_EXIT_CODE;\n",
    replace: "",
    tests: ["tests/host/embedding.test.mjs", "tests/host/cli.test.mjs"],
    why: "a stop that ran out of grace and killed requests reports the app's own 0",
  },
  {
    id: "engine-trap-exits-0", area: "CLI", file: "host/engines/engine.ts",
    find: "return code >= 0 && code < 126 ? code : 1;",
    replace: "return code >= 0 && code < 126 ? code : 0;",
    tests: ["tests/host/cli.test.mjs"],
    why: "a guest trap (status 255 from wasmtime) exits 0",
  },
];
