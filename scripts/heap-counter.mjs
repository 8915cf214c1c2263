// An asc transform that lets assembly/heap.ts read how many bytes the collector holds (live objects and
// garbage not yet swept). AssemblyScript keeps that count in a private global of its runtime (`total` in
// rt/tcms.ts; rt/itcms.ts when built with the incremental runtime) and offers no accessor, so the body of heap.ts's
// `allocatedBytes` stub is replaced with a read of it, before optimisation inlines the call.
const RUNTIME_COUNTERS = ["~lib/rt/tcms/total", "~lib/rt/itcms/total"];
const STUB = /(^|\/)(eventide|assembly)\/heap\/allocatedBytes$/;

export default class HeapCounter {
  afterCompile(module) {
    const binaryen = this.binaryen;
    const counter = RUNTIME_COUNTERS.find((name) => module.getGlobal(name));
    let stub = null;
    for (let i = 0, n = module.getNumFunctions(); i < n; i++) {
      const info = binaryen.getFunctionInfo(module.getFunctionByIndex(i));
      if (STUB.test(info.name)) stub = info;
    }
    if (!stub) return; // a build without the event loop (the parser harness)
    if (!counter) throw new Error(`heap-counter: none of ${RUNTIME_COUNTERS.join(", ")} in this build; was the AssemblyScript runtime changed?`);
    module.removeFunction(stub.name);
    module.addFunction(stub.name, stub.params, stub.results, [], module.global.get(counter, binaryen.i32));
  }
}
