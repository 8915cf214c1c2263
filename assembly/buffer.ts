// Buffer: Node's byte container, as a Uint8Array with the conversions apps reach for most.

export class Buffer extends Uint8Array {
  /** UTF-8 bytes of `text`. */
  static from(text: string): Buffer {
    const len = String.UTF8.byteLength(text);
    const buf = new Buffer(len);
    String.UTF8.encodeUnsafe(changetype<usize>(text), text.length, buf.dataStart);
    return buf;
  }

  /** A copy of `len` bytes at `ptr` in linear memory. */
  static copyOf(ptr: usize, len: i32): Buffer {
    const buf = new Buffer(len);
    memory.copy(buf.dataStart, ptr, len);
    return buf;
  }

  static alloc(size: i32): Buffer {
    return new Buffer(size);
  }

  static concat(list: Array<Uint8Array>): Buffer {
    let total = 0;
    for (let i = 0, k = list.length; i < k; i++) total += list[i].length;
    const out = new Buffer(total);
    let at = out.dataStart;
    for (let i = 0, k = list.length; i < k; i++) {
      const part = unchecked(list[i]);
      memory.copy(at, part.dataStart, part.length);
      at += part.length;
    }
    return out;
  }

  /** The bytes decoded as UTF-8 (invalid sequences become U+FFFD). */
  toString(): string {
    return String.UTF8.decodeUnsafe(this.dataStart, this.length);
  }

  equals(other: Uint8Array): bool {
    return this.length == other.length && memory.compare(this.dataStart, other.dataStart, this.length) == 0;
  }
}
