// One line after a failed build for each Node habit AssemblyScript rejects, pointing at the section of
// docs/apps.md that explains it: the compiler's own words ("Type expected") don't say what to write instead.

/** A habit: the compiler diagnostics it shows up as, and the line that names the fix. */
interface Habit {
  diagnostic: RegExp;
  hint: string;
}

const SECTION = `docs/apps.md, "Node habits the compiler rejects"`;

const HABITS: Habit[] = [
  {
    diagnostic: /\b(TS1110: Type expected|TS1140: Type argument expected)/,
    hint: `every parameter needs a type, callbacks' too: (req: http.IncomingMessage, res: http.ServerResponse) => … (${SECTION})`,
  },
  {
    diagnostic: /\bAS100: Not implemented: Closures/,
    hint: `a callback can't use its enclosing function's variables (no closures): pass them as the callback's arguments, or keep them at module level (${SECTION})`,
  },
  {
    diagnostic: /\bTS2304: Cannot find name '(setTimeout|setInterval|setImmediate|clearTimeout|clearInterval|clearImmediate|queueMicrotask)'/,
    hint: `timers are not globals: import { setTimeout, setInterval, setImmediate } from "eventide/timers" (${SECTION})`,
  },
  {
    diagnostic: /\bTS2304: Cannot find name 'Buffer'/,
    hint: `Buffer is not a global: import { Buffer } from "eventide/buffer" (${SECTION})`,
  },
];

/** The hint lines for the habits the compiler's output shows, once each, in the order above. */
export function nodeHabitHints(compilerOutput: string): string[] {
  return HABITS.filter((h) => h.diagnostic.test(compilerOutput)).map((h) => h.hint);
}
