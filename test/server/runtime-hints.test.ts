import { describe, expect, it } from 'vitest';
import { youngGenerationHint } from '../../src/server/runtime-hints.js';

describe('youngGenerationHint', () => {
  it('advises the flag when neither the command line nor NODE_OPTIONS sets it', () => {
    expect(youngGenerationHint(['--import', 'tsx'], undefined)).toMatch(/--max-semi-space-size=64/);
    expect(youngGenerationHint([], '--max-old-space-size=4096')).toMatch(/NODE_OPTIONS/);
  });

  it('stays quiet when the flag is given either way', () => {
    expect(youngGenerationHint(['--max-semi-space-size=64'], undefined)).toBeNull();
    expect(youngGenerationHint(['--max-semi-space-size', '32'], undefined)).toBeNull();
    expect(youngGenerationHint([], '--enable-source-maps --max-semi-space-size=128')).toBeNull();
  });

  it('is not fooled by a look-alike flag', () => {
    expect(youngGenerationHint(['--max-semi-space-size-x=1'], undefined)).not.toBeNull();
  });
});
