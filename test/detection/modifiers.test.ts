import { describe, expect, it } from 'vitest';
import { base64Offsets } from '../../src/detection/sigma-compiler.js';
import { SigmaRuleError } from '../../src/detection/errors.js';
import { compileRule } from '../../src/detection/rule-set.js';
import { EMPTY_MAPPING } from '../../src/detection/logsource.js';
import { matcherFor, parseRule, ruleYaml } from './helpers.js';

const b64 = (text: string): string => btoa(text);

describe('plain values', () => {
  it('matches whole values case-insensitively by default', () => {
    const m = matcherFor(`sel:\n    Image: 'C:\\Windows\\cmd.exe'\ncondition: sel`);
    expect(m({ Image: 'c:\\windows\\CMD.EXE' })).toBe(true);
    expect(m({ Image: 'C:\\Windows\\cmd.exe.bak' })).toBe(false);
    expect(m({ Other: 'C:\\Windows\\cmd.exe' })).toBe(false);
  });

  it('ORs list values and ANDs map entries', () => {
    const m = matcherFor(`sel:\n    A: [x, y]\n    B: z\ncondition: sel`);
    expect(m({ A: 'y', B: 'z' })).toBe(true);
    expect(m({ A: 'x', B: 'q' })).toBe(false);
    expect(m({ A: 'w', B: 'z' })).toBe(false);
  });

  it('ORs a list of maps', () => {
    const m = matcherFor(`sel:\n    - A: 1\n    - B: 2\ncondition: sel`);
    expect(m({ A: 1 })).toBe(true);
    expect(m({ B: '2' })).toBe(true);
    expect(m({ A: 2 })).toBe(false);
  });

  it('compares numbers and strings by their text', () => {
    const m = matcherFor(`sel:\n    EventID: 4688\ncondition: sel`);
    expect(m({ EventID: 4688 })).toBe(true);
    expect(m({ EventID: '4688' })).toBe(true);
    expect(m({ EventID: 46880 })).toBe(false);
  });

  it('null matches a missing or null field, and empty string only an empty value', () => {
    const n = matcherFor(`sel:\n    A: null\ncondition: sel`);
    expect(n({})).toBe(true);
    expect(n({ A: null })).toBe(true);
    expect(n({ A: '' })).toBe(false);
    const e = matcherFor(`sel:\n    A: ''\ncondition: sel`);
    expect(e({ A: '' })).toBe(true);
    expect(e({})).toBe(false);
  });

  it('matches any element of an array field', () => {
    const m = matcherFor(`sel:\n    Tags|contains: evil\ncondition: sel`);
    expect(m({ Tags: ['good', 'very EVIL one'] })).toBe(true);
    expect(m({ Tags: ['good'] })).toBe(false);
  });

  it('reads dotted paths in nested JSON', () => {
    const m = matcherFor(`sel:\n    process.name: bash\ncondition: sel`);
    expect(m({ process: { name: 'BASH' } })).toBe(true);
    expect(m({ 'process.name': 'bash' })).toBe(true);
    expect(m({ process: { name: 'sh' } })).toBe(false);
  });
});

describe('wildcards and escaping', () => {
  it('treats * and ? as wildcards', () => {
    const m = matcherFor(`sel:\n    A: 'a*c?e'\ncondition: sel`);
    expect(m({ A: 'abbbcde' })).toBe(true);
    expect(m({ A: 'ace' })).toBe(false);
    expect(m({ A: 'acxe' })).toBe(true);
    expect(m({ A: 'abcdef' })).toBe(false);
  });

  it('escapes wildcards and backslashes with a backslash', () => {
    const star = matcherFor(`sel:\n    A: 'a\\*b'\ncondition: sel`);
    expect(star({ A: 'a*b' })).toBe(true);
    expect(star({ A: 'axxb' })).toBe(false);
    const q = matcherFor(`sel:\n    A: 'what\\?'\ncondition: sel`);
    expect(q({ A: 'what?' })).toBe(true);
    expect(q({ A: 'whatx' })).toBe(false);
    // \\* is an escaped backslash followed by a wildcard
    const bs = matcherFor(`sel:\n    A: 'dir\\\\*'\ncondition: sel`);
    expect(bs({ A: 'dir\\anything' })).toBe(true);
    expect(bs({ A: 'dirx' })).toBe(false);
  });

  it('keeps a lone backslash literal', () => {
    const m = matcherFor(`sel:\n    A: 'C:\\Temp\\x'\ncondition: sel`);
    expect(m({ A: 'c:\\temp\\x' })).toBe(true);
  });
});

describe('string modifiers', () => {
  it('contains, startswith, endswith', () => {
    expect(matcherFor(`s:\n    A|contains: mid\ncondition: s`)({ A: 'xxMIDxx' })).toBe(true);
    expect(matcherFor(`s:\n    A|contains: mid\ncondition: s`)({ A: 'xxMIxx' })).toBe(false);
    expect(matcherFor(`s:\n    A|startswith: pre\ncondition: s`)({ A: 'prefix' })).toBe(true);
    expect(matcherFor(`s:\n    A|startswith: pre\ncondition: s`)({ A: 'apre' })).toBe(false);
    expect(matcherFor(`s:\n    A|endswith: fix\ncondition: s`)({ A: 'prefix' })).toBe(true);
    expect(matcherFor(`s:\n    A|endswith: fix\ncondition: s`)({ A: 'fixed' })).toBe(false);
  });

  it('contains keeps inner wildcards', () => {
    const m = matcherFor(`s:\n    A|contains: 'a*z'\ncondition: s`);
    expect(m({ A: '--a-----z--' })).toBe(true);
    expect(m({ A: '--z--a--' })).toBe(false);
  });

  it('all requires every value', () => {
    const m = matcherFor(`s:\n    A|contains|all: [one, two]\ncondition: s`);
    expect(m({ A: 'two and one' })).toBe(true);
    expect(m({ A: 'only one' })).toBe(false);
  });

  it('cased matches case-sensitively', () => {
    const m = matcherFor(`s:\n    A|cased: Foo\ncondition: s`);
    expect(m({ A: 'Foo' })).toBe(true);
    expect(m({ A: 'foo' })).toBe(false);
    const c = matcherFor(`s:\n    A|contains|cased: Foo\ncondition: s`);
    expect(c({ A: 'xFoox' })).toBe(true);
    expect(c({ A: 'xfoox' })).toBe(false);
  });

  it('windash accepts -, /, en dash, em dash and horizontal bar in flag position', () => {
    const m = matcherFor(`s:\n    CommandLine|windash|contains: ' -enc '\ncondition: s`);
    for (const dash of ['-', '/', '\u2013', '\u2014', '\u2015']) {
      expect(m({ CommandLine: `powershell ${dash}enc AAAA` })).toBe(true);
    }
    expect(m({ CommandLine: 'powershell +enc AAAA' })).toBe(false);
    // a dash inside a word is not a flag and stays literal
    const inner = matcherFor(`s:\n    A|windash: 'x86-64'\ncondition: s`);
    expect(inner({ A: 'x86-64' })).toBe(true);
    expect(inner({ A: 'x86/64' })).toBe(false);
  });
});

describe('encoding modifiers', () => {
  it('base64 matches the encoded value (case-sensitively)', () => {
    const m = matcherFor(`s:\n    A|base64: 'http://'\ncondition: s`);
    expect(m({ A: b64('http://') })).toBe(true);
    expect(m({ A: b64('http://').toLowerCase() })).toBe(false);
  });

  it('base64offset finds the value at any offset inside an encoded blob', () => {
    const m = matcherFor(`s:\n    A|base64offset|contains: 'Invoke-Mimikatz'\ncondition: s`);
    for (const prefix of ['', 'x', 'xy', 'xyz', 'abcd']) {
      expect(m({ A: b64(`${prefix}Invoke-Mimikatz and more`) })).toBe(true);
    }
    expect(m({ A: b64('Invoke-Mimidogs') })).toBe(false);
    expect(base64Offsets('abc')).toHaveLength(3);
  });

  it('utf16le / wide / utf16be / utf16 with base64', () => {
    const le = (t: string): string => [...t].map((c) => `${c}\0`).join('');
    const be = (t: string): string => [...t].map((c) => `\0${c}`).join('');
    expect(matcherFor(`s:\n    A|wide|base64: cmd\ncondition: s`)({ A: btoa(le('cmd')) })).toBe(true);
    expect(matcherFor(`s:\n    A|utf16le|base64: cmd\ncondition: s`)({ A: btoa(le('cmd')) })).toBe(true);
    expect(matcherFor(`s:\n    A|utf16be|base64: cmd\ncondition: s`)({ A: btoa(be('cmd')) })).toBe(true);
    expect(matcherFor(`s:\n    A|utf16be|base64: cmd\ncondition: s`)({ A: btoa(le('cmd')) })).toBe(false);
    expect(matcherFor(`s:\n    A|utf16|base64: cmd\ncondition: s`)({ A: btoa(`\xff\xfe${le('cmd')}`) })).toBe(
      true,
    );
    expect(
      matcherFor(`s:\n    A|wide|base64offset|contains: 'IEX'\ncondition: s`)({
        A: btoa(le('x = IEX (foo)')),
      }),
    ).toBe(true);
  });
});

describe('regular expressions', () => {
  it('matches case-sensitively, anywhere, with i/m/s flags', () => {
    expect(matcherFor(`s:\n    A|re: 'ab+c'\ncondition: s`)({ A: 'xxabbbcxx' })).toBe(true);
    expect(matcherFor(`s:\n    A|re: 'ab+c'\ncondition: s`)({ A: 'ABC' })).toBe(false);
    expect(matcherFor(`s:\n    A|re|i: 'ab+c'\ncondition: s`)({ A: 'ABC' })).toBe(true);
    expect(matcherFor(`s:\n    A|re: '^b'\ncondition: s`)({ A: 'a\nb' })).toBe(false);
    expect(matcherFor(`s:\n    A|re|m: '^b'\ncondition: s`)({ A: 'a\nb' })).toBe(true);
    expect(matcherFor(`s:\n    A|re: 'a.b'\ncondition: s`)({ A: 'a\nb' })).toBe(false);
    expect(matcherFor(`s:\n    A|re|s: 'a.b'\ncondition: s`)({ A: 'a\nb' })).toBe(true);
  });

  it('refuses look-around (needs backtracking) with a named feature', () => {
    const rule = parseRule(ruleYaml(`s:\n    A|re: 'foo(?=bar)'\ncondition: s`));
    try {
      compileRule(rule, EMPTY_MAPPING);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(SigmaRuleError);
      expect((error as SigmaRuleError).code).toBe('sigma_feature_unsupported');
      expect((error as SigmaRuleError).feature).toBe('regex look-around');
      expect((error as SigmaRuleError).message).toContain('detection.s.A|re');
    }
  });

  it('runs a catastrophic-backtracking pattern in linear time (ReDoS)', () => {
    const m = matcherFor(`s:\n    A|re: '^(a+)+$'\ncondition: s`);
    const evil = `${'a'.repeat(50_000)}!`;
    const started = performance.now();
    expect(m({ A: evil })).toBe(false);
    // A backtracking engine needs about 2^50000 steps here; RE2 is linear.
    expect(performance.now() - started).toBeLessThan(1000);
    expect(m({ A: 'aaaa' })).toBe(true);
  });
});

describe('cidr', () => {
  it('matches IPv4 and IPv6 ranges', () => {
    const m = matcherFor(`s:\n    Ip|cidr: ['10.0.0.0/8', '192.168.1.0/24', 'fe80::/10']\ncondition: s`);
    expect(m({ Ip: '10.1.2.3' })).toBe(true);
    expect(m({ Ip: '192.168.1.200' })).toBe(true);
    expect(m({ Ip: '192.168.2.1' })).toBe(false);
    expect(m({ Ip: 'fe80::1%eth0' })).toBe(true);
    expect(m({ Ip: '2001:db8::1' })).toBe(false);
    expect(m({ Ip: '::ffff:10.0.0.1' })).toBe(true);
    expect(m({ Ip: 'not an ip' })).toBe(false);
  });

  it('rejects an invalid range naming the field', () => {
    expect(() =>
      compileRule(parseRule(ruleYaml(`s:\n    Ip|cidr: '10.0.0.0/99'\ncondition: s`)), EMPTY_MAPPING),
    ).toThrow(/detection\.s\.Ip\|cidr/);
  });
});

describe('numeric, neq, exists, fieldref', () => {
  it('lt/lte/gt/gte compare numbers (strings holding numbers too); missing or non-numeric is false', () => {
    const gt = matcherFor(`s:\n    N|gt: 10\ncondition: s`);
    expect(gt({ N: 11 })).toBe(true);
    expect(gt({ N: '11' })).toBe(true);
    expect(gt({ N: 10 })).toBe(false);
    expect(gt({})).toBe(false);
    expect(gt({ N: 'eleven' })).toBe(false);
    expect(matcherFor(`s:\n    N|gte: 10\ncondition: s`)({ N: 10 })).toBe(true);
    expect(matcherFor(`s:\n    N|lt: 10\ncondition: s`)({ N: 9.5 })).toBe(true);
    expect(matcherFor(`s:\n    N|lte: 10\ncondition: s`)({ N: 11 })).toBe(false);
  });

  it('neq matches a present field that differs; a missing field does not match', () => {
    const m = matcherFor(`s:\n    User|neq: admin\ncondition: s`);
    expect(m({ User: 'bob' })).toBe(true);
    expect(m({ User: 'ADMIN' })).toBe(false);
    expect(m({})).toBe(false);
  });

  it('exists checks presence, null included', () => {
    const yes = matcherFor(`s:\n    A|exists: true\ncondition: s`);
    const no = matcherFor(`s:\n    A|exists: false\ncondition: s`);
    expect(yes({ A: null })).toBe(true);
    expect(yes({ B: 1 })).toBe(false);
    expect(no({ B: 1 })).toBe(true);
    expect(no({ A: '' })).toBe(false);
  });

  it('fieldref compares two fields, alone or with neq, startswith, endswith, contains', () => {
    const eq = matcherFor(`s:\n    Src|fieldref: Dst\ncondition: s`);
    expect(eq({ Src: 'Host1', Dst: 'host1' })).toBe(true);
    expect(eq({ Src: 'host1', Dst: 'host2' })).toBe(false);
    expect(eq({ Src: 'host1' })).toBe(false);
    const ne = matcherFor(`s:\n    Src|fieldref|neq: Dst\ncondition: s`);
    expect(ne({ Src: 'a', Dst: 'b' })).toBe(true);
    expect(ne({ Src: 'a', Dst: 'A' })).toBe(false);
    expect(
      matcherFor(`s:\n    Cmd|fieldref|contains: Name\ncondition: s`)({
        Cmd: 'run evil.exe now',
        Name: 'evil.exe',
      }),
    ).toBe(true);
    expect(
      matcherFor(`s:\n    Cmd|fieldref|endswith: Name\ncondition: s`)({
        Cmd: 'run evil.exe now',
        Name: 'evil.exe',
      }),
    ).toBe(false);
  });
});

describe('date parts', () => {
  it('extracts minute, hour, day, week, month, year in UTC', () => {
    const ev = { T: '2024-03-05T22:17:09Z' };
    expect(matcherFor(`s:\n    T|minute: 17\ncondition: s`)(ev)).toBe(true);
    expect(matcherFor(`s:\n    T|hour: 22\ncondition: s`)(ev)).toBe(true);
    expect(matcherFor(`s:\n    T|hour: 21\ncondition: s`)(ev)).toBe(false);
    expect(matcherFor(`s:\n    T|day: 5\ncondition: s`)(ev)).toBe(true);
    expect(matcherFor(`s:\n    T|week: 10\ncondition: s`)(ev)).toBe(true);
    expect(matcherFor(`s:\n    T|month: 3\ncondition: s`)(ev)).toBe(true);
    expect(matcherFor(`s:\n    T|year: 2024\ncondition: s`)(ev)).toBe(true);
  });

  it('combines with numeric comparisons', () => {
    const night = matcherFor(`s:\n    T|hour|gte: 22\ncondition: s`);
    expect(night({ T: '2024-03-05 23:00:00' })).toBe(true);
    expect(night({ T: '2024-03-05 08:00:00' })).toBe(false);
    expect(night({ T: 'garbage' })).toBe(false);
  });
});

describe('expand', () => {
  it('substitutes placeholders from the mapping, and fails naming the placeholder otherwise', () => {
    const mapping = { ...EMPTY_MAPPING, placeholders: { admins: ['alice', 'bob'] } };
    const m = matcherFor(`s:\n    User|expand: '%admins%'\ncondition: s`, mapping);
    expect(m({ User: 'bob' })).toBe(true);
    expect(m({ User: 'eve' })).toBe(false);
    expect(() =>
      compileRule(parseRule(ruleYaml(`s:\n    User|expand: '%nobody%'\ncondition: s`)), EMPTY_MAPPING),
    ).toThrow(/%nobody%/);
  });
});

describe('keywords', () => {
  it('searches every value of the event for a substring, case-insensitively', () => {
    const m = matcherFor(`keywords:\n    - 'mimikatz'\n    - 'sekurlsa'\ncondition: keywords`);
    expect(m({ a: { b: ['x', 'run MimiKatz.exe'] } })).toBe(true);
    expect(m({ msg: 'sekurlsa::logonpasswords' })).toBe(true);
    expect(m({ msg: 'benign' })).toBe(false);
  });

  it('supports |all on keywords', () => {
    const m = matcherFor(`keywords:\n    '|all':\n        - foo\n        - bar\ncondition: keywords`);
    expect(m({ a: 'foo', b: 'bar' })).toBe(true);
    expect(m({ a: 'foo' })).toBe(false);
  });
});

describe('unknown modifiers', () => {
  it('fail with sigma_feature_unsupported naming the modifier', () => {
    try {
      compileRule(parseRule(ruleYaml(`s:\n    A|sortof: x\ncondition: s`)), EMPTY_MAPPING);
      expect.unreachable();
    } catch (error) {
      expect((error as SigmaRuleError).code).toBe('sigma_feature_unsupported');
      expect((error as SigmaRuleError).feature).toBe('modifier sortof');
    }
  });
});
