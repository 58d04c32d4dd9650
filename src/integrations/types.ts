/**
 * The shapes alert webhook integrations share. A mapper is a pure function from what a sender
 * posted to a list of items (alerts to record, alerts to resolve, events for the ingestion pipeline)
 * and per-item errors; the service (`services/integrations.ts`) carries them out.
 */
import type { ExtractedObservable, FormatHint } from '../ingest/event-record.js';
import type { Severity } from '../core/vocabulary.js';
import type { GenericMapping } from './generic-mapping.js';

export const INTEGRATION_TYPES = ['alertmanager', 'suricata', 'wazuh', 'generic'] as const;
export type IntegrationType = (typeof INTEGRATION_TYPES)[number];

/** A configured integration (its token is never part of it; only the hash is stored). */
export interface Integration {
  readonly id: string;
  readonly orgId: string;
  readonly type: IntegrationType;
  readonly name: string;
  /** Only for `generic`. */
  readonly mapping: GenericMapping | null;
  /** The first characters of the token, to recognise it (`fbi_AbCdEf`). */
  readonly tokenPrefix: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly lastUsedAt: string | null;
  /** Set by DELETE: the token stops working, the record stays for the audit trail. */
  readonly disabledAt: string | null;
}

/** An alert as a mapper read it; observables are as written (the service normalises them). */
export interface AlertDraft {
  readonly title: string;
  readonly severity: Severity;
  readonly source: string;
  readonly rule?: string | undefined;
  readonly dedupKey?: string | undefined;
  /** ISO 8601 UTC; absent means "when received". */
  readonly seenAt?: string | undefined;
  readonly description?: string | undefined;
  readonly observables: readonly ExtractedObservable[];
  readonly payload: unknown;
}

export type MappedItem =
  | { readonly kind: 'alert'; readonly index: number; readonly alert: AlertDraft }
  | {
      readonly kind: 'resolve';
      readonly index: number;
      readonly dedupKey: string;
      /** ISO 8601 UTC. */
      readonly resolvedAt: string;
    }
  | {
      readonly kind: 'event';
      readonly index: number;
      readonly format: FormatHint;
      readonly raw: Readonly<Record<string, unknown>>;
    };

/** Why one item of a post was refused; `index` counts items from 0 (array elements, NDJSON lines, `alerts[]`). */
export interface ItemError {
  readonly index: number;
  readonly code: string;
  readonly message: string;
  /** The offending field inside the item (`alert.signature`, `labels`). */
  readonly field?: string | undefined;
}

export interface MapResult {
  readonly items: readonly MappedItem[];
  readonly errors: readonly ItemError[];
}

/** What a mapper may know besides the body. */
export interface MapContext {
  readonly integrationId: string;
  readonly integrationName: string;
  /** ISO 8601 UTC: the receive time (fallback time, upper bound for resolutions). */
  readonly now: string;
}
