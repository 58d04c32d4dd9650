import { describe, expect, it } from 'vitest';
import { applyPatch } from './field-changes.js';

describe('applyPatch', () => {
  interface Row {
    title: string;
    assigneeId: string | null;
    secret: string;
  }
  const record: Row = { title: 'a', assigneeId: null, secret: 's' };
  const names = { title: 'title', assigneeId: 'assignee_id' } as const;

  it('records only the fields that change, by wire name', () => {
    const { next, changes, changed } = applyPatch(record, { title: 'b', assigneeId: null }, names);
    expect(changed).toBe(true);
    expect(changes).toEqual({ title: { from: 'a', to: 'b' } });
    expect(next).toEqual({ title: 'b', assigneeId: null, secret: 's' });
  });

  it('treats undefined as "leave alone" and null as a value', () => {
    expect(applyPatch(record, { title: undefined }, names).changed).toBe(false);
    const assigned: Row = { ...record, assigneeId: 'u1' };
    const set = applyPatch(assigned, { assigneeId: null }, names);
    expect(set.changes).toEqual({ assignee_id: { from: 'u1', to: null } });
  });

  it('ignores fields it was not told about', () => {
    const { next, changed } = applyPatch(record, { secret: 'x' } as never, names);
    expect(changed).toBe(false);
    expect(next.secret).toBe('s');
  });
});
