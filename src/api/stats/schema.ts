import { z } from 'zod';
import { Phase, Severity } from '../schemas.js';

/** Wire shapes of the statistics routes. */

export const OverviewQuery = z.strictObject({
  weeks: z.coerce
    .number()
    .int()
    .min(1)
    .max(52)
    .default(8)
    .describe('weeks of history, the current (partial) week included'),
  top: z.coerce.number().int().min(1).max(50).default(10).describe('rules and sources named'),
});

const Percentiles = z
  .object({
    count: z.number().int().describe('incidents the figures come from'),
    median_s: z.number().int().nullable().describe('seconds; null when count is 0'),
    p90_s: z.number().int().nullable().describe('seconds; null when count is 0'),
  })
  .strict();

export const OverviewWire = z
  .object({
    generated_at: z.string().describe('ISO-8601 UTC'),
    open_incidents: z
      .object({
        total: z.number().int(),
        by_severity_phase: z
          .array(z.object({ severity: Severity, phase: Phase, count: z.number().int() }).strict())
          .describe('non-empty cells only, most severe first'),
      })
      .strict(),
    alerts_waiting: z
      .object({
        total: z.number().int().describe('alerts with status new'),
        by_severity: z.array(z.object({ severity: Severity, count: z.number().int() }).strict()),
        by_rule: z
          .array(z.object({ rule: z.string().nullable(), count: z.number().int() }).strict())
          .describe('busiest first, at most `top`; rule null: alerts that name none'),
        by_source: z
          .array(z.object({ source: z.string(), count: z.number().int() }).strict())
          .describe('busiest first, at most `top`'),
      })
      .strict(),
    weekly: z
      .array(
        z
          .object({
            week_start: z.string().describe('Monday of the week (UTC), YYYY-MM-DD'),
            opened: z.number().int(),
            closed: z.number().int(),
            to_acknowledge: Percentiles.describe('incidents opened this week and acknowledged since'),
            to_close: Percentiles.describe('incidents closed this week'),
          })
          .strict(),
      )
      .describe('oldest first, ending with the current week'),
    period: z
      .object({
        from: z.string().describe('start of the first week, ISO-8601 UTC'),
        opened: z.number().int(),
        closed: z.number().int(),
        to_acknowledge: Percentiles,
        to_close: Percentiles,
      })
      .strict()
      .describe('all the weeks together'),
  })
  .strict()
  .meta({ id: 'StatsOverview' });
