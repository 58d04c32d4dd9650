import { describe, expect, it } from 'vitest';
import { LiteralScanner } from '../../src/detection/literal-scanner.js';
import { hitBuffer, scannedLiteral } from '../../src/detection/prefilter.js';
import { ScanArena } from '../../src/detection/scan-arena.js';

/** A small deterministic generator, so failures reproduce. */
function rng(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    return x / 0x7fffffff;
  };
}

/** The ids of the literals the prefilter must find in `text`: substrings of its lower case. */
function expected(literals: readonly string[], text: string): number[] {
  const lower = text.toLowerCase();
  return literals.flatMap((l, i) => (lower.includes(scannedLiteral(l)) ? [i] : []));
}

const distinct = (ids: Iterable<number>): number[] => [...new Set(ids)].sort((a, b) => a - b);

function scanner(literals: readonly string[], arena: ScanArena | null): LiteralScanner {
  const s = new LiteralScanner(arena);
  literals.forEach((l, i) => s.add(l, i));
  return s;
}

function scanned(s: LiteralScanner, text: string): number[] {
  const hits = hitBuffer();
  s.scan(text, hits);
  return distinct(hits.ids.subarray(0, hits.count));
}

/**
 * Literals and texts over a small alphabet (so that anchors repeat and many literals share one), with
 * upper case, non-ASCII and case-changing characters (the Kelvin sign lower-cases to ASCII "k", the
 * dotted capital I to two characters).
 */
function corpus(seed: number, alphabet = 'abcAB\\.-  éÉ\u212A\u0130k') {
  const random = rng(seed);
  const word = (n: number) =>
    Array.from({ length: n }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
  const literals = Array.from({ length: 400 }, () => word(1 + Math.floor(random() * 16)));
  const texts = Array.from({ length: 400 }, () => word(Math.floor(random() * 80)));
  // Texts holding some literals whole, in upper case.
  for (let i = 0; i < 100; i++)
    texts.push(`${word(5)}${literals[i]!.toUpperCase()}${word(3)}${literals[i + 100]}`);
  return { literals, texts };
}

describe('LiteralScanner', () => {
  it.each([
    ['mixed alphabet', 1, undefined],
    ['ASCII only', 2, 'abcAB\\.- '],
    ['two letters (anchors shared by many literals)', 3, 'ab'],
  ])(
    'finds every literal a lower-cased substring search finds (%s), in JavaScript and WebAssembly',
    (_, seed, alphabet) => {
      const { literals, texts } = corpus(seed, alphabet);
      const js = scanner(literals, null);
      const wasm = scanner(literals, new ScanArena());
      let found = 0;
      for (const text of texts) {
        const want = expected(literals, text);
        found += want.length;
        expect(scanned(js, text), JSON.stringify(text)).toEqual(want);
        expect(scanned(wasm, text), JSON.stringify(text)).toEqual(want);
      }
      expect(found).toBeGreaterThan(300);
      // literals of four characters or more go through anchors, shorter ones through the automaton
      expect(js.sizes.anchored).toBeGreaterThan(100);
      expect(js.sizes.automaton).toBeGreaterThan(10);
    },
  );

  it('scans ranges of text loaded once as each text on its own, and refuses ranges past ASCII', () => {
    const { literals, texts } = corpus(4);
    const arena = new ScanArena();
    const s = scanner(literals, arena);
    let refused = 0;
    for (let i = 0; i + 2 < texts.length; i += 3) {
      const parts = texts.slice(i, i + 3);
      expect(arena.load(parts.join(''))).toBe(true);
      let offset = 0;
      for (const part of parts) {
        const count = s.scanLoaded(arena, offset, offset + part.length);
        offset += part.length;
        if ([...part].some((c) => c.charCodeAt(0) >= 128)) {
          expect(count).toBe(-1);
          refused++;
          continue;
        }
        expect(count).toBeGreaterThanOrEqual(0);
        expect(distinct(arena.words.subarray(arena.hitBase, arena.hitBase + count)), part).toEqual(
          expected(literals, part),
        );
      }
    }
    expect(refused).toBeGreaterThan(10);
  });

  it('finds a literal at the very start and end of a range, never outside it', () => {
    const arena = new ScanArena();
    const s = scanner(['powershell', 'abc', 'shell.exe'], arena);
    const text = 'POWERSHELL.EXE|abc';
    arena.load(text);
    const hitsIn = (from: number, to: number): number[] => {
      const count = s.scanLoaded(arena, from, to);
      return distinct(arena.words.subarray(arena.hitBase, arena.hitBase + count));
    };
    expect(hitsIn(0, 14)).toEqual([0, 2]);
    expect(hitsIn(0, 13)).toEqual([0]); // "shell.ex" only
    expect(hitsIn(1, 14)).toEqual([2]); // "owershell.exe"
    expect(hitsIn(15, 18)).toEqual([1]);
    expect(hitsIn(14, 17)).toEqual([]);
  });

  it('does not take the first characters of a text, packed after NULs, for a literal starting with NULs', () => {
    for (const arena of [new ScanArena(), null]) {
      const s = scanner(['\u0000\u0000ab', '\u0000abc'], arena);
      expect(s.sizes.anchored).toBe(2);
      expect(scanned(s, 'ab')).toEqual([]);
      expect(scanned(s, 'abc')).toEqual([]);
      expect(scanned(s, 'x\u0000\u0000ABC')).toEqual([0, 1]);
    }
  });

  it('grows the hits area when the automaton and the anchors together find more hits than it holds', () => {
    const arena = new ScanArena();
    // "a" goes to the automaton, "aaaa" to the anchors: 40,000 + 39,997 hits
    const s = scanner(['a', 'aaaa'], arena);
    expect(s.sizes).toEqual({ anchored: 1, automaton: 1 });
    const text = 'a'.repeat(40_000);
    arena.load(text);
    const count = s.scanLoaded(arena, 0, text.length);
    expect(count).toBe(40_000 + 39_997);
    const ids = arena.words.subarray(arena.hitBase, arena.hitBase + count);
    expect(ids.filter((id) => id === 1).length).toBe(39_997);
    const hits = hitBuffer();
    s.scan(text, hits);
    expect(hits.count).toBe(count);
  });

  it('scans in JavaScript when the arena has no room for the tables', () => {
    const { literals, texts } = corpus(5);
    // one page: the hits area alone fills it
    const full = new ScanArena(65_536);
    const s = scanner(literals, full);
    for (const text of texts.slice(0, 100)) expect(scanned(s, text)).toEqual(expected(literals, text));
    expect(s.scanLoaded(full, 0, 0)).toBe(-1); // not in the arena: the caller scans text by text
  });

  it('keeps its bitmap small: one bit in sixteen, at most 64 KiB', () => {
    // each with an anchor of its own (its number in base 36)
    const literals = Array.from({ length: 20_000 }, (_, i) => `x${i.toString(36).padStart(4, '0')}.exe`);
    const s = scanner(literals, null);
    expect(s.sizes.anchored).toBe(20_000);
    expect(s.bitmapBytes).toBe(65_536);
    expect(scanned(s, `xx${literals[123]!.toUpperCase()}yy`)).toContain(123);
  });
});
