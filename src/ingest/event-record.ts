/**
 * The shapes ingestion agrees on (see docs/ARCHITECTURE.md, "Ingestion"). Sources turn what they
 * receive into `ReceivedEvent`s and hand them to the spool; the pipeline reads them back, parses and
 * normalises each one (`NormalisedEvent`, pure), stores it and runs detection on it.
 */
import type { ObservableType } from '../core/vocabulary.js';

/** Where an event came in. */
export const SOURCE_KINDS = ['http', 'syslog', 'file', 'webhook'] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];

/**
 * Format hints a source may give. `auto` lets the normaliser recognise the content; the others say
 * what the sender knows (a file ingested as an access log, a syslog frame, a Windows event).
 */
export const FORMAT_HINTS = [
  'auto',
  'syslog',
  'json',
  'windows',
  'access_log',
  'cef',
  'suricata',
  'zeek',
  'auditd',
] as const;
export type FormatHint = (typeof FORMAT_HINTS)[number];

/** One event as received, before any parsing. This is what the spool stores and replays. */
export interface ReceivedEvent {
  /** UUIDv7 assigned at the edge; storage and detection use it to make replay idempotent. */
  readonly id: string;
  readonly orgId: string;
  /** ISO 8601 UTC, when Firebreak accepted it. */
  readonly receivedAt: string;
  readonly source: {
    readonly kind: SourceKind;
    /** Integration or listener name, file name, ... */
    readonly name?: string;
    /** Sender address for network sources (`203.0.113.7:51234`). */
    readonly peer?: string;
  };
  readonly format: FormatHint;
  /** A text line/frame exactly as received (decoded as UTF-8, invalid bytes replaced), or a JSON document. */
  readonly raw: string | Record<string, unknown>;
  /**
   * On the first event of a submission that carried an idempotency key: the key and how many events
   * the submission stored. The pipeline records it with the events, so a retry is recognised even
   * after a crash (see services/events.ts).
   */
  readonly submission?: SubmissionMark;
}

export interface SubmissionMark {
  readonly key: string;
  readonly events: number;
}

/** An observable found in an event, by type, as written in the event (normalised later by core/observable). */
export interface ExtractedObservable {
  readonly type: ObservableType;
  readonly value: string;
}

/**
 * An event after parsing. `fields` uses Elastic Common Schema names as flat dotted keys
 * (`'source.ip'`, `'event.category'`), so storage can index them and Sigma rules read them as written.
 */
export interface NormalisedEvent {
  /** Event time (ISO 8601 UTC); the receive time when the event carries none or an unreadable one. */
  readonly timestamp: string;
  /** Which parser recognised the event (`openssh`, `sudo`, `syslog`, `windows`, `raw`, ...). */
  readonly parser: string;
  readonly fields: Readonly<Record<string, unknown>>;
  readonly observables: readonly ExtractedObservable[];
}

/**
 * Where sources hand events over. `submit` resolves once the events are durable (spooled); it
 * rejects with a `RateLimitedError` (carrying a retry delay) when the backlog is full, and then
 * nothing of that call was accepted.
 */
export interface EventIntake {
  submit(events: readonly ReceivedEvent[]): Promise<void>;
}

/** What a keyed submission came to: the events it stored, and whether an earlier one had already. */
export interface SubmissionOutcome {
  readonly accepted: number;
  readonly duplicate: boolean;
}

/**
 * Where keyed submissions pass (submission-ledger.ts): `accept` runs unless a submission with the
 * same organisation and key was accepted before, and then the first one's outcome is answered.
 */
export interface SubmissionGate {
  once(orgId: string, key: string, accept: () => Promise<number>): Promise<SubmissionOutcome>;
}
