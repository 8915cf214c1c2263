// Test app: traps (unreachable) from a timer callback, after the loop has started.
import { setTimeout } from "eventide/timers";

setTimeout(() => {
  unreachable();
}, 5);
