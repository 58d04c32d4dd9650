import { describe, expect, it } from 'vitest';
import { LiteralAutomaton, hitBuffer } from '../../src/detection/prefilter.js';
import RE2 from 're2';
import { compileRegex, regexMinLength, regexRequiredLiteral } from '../../src/detection/regex.js';
import { SigmaMatcher } from '../../src/detection/engine.js';
import { prepareEvent } from '../../src/detection/event.js';
import { EMPTY_MAPPING, parseLogsourceMappingYaml } from '../../src/detection/logsource.js';
import { compileRule } from '../../src/detection/rule-set.js';
import { matcherFor, parseRule, ruleYaml } from './helpers.js';

/** A small deterministic generator, so failures reproduce. */
function rng(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    return x / 0x7fffffff;
  };
}

describe('LiteralAutomaton', () => {
  it.each([
    ['full table rows', undefined],
    ['mostly sparse rows', 64],
  ])('finds every literal a text contains (against a naive search), including non-ASCII: %s', (_, budget) => {
    const random = rng(7);
    const alphabet = 'ab\\.-é😀';
    const word = (n: number) =>
      Array.from({ length: n }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
    const literals = Array.from({ length: 300 }, () => word(1 + Math.floor(random() * 16)));
    const automaton = new LiteralAutomaton(budget);
    literals.forEach((l, i) => automaton.add(l, i));
    for (let t = 0; t < 200; t++) {
      const text = word(Math.floor(random() * 60));
      const found: number[] = [];
      automaton.search(text, found);
      const got = new Set(found);
      literals.forEach((l, i) => {
        // every contained literal must be reported (extra reports are allowed: literals are cut to
        // their last 12 characters and non-ASCII characters share classes)
        if (text.includes(l))
          expect(got.has(i), `${JSON.stringify(l)} in ${JSON.stringify(text)}`).toBe(true);
      });
      for (const i of got)
        expect(
          text.includes(literals[i]!.slice(-12)) || [...literals[i]!].some((c) => c.charCodeAt(0) > 127),
        ).toBe(true);
    }
  });
});

describe('LiteralAutomaton classes', () => {
  it('keeps every literal when non-ASCII characters share a class', () => {
    // U+0101 and U+0111 fall into the same shared class
    const automaton = new LiteralAutomaton();
    automaton.add('x\u0101', 0);
    automaton.add('x\u0111', 1);
    for (const [text, id] of [
      ['ax\u0101b', 0],
      ['ax\u0111b', 1],
    ] as const) {
      const found: number[] = [];
      automaton.search(text, found);
      expect(found).toContain(id);
    }
  });
});

describe('regexRequiredLiteral', () => {
  it('derives a literal every match contains, or nothing', () => {
    expect(regexRequiredLiteral('cmd.{0,5}(?:/c|/r).+powershell')).toBe('powershell');
    expect(regexRequiredLiteral('(?i)\\.exe\\s+werfault\\.exe')).toBe('werfault.exe');
    expect(regexRequiredLiteral('ab?cdef')).toBe('cdef');
    expect(regexRequiredLiteral('x{2}yz')).toBe('yz');
    expect(regexRequiredLiteral('a|b')).toBe('');
    expect(regexRequiredLiteral('\\x41bc')).toBe('bc');
    expect(regexRequiredLiteral('[a-z]+\\.Evil\\.com')).toBe('.evil.com');
  });
});

describe('regexMinLength', () => {
  it('counts the fewest code points a match spans', () => {
    expect(regexMinLength('\\s[a-fA-F0-9]{64}\\s[a-fA-F0-9]{16}')).toBe(82);
    expect(regexMinLength('(?i)\\s(-u|--user)\\s*:')).toBe(4);
    expect(regexMinLength('^a+$|bc?')).toBe(1);
    expect(regexMinLength('(?P<x>ab){2,}c*?\\b')).toBe(4);
    expect(regexMinLength('[]a][[:alpha:]]\\p{Lu}\\x{41}\\u0041😀.')).toBe(7);
    expect(regexMinLength('(?:)')).toBe(0);
  });

  it('gives 0 for syntax it does not model', () => {
    for (const p of ['a\\Qxyz\\E', 'a{,3}', '\\0', '(?=x)', 'a)']) expect(regexMinLength(p)).toBe(0);
  });

  it('is a lower bound: RE2 finds no match in a shorter text (random patterns and texts)', () => {
    const random = rng(11);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
    const atoms = ['a', 'b', '.', '[ab]', '\\d', '(?:a|bc)', '(b|)', '^', '$', '\\b', 'é', '😀', '\\pL'];
    const quantifiers = ['', '', '*', '+', '?', '{2}', '{1,3}', '{0,2}', '+?'];
    const alphabet = ['a', 'b', '1', 'é', '😀', ' ', 'c'];
    for (let t = 0; t < 300; t++) {
      const branches = Array.from({ length: 1 + Math.floor(random() * 2) }, () =>
        Array.from({ length: 1 + Math.floor(random() * 4) }, () => pick(atoms) + pick(quantifiers)).join(''),
      );
      const pattern = branches.join('|');
      const min = regexMinLength(pattern);
      const re = new RE2(pattern, 'u');
      const compiled = compileRegex(pattern, '', 'test');
      for (let s = 0; s < 40; s++) {
        const text = Array.from({ length: Math.floor(random() * 8) }, () => pick(alphabet)).join('');
        const hit = re.test(text);
        if (hit) expect(text.length, `${pattern} on ${text}`).toBeGreaterThanOrEqual(min);
        expect(compiled.test(text), `${pattern} on ${text}`).toBe(hit);
      }
    }
  });

  it('tests the same as RE2 on strings, lone surrogates included', () => {
    const compiled = compileRegex('a.b', '', 'test');
    const re = new RE2('a.b', 'u');
    for (const text of ['a\ud800b', 'a\udc00b', 'xa😀b', 'ab', 'a\u00e9b'])
      expect(compiled.test(text)).toBe(re.test(text));
    const replacement = compileRegex('\\x{FFFD}', '', 'test');
    expect(replacement.test('\ud800')).toBe(new RE2('\\x{FFFD}', 'u').test('\ud800'));
  });
});

describe('LiteralAutomaton.scan on text as written', () => {
  it('finds what a scan of the lower-cased text finds, ASCII or not', () => {
    const automaton = new LiteralAutomaton();
    ['\\powershell.exe', 'kelvin', 'straße', 'i\u0307x'].forEach((l, i) => automaton.add(l, i));
    const found = (text: string): number[] => {
      const hits = hitBuffer();
      automaton.scan(text, hits);
      return [...new Set(hits.ids.subarray(0, hits.count))].sort();
    };
    expect(found('C:\\Windows\\PowerShell.EXE -nop')).toEqual([0]);
    // U+212A KELVIN SIGN lower-cases to an ASCII "k": the scan starts over on the lower-cased text
    expect(found('\u212Aelvin')).toEqual([1]);
    expect(found('STRASSE Straße')).toEqual([2]);
    // U+0130 lower-cases to two characters ("i" and a combining dot)
    expect(found('\u0130X')).toEqual([3]);
    expect(found('nothing here')).toEqual([]);
  });

  it('grows the hit buffer past its first size', () => {
    const automaton = new LiteralAutomaton();
    automaton.add('a', 7);
    const hits = hitBuffer();
    automaton.scan('A'.repeat(1000), hits);
    expect(hits.count).toBe(1000);
    expect(hits.ids[999]).toBe(7);
  });
});

describe('keyword literals merged into the field automata', () => {
  // Keyword values that are also scanned as fields are found by the field scan alone.
  it.each([
    ['keywords or sel', { CommandLine: 'run MIMIKATZ now' }, true],
    ['keywords or sel', { Other: 'sekurlsa::logonpasswords' }, true],
    ['keywords or sel', { CommandLine: ['x', 'mimikatz'] }, true],
    ['keywords or sel', { CommandLine: { nested: 'mimikatz' } }, true],
    ['keywords or sel', { CommandLine: 'nothing' }, false],
    ['keywords and sel', { CommandLine: 'foo mimikatz' }, true],
    ['keywords and sel', { CommandLine: 'foo', Other: 'mimikatz' }, true],
    ['keywords and sel', { CommandLine: 'foo', Other: 'nothing' }, false],
    ['keywords and sel', { CommandLine: 'mimikatz' }, false],
  ])('%s on %j: %s', (condition, event, expected) => {
    const m = matcherFor(
      `keywords:\n    - mimikatz\n    - sekurlsa\nsel:\n    CommandLine|contains: foo\ncondition: ${condition}`,
    );
    expect(m(event)).toBe(expected);
  });

  // Numbers are scanned as their text only when some keyword literal could occur in one (digits, sign,
  // point, exponent); the full evaluation (matcherFor checks the two agree) is the reference.
  it.each([
    [['4624'], { EventID: 4624 }, true],
    [['4624'], { EventID: 4625 }, false],
    [['1.5'], { Ratio: 1.5 }, true],
    [['-3'], { Delta: -3 }, true],
    [['e+21'], { Big: 1e21 }, true],
    [['mimikatz', '4624'], { EventID: 4624 }, true],
    [['mimikatz'], { EventID: 4624, Image: 'Mimikatz.exe' }, true],
    [['mimikatz'], { EventID: 4624 }, false],
    [['24'], { Nested: { Id: [1, 4624] } }, true],
  ])('keywords %j on numbers %j: %s', (keywords, event, expected) => {
    const list = keywords.map((k) => `    - '${k}'`).join('\n');
    expect(matcherFor(`keywords:\n${list}\ncondition: keywords`)(event)).toBe(expected);
  });

  it('reads Windows event data the same way', () => {
    const rule = compileRule(
      parseRule(
        ruleYaml(
          `keywords:\n    - mimikatz\nsel:\n    CommandLine|contains: foo\ncondition: keywords and sel`,
          'product: windows',
        ),
      ),
      EMPTY_MAPPING,
    );
    const matchers = [new SigmaMatcher([rule]), new SigmaMatcher([rule], { prefilter: false })];
    const m = (event: unknown): boolean[] =>
      matchers.map((matcher) => matcher.match(prepareEvent(event)).length > 0);
    const evtx = (data: Record<string, unknown>) => ({
      Event: { System: { EventID: 1, Channel: 'Test' }, EventData: data },
    });
    expect(m(evtx({ CommandLine: 'foo Mimikatz' }))).toEqual([true, true]);
    expect(m(evtx({ CommandLine: 'foo', Image: 'mimikatz.exe' }))).toEqual([true, true]);
    expect(m(evtx({ CommandLine: 'foo', Image: 'other.exe' }))).toEqual([false, false]);
  });
});

describe('requirements of an "or" of conjunctions', () => {
  const detection = [
    'sel_ps:',
    "    Image|endswith: '\\powershell.exe'",
    "    CommandLine|contains: 'pester'",
    'sel_cmd:',
    "    Image|endswith: '\\cmd.exe'",
    "    CommandLine|contains: 'help'",
    'condition: 1 of sel_*',
  ].join('\n');

  it('keeps a group from each side of every alternative', () => {
    const rule = compileRule(parseRule(ruleYaml(detection)), EMPTY_MAPPING);
    const groups = rule.variants[0]!.need!.map((g) => g.map((r) => `${r.field}:${r.literal}`).sort());
    // (ps and pester) or (cmd and help): each group joins one requirement of either side
    expect(groups).toHaveLength(4);
    expect(groups).toContainEqual(['CommandLine:help', 'CommandLine:pester']);
    expect(groups).toContainEqual(['Image:\\cmd.exe', 'Image:\\powershell.exe']);
    expect(groups).toContainEqual(['CommandLine:help', 'Image:\\powershell.exe']);
    expect(groups).toContainEqual(['CommandLine:pester', 'Image:\\cmd.exe']);
  });

  it('does not test the rule on an event that has one side of each alternative only', () => {
    const rule = compileRule(parseRule(ruleYaml(detection)), EMPTY_MAPPING);
    let tested = 0;
    const variant = rule.variants[0]! as { test: (ev: unknown) => boolean };
    const test = variant.test;
    variant.test = (ev) => {
      tested++;
      return test(ev);
    };
    const matcher = new SigmaMatcher([rule]);
    const image = { Image: 'C:\\Windows\\System32\\cmd.exe', CommandLine: 'cmd /c dir' };
    expect(matcher.match(prepareEvent(image))).toHaveLength(0);
    expect(tested).toBe(0);
    expect(matcher.match(prepareEvent({ ...image, CommandLine: 'cmd /c help' }))).toHaveLength(1);
    expect(tested).toBe(1);
  });

  it.each([
    [{ Image: 'x\\powershell.exe', CommandLine: 'Invoke-Pester' }, true],
    [{ Image: 'x\\cmd.exe', CommandLine: 'HELP' }, true],
    [{ Image: 'x\\cmd.exe', CommandLine: 'pester' }, false],
    [{ Image: 'x\\powershell.exe', CommandLine: 'help' }, false],
    [{ Image: 'x\\other.exe', CommandLine: 'pester help' }, false],
  ])('matches %j: %s (with and without the prefilter)', (event, expected) => {
    expect(matcherFor(detection)(event)).toBe(expected);
  });
});

describe('weak requirement groups', () => {
  const groupsOf = (detection: string): string[][] =>
    compileRule(parseRule(ruleYaml(detection)), EMPTY_MAPPING).variants[0]!.need!.map((g) =>
      g.map((r) => `${r.field}:${r.literal}`).sort(),
    );
  const cmd = [
    'sel:',
    "    Image|endswith: '\\cmd.exe'",
    "    CommandLine|contains: '/c'",
    "    ParentImage|contains: '.exe'",
    "    User|contains: ['admin', ' ']",
    'condition: sel',
  ].join('\n');

  it('are left out when the rule has a strong one: short literals, common text, or a weak alternative', () => {
    expect(groupsOf(cmd)).toEqual([['Image:\\cmd.exe']]);
  });

  it('stay when every group of the rule is weak', () => {
    const weak = "sel:\n    CommandLine|contains: '/c'\n    Image|endswith: '.exe'\ncondition: sel";
    expect(groupsOf(weak).sort()).toEqual([['CommandLine:/c'], ['Image:.exe']]);
  });

  it.each([
    [{ Image: 'C:\\x\\cmd.exe', CommandLine: 'cmd /c', ParentImage: 'a.exe', User: 'admin' }, true],
    [{ Image: 'C:\\x\\cmd.exe', CommandLine: 'cmd /k', ParentImage: 'a.exe', User: 'admin' }, false],
    [{ Image: 'C:\\x\\cmd.exe', CommandLine: 'cmd /c', ParentImage: 'a.exe', User: 'root' }, false],
    [{ Image: 'C:\\x\\cmd.exe', CommandLine: 'cmd /c', ParentImage: 'a.exe', User: 'a b' }, true],
    [{ Image: 'C:\\x\\pwsh.exe', CommandLine: 'cmd /c', ParentImage: 'a.exe', User: 'admin' }, false],
  ])('a rule without them still matches %j: %s (with and without the prefilter)', (event, expected) => {
    expect(matcherFor(cmd)(event)).toBe(expected);
  });
});

describe("requirements on a bucket's own EventID and Channel", () => {
  const mapping = parseLogsourceMappingYaml(
    [
      'logsources:',
      '  - name: security',
      '    logsource: { product: windows, service: security }',
      "    conditions: { Channel: 'Security' }",
    ].join('\n'),
  );
  const security = 'product: windows\n    service: security';
  const counted = (detection: string, logsource: string, id: number) => {
    const rule = compileRule(
      parseRule(
        ruleYaml(detection, logsource).replace(
          '00000000-0000-0000-0000-000000000001',
          `00000000-0000-0000-0000-00000000000${id}`,
        ),
      ),
      mapping,
    );
    const calls = { n: 0 };
    for (const variant of rule.variants as unknown as Array<{ test: (ev: unknown) => boolean }>) {
      const test = variant.test;
      variant.test = (ev) => {
        calls.n++;
        return test(ev);
      };
    }
    return { rule, calls };
  };
  const evtx = (channel: string, id: number, data: Record<string, unknown>) =>
    prepareEvent({ Event: { System: { EventID: id, Channel: channel }, EventData: data } });

  it('are decided once per bucket: a rule for another event id is never tested, nor is the id scanned', () => {
    const logon = counted('sel:\n    EventID: 4624\n    LogonType: 10\ncondition: sel', security, 1);
    const failed = counted('sel:\n    EventID: [4625, 4771]\ncondition: sel', security, 2);
    const onSecurity = counted(
      "sel:\n    Channel: 'Security'\n    Foo: 'barbaz'\ncondition: sel",
      'product: windows',
      3,
    );
    const rules = [logon.rule, failed.rule, onSecurity.rule];
    const matcher = new SigmaMatcher(rules);
    const without = new SigmaMatcher(rules, { prefilter: false });
    const ids = (ev: ReturnType<typeof evtx>) => matcher.match(ev).map((r) => r.info.id.slice(-1));
    const cases: Array<[ReturnType<typeof evtx>, string[]]> = [
      [evtx('Security', 4624, { LogonType: 10, Foo: 'barbaz' }), ['1', '3']],
      [evtx('Security', 4624, { LogonType: 2 }), []],
      [evtx('Security', 4625, {}), ['2']],
      [evtx('Security', 4771, {}), ['2']],
      [evtx('System', 4624, { LogonType: 10, Foo: 'barbaz' }), []],
    ];
    for (const [ev, expected] of cases) expect(ids(ev)).toEqual(expected);
    // tested only where the event id or channel allows a match
    expect(logon.calls.n).toBe(2); // the two 4624 events on Security
    expect(failed.calls.n).toBe(2); // the 4625 and 4771 events
    expect(onSecurity.calls.n).toBe(1); // the Security event holding 'barbaz'
    // and decided when the bucket is built: no scan of EventID or Channel, no rule of another id
    type Bucket = { fields: Array<{ field: string }>; always: unknown[]; guarded: unknown[] };
    const bucket = (ev: ReturnType<typeof evtx>) =>
      (matcher as unknown as { bucketFor(ev: unknown): Bucket }).bucketFor(ev);
    const b4624 = bucket(evtx('Security', 4624, {}));
    expect(b4624.fields.map((f) => f.field).sort()).toEqual(['Foo']);
    expect(b4624.always).toHaveLength(1); // the logon rule: its requirement holds for every 4624 event
    expect(b4624.guarded).toHaveLength(1); // the 'barbaz' rule
    const b4625 = bucket(evtx('Security', 4625, {}));
    expect(b4625.always).toHaveLength(1); // the failed-logon rule
    expect(b4625.guarded).toHaveLength(1);
    const system = bucket(evtx('System', 4624, {}));
    expect(system.always).toHaveLength(0);
    expect(system.guarded).toHaveLength(0);
    for (const [ev, expected] of cases)
      expect(without.match(ev).map((r) => r.info.id.slice(-1))).toEqual(expected);
  });
});

describe('literals found again in one event', () => {
  const detection =
    "sel:\n    CommandLine|contains|all:\n        - 'invoke'\n        - 'pester'\ncondition: sel";

  it('are tallied once, and the tally survives the event counter starting over', () => {
    const rule = compileRule(parseRule(ruleYaml(detection)), EMPTY_MAPPING);
    expect(rule.variants[0]!.need).toHaveLength(2);
    const matcher = new SigmaMatcher([rule]);
    const event = { CommandLine: 'invoke invoke pester x invoke pester' };
    expect(matcher.match(prepareEvent(event))).toHaveLength(1);
    expect(matcher.match(prepareEvent({ CommandLine: 'invoke invoke pest' }))).toHaveLength(0);
    // the next event's stamp passes the limit: stamps start over at 1, the first event's
    (matcher as unknown as { stamp: number }).stamp = (1 << 22) - 1;
    expect(matcher.match(prepareEvent(event))).toHaveLength(1);
    expect(matcher.match(prepareEvent(event))).toHaveLength(1);
  });
});

describe('the per-event bookkeeping', () => {
  it('stays right when a larger dispatch bucket is built between two events of a smaller one', () => {
    const mapping = parseLogsourceMappingYaml(
      [
        'logsources:',
        '  - name: a',
        '    logsource: { product: windows, category: cat_a }',
        "    conditions: { Channel: 'A', EventID: 1 }",
        '  - name: b',
        '    logsource: { product: windows, category: cat_b }',
        "    conditions: { Channel: 'B', EventID: 2 }",
      ].join('\n'),
    );
    const rule = (category: string, literal: string, id: number) =>
      compileRule(
        parseRule(
          ruleYaml(
            `sel:\n    CommandLine|contains: '${literal}'\ncondition: sel`,
            `product: windows\n    category: ${category}`,
          ).replace('00000000-0000-0000-0000-000000000001', `00000000-0000-0000-0000-00000000000${id}`),
        ),
        mapping,
      );
    const matcher = new SigmaMatcher([
      rule('cat_a', 'pester', 1),
      rule('cat_b', 'one', 2),
      rule('cat_b', 'two', 3),
      rule('cat_b', 'three', 4),
    ]);
    const evtx = (channel: string, id: number, commandLine: string) => ({
      Event: { System: { EventID: id, Channel: channel }, EventData: { CommandLine: commandLine } },
    });
    const a = evtx('A', 1, 'Invoke-Pester');
    expect(matcher.match(prepareEvent(a))).toHaveLength(1);
    expect(matcher.match(prepareEvent(a))).toHaveLength(1);
    // the larger bucket: the bookkeeping grows
    expect(matcher.match(prepareEvent(evtx('B', 2, 'one two three')))).toHaveLength(3);
    for (let i = 0; i < 4; i++) expect(matcher.match(prepareEvent(a)), `event ${i}`).toHaveLength(1);
  });
});
