import { z } from 'zod';
import { LEVELS } from '../../detection/sigma-rule.js';
import { SEVERITIES } from '../../core/vocabulary.js';
import { RULE_KINDS, RULE_SORTS, type RuleSort } from '../../storage/rule-repository.js';
import { DetectionPolicySchema } from '../../services/detections.js';
import { BoolQuery, csvOf, Cursor, Id, Limit, ObservableType, Severity, Timestamp } from '../schemas.js';

/** Wire shapes of rules, detection policy and suppressions (requests and answers). */

const Time = z.string().describe('ISO-8601 UTC');
export const Level = z.enum(LEVELS);
export const RuleKind = z.enum(RULE_KINDS);
export const RuleId = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,199}$/, 'must be a rule id (letters, digits, . _ : -)');
export const RuleParams = z.strictObject({ id: RuleId });

export const RuleStatsWire = z
  .object({
    alerts: z.number().int(),
    occurrences: z.number().int(),
    false_positives: z.number().int(),
    closed: z.number().int().describe('alerts dismissed or in a closed incident'),
    false_positive_share: z.number().describe('false_positives / closed (0 when none is closed)'),
    last_match_at: Time.nullable(),
  })
  .strict();

export const RuleWire = z
  .object({
    id: z.string(),
    kind: RuleKind,
    name: z.string().nullable(),
    title: z.string(),
    level: Level.describe('as the YAML declares it'),
    level_override: Level.nullable(),
    effective_level: Level,
    severity: Severity.describe('of the alerts it raises'),
    enabled: z.boolean(),
    version: z.number().int(),
    content_hash: z.string(),
    updated_by: z.string(),
    created_at: Time,
    updated_at: Time,
    stats: RuleStatsWire,
  })
  .strict()
  .meta({ id: 'Rule' });

export const RuleVersionWire = z
  .object({
    version: z.number().int(),
    title: z.string(),
    level: Level,
    yaml: z.string(),
    content_hash: z.string(),
    updated_by: z.string(),
    created_at: Time,
  })
  .strict();

export const RuleDetailWire = RuleWire.extend({
  yaml: z.string(),
  versions: z.array(RuleVersionWire).describe('newest first'),
}).meta({ id: 'RuleDetail' });

export const RuleDocumentResultWire = z
  .object({
    file: z.string().nullable(),
    document: z.number().int().describe('1-based position in its file'),
    status: z.enum(['created', 'updated', 'unchanged', 'failed']),
    id: z.string().nullable(),
    title: z.string().nullable(),
    kind: RuleKind.nullable(),
    version: z.number().int().nullable(),
    error: z
      .object({ code: z.string(), message: z.string(), field: z.string().nullable() })
      .strict()
      .nullable(),
  })
  .strict();

export const RuleSubmissionWire = z
  .object({
    created: z.number().int(),
    updated: z.number().int(),
    unchanged: z.number().int(),
    failed: z.number().int(),
    results: z.array(RuleDocumentResultWire),
  })
  .strict()
  .meta({ id: 'RuleSubmission' });

export const SubmitRulesBody = z.union([
  z.string().min(1).describe('YAML, one or more documents (Content-Type: application/yaml)'),
  z.strictObject({ yaml: z.string().min(1) }),
]);

const SORTS = RULE_SORTS.flatMap((s) => [s, `-${s}`]) as [string, ...string[]];
export const ListRulesQuery = z.strictObject({
  enabled: BoolQuery.optional(),
  level: csvOf(Level),
  kind: csvOf(RuleKind),
  q: z.string().trim().max(200).optional(),
  sort: z
    .enum(SORTS)
    .default('title')
    .describe('a field, `-` first for descending: -false_positive_share surfaces noisy rules')
    .transform((s) => ({
      sort: (s.startsWith('-') ? s.slice(1) : s) as RuleSort,
      order: s.startsWith('-') ? ('desc' as const) : ('asc' as const),
    })),
  limit: Limit,
  cursor: Cursor,
});

export const UpdateRuleBody = z
  .strictObject({ enabled: z.boolean().optional(), level_override: Level.nullable().optional() })
  .refine((b) => b.enabled !== undefined || b.level_override !== undefined, {
    message: 'give enabled or level_override',
  });

const EventBody = z.record(z.string(), z.unknown()).describe('the event as JSON (ECS fields or EVTX-JSON)');
export const TestStoredRuleBody = z.strictObject({ event: EventBody });
export const TestYamlBody = z.strictObject({ yaml: z.string().min(1).max(1_000_000), event: EventBody });

export const DetectionWire = z
  .object({
    kind: z.enum(['rule', 'correlation', 'anomaly']),
    rule_id: z.string(),
    title: z.string(),
    level: Level,
    severity: Severity,
    entity: z.string().nullable(),
    observables: z.array(z.object({ type: ObservableType, value: z.string() }).strict()),
    timestamp: Time.nullable(),
    summary: z.record(z.string(), z.unknown()).nullable(),
  })
  .strict();

export const RuleTestWire = z
  .object({
    matched: z.boolean(),
    selected_rules: z.array(z.string()).describe('rules whose selection matched the event'),
    detections: z.array(DetectionWire),
    explanation: z.string().nullable(),
  })
  .strict()
  .meta({ id: 'RuleTest' });

export const DetectionPolicyWire = DetectionPolicySchema.extend({
  incident_min_severity: z
    .enum(SEVERITIES)
    .nullable()
    .describe('new alerts at or above it open or join an incident; null: none do'),
}).meta({ id: 'DetectionPolicy' });

export const SuppressionWire = z
  .object({
    id: z.string(),
    rule_id: z.string().nullable(),
    field: z.string(),
    value: z.string(),
    reason: z.string(),
    expires_at: Time.nullable().describe('null: permanent'),
    owner: z.object({ kind: z.string(), id: z.string(), name: z.string() }).strict(),
    created_at: Time,
    hit_count: z.number().int(),
    last_hit_at: Time.nullable(),
  })
  .strict()
  .meta({ id: 'Suppression' });

export const CreateSuppressionBody = z.strictObject({
  rule_id: RuleId.optional(),
  field: z.string().trim().min(1).max(200),
  value: z.string().min(1).max(1000),
  reason: z.string().trim().min(1, 'a reason is required').max(2000),
  expires_at: Timestamp.nullable().describe('required: a future time, or null for a permanent suppression'),
});

export const ListSuppressionsQuery = z.strictObject({
  rule_id: RuleId.optional(),
  include_expired: BoolQuery.optional(),
  limit: Limit,
  cursor: Cursor,
});

export const SuppressionParams = z.strictObject({ id: Id });
