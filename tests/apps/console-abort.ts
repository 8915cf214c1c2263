// Test app: Node's console streams, then an abort from a timer callback — an index out of range ("index") or a
// failed assert of the app's own ("assert") — chosen by the first argument.
import { setTimeout } from "eventide/timers";

console.log("log line");
console.info("info line");
console.warn("warn line");
console.error("error line");
console.debug("debug line");
console.assert(1 + 1 == 3, "arithmetic");
console.assert(true, "not printed");

setTimeout(() => {
  const values = new Array<i32>(2);
  if (process.argv.length > 1 && process.argv[1] == "assert") assert(values.length == 3, "three values expected");
  console.log(values[5].toString());
}, 5);
