import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { systemActor } from '../core/actor.js';
import type { ServiceContext } from './context.js';
import { saveRuleSources, type RuleSource } from './rules.js';

/** Firebreak's own detection content, shipped in the package (see docs/builtin-rules.md). */
export const BUILTIN_RULES_DIR = fileURLToPath(new URL('../../rules/builtin/', import.meta.url));

async function yamlFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const files = await Promise.all(
    entries.map(async (entry) => {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) return yamlFiles(full);
      return /\.ya?ml$/i.test(entry.name) ? [full] : [];
    }),
  );
  return files.flat().sort();
}

/** The built-in rule files as sources named by their path inside the rules folder. */
export async function builtinRuleSources(dir = BUILTIN_RULES_DIR): Promise<RuleSource[]> {
  const files = await yamlFiles(dir);
  return Promise.all(
    files.map(async (file) => ({
      file: `builtin/${path.relative(dir, file)}`,
      text: await readFile(file, 'utf8'),
    })),
  );
}

/**
 * Stores the built-in rules in an organisation (enabled), as the detection engine would act. Rules it
 * already holds at the same content are left alone; changed built-ins get a new version.
 */
export async function installBuiltinRules(context: ServiceContext, orgId: string) {
  return saveRuleSources(context, systemActor(orgId), await builtinRuleSources());
}
