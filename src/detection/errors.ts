import { UserError } from '../core/errors.js';

/**
 * A rule Firebreak cannot run. `code` tells why:
 * - `sigma_rule_invalid`: the document breaks the specification (missing title, bad condition, ...);
 * - `sigma_feature_unsupported`: valid Sigma that this engine does not run (named in `feature`).
 * `path` is the place in the rule (`detection.selection.Image|foo`); `file` is added by the loader.
 */
export class SigmaRuleError extends UserError {
  constructor(
    code: 'sigma_rule_invalid' | 'sigma_feature_unsupported',
    message: string,
    readonly path: string,
    readonly feature?: string,
    options?: { cause?: unknown },
  ) {
    super(code, path === '' ? message : `${path}: ${message}`, { path, feature }, options);
  }
}

/** Throws a `sigma_rule_invalid` error at `path`. */
export function invalid(path: string, message: string): never {
  throw new SigmaRuleError('sigma_rule_invalid', message, path);
}

/** Throws a `sigma_feature_unsupported` error naming `feature`. */
export function unsupported(path: string, feature: string, message: string): never {
  throw new SigmaRuleError('sigma_feature_unsupported', message, path, feature);
}
