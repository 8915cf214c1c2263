// Test app: an 'error' event nobody listens to ends the process with a message, as in Node.
import { EventEmitter } from "eventide/events";
import { setTimeout } from "eventide/timers";

const emitter = new EventEmitter();
setTimeout((e: EventEmitter) => {
  e.emitWith<Error>("error", new Error("the disk is full of eels"));
}, 5, emitter);
