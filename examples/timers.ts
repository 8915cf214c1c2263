// The loop runs while something is scheduled and exits by itself after the last timer.
import { setTimeout, setInterval, clearInterval, setImmediate, Timeout } from "eventide/timers";
import { nextTick } from "eventide/tasks";

let ticks = 0;

setTimeout(() => { console.log("timeout 60ms"); }, 60);
setTimeout((label: string) => { console.log(label); }, 10, "timeout 10ms with an argument");
setImmediate(() => { console.log("immediate"); });
nextTick(() => { console.log("nextTick"); }, 0);

// Module-level state is how callbacks share state (AssemblyScript has no closures).
let interval: Timeout | null = null;
interval = setInterval(() => {
  ticks++;
  console.log("interval " + ticks.toString());
  if (ticks == 3) {
    clearInterval(interval);
    console.log("interval cleared");
  }
}, 5);

console.log("script done; the loop starts now");
