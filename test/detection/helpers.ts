import { Command, CommanderError } from 'commander';
import { registerHuntCommands } from '../../src/cli/hunt-commands.js';
import { prepareEvent } from '../../src/detection/event.js';
import { SigmaMatcher } from '../../src/detection/engine.js';
import { EMPTY_MAPPING, type LogsourceMapping } from '../../src/detection/logsource.js';
import { buildRuleSet, compileRule, type RuleSet } from '../../src/detection/rule-set.js';
import { parseSigmaYaml, type SigmaDetectionRule } from '../../src/detection/sigma-rule.js';

/** A detection rule around a detection body (YAML, indented by 4 under `detection:`). */
export function ruleYaml(detection: string, logsource = 'product: test'): string {
  const body = detection
    .trim()
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');
  return `title: Test rule\nid: 00000000-0000-0000-0000-000000000001\nlevel: high\nlogsource:\n    ${logsource}\ndetection:\n${body}\n`;
}

export function parseRule(yaml: string): SigmaDetectionRule {
  const [doc] = parseSigmaYaml(yaml);
  if (doc?.kind !== 'rule') throw new Error('not a detection rule');
  return doc;
}

/** Compiles a detection body and returns a test over plain events (with and without the prefilter). */
export function matcherFor(
  detection: string,
  mapping: LogsourceMapping = EMPTY_MAPPING,
): (event: unknown) => boolean {
  const rule = compileRule(parseRule(ruleYaml(detection)), mapping);
  const withPrefilter = new SigmaMatcher([rule]);
  const without = new SigmaMatcher([rule], { prefilter: false });
  return (event) => {
    const a = withPrefilter.match(prepareEvent(event)).length > 0;
    const b = without.match(prepareEvent(event)).length > 0;
    if (a !== b) throw new Error(`prefilter disagrees with full evaluation on ${JSON.stringify(event)}`);
    return a;
  };
}

/** Builds a rule set from several YAML documents (rules, filters, correlations). */
export function ruleSetFrom(texts: readonly string[], mapping: LogsourceMapping = EMPTY_MAPPING): RuleSet {
  const docs = texts.flatMap((t, i) => parseSigmaYaml(t).map((doc) => ({ doc, file: `doc${i}.yml` })));
  const { set, failures } = buildRuleSet(docs, mapping);
  if (failures.length > 0) throw new Error(failures.map((f) => f.reason).join('; '));
  return set;
}

/**
 * Runs a `firebreak hunt` / `rules` command line in-process: what it wrote to stdout and stderr, and its
 * exit status (1 when commander refused an argument).
 */
export async function huntCli(args: string[]): Promise<{ out: string; err: string; code: number }> {
  let out = '';
  let err = '';
  let code = 0;
  const program = new Command('firebreak').exitOverride().configureOutput({ writeErr: (t) => (err += t) });
  registerHuntCommands(program, {
    out: (t) => (out += t),
    err: (t) => (err += t),
    setExitCode: (c) => (code = c),
  });
  try {
    await program.parseAsync(['node', 'firebreak', ...args]);
  } catch (error) {
    code = code || 1; // commander refused an argument (exitOverride), or the command failed
    // what `firebreak` (src/cli/main.ts) prints of a failure; commander has written its own refusals
    if (!(error instanceof CommanderError)) err += `firebreak: ${(error as Error).message}\n`;
  }
  return { out, err, code };
}
