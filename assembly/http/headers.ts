// Headers (WHATWG Fetch §5.2 "Headers class", Node's global `Headers`): a header list whose lookups are
// case-insensitive and answer null for a name that is absent — `req.headers.get("user-agent")` on a request
// without one must not end the instance, as Map.get would (AssemblyScript has no exceptions to catch).
import { equalsIgnoreCase } from "./fields";
import { headerProblem } from "./outgoing";

export class Headers {
  // [name, value, …] as given (names keep their case); compared case-insensitively. Shared with whoever gave
  // it (a request's rawHeaders) until the first change, which copies it.
  private list: Array<string>;
  private shared: bool;

  /** `init`: [name, value, …] pairs, as Node's rawHeaders (an odd trailing name is ignored); null for none. */
  constructor(init: Array<string> | null = null) {
    if (init == null) {
      this.list = new Array<string>();
      this.shared = false;
    } else {
      this.list = init;
      this.shared = true;
    }
  }

  /**
   * The values of every field named `name` (case-insensitive), joined with ", " (Fetch's "get": the combined
   * value, RFC 9110 §5.3), or null when there is none.
   */
  get(name: string): string | null {
    const list = this.list;
    let value: string | null = null;
    for (let i = 0, n = list.length - 1; i < n; i += 2) {
      if (!equalsIgnoreCase(unchecked(list[i]), name)) continue;
      const v = unchecked(list[i + 1]);
      value = value == null ? v : value + ", " + v;
    }
    return value;
  }

  /** Each Set-Cookie value apart (they can't be joined with commas, RFC 6265 §3), as Fetch's getSetCookie(). */
  getSetCookie(): Array<string> {
    const values = new Array<string>();
    const list = this.list;
    for (let i = 0, n = list.length - 1; i < n; i += 2) {
      if (equalsIgnoreCase(unchecked(list[i]), "set-cookie")) values.push(unchecked(list[i + 1]));
    }
    return values;
  }

  has(name: string): bool {
    return indexOfField(this.list, name, 0) >= 0;
  }

  /**
   * Replaces every field named `name` with one line. Returns false, changing nothing, when the name is not a
   * token or the value holds CR, LF or another control character but HTAB (where Fetch throws a TypeError).
   */
  set(name: string, value: string): bool {
    if (headerProblem(name, value) != null) return false;
    this.delete(name);
    this.writable().push(name);
    this.list.push(value);
    return true;
  }

  /** Adds a line even if the name is present (e.g. several Set-Cookie); refuses as set() does. */
  append(name: string, value: string): bool {
    if (headerProblem(name, value) != null) return false;
    this.writable().push(name);
    this.list.push(value);
    return true;
  }

  /** Removes every field named `name`; nothing happens when there is none. */
  delete(name: string): void {
    for (let i = indexOfField(this.list, name, 0); i >= 0; i = indexOfField(this.list, name, i)) this.writable().splice(i, 2);
  }

  /** The distinct names, lower-cased and sorted (Fetch's "sort and combine"), as iteration yields them. */
  keys(): Array<string> {
    const names = new Array<string>();
    const list = this.list;
    for (let i = 0, n = list.length - 1; i < n; i += 2) {
      const name = unchecked(list[i]).toLowerCase();
      if (!names.includes(name)) names.push(name);
    }
    names.sort((a: string, b: string): i32 => a < b ? -1 : a > b ? 1 : 0);
    return names;
  }

  /** The values in keys() order: combined per name, except one per Set-Cookie line (Fetch's iteration). */
  values(): Array<string> {
    const entries = this.entries();
    const values = new Array<string>(entries.length);
    for (let i = 0; i < entries.length; i++) unchecked(values[i] = unchecked(entries[i])[1]);
    return values;
  }

  /** [name, value] pairs in keys() order: what `for (const [name, value] of headers)` yields in JavaScript. */
  entries(): Array<Array<string>> {
    const entries = new Array<Array<string>>();
    const names = this.keys();
    for (let i = 0; i < names.length; i++) {
      const name = unchecked(names[i]);
      if (name == "set-cookie") {
        const cookies = this.getSetCookie();
        for (let k = 0; k < cookies.length; k++) entries.push([name, unchecked(cookies[k])]);
      } else {
        entries.push([name, this.get(name)!]);
      }
    }
    return entries;
  }

  private writable(): Array<string> {
    if (this.shared) {
      this.list = this.list.slice(0);
      this.shared = false;
    }
    return this.list;
  }
}

/** Index in a [name, value, …] list of the first field named `name` (case-insensitive) at or after `from`, or -1. */
export function indexOfField(list: Array<string>, name: string, from: i32): i32 {
  for (let i = from, n = list.length - 1; i < n; i += 2) {
    if (equalsIgnoreCase(unchecked(list[i]), name)) return i;
  }
  return -1;
}
