// The host's end of a control channel (docs/architecture.md, "Workers"): a private loopback listener granted to
// one worker process, which the host connects to once and authenticates with a token.
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
 * Binds 127.0.0.1:0 for one worker process. Close `server` once the process has inherited its fd: until then
 * this process drops every connection to it (maxConnections 0), so only the worker ever accepts one.
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
 * Connects to a worker's control listener and sends HELLO. Emits 'frame' (Frame) for each frame the guest sends
 * and 'close' (broken: string | undefined) once, when the connection ends: `broken` says why when the worker broke
 * the protocol (a frame over the limit).
 */
export class ControlChannel extends EventEmitter {
  private readonly socket: Socket;
  private readonly reader = new FrameReader();
  private closed = false;

  constructor(port: number, token: string) {
    super();
    this.socket = connect({ host: "127.0.0.1", port, noDelay: true });
    this.socket.write(encodeFrame(FrameType.HELLO, Buffer.from(token, "ascii")));
    this.socket.on("data", (chunk: Buffer) => {
      const frames = this.reader.push(chunk);
      if (frames === null) return this.close("the worker sent a frame over the limit");
      for (const frame of frames) if (!this.closed) this.emit("frame", frame);
    });
    // The worker's end (its process exiting resets a connection it never accepted) is not a fault of the channel.
    this.socket.on("error", () => this.close(undefined));
    this.socket.on("close", () => this.close(undefined));
  }

  /** Queues a frame (see encodeFrame); false once the channel is closed. */
  send(frame: Buffer): boolean {
    if (this.closed) return false;
    this.socket.write(frame);
    return true;
  }

  close(reason?: string): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    this.emit("close", reason);
  }
}

export type { Frame };
