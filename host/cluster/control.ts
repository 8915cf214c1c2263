// The host's end of a control channel (docs/architecture.md, "Workers"): a private loopback listener, new for each
// app process, and a token. Under preview1 the process inherits the listener and the host connects to it; a WASI
// 0.2 component can't be handed a listener, so there the host keeps it and the component connects out.
import { EventEmitter } from "node:events";
import { connect, createServer, type Server, type Socket } from "node:net";
import { randomBytes } from "node:crypto";
import { encodeFrame, FrameReader, FrameType, type Frame } from "./protocol.js";

export interface ControlListener {
  server: Server;
  port: number;
  /** 32 lowercase hex characters, new for every worker process (EVENTIDE_CONTROL_TOKEN). */
  token: string;
}

/**
 * Binds 127.0.0.1:0 for one app process. Preview1: close `server` once the process has inherited its fd; until
 * then this process drops every connection to it (maxConnections 0), so only the app ever accepts one. WASI 0.2:
 * hand it to ControlChannel.accept.
 */
export async function openControlListener(): Promise<ControlListener> {
  const server = createServer();
  server.maxConnections = 0;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ host: "127.0.0.1", port: 0 }, resolve);
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return { server, port, token: randomBytes(16).toString("hex") };
}

/** The fd of a listening net.Server (to pass in spawn's stdio array). */
export function serverFd(server: Server): number {
  return (server as unknown as { _handle: { fd: number } })._handle.fd;
}

/**
 * The host's end of a control channel. Emits 'frame' (Frame) for each frame the guest sends and 'close' (broken:
 * string | undefined) once, when the connection ends: `broken` says why when the guest broke the protocol (a frame
 * over the limit). Frames sent before the guest is connected wait for it.
 */
export class ControlChannel extends EventEmitter {
  private socket: Socket | undefined;
  private listener: Server | undefined;
  private readonly reader = new FrameReader();
  private readonly waiting: Buffer[] = [];
  private closed = false;

  /**
   * Preview1: the guest holds the control listener (inherited as an fd); the host connects to it and sends HELLO
   * with the token.
   */
  static connect(port: number, token: string): ControlChannel {
    const channel = new ControlChannel();
    channel.attach(connect({ host: "127.0.0.1", port, noDelay: true }), []);
    channel.send(encodeFrame(FrameType.HELLO, Buffer.from(token, "ascii")));
    return channel;
  }

  /**
   * WASI 0.2, where a component can't be handed a listener: the host listens on `control` (EVENTIDE_CONTROL is
   * its address) and the guest connects out. The first connection whose first frame is HELLO with the token
   * becomes the channel and the listener is closed; any other connection is dropped at its first frame.
   */
  static accept(control: ControlListener): ControlChannel {
    const channel = new ControlChannel();
    channel.listener = control.server;
    control.server.maxConnections = Infinity;
    control.server.on("connection", (socket: Socket) => {
      const reader = new FrameReader();
      socket.on("error", () => socket.destroy());
      socket.on("data", function onData(chunk: Buffer) {
        const frames = reader.push(chunk);
        if (frames === null) return socket.destroy();
        if (frames.length === 0) return;
        const [hello, ...rest] = frames;
        socket.off("data", onData);
        const authentic = hello.type === FrameType.HELLO && hello.payload.toString("ascii") === control.token;
        if (!authentic || channel.socket || channel.closed) return socket.destroy();
        control.server.close();
        channel.listener = undefined;
        channel.attach(socket, rest, reader);
      });
    });
    return channel;
  }

  private attach(socket: Socket, early: Frame[], reader: FrameReader = this.reader): void {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on("data", (chunk: Buffer) => {
      const frames = reader.push(chunk);
      if (frames === null) return this.close("the worker sent a frame over the limit");
      this.deliver(frames);
    });
    // The worker's end (its process exiting resets a connection it never accepted) is not a fault of the channel.
    socket.on("error", () => this.close(undefined));
    socket.on("close", () => this.close(undefined));
    for (const frame of this.waiting.splice(0)) socket.write(frame);
    this.deliver(early);
  }

  private deliver(frames: Frame[]): void {
    for (const frame of frames) if (!this.closed) this.emit("frame", frame);
  }

  /** Queues a frame (see encodeFrame); false once the channel is closed. */
  send(frame: Buffer): boolean {
    if (this.closed) return false;
    if (this.socket) this.socket.write(frame);
    else this.waiting.push(frame);
    return true;
  }

  close(reason?: string): void {
    if (this.closed) return;
    this.closed = true;
    this.socket?.destroy();
    this.listener?.close();
    this.emit("close", reason);
  }
}

export type { Frame };
