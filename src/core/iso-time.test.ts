import { describe, expect, it } from 'vitest';
import { isoUtc } from './iso-time.js';

describe('isoUtc', () => {
  it('writes what toISOString writes across the four-digit years', () => {
    const edges = [
      0, -1, 1, 951_782_400_000 /* 2000-02-29 */, 4_107_542_400_000 /* 2100-03-01 */, -62_167_219_200_000,
      -62_167_219_200_001, 253_402_300_799_999, 253_402_300_800_000, -8_640_000_000_000_000,
      8_640_000_000_000_000, 1.9, -1.9, 1_735_689_599_999.5,
    ];
    for (const t of edges) expect(isoUtc(t), String(t)).toBe(new Date(t).toISOString());
    let x = 0x2545f491;
    for (let i = 0; i < 20_000; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      // spread over years 0000..9999, and every millisecond of a day
      const t = -62_167_219_200_000 + (x >>> 0) * 73_000 + (i % 86_400_000) * 997;
      expect(isoUtc(t)).toBe(new Date(t).toISOString());
    }
  });

  it('throws the RangeError of toISOString for times that are not valid', () => {
    for (const t of [NaN, Infinity, -Infinity, 8_640_000_000_000_001])
      expect(() => isoUtc(t)).toThrow(RangeError);
  });
});
