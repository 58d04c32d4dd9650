/**
 * Just enough of the WebAssembly binary format (core specification 1.0, chapter 5) to write a module of
 * a few i32 functions over one imported memory: Firebreak's scan loops are a few dozen lines of
 * instructions, and a toolchain (or a committed binary) for them would be harder to review than this
 * encoder.
 */

/** Unsigned LEB128. */
function uleb(value: number): number[] {
  const out: number[] = [];
  let n = value >>> 0;
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 (for i32.const). */
function sleb(value: number): number[] {
  const out: number[] = [];
  let n = value | 0;
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

const vector = (items: readonly number[][]): number[] => [...uleb(items.length), ...items.flat()];
const name = (text: string): number[] => vector([...text].map((c) => [c.charCodeAt(0)]));
const section = (id: number, body: readonly number[]): number[] => [id, ...uleb(body.length), ...body];

const I32 = 0x7f;

/** The instructions the scan loop uses (opcodes from the specification's index of instructions). */
export const op = {
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  if: [0x04, 0x40],
  else: [0x05],
  end: [0x0b],
  return: [0x0f],
  br: (depth: number) => [0x0c, ...uleb(depth)],
  brIf: (depth: number) => [0x0d, ...uleb(depth)],
  get: (local: number) => [0x20, ...uleb(local)],
  set: (local: number) => [0x21, ...uleb(local)],
  tee: (local: number) => [0x22, ...uleb(local)],
  /** i32.load with 4-byte alignment and a constant offset. */
  load: (offset = 0) => [0x28, 2, ...uleb(offset)],
  load8: [0x2d, 0, 0],
  load16: [0x2f, 1, 0],
  store: [0x36, 2, 0],
  const: (value: number) => [0x41, ...sleb(value)],
  eqz: [0x45],
  eq: [0x46],
  ne: [0x47],
  ltU: [0x49],
  geU: [0x4f],
  gtU: [0x4b],
  add: [0x6a],
  sub: [0x6b],
  mul: [0x6c],
  and: [0x71],
  or: [0x72],
  shl: [0x74],
  shrU: [0x76],
} as const;

export interface WasmFunction {
  readonly name: string;
  /** Number of i32 parameters. */
  readonly params: number;
  /** Number of extra i32 locals (numbered after the parameters). */
  readonly locals: number;
  /** The body's instructions, without the final `end`; the function returns one i32. */
  readonly body: ReadonlyArray<readonly number[]>;
}

/** A module importing `env.memory` (at least `minPages`) and exporting the given functions. */
export function assembleModule(functions: readonly WasmFunction[], minPages: number): Uint8Array {
  const types = functions.map((f) => [
    0x60,
    ...vector(Array.from({ length: f.params }, () => [I32])),
    1,
    I32,
  ]);
  const bodies = functions.map((f) => {
    const code = [...vector(f.locals > 0 ? [[...uleb(f.locals), I32]] : []), ...f.body.flat(), ...op.end];
    return [...uleb(code.length), ...code];
  });
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, vector(types)),
    ...section(2, vector([[...name('env'), ...name('memory'), 0x02, 0x00, ...uleb(minPages)]])),
    ...section(3, vector(functions.map((_, i) => uleb(i)))),
    ...section(7, vector(functions.map((f, i) => [...name(f.name), 0x00, ...uleb(i)]))),
    ...section(10, vector(bodies)),
  ]);
}
