import { describe, expect, it } from 'vitest';
import { parseCondition } from '../../src/detection/condition.js';
import { SigmaRuleError } from '../../src/detection/errors.js';
import { matcherFor } from './helpers.js';

const sels = `a:\n    A: 1\nb:\n    B: 1\nc:\n    C: 1\n`;
const truth = (condition: string) => {
  const m = matcherFor(`${sels}condition: ${condition}`);
  return (a: number, b: number, c: number) => m({ A: a, B: b, C: c });
};

describe('condition precedence', () => {
  it('binds and tighter than or', () => {
    const t = truth('a or b and c');
    expect(t(1, 0, 0)).toBe(true); // a or (b and c)
    expect(t(0, 1, 0)).toBe(false);
    expect(t(0, 1, 1)).toBe(true);
  });

  it('binds not tighter than and', () => {
    const t = truth('not a and b');
    expect(t(0, 1, 0)).toBe(true); // (not a) and b
    expect(t(1, 1, 0)).toBe(false);
    expect(t(0, 0, 0)).toBe(false);
  });

  it('honours parentheses', () => {
    const t = truth('(a or b) and c');
    expect(t(1, 0, 0)).toBe(false);
    expect(t(1, 0, 1)).toBe(true);
    const n = truth('not (a or b)');
    expect(n(0, 0, 0)).toBe(true);
    expect(n(0, 1, 0)).toBe(false);
  });

  it('parses to the expected tree', () => {
    expect(parseCondition('a or not b and c', 'condition')).toEqual({
      type: 'or',
      operands: [
        { type: 'ref', name: 'a' },
        {
          type: 'and',
          operands: [
            { type: 'not', operand: { type: 'ref', name: 'b' } },
            { type: 'ref', name: 'c' },
          ],
        },
      ],
    });
  });

  it('accepts keywords in any case', () => {
    expect(truth('a AND NOT b')(1, 0, 0)).toBe(true);
    expect(truth('a AND NOT b')(1, 1, 0)).toBe(false);
  });
});

describe('quantified conditions', () => {
  const body = `sel_x:\n    X: 1\nsel_y:\n    Y: 1\nfilter:\n    F: 1\n_helper:\n    H: 1\n`;
  const m = (condition: string) => matcherFor(`${body}condition: ${condition}`);

  it('1 of / all of a pattern', () => {
    expect(m('1 of sel_*')({ Y: 1 })).toBe(true);
    expect(m('1 of sel_*')({ F: 1 })).toBe(false);
    expect(m('all of sel_*')({ X: 1, Y: 1 })).toBe(true);
    expect(m('all of sel_*')({ X: 1 })).toBe(false);
  });

  it('1 of them / all of them (identifiers starting with _ are left out of them)', () => {
    expect(m('1 of them')({ F: 1 })).toBe(true);
    expect(m('1 of them')({ H: 1 })).toBe(false);
    expect(m('all of them')({ X: 1, Y: 1, F: 1 })).toBe(true);
    expect(m('all of them')({ X: 1, Y: 1 })).toBe(false);
  });

  it('combines with not and and', () => {
    const t = m('all of sel_* and not filter');
    expect(t({ X: 1, Y: 1 })).toBe(true);
    expect(t({ X: 1, Y: 1, F: 1 })).toBe(false);
    expect(m('1 of sel_* and not 1 of filter*')({ X: 1, F: 1 })).toBe(false);
  });

  it('a list of conditions is their OR', () => {
    const t = matcherFor(`${body}condition:\n    - sel_x\n    - sel_y`);
    expect(t({ Y: 1 })).toBe(true);
    expect(t({ F: 1 })).toBe(false);
  });
});

describe('condition errors', () => {
  const code = (text: string): string => {
    try {
      parseCondition(text, 'detection.condition');
    } catch (error) {
      expect(error).toBeInstanceOf(SigmaRuleError);
      return (error as SigmaRuleError).code;
    }
    return 'none';
  };
  it('reports bad syntax as sigma_rule_invalid', () => {
    expect(code('a and')).toBe('sigma_rule_invalid');
    expect(code('(a or b')).toBe('sigma_rule_invalid');
    expect(code('a b')).toBe('sigma_rule_invalid');
    expect(code('a or or b')).toBe('sigma_rule_invalid');
  });
  it('reports deprecated aggregations and near as unsupported features', () => {
    expect(code('sel | count() by User > 5')).toBe('sigma_feature_unsupported');
    expect(code('sel1 near sel2')).toBe('sigma_rule_invalid');
    expect(code('near sel2')).toBe('sigma_feature_unsupported');
    expect(code('2 of sel*')).toBe('sigma_feature_unsupported');
  });
});
