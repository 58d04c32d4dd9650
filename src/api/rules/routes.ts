import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { UserError } from '../../core/errors.js';
import type { ServiceContext } from '../../services/context.js';
import { getDetectionPolicy, setDetectionPolicy } from '../../services/detections.js';
import {
  deleteRule,
  getRule,
  importRuleArchive,
  listRules,
  saveRuleSources,
  testRuleYaml,
  testStoredRule,
  updateRuleSettings,
  type RuleDocumentResult,
} from '../../services/rules.js';
import {
  createSuppression,
  deleteSuppression,
  getSuppression,
  listSuppressions,
} from '../../services/suppressions.js';
import { authOf } from '../auth-hook.js';
import { ERRORS } from '../schemas.js';
import { pageOf } from '../wire-schemas.js';
import {
  presentPolicy,
  presentRule,
  presentRuleVersion,
  presentSubmission,
  presentSuppression,
  presentTest,
} from './presenters.js';
import {
  CreateSuppressionBody,
  DetectionPolicyWire,
  ListRulesQuery,
  ListSuppressionsQuery,
  RuleDetailWire,
  RuleParams,
  RuleSubmissionWire,
  RuleTestWire,
  RuleWire,
  SubmitRulesBody,
  SuppressionParams,
  SuppressionWire,
  TestStoredRuleBody,
  TestYamlBody,
  UpdateRuleBody,
} from './schema.js';

const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml'];
/** A zip of rules (the whole SigmaHQ release is about 2 MiB compressed). */
const ARCHIVE_BODY_LIMIT = 16 * 1024 * 1024;
const YAML_BODY_LIMIT = 4 * 1024 * 1024;

/** 201 when something was stored, 200 when all was unchanged, 400 naming each refusal when nothing was. */
function submissionStatus(results: readonly RuleDocumentResult[]): 200 | 201 {
  if (results.some((r) => r.status === 'created' || r.status === 'updated')) return 201;
  if (results.some((r) => r.status === 'unchanged')) return 200;
  const first = results.find((r) => r.error !== null);
  throw new UserError(
    'rules_invalid',
    first?.error
      ? `${first.file ? `${first.file} ` : ''}document ${first.document}: ${first.error.message}`
      : 'no rule was stored',
    {
      ...(first?.error?.field ? { field: first.error.field } : {}),
      results: presentSubmission(results).results,
    },
  );
}

/**
 * Detection rules, the detection policy and suppressions. Reads for every role; rule and suppression
 * writes need `write` (responders, admins); the policy needs `admin`.
 */
export function detectionRoutes(context: ServiceContext): FastifyPluginAsyncZod {
  return async (app) => {
    // Scoped to this plugin: YAML bodies arrive as text, archives as bytes.
    app.addContentTypeParser(YAML_TYPES, { parseAs: 'string' }, (_request, body, done) => done(null, body));
    app.addContentTypeParser('application/zip', { parseAs: 'buffer' }, (_request, body, done) =>
      done(null, body),
    );

    const tags = ['rules'];

    app.post(
      '/rules',
      {
        bodyLimit: YAML_BODY_LIMIT,
        schema: {
          tags,
          summary: 'Add or update rules from YAML (one or more documents); each document is answered',
          body: SubmitRulesBody,
          response: { 201: RuleSubmissionWire, 200: RuleSubmissionWire, ...ERRORS },
        },
      },
      async (request, reply) => {
        const text = typeof request.body === 'string' ? request.body : request.body.yaml;
        const results = await saveRuleSources(context, authOf(request).actor, [{ file: null, text }]);
        return reply.status(submissionStatus(results)).send(presentSubmission(results));
      },
    );

    app.post(
      '/rules/import',
      {
        bodyLimit: ARCHIVE_BODY_LIMIT,
        schema: {
          tags,
          summary: 'Import the .yml/.yaml files of a zip archive (Content-Type: application/zip)',
          response: { 201: RuleSubmissionWire, 200: RuleSubmissionWire, ...ERRORS },
        },
      },
      async (request, reply) => {
        if (!Buffer.isBuffer(request.body)) {
          throw new UserError('zip_required', 'send the archive as Content-Type: application/zip');
        }
        const results = await importRuleArchive(context, authOf(request).actor, request.body);
        return reply.status(submissionStatus(results)).send(presentSubmission(results));
      },
    );

    app.get(
      '/rules',
      {
        schema: {
          tags,
          summary: 'List rules with their statistics (keyset pages; ?sort=-false_positive_share)',
          querystring: ListRulesQuery,
          response: { 200: pageOf(RuleWire), ...ERRORS },
        },
      },
      async (request) => {
        const q = request.query;
        const page = await listRules(context, authOf(request).actor, {
          enabled: q.enabled,
          levels: q.level,
          kinds: q.kind,
          q: q.q,
          sort: q.sort.sort,
          order: q.sort.order,
          limit: q.limit,
          cursor: q.cursor,
        });
        return { items: page.items.map(presentRule), next_cursor: page.nextCursor };
      },
    );

    app.post(
      '/rules/test',
      {
        schema: {
          tags,
          summary: 'Try YAML on an event without saving it',
          body: TestYamlBody,
          response: { 200: RuleTestWire, ...ERRORS },
        },
      },
      async (request) =>
        presentTest(
          await testRuleYaml(context, authOf(request).actor, request.body.yaml, request.body.event),
        ),
    );

    app.get(
      '/rules/:id',
      {
        schema: {
          tags,
          summary: 'One rule with its YAML, statistics and every version',
          params: RuleParams,
          response: { 200: RuleDetailWire, ...ERRORS },
        },
      },
      async (request) => {
        const { rule, versions } = await getRule(context, authOf(request).actor, request.params.id);
        return { ...presentRule(rule), yaml: rule.yaml, versions: versions.map(presentRuleVersion) };
      },
    );

    app.patch(
      '/rules/:id',
      {
        schema: {
          tags,
          summary: 'Enable, disable or re-level a rule',
          params: RuleParams,
          body: UpdateRuleBody,
          response: { 200: RuleDetailWire, ...ERRORS },
        },
      },
      async (request) => {
        const actor = authOf(request).actor;
        await updateRuleSettings(context, actor, request.params.id, {
          enabled: request.body.enabled,
          levelOverride: request.body.level_override,
        });
        const { rule, versions } = await getRule(context, actor, request.params.id);
        return { ...presentRule(rule), yaml: rule.yaml, versions: versions.map(presentRuleVersion) };
      },
    );

    app.delete(
      '/rules/:id',
      {
        schema: {
          tags,
          summary: 'Delete a rule and its versions (the audit trail keeps them)',
          params: RuleParams,
          response: { 204: z.null().describe('deleted'), ...ERRORS },
        },
      },
      async (request, reply) => {
        await deleteRule(context, authOf(request).actor, request.params.id);
        return reply.status(204).send(null);
      },
    );

    app.post(
      '/rules/:id/test',
      {
        schema: {
          tags,
          summary: 'Run a stored rule on an event and say what it would report',
          params: RuleParams,
          body: TestStoredRuleBody,
          response: { 200: RuleTestWire, ...ERRORS },
        },
      },
      async (request) =>
        presentTest(
          await testStoredRule(context, authOf(request).actor, request.params.id, request.body.event),
        ),
    );

    app.get(
      '/detection/policy',
      {
        schema: {
          tags,
          summary: 'How detections become incidents in this organisation',
          response: { 200: DetectionPolicyWire, ...ERRORS },
        },
      },
      async (request) => presentPolicy(await getDetectionPolicy(context, authOf(request).actor)),
    );

    app.put(
      '/detection/policy',
      {
        schema: {
          tags,
          summary: 'Replace the detection policy (admins)',
          body: DetectionPolicyWire,
          response: { 200: DetectionPolicyWire, ...ERRORS },
        },
      },
      async (request) =>
        presentPolicy(
          await setDetectionPolicy(context, authOf(request).actor, {
            incidentMinSeverity: request.body.incident_min_severity,
            groupWindowSeconds: request.body.group_window_seconds,
            dedupWindowSeconds: request.body.dedup_window_seconds,
          }),
        ),
    );

    const stags = ['suppressions'];
    app.post(
      '/suppressions',
      {
        schema: {
          tags: stags,
          summary: 'Silence detections whose field has a value (a reason and an expiry are required)',
          body: CreateSuppressionBody,
          response: { 201: SuppressionWire, ...ERRORS },
        },
      },
      async (request, reply) => {
        const b = request.body;
        const created = await createSuppression(context, authOf(request).actor, {
          ruleId: b.rule_id ?? null,
          field: b.field,
          value: b.value,
          reason: b.reason,
          expiresAt: b.expires_at,
        });
        return reply.status(201).send(presentSuppression(created));
      },
    );

    app.get(
      '/suppressions',
      {
        schema: {
          tags: stags,
          summary: 'Suppressions in force (newest first); include_expired=true lists all',
          querystring: ListSuppressionsQuery,
          response: { 200: pageOf(SuppressionWire), ...ERRORS },
        },
      },
      async (request) => {
        const q = request.query;
        const page = await listSuppressions(context, authOf(request).actor, {
          ruleId: q.rule_id,
          includeExpired: q.include_expired ?? false,
          limit: q.limit,
          cursor: q.cursor,
        });
        return { items: page.items.map(presentSuppression), next_cursor: page.nextCursor };
      },
    );

    app.get(
      '/suppressions/:id',
      {
        schema: {
          tags: stags,
          summary: 'One suppression with its hit count',
          params: SuppressionParams,
          response: { 200: SuppressionWire, ...ERRORS },
        },
      },
      async (request) =>
        presentSuppression(await getSuppression(context, authOf(request).actor, request.params.id)),
    );

    app.delete(
      '/suppressions/:id',
      {
        schema: {
          tags: stags,
          summary: 'Lift a suppression',
          params: SuppressionParams,
          response: { 204: z.null().describe('deleted'), ...ERRORS },
        },
      },
      async (request, reply) => {
        await deleteSuppression(context, authOf(request).actor, request.params.id);
        return reply.status(204).send(null);
      },
    );
  };
}
