import { z } from 'zod';
import { GenericMappingSchema, INTEGRATION_TYPES } from '../../integrations/index.js';
import { Title } from '../schemas.js';

/** Wire schemas of the integration routes (requests and answers). */

export const IntegrationType = z.enum(INTEGRATION_TYPES);

export const CreateIntegrationBody = z.strictObject({
  type: IntegrationType,
  name: Title(100),
  mapping: GenericMappingSchema.optional().describe(
    'generic only: where each part of an alert is (JSON Pointers)',
  ),
});

const Time = z.string().describe('ISO-8601 UTC');

export const IntegrationWire = z
  .object({
    id: z.string(),
    type: IntegrationType,
    name: z.string(),
    url: z.string().describe('where the sender posts: .../integrations/<id>/webhook'),
    token_prefix: z.string(),
    mapping: z.unknown().nullable(),
    created_at: Time,
    updated_at: Time,
    last_used_at: Time.nullable(),
    disabled_at: Time.nullable(),
    token: z
      .string()
      .optional()
      .describe('the secret (Authorization: Bearer ...); only in the answers that create or rotate it'),
  })
  .strict()
  .meta({ id: 'Integration' });

export const WebhookAnswer = z
  .object({
    accepted: z.number().int().describe('items taken: alerts recorded, resolutions processed, events queued'),
    alerts: z.number().int().describe('alerts recorded (new, or counted on an existing one)'),
    resolved: z.number().int().describe('alerts marked resolved'),
    events: z.number().int().describe('events handed to the ingestion pipeline'),
    errors: z.array(
      z
        .object({
          index: z.number().int().describe('item position from 0: array element, NDJSON line, alerts[i]'),
          code: z.string(),
          error: z.string(),
          field: z.string().optional(),
        })
        .strict(),
    ),
  })
  .strict()
  .meta({ id: 'WebhookAnswer' });
