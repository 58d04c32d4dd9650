/**
 * The part of the WebAssembly JavaScript interface Firebreak uses. Node's own type declarations (v20)
 * leave the `WebAssembly` global out; TypeScript declares it only in its DOM and worker libraries.
 */
declare namespace WebAssembly {
  class Memory {
    constructor(descriptor: { initial: number; maximum?: number });
    readonly buffer: ArrayBuffer;
    /** Grows by `delta` pages of 64 KiB; returns the old size in pages; throws RangeError past the maximum. */
    grow(delta: number): number;
  }
  class Module {
    constructor(bytes: Uint8Array);
  }
  class Instance {
    constructor(module: Module, imports?: Record<string, Record<string, unknown>>);
    readonly exports: Record<string, unknown>;
  }
}
