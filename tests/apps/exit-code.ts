// Test app: the loop ends after its last timer and the process exits with process.exitCode.
import { setTimeout } from "eventide/timers";

setTimeout(() => {
  process.exitCode = 3;
  console.log("set exit code");
}, 20);
