// Runs hunt-worker.ts from source (tests, `node --import tsx`): worker threads do not inherit the
// parent's tsx loader, so register it here first. Builds use the compiled hunt-worker.js instead.
import { register } from 'tsx/esm/api';

register();
await import('./hunt-worker.ts');
