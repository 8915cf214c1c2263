// The loop runs while something is scheduled and exits by itself after the last timer.
import { setTimeout, setInterval, clearInterval, setImmediate, Timeout } from "eventide/timers";
import { nextTick } from "eventide/tasks";

let ticks = 0;

setTimeout(() => { console.log("timeout 30ms"); }, 30);
setTimeout((label: string) => { console.log(label); }, 10, "timeout 10ms with an argument");
setImmediate(() => { console.log("immediate"); });
nextTick(() => { console.log("nextTick"); }, 0);

const interval = setInterval(() => {
  ticks++;
  console.log("interval " + ticks.toString());
}, 5);
setTimeout((t: Timeout) => { clearInterval(t); console.log("interval cleared"); }, 22, interval);

console.log("script done; the loop starts now");
