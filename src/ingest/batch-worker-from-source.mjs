// Runs batch-worker.ts from source (tests, `node --import tsx`): worker threads do not inherit the
// parent's tsx loader, so register it here first. Builds use the compiled batch-worker.js instead.
import { register } from 'tsx/esm/api';

register();
await import('./batch-worker.ts');
