import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { systemActor } from '../core/actor.js';
import { listRuleFiles } from '../hunt/rule-loader.js';
import type { ServiceContext } from './context.js';
import { saveRuleSources, type RuleSource } from './rules.js';

/** Firebreak's own detection content, shipped in the package (see docs/builtin-rules.md). */
export const BUILTIN_RULES_DIR = fileURLToPath(new URL('../../rules/builtin/', import.meta.url));

/** The built-in rule files as sources named by their path inside the rules folder. */
export async function builtinRuleSources(dir = BUILTIN_RULES_DIR): Promise<RuleSource[]> {
  const files = await listRuleFiles(dir);
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
