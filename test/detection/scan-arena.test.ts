import { describe, expect, it } from 'vitest';
import { LiteralAutomaton, hitBuffer } from '../../src/detection/prefilter.js';
import { ScanArena } from '../../src/detection/scan-arena.js';
import { SigmaMatcher } from '../../src/detection/engine.js';
import { prepareEvent } from '../../src/detection/event.js';
import { EMPTY_MAPPING } from '../../src/detection/logsource.js';
import { compileRule } from '../../src/detection/rule-set.js';
import { parseRule, ruleYaml } from './helpers.js';

/** A small deterministic generator, so failures reproduce. */
function rng(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    return x / 0x7fffffff;
  };
}

/** `text` with every character past ASCII replaced by "a". */
const asciiOnly = (text: string): string =>
  Array.from(text, (c) => (c.charCodeAt(0) < 128 ? c : 'a')).join('');

const hitsOf = (automaton: LiteralAutomaton, text: string): number[] => {
  const hits = hitBuffer();
  automaton.scan(text, hits);
  return Array.from(hits.ids.subarray(0, hits.count));
};

/** Random literals and texts over an alphabet with upper case, non-ASCII and case-changing characters. */
function corpus(seed: number) {
  const random = rng(seed);
  const alphabet = 'abAB\\.-éÉ😀\u212A\u0130k';
  const word = (n: number) =>
    Array.from({ length: n }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
  const literals = Array.from({ length: 300 }, () => word(1 + Math.floor(random() * 16)));
  const texts = Array.from({ length: 300 }, (_, i) =>
    // a third ASCII only, the rest anything
    i % 3 === 0 ? asciiOnly(word(Math.floor(random() * 60))) : word(Math.floor(random() * 60)),
  );
  return { literals, texts };
}

function automaton(literals: readonly string[], arena: ScanArena | null, budget?: number): LiteralAutomaton {
  const a = new LiteralAutomaton(budget, arena);
  literals.forEach((l, i) => a.add(l, i));
  return a;
}

describe('ScanArena (the prefilter scan in WebAssembly)', () => {
  it('reports the same hits, in the same order, as the scan in JavaScript', () => {
    const { literals, texts } = corpus(11);
    const js = automaton(literals, null);
    const wasm = automaton(literals, new ScanArena());
    expect(wasm.tables()).not.toBeNull();
    let total = 0;
    for (const text of texts) {
      const want = hitsOf(js, text);
      total += want.length;
      expect(hitsOf(wasm, text), JSON.stringify(text)).toEqual(want);
    }
    expect(total).toBeGreaterThan(100); // the corpus does find literals
  });

  it('scans ranges of text loaded once as each text on its own, and refuses those past ASCII', () => {
    const { literals, texts } = corpus(12);
    const arena = new ScanArena();
    const wasm = automaton(literals, arena);
    const js = automaton(literals, null);
    expect(arena.load(texts.join(''))).toBe(true);
    const tables = wasm.tables()!;
    let offset = 0;
    let refused = 0;
    for (const text of texts) {
      const count = arena.scanLoaded(tables, offset, offset + text.length);
      offset += text.length;
      if (asciiOnly(text) !== text) {
        // scanned again on its own, lower-cased
        expect(count).toBe(-1);
        refused++;
        continue;
      }
      expect(Array.from(arena.words.subarray(arena.hitBase, arena.hitBase + count))).toEqual(
        hitsOf(js, text),
      );
    }
    expect(refused).toBeGreaterThan(50);
    expect(refused).toBeLessThan(texts.length - 50);
  });

  it('grows the hits area when one text has more hits than it holds', () => {
    const a = new LiteralAutomaton(undefined, new ScanArena());
    a.add('a', 7);
    a.add('aa', 8);
    const hits = hitsOf(a, 'A'.repeat(100_000));
    expect(hits.length).toBe(199_999);
    expect(hits.filter((id) => id === 8).length).toBe(99_999);
  });

  it('leaves an automaton in JavaScript when it has sparse rows or the arena is full', () => {
    const { literals, texts } = corpus(13);
    const js = automaton(literals, null);
    const sparse = automaton(literals, new ScanArena(), 64 * 144);
    const tooSmall = automaton(literals, new ScanArena(65_536));
    expect(sparse.tables()).toBeNull();
    expect(tooSmall.tables()).toBeNull();
    for (const text of texts) {
      expect(hitsOf(sparse, text)).toEqual(hitsOf(js, text));
      expect(hitsOf(tooSmall, text)).toEqual(hitsOf(js, text));
    }
  });

  it('goes back to JavaScript when the arena cannot hold the hits of a scan', () => {
    // 64 KiB: the tables fit beside the first hits area, a larger one does not
    const arena = new ScanArena(3 * 65_536);
    const a = new LiteralAutomaton(undefined, arena);
    a.add('a', 1);
    a.add('b', 2);
    expect(a.tables()).not.toBeNull();
    expect(hitsOf(a, 'xaby')).toEqual([1, 2]);
    const many = hitsOf(a, 'ab'.repeat(60_000));
    expect(many.length).toBe(120_000);
    expect(a.tables()).toBeNull();
    expect(hitsOf(a, 'xaby')).toEqual([1, 2]);
  });

  it('gives the matcher the same matches as the scan in JavaScript', () => {
    const detections = [
      "sel:\n  CommandLine|contains:\n    - '-EncodedCommand'\n    - 'Straße'\ncondition: sel",
      "sel:\n  Image|endswith: '\\cmd.exe'\n  User: 'SYSTEM'\ncondition: sel",
      "keywords:\n  - 'mimikatz'\n  - 'sekurlsa::'\ncondition: keywords",
    ];
    const rules = detections.map((d, i) =>
      compileRule(parseRule(ruleYaml(d).replace('Test rule', `Rule ${i}`)), EMPTY_MAPPING),
    );
    const wasm = new SigmaMatcher(rules);
    const js = new SigmaMatcher(rules, { scan: 'js' });
    const events = [
      { CommandLine: 'powershell -encodedcommand AAAA', Image: 'C:\\x\\CMD.EXE', User: 'system' },
      {
        CommandLine: 'echo STRASSE',
        Image: 'C:\\x\\cmd.exe',
        User: 'SYSTEM',
        Note: 'SEKURLSA::logonpasswords',
      },
      { CommandLine: ['a', 'x -EncodedCommand y'], Image: 'cmd.exe', Other: 'Mimikatz ü' },
      { CommandLine: 'nothing', Image: 'C:\\Ŭ\\cmd.exe', User: 'SYSTEM', n: 42 },
    ];
    const titles = (m: SigmaMatcher, e: object) =>
      m
        .match(prepareEvent(e))
        .map((r) => r.info.title)
        .sort();
    const found = events.map((e) => titles(wasm, e));
    expect(found).toEqual(events.map((e) => titles(js, e)));
    expect(found.flat().length).toBeGreaterThanOrEqual(4);
  });
});
