// The control channel's wire format, shared with the guest (assembly/cluster.ts; docs/architecture.md, "Workers"):
// frames `u32 length (big-endian) | u8 type | payload`, length = 1 + payload bytes.
import { EventideError } from "../errors.js";
import { parseListen, type ListenAddress } from "../listeners.js";

export const enum FrameType {
  HELLO = 1, // host → guest: the token (ASCII)
  READY = 2, // guest → host: authenticated, the app's script ran, its servers listen
  HEARTBEAT = 3, // guest → host: the loop is turning; u32 BE, the process's open connections
  STOP = 4, // host → guest: graceful drain, then exit 0
  MESSAGE_TEXT = 5, // both: UTF-8 text
  MESSAGE_BYTES = 6, // both: bytes
  BALANCE = 7, // host → guest: u32 BE, the worker's share of the cluster's open connections
  LISTENING = 8, // guest → host (WASI 0.2, which binds its listeners itself): UTF-8 `n=host:port` or `n=!ECODE`
}

/**
 * A LISTENING payload: listener `index` (its position in EVENTIDE_LISTEN, from 0) is bound at `address` (the
 * actual port when 0 was asked; an IPv6 host without brackets), or failed with `error`, an errno name such as
 * "EADDRINUSE". Null when the payload is not one of these.
 */
export function decodeListening(payload: Buffer): { index: number; address?: ListenAddress; error?: string } | null {
  const m = /^(\d+)=(?:!([A-Z0-9]+)|(.+))$/.exec(payload.toString("utf8"));
  if (!m) return null;
  const index = Number(m[1]);
  if (m[2]) return { index, error: m[2] };
  try {
    return { index, address: parseListen(m[3]) };
  } catch {
    return null;
  }
}

/** Largest message payload, in bytes (1 MiB), in both directions. */
export const MAX_MESSAGE_BYTES = 1024 * 1024;

const HEADER_BYTES = 5;

/** One frame; throws EVENTIDE_E_MESSAGE_TOO_LARGE for a payload over MAX_MESSAGE_BYTES. */
export function encodeFrame(type: FrameType, payload: Uint8Array = new Uint8Array(0)): Buffer {
  if (payload.length > MAX_MESSAGE_BYTES) {
    throw new EventideError("EVENTIDE_E_MESSAGE_TOO_LARGE",
      `a message of ${payload.length} bytes is over the limit of ${MAX_MESSAGE_BYTES} bytes`,
      "send large data in several messages, or through a file or socket of its own");
  }
  const frame = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  frame.writeUInt32BE(1 + payload.length, 0);
  frame[4] = type;
  frame.set(payload, HEADER_BYTES);
  return frame;
}

/** A message as a frame: strings as MESSAGE_TEXT (UTF-8), bytes as MESSAGE_BYTES. */
export function encodeMessage(data: string | Uint8Array): Buffer {
  return typeof data === "string"
    ? encodeFrame(FrameType.MESSAGE_TEXT, Buffer.from(data, "utf8"))
    : encodeFrame(FrameType.MESSAGE_BYTES, data);
}

export interface Frame {
  type: FrameType;
  payload: Buffer;
}

/**
 * Splits a byte stream into frames. `push` returns the frames completed so far, or null once the stream is
 * broken (a length of 0 or over 1 + MAX_MESSAGE_BYTES): the channel must then be closed.
 */
export class FrameReader {
  private buffered: Buffer[] = [];
  private bytes = 0;

  push(chunk: Buffer): Frame[] | null {
    this.buffered.push(chunk);
    this.bytes += chunk.length;
    const frames: Frame[] = [];
    while (this.bytes >= HEADER_BYTES) {
      if (this.buffered[0].length < HEADER_BYTES) this.buffered = [Buffer.concat(this.buffered)];
      const length = this.buffered[0].readUInt32BE(0);
      if (length === 0 || length > 1 + MAX_MESSAGE_BYTES) return null;
      if (this.bytes < 4 + length) break; // joined only once complete: a 1 MiB frame arrives in many reads
      const head = this.buffered.length === 1 ? this.buffered[0] : Buffer.concat(this.buffered);
      frames.push({ type: head[4] as FrameType, payload: head.subarray(HEADER_BYTES, 4 + length) });
      const rest = head.subarray(4 + length);
      this.buffered = rest.length ? [rest] : [];
      this.bytes = rest.length;
    }
    return frames;
  }
}
