import { z } from 'zod';
import { PHASES } from '../core/incident-lifecycle.js';
import {
  ALERT_STATUSES,
  ANALYSIS_RESOLUTIONS,
  DISMISS_REASONS,
  INCIDENT_CATEGORIES,
  OBSERVABLE_TYPES,
  ROLES,
  SEVERITIES,
  TASK_STATUSES,
  TLPS,
} from '../core/vocabulary.js';

/** Shared wire schemas. Bodies are strict: an unknown field is an error that names it. */

export const Severity = z.enum(SEVERITIES);
export const Tlp = z.enum(TLPS);
export const Category = z.enum(INCIDENT_CATEGORIES);
export const Phase = z.enum(PHASES);
export const AlertStatus = z.enum(ALERT_STATUSES);
export const DismissReason = z.enum(DISMISS_REASONS);
export const Resolution = z.enum(ANALYSIS_RESOLUTIONS);
export const ObservableType = z.enum(OBSERVABLE_TYPES);
export const Role = z.enum(ROLES);
export const TaskStatus = z.enum(TASK_STATUSES);

export const Id = z.uuid({ message: 'must be a UUID' });
export const IdParams = z.strictObject({ id: Id });
export const Timestamp = z.iso
  .datetime({ offset: true, message: 'must be an ISO-8601 date-time' })
  .transform((v) => new Date(v).toISOString());

/** A one-line name or title: trimmed, not empty, bounded. */
export const Title = (max = 300) => z.string().trim().min(1, 'must not be empty').max(max);
/** Long text such as Markdown: bounded so one request cannot fill the disk. */
export const LongText = (max = 100_000) => z.string().max(max);

/** `?severity=high,critical` or repeated `?severity=high&severity=critical`. */
export function csvOf<T extends z.ZodType>(item: T) {
  return z.preprocess(
    (value) =>
      value === undefined
        ? undefined
        : (Array.isArray(value) ? value : [value])
            .flatMap((v) => String(v).split(','))
            .map((v) => v.trim())
            .filter(Boolean),
    z.array(item).max(20).optional(),
  );
}

export const Limit = z.coerce.number().int().min(1).max(500).default(50);
export const Order = z.enum(['asc', 'desc']).default('desc');
export const Cursor = z.string().max(1000).optional();

export const BoolQuery = z.enum(['true', 'false']).transform((v) => v === 'true');

export const ErrorResponse = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    field: z.string().optional(),
    fields: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
    details: z.record(z.string(), z.unknown()).optional(),
  }),
});

/** The error answers every route may give, for the OpenAPI document. */
export const ERRORS = {
  400: ErrorResponse.describe('invalid input; `field` names it'),
  401: ErrorResponse.describe('no valid credentials'),
  403: ErrorResponse.describe('the role may not do this'),
  404: ErrorResponse.describe('no such record in your organisation'),
  409: ErrorResponse.describe('not allowed in the current state'),
} as const;
