import { uuidv7 } from 'uuidv7';
import { describe, expect, it } from 'vitest';
import { uuidv7Floor } from './ids.js';

describe('uuidv7Floor', () => {
  it('sorts between ids minted before and after the moment', async () => {
    const before = uuidv7();
    await new Promise((resolve) => setTimeout(resolve, 5));
    const floor = uuidv7Floor(Date.now());
    await new Promise((resolve) => setTimeout(resolve, 5));
    const after = uuidv7();
    expect(before < floor).toBe(true);
    expect(floor < after).toBe(true);
  });
});
