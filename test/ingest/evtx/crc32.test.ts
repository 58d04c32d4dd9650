import { describe, expect, it } from 'vitest';
import { crc32, crc32Js } from '../../../src/ingest/evtx/crc32.js';

describe('crc32', () => {
  const text = new TextEncoder().encode('123456789');
  it('gives the standard check value for "123456789" on both paths', () => {
    expect(crc32(text)).toBe(0xcbf43926);
    expect(crc32Js(text)).toBe(0xcbf43926);
  });

  it('agrees between native and JavaScript paths over ranges and continuations', () => {
    const bytes = Uint8Array.from({ length: 10_007 }, (_, i) => (i * 7919 + (i >> 3)) & 0xff);
    for (const [start, end] of [
      [0, bytes.length],
      [3, 999],
      [128, 512],
      [17, 18],
      [5, 5],
    ] as const) {
      expect(crc32(bytes, start, end)).toBe(crc32Js(bytes, start, end));
    }
    const joined = crc32(bytes, 128, 512, crc32(bytes, 0, 120));
    expect(joined).toBe(crc32Js(bytes, 128, 512, crc32Js(bytes, 0, 120)));
    expect(crc32Js(bytes, 0, 100, crc32Js(bytes, 0, 0))).toBe(crc32Js(bytes, 0, 100));
    expect(crc32Js(bytes, 50, 100, crc32Js(bytes, 0, 50))).toBe(crc32Js(bytes, 0, 100));
  });
});
