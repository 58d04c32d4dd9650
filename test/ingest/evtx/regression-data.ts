/**
 * Locates the Sigma regression data (EVTX files with the same events as JSON, as evtx dump tools print
 * them) in ../shared beside the repository. The data is third-party and is never copied into the repo.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const REGRESSION_DIR = resolve(REPO_ROOT, '../shared/data/sigma/regression_data');
export const HAVE_REGRESSION_DATA = existsSync(REGRESSION_DIR);
export const SKIP_REASON = `EVTX regression data not found at ${REGRESSION_DIR} (../shared is absent)`;

/** Every `.evtx` file under the regression data, sorted; empty when the data is absent. */
export function regressionEvtxFiles(): string[] {
  if (!HAVE_REGRESSION_DATA) return [];
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.evtx')) out.push(path);
    }
  };
  walk(REGRESSION_DIR);
  return out.sort();
}

/** The JSON documents of a reference file: one object, or several pretty-printed objects back to back. */
export function readReferenceJson(path: string): unknown[] {
  const text = readFileSync(path, 'utf8');
  const docs: unknown[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  let escaped = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (escaped) escaped = false;
      else if (ch === '\\') escaped = true;
      else if (ch === '"') inString = false;
    } else if (ch === '"') {
      inString = true;
    } else if (ch === '{') {
      if (depth++ === 0) start = i;
    } else if (ch === '}') {
      if (--depth === 0) docs.push(JSON.parse(text.slice(start, i + 1)));
    }
  }
  if (depth !== 0 || inString) throw new Error(`unbalanced JSON in ${path}`);
  return docs;
}
