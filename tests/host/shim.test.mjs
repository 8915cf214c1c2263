// The WASI socket shim on its own (host/shim.ts): called as a guest would call it, with a real
// WebAssembly.Memory and real loopback sockets. Bad pointers and lengths are EFAULT and never a host exception;
// poll_oneoff reports readiness exactly as Node's sockets have it; socket fds are reused after close, lowest
// first, with nothing of the old socket left behind.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer, connect } from "node:net";
import { PassThrough } from "node:stream";
import { SocketShim, FIRST_SOCKET_FD } from "../../dist/host/shim.js";

const E = { SUCCESS: 0, AGAIN: 6, BADF: 8, CONNRESET: 15, FAULT: 21, INVAL: 28 };
const EVENTTYPE = { clock: 0, read: 1, write: 2 };
const HANGUP = 1;
const PAGE = 65536;
const WAIT_MS = 5000;
// Guest memory layout for the calls (one 64 KiB page).
const OUT = 0x100;        // fd, length and flags out-parameters
const IOV = 0x200;        // iovecs
const BUF = 0x1000;       // data, 32 KiB
const BUF_SIZE = 0x8000;
const SUBS = 0x9000;      // subscriptions, 48 bytes each
const EVENTS = 0xc000;    // events, 32 bytes each
const LISTENER = FIRST_SOCKET_FD;

/** Resolves once `predicate()` holds, checking every 5 ms for at most WAIT_MS. */
async function until(predicate, what) {
  const deadline = Date.now() + WAIT_MS;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * A shim over a loopback listener (fd FIRST_SOCKET_FD) and one page of guest memory, with the calls a guest
 * makes; everything it opened is closed after `body`.
 */
async function withShim(body) {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  let wakes = 0;
  const stdout = new PassThrough();
  stdout.text = "";
  stdout.on("data", (d) => (stdout.text += d));
  const shim = new SocketShim({ wake: () => wakes++, stdout });
  const memory = new WebAssembly.Memory({ initial: 1 });
  shim.bindMemory(memory);
  assert.equal(shim.addListener(server), LISTENER);
  const wasi = shim.imports({});
  const clients = [];
  const view = () => new DataView(memory.buffer);
  const bytes = () => new Uint8Array(memory.buffer);

  const f = {
    shim, wasi, memory, view, stdout, wakes: () => wakes,
    /** A loopback client, connected; its received bytes collect in `client.received`. */
    async client() {
      const client = connect(server.address().port, "127.0.0.1");
      client.received = "";
      client.on("data", (d) => (client.received += d));
      client.on("error", () => {});
      clients.push(client);
      await new Promise((resolve) => client.on("connect", resolve));
      return client;
    },
    /** A connected client and the fd the guest accepted it as. */
    async accepted() {
      const before = wakes;
      const client = await f.client();
      await until(() => wakes > before, "the connection to reach the shim");
      const [errno, fd] = f.accept();
      assert.equal(errno, E.SUCCESS);
      return { client, fd };
    },
    accept(fdOut = OUT) {
      const errno = wasi.sock_accept(LISTENER, 0, fdOut);
      return [errno, errno === E.SUCCESS ? view().getUint32(fdOut, true) : -1];
    },
    /** sock_recv into one iovec at BUF; [errno, text received]. */
    recv(fd, len = BUF_SIZE) {
      view().setUint32(IOV, BUF, true);
      view().setUint32(IOV + 4, len, true);
      const errno = wasi.sock_recv(fd, IOV, 1, 0, OUT, OUT + 8);
      const n = errno === E.SUCCESS ? view().getUint32(OUT, true) : 0;
      return [errno, Buffer.from(memory.buffer, BUF, n).toString()];
    },
    /** sock_send of `data` from one iovec at BUF; [errno, bytes sent]. */
    send(fd, data) {
      const b = Buffer.from(data);
      bytes().set(b, BUF);
      view().setUint32(IOV, BUF, true);
      view().setUint32(IOV + 4, b.length, true);
      const errno = wasi.sock_send(fd, IOV, 1, 0, OUT);
      return [errno, errno === E.SUCCESS ? view().getUint32(OUT, true) : 0];
    },
    /** poll_oneoff over `subs` ({ type: "read"|"write"|"clock", fd }); [errno, events]. userdata is the index. */
    poll(subs) {
      bytes().fill(0, SUBS, SUBS + subs.length * 48);
      subs.forEach((s, i) => {
        const at = SUBS + i * 48;
        view().setBigUint64(at, BigInt(i), true);
        view().setUint8(at + 8, EVENTTYPE[s.type]);
        if (s.type === "clock") view().setUint32(at + 16, 1, true); // CLOCK_MONOTONIC, relative, timeout 0
        else view().setUint32(at + 16, s.fd, true);
      });
      const errno = wasi.poll_oneoff(SUBS, EVENTS, subs.length, OUT);
      const events = [];
      for (let i = 0; errno === E.SUCCESS && i < view().getUint32(OUT, true); i++) {
        const at = EVENTS + i * 32;
        const type = Object.keys(EVENTTYPE)[view().getUint8(at + 10)];
        events.push({
          sub: Number(view().getBigUint64(at, true)), type, errno: view().getUint16(at + 8, true),
          nbytes: Number(view().getBigUint64(at + 16, true)), hangup: (view().getUint16(at + 24, true) & HANGUP) !== 0,
        });
      }
      return [errno, events];
    },
  };
  try {
    await body(f);
  } finally {
    shim.closeAll();
    for (const c of clients) c.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
}

describe("SocketShim: guest pointers and lengths", () => {
  it("sock_recv: out-of-bounds iovecs, buffers, out-parameters and counts are EFAULT, and the data stays", async () => {
    await withShim(async (f) => {
      const { client, fd } = await f.accepted();
      client.write("hello");
      await until(() => f.poll([{ type: "read", fd }])[1].length === 1, "data");
      const v = f.view();
      const recv = (iovs, count, lenOut = OUT, flagsOut = OUT + 8) => f.wasi.sock_recv(fd, iovs, count, 0, lenOut, flagsOut);
      const iovec = (ptr, len) => { v.setUint32(IOV, ptr, true); v.setUint32(IOV + 4, len, true); };
      iovec(BUF, 16);
      assert.equal(recv(PAGE - 4, 1), E.FAULT, "iovec list past the end");
      assert.equal(recv(-16, 1), E.FAULT, "iovec list at 0xfffffff0 (an i32 that looks negative)");
      assert.equal(recv(IOV, 0x20000000), E.FAULT, "iovec count whose list overruns memory");
      assert.equal(recv(IOV, -1), E.FAULT, "iovec count 0xffffffff");
      assert.equal(recv(IOV, 1, PAGE - 2), E.FAULT, "lenOut past the end");
      assert.equal(recv(IOV, 1, -4), E.FAULT, "lenOut at 0xfffffffc");
      assert.equal(recv(IOV, 1, OUT, PAGE - 1), E.FAULT, "flagsOut past the end");
      iovec(PAGE - 8, 16);
      assert.equal(recv(IOV, 1), E.FAULT, "buffer running past the end");
      iovec(0xfffffff0, 8);
      assert.equal(recv(IOV, 1), E.FAULT, "buffer at 0xfffffff0");
      iovec(PAGE, 1);
      assert.equal(recv(IOV, 1), E.FAULT, "buffer just past the end");
      assert.deepEqual(f.recv(fd), [E.SUCCESS, "hello"]);
    });
  });

  it("sock_send and fd_write: the same, and nothing is sent or written", async () => {
    await withShim(async (f) => {
      const { client, fd } = await f.accepted();
      const v = f.view();
      const iovec = (ptr, len) => { v.setUint32(IOV, ptr, true); v.setUint32(IOV + 4, len, true); };
      for (const call of [(...a) => f.wasi.sock_send(fd, a[0], a[1], 0, a[2]), (...a) => f.wasi.fd_write(1, ...a)]) {
        iovec(BUF, 4);
        assert.equal(call(PAGE - 4, 1, OUT), E.FAULT, "iovec list past the end");
        assert.equal(call(-8, 1, OUT), E.FAULT, "iovec list at 0xfffffff8");
        assert.equal(call(IOV, 0x7fffffff, OUT), E.FAULT, "huge iovec count");
        assert.equal(call(IOV, -1, OUT), E.FAULT, "iovec count 0xffffffff");
        assert.equal(call(IOV, 1, PAGE - 3), E.FAULT, "count out-parameter past the end");
        assert.equal(call(IOV, 1, -1), E.FAULT, "count out-parameter at 0xffffffff");
        iovec(PAGE - 2, 4);
        assert.equal(call(IOV, 1, OUT), E.FAULT, "buffer running past the end");
        iovec(0x80000000, 4);
        assert.equal(call(IOV, 1, OUT), E.FAULT, "buffer at 0x80000000");
      }
      assert.deepEqual(f.send(fd, "ok"), [E.SUCCESS, 2]);
      await until(() => client.received === "ok", "the one good send");
      assert.equal(f.stdout.text, "");
    });
  });

  it("sock_accept, poll_oneoff and fd_fdstat_get: bad out-parameters and counts are EFAULT; a refused accept keeps the connection", async () => {
    await withShim(async (f) => {
      await f.client();
      await until(() => f.poll([{ type: "read", fd: LISTENER }])[1].length === 1, "a pending connection");
      assert.equal(f.accept(PAGE - 2)[0], E.FAULT);
      assert.equal(f.accept(-4)[0], E.FAULT);
      const [errno, fd] = f.accept();
      assert.equal(errno, E.SUCCESS, "the connection waited for a good accept");
      assert.equal(fd, LISTENER + 1);
      assert.equal(f.wasi.poll_oneoff(PAGE - 40, EVENTS, 1, OUT), E.FAULT, "subscriptions past the end");
      assert.equal(f.wasi.poll_oneoff(SUBS, PAGE - 16, 1, OUT), E.FAULT, "events past the end");
      assert.equal(f.wasi.poll_oneoff(SUBS, EVENTS, 1, PAGE - 1), E.FAULT, "count out-parameter past the end");
      assert.equal(f.wasi.poll_oneoff(SUBS, EVENTS, 0x10000000, OUT), E.FAULT, "huge count");
      assert.equal(f.wasi.poll_oneoff(SUBS, EVENTS, -1, OUT), E.FAULT, "count 0xffffffff");
      assert.equal(f.wasi.poll_oneoff(-48, EVENTS, 1, OUT), E.FAULT, "subscriptions at 0xffffffd0");
      assert.equal(f.wasi.poll_oneoff(SUBS, EVENTS, 0, OUT), E.INVAL, "no subscriptions");
      assert.equal(f.wasi.fd_fdstat_get(fd, PAGE - 8), E.FAULT);
      assert.equal(f.wasi.fd_fdstat_get(fd, -24), E.FAULT);
    });
  });

  it("sees memory that grew since the last call", async () => {
    await withShim(async (f) => {
      const { client, fd } = await f.accepted();
      client.write("grown");
      await until(() => f.poll([{ type: "read", fd }])[1].length === 1, "data");
      f.memory.grow(1);
      const v = f.view();
      v.setUint32(IOV, PAGE + 100, true);
      v.setUint32(IOV + 4, 16, true);
      assert.equal(f.wasi.sock_recv(fd, IOV, 1, 0, PAGE + 8, PAGE + 12), E.SUCCESS);
      assert.equal(Buffer.from(f.memory.buffer, PAGE + 100, f.view().getUint32(PAGE + 8, true)).toString(), "grown");
    });
  });
});

describe("SocketShim: readiness in poll_oneoff", () => {
  it("fd_read is ready only with bytes buffered or at EOF, with the hangup flag at EOF", async () => {
    await withShim(async (f) => {
      const { client, fd } = await f.accepted();
      assert.deepEqual(f.poll([{ type: "read", fd }]), [E.SUCCESS, []], "nothing sent yet");
      assert.equal(f.recv(fd)[0], E.AGAIN);
      client.write("abc");
      await until(() => f.poll([{ type: "read", fd }])[1].length === 1, "data");
      assert.deepEqual(f.poll([{ type: "read", fd }])[1], [{ sub: 0, type: "read", errno: 0, nbytes: 3, hangup: false }]);
      assert.deepEqual(f.recv(fd), [E.SUCCESS, "abc"]);
      assert.deepEqual(f.poll([{ type: "read", fd }]), [E.SUCCESS, []], "all read");
      assert.equal(f.shim.stillReady(), false);
      client.end();
      await until(() => f.poll([{ type: "read", fd }])[1].length === 1, "EOF");
      assert.deepEqual(f.poll([{ type: "read", fd }])[1], [{ sub: 0, type: "read", errno: 0, nbytes: 0, hangup: true }]);
      assert.equal(f.shim.stillReady(), true, "EOF stays ready until the guest acts on it");
      assert.deepEqual(f.recv(fd), [E.SUCCESS, ""], "EOF reads as 0 bytes");
    });
  });

  it("a connection reset is ready with ECONNRESET and hangup, and recv says ECONNRESET", async () => {
    await withShim(async (f) => {
      const { client, fd } = await f.accepted();
      client.resetAndDestroy();
      await until(() => f.poll([{ type: "read", fd }])[1].length === 1, "the reset");
      assert.deepEqual(f.poll([{ type: "read", fd }])[1], [{ sub: 0, type: "read", errno: E.CONNRESET, nbytes: 0, hangup: true }]);
      assert.equal(f.recv(fd)[0], E.CONNRESET);
    });
  });

  it("fd_write is not ready while Node's socket needs a drain, and ready again after 'drain'", async () => {
    await withShim(async (f) => {
      const { client, fd } = await f.accepted();
      assert.equal(f.poll([{ type: "write", fd }])[1].length, 1, "writable at first");
      client.pause(); // the client stops reading: the kernel's buffers fill, then Node's
      const chunk = "x".repeat(BUF_SIZE);
      let sent = 0;
      let errno = E.SUCCESS;
      for (let i = 0; i < 8192 && errno === E.SUCCESS; i++) {
        let n;
        [errno, n] = f.send(fd, chunk);
        sent += n;
      }
      assert.equal(errno, E.AGAIN, `send never refused (${sent} bytes sent)`);
      assert.deepEqual(f.poll([{ type: "write", fd }]), [E.SUCCESS, []], "not writable while a drain is needed");
      assert.deepEqual(f.poll([{ type: "write", fd }, { type: "clock" }])[1].map((e) => e.type), ["clock"]);
      const wakes = f.wakes();
      client.resume();
      await until(() => f.poll([{ type: "write", fd }])[1].length === 1, "writable after the client read");
      assert.ok(f.wakes() > wakes, "the shim woke the guest on 'drain'");
      await until(() => client.received.length === sent, "every byte sent to arrive");
    });
  });

  it("a listener is readable only with a connection pending, and the clock fires only when nothing else is ready", async () => {
    await withShim(async (f) => {
      const subs = [{ type: "clock" }, { type: "read", fd: LISTENER }];
      assert.deepEqual(f.poll(subs)[1], [{ sub: 0, type: "clock", errno: 0, nbytes: 0, hangup: false }]);
      await f.client();
      await until(() => f.poll(subs)[1][0].type === "read", "a pending connection");
      assert.deepEqual(f.poll(subs)[1], [{ sub: 1, type: "read", errno: 0, nbytes: 1, hangup: false }]);
      assert.equal(f.accept()[0], E.SUCCESS);
      assert.deepEqual(f.poll(subs)[1].map((e) => e.type), ["clock"]);
      assert.equal(f.accept()[0], E.AGAIN);
    });
  });
});

describe("SocketShim: fd numbers", () => {
  it("reuses a closed fd for the next connection, lowest first, with nothing of the old socket", async () => {
    await withShim(async (f) => {
      const a = await f.accepted();
      const b = await f.accepted();
      assert.deepEqual([a.fd, b.fd], [LISTENER + 1, LISTENER + 2]);
      a.client.write("old");
      await until(() => f.poll([{ type: "read", fd: a.fd }])[1].length === 1, "the old connection's data");
      assert.equal(f.wasi.fd_close(b.fd), E.SUCCESS);
      assert.equal(f.wasi.fd_close(a.fd), E.SUCCESS); // unread data and all
      const c = await f.accepted();
      assert.equal(c.fd, LISTENER + 1, "the lowest free number");
      const d = await f.accepted();
      assert.equal(d.fd, LISTENER + 2);
      assert.equal((await f.accepted()).fd, LISTENER + 3);
      // The old connection ends after the close; none of it reaches the new one on the same number.
      a.client.end("late");
      await until(() => a.client.readableEnded, "the old connection to end");
      assert.deepEqual(f.poll([{ type: "read", fd: c.fd }]), [E.SUCCESS, []]);
      c.client.write("new");
      await until(() => f.poll([{ type: "read", fd: c.fd }])[1].length === 1, "the new connection's data");
      assert.deepEqual(f.poll([{ type: "read", fd: c.fd }])[1], [{ sub: 0, type: "read", errno: 0, nbytes: 3, hangup: false }]);
      assert.deepEqual(f.recv(c.fd), [E.SUCCESS, "new"]);
      assert.deepEqual(f.send(c.fd, "to c"), [E.SUCCESS, 4]);
      await until(() => c.client.received === "to c", "the reply on the reused fd");
      assert.equal(a.client.received, "");
    });
  });

  it("a closed fd is EBADF everywhere until it is reused", async () => {
    await withShim(async (f) => {
      const { fd } = await f.accepted();
      assert.equal(f.wasi.fd_close(fd), E.SUCCESS);
      assert.equal(f.recv(fd)[0], E.BADF);
      assert.equal(f.send(fd, "x")[0], E.BADF);
      assert.equal(f.wasi.sock_shutdown(fd, 2), E.BADF);
      assert.equal(f.wasi.fd_close(fd), E.BADF);
      assert.equal(f.wasi.fd_fdstat_get(fd, OUT), E.BADF);
      assert.deepEqual(f.poll([{ type: "read", fd }])[1], [{ sub: 0, type: "read", errno: E.BADF, nbytes: 0, hangup: false }]);
    });
  });
});
