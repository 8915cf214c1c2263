// An asc transform that lets assembly/heap.ts read how many bytes the collector holds (live objects and
// garbage not yet swept). AssemblyScript keeps that count in a private global of its runtime (`total` in
// rt/tcms.ts) and offers no accessor, so the body of heap.ts's `allocatedBytes` stub is replaced with a read
// of it, before optimisation inlines the call. (Built with another runtime, heap.ts never calls the stub and
// it is not compiled.)
const RUNTIME_COUNTER = "~lib/rt/tcms/total";
const STUB = /(^|\/)(eventide|assembly)\/heap\/allocatedBytes$/;

export default class HeapCounter {
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
