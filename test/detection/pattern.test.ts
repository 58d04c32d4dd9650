import { describe, expect, it } from 'vitest';
import {
  compileAnyPattern,
  compilePattern,
  literalPattern,
  parseSigmaString,
  type Pattern,
} from '../../src/detection/pattern.js';
import { matcherFor } from './helpers.js';

/** A small deterministic generator, so failures reproduce. */
function rng(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    return x / 0x7fffffff;
  };
}

describe('compileAnyPattern', () => {
  it('answers as "any of the patterns" does, for lists long enough to be indexed and short ones', () => {
    const random = rng(11);
    const alphabet = 'ab\\.';
    const word = (n: number): string =>
      Array.from({ length: n }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
    const shapes = ['%s', '%s*', '*%s', '*%s*', '%s*%s', '*%s?%s', ''];
    const pattern = (): Pattern => {
      const shape = shapes[Math.floor(random() * shapes.length)]!;
      if (shape === '') return literalPattern('');
      return parseSigmaString(shape.replace(/%s/g, () => word(1 + Math.floor(random() * 5))));
    };
    let matched = 0;
    let missed = 0;
    for (let round = 0; round < 300; round++) {
      // 1 to 40 patterns: below and above the size at which prefixes and suffixes are indexed
      const patterns = Array.from({ length: 1 + Math.floor(random() * 40) }, pattern);
      const any = compileAnyPattern(patterns);
      const each = patterns.map(compilePattern);
      for (let t = 0; t < 40; t++) {
        const text = word(Math.floor(random() * 9));
        const expected = each.some((test) => test(text));
        expect(any(text), `${JSON.stringify(patterns)} on ${JSON.stringify(text)}`).toBe(expected);
        if (expected) matched++;
        else missed++;
      }
    }
    // both answers were exercised many times
    expect(matched).toBeGreaterThan(1000);
    expect(missed).toBeGreaterThan(1000);
  });

  it('finds an ending or a beginning of any length in a long list, and no text shorter than one', () => {
    const endings = ['\\a.exe', '\\bb.exe', '\\ccc.exe', '\\dddd.exe', '\\eeeee.exe'];
    const ends = compileAnyPattern(endings.map((e) => parseSigmaString(`*${e}`)));
    for (const e of endings) {
      expect(ends(`c:\\windows${e}`)).toBe(true);
      expect(ends(e)).toBe(true);
      expect(ends(e.slice(1))).toBe(false);
      expect(ends(`${e}x`)).toBe(false);
    }
    const starts = compileAnyPattern(endings.map((e) => parseSigmaString(`${e}*`)));
    for (const e of endings) {
      expect(starts(`${e} --flag`)).toBe(true);
      expect(starts(` ${e}`)).toBe(false);
    }
    expect(ends('')).toBe(false);
    expect(starts('')).toBe(false);
  });

  it('runs a rule with a long endswith list, case-insensitively, and its filter', () => {
    const tools = Array.from({ length: 30 }, (_, i) => `'\\Tool${i}.exe'`).join(', ');
    const matches = matcherFor(`
selection:
  Image|endswith: [${tools}]
filter:
  Image|startswith: ['C:\\Program Files\\', 'C:\\Tools\\', 'D:\\Apps\\', 'E:\\Apps\\']
condition: selection and not filter`);
    const hit = (image: string): boolean => matches({ Image: image });
    expect(hit('C:\\Users\\x\\TOOL7.EXE')).toBe(true);
    expect(hit('C:\\Users\\x\\tool29.exe')).toBe(true);
    expect(hit('C:\\Users\\x\\tool30.exe')).toBe(false);
    expect(hit('C:\\Users\\x\\xtool7.exe')).toBe(false);
    expect(hit('e:\\apps\\tool7.exe')).toBe(false);
    expect(hit('C:\\Program Files\\Tool7.exe')).toBe(false);
  });
});
