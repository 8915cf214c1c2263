// An asc transform for the two things Eventide needs from AssemblyScript's runtime that it doesn't offer.
//
// 1. The collector's byte count, for assembly/heap.ts's pacing: AssemblyScript keeps how many bytes the collector
//    holds (live objects and garbage not yet swept) in a private global (`total` in rt/tcms.ts) with no
//    accessor, so the body of heap.ts's `allocatedBytes` stub is replaced with a read of it, before optimisation
//    inlines the call. (Built with another runtime, heap.ts never calls the stub and it is not compiled.)
//
// 2. A memory limit that reads the same under every engine: when memory.grow fails (the app hit
//    `--memory-limit`, wasmtime's `-W max-memory-size` or the maximum the Node engine gives the module), the
//    allocator in rt/tlsf.ts executes `unreachable`, a bare trap each engine reports in its own words. Its
//    source is patched before it is parsed so that it writes
//      out of memory: linear memory could not grow past N bytes (the memory limit)
//    to stderr and exits with status 1 instead (N: the memory's size then). It allocates nothing: the text is
//    static data and the number is written into a static buffer. The patch is undone once the sources are
//    parsed, since asc keeps its library files for later compilations in the same process (the parser
//    harness, built without this transform, imports no WASI).
import { libraryFiles } from "assemblyscript/asc";

const RUNTIME_COUNTER = "~lib/rt/tcms/total";
const STUB = /(^|\/)(eventide|assembly)\/heap\/allocatedBytes$/;

const ALLOCATOR = "rt/tlsf";
// Both of the allocator's `memory.grow(…) < 0) unreachable();`: growing the heap, and the first grow at start.
const GROW_FAILED = /(memory\.grow\([^;]*\) < 0\)) unreachable\(\);/g;
const GROW_SITES = 2;
const OOM_HEAD = "out of memory: linear memory could not grow past ";
const OOM_TAIL = " bytes (the memory limit)\n";
const OUT_OF_MEMORY = `
// Added by scripts/heap-counter.mjs: a failed memory.grow is reported and exits 1, the same under every engine.
// @ts-ignore: decorator
@external("wasi_snapshot_preview1", "fd_write")
declare function eventide_oom_fd_write(fd: u32, iovs: usize, iovsLen: usize, writtenOut: usize): u16;
// @ts-ignore: decorator
@external("wasi_snapshot_preview1", "proc_exit")
declare function eventide_oom_proc_exit(code: u32): void;
// @ts-ignore: decorator
@lazy const EVENTIDE_OOM_HEAD = memory.data<u8>([${bytes(OOM_HEAD)}]);
// @ts-ignore: decorator
@lazy const EVENTIDE_OOM_TAIL = memory.data<u8>([${bytes(OOM_TAIL)}]);
// @ts-ignore: decorator
@lazy const EVENTIDE_OOM_SCRATCH = memory.data(128); // an iovec, the written count, then the line

// One buffer, written until done: the WASI 0.2 component's preview1 adapter writes one iovec per call.
function eventideOutOfMemory(): void {
  const iov = EVENTIDE_OOM_SCRATCH;
  const line = EVENTIDE_OOM_SCRATCH + 16;
  let end = line;
  memory.copy(end, EVENTIDE_OOM_HEAD, ${Buffer.byteLength(OOM_HEAD)});
  end += ${Buffer.byteLength(OOM_HEAD)};
  let size = <u64>memory.size() << 16;
  let count: usize = 1;
  for (let n = size; n >= 10; n /= 10) count++;
  for (let i = count; i > 0; i--) {
    store<u8>(end + i - 1, <u8>(48 + size % 10));
    size /= 10;
  }
  end += count;
  memory.copy(end, EVENTIDE_OOM_TAIL, ${Buffer.byteLength(OOM_TAIL)});
  end += ${Buffer.byteLength(OOM_TAIL)};
  for (let at = line; at < end;) {
    store<u32>(iov, <u32>at);
    store<u32>(iov + 4, <u32>(end - at));
    if (eventide_oom_fd_write(2, iov, 1, iov + 8) != 0 || load<u32>(iov + 8) == 0) break;
    at += load<u32>(iov + 8);
  }
  eventide_oom_proc_exit(1);
  unreachable(); // proc_exit does not return
}
`;

function bytes(text) {
  return [...Buffer.from(text)].join(", ");
}

// The allocator as AssemblyScript ships it, whatever a compilation that failed before afterParse left behind.
const ALLOCATOR_SOURCE = libraryFiles[ALLOCATOR];

export default class HeapCounter {
  constructor() {
    const sites = ALLOCATOR_SOURCE?.match(GROW_FAILED)?.length ?? 0;
    if (sites !== GROW_SITES) {
      throw new Error(`heap-counter: ~lib/${ALLOCATOR} has ${sites} failed-grow traps, not ${GROW_SITES}; was the AssemblyScript runtime changed?`);
    }
    libraryFiles[ALLOCATOR] = ALLOCATOR_SOURCE.replace(GROW_FAILED, "$1 eventideOutOfMemory();") + OUT_OF_MEMORY;
  }

  afterParse() {
    libraryFiles[ALLOCATOR] = ALLOCATOR_SOURCE;
  }

  afterCompile(module) {
    const binaryen = this.binaryen;
    let stub = null;
    for (let i = 0, n = module.getNumFunctions(); i < n; i++) {
      const info = binaryen.getFunctionInfo(module.getFunctionByIndex(i));
      if (STUB.test(info.name)) stub = info;
    }
    if (!stub) return; // a build without the event loop (the parser harness), or with another runtime
    if (!module.getGlobal(RUNTIME_COUNTER)) throw new Error(`heap-counter: no ${RUNTIME_COUNTER} in this build; was the AssemblyScript runtime changed?`);
    module.removeFunction(stub.name);
    module.addFunction(stub.name, stub.params, stub.results, [], module.global.get(RUNTIME_COUNTER, binaryen.i32));
  }
}
