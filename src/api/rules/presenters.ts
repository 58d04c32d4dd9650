import type { DescribedDetection, DetectionPolicy } from '../../services/detections.js';
import { policyToWire } from '../../services/detections.js';
import { severityOfLevel, type RuleDocumentResult, type RuleTestResult } from '../../services/rules.js';
import type { RuleVersion, RuleWithStats, Suppression } from '../../storage/rule-repository.js';

/** Domain → wire for rules, detections, policy and suppressions. */

export function presentRule(rule: RuleWithStats) {
  const effective = rule.levelOverride ?? rule.level;
  return {
    id: rule.id,
    kind: rule.kind,
    name: rule.name,
    title: rule.title,
    level: rule.level,
    level_override: rule.levelOverride,
    effective_level: effective,
    severity: severityOfLevel(effective),
    enabled: rule.enabled,
    version: rule.version,
    content_hash: rule.contentHash,
    updated_by: rule.updatedBy,
    created_at: rule.createdAt,
    updated_at: rule.updatedAt,
    stats: {
      alerts: rule.stats.alerts,
      occurrences: rule.stats.occurrences,
      false_positives: rule.stats.falsePositives,
      closed: rule.stats.closed,
      false_positive_share: rule.stats.falsePositiveShare,
      last_match_at: rule.stats.lastMatchAt,
    },
  };
}

export function presentRuleVersion(version: RuleVersion) {
  return {
    version: version.version,
    title: version.title,
    level: version.level,
    yaml: version.yaml,
    content_hash: version.contentHash,
    updated_by: version.updatedBy,
    created_at: version.createdAt,
  };
}

export function presentSubmission(results: readonly RuleDocumentResult[]) {
  const count = (status: RuleDocumentResult['status']) => results.filter((r) => r.status === status).length;
  return {
    created: count('created'),
    updated: count('updated'),
    unchanged: count('unchanged'),
    failed: count('failed'),
    results: results.map((r) => ({ ...r })),
  };
}

export function presentDetection(d: DescribedDetection) {
  return {
    kind: d.kind,
    rule_id: d.ruleId,
    title: d.title,
    level: d.level,
    severity: d.severity,
    entity: d.entity,
    observables: d.observables.map((o) => ({ type: o.type, value: o.value })),
    timestamp: d.timestamp,
    summary: d.summary,
  };
}

export function presentTest(result: RuleTestResult) {
  return {
    matched: result.matched,
    selected_rules: [...result.selectedRules],
    detections: result.detections.map(presentDetection),
    explanation: result.explanation,
  };
}

export function presentPolicy(policy: DetectionPolicy) {
  return policyToWire(policy);
}

export function presentSuppression(s: Suppression) {
  return {
    id: s.id,
    rule_id: s.ruleId,
    field: s.field,
    value: s.value,
    reason: s.reason,
    expires_at: s.expiresAt,
    owner: { ...s.owner },
    created_at: s.createdAt,
    hit_count: s.hitCount,
    last_hit_at: s.lastHitAt,
  };
}
