/**
 * Cloud audit logs are often stored as one JSON document wrapping an array of events: AWS CloudTrail
 * log files (`{"Records": [...]}`, usually gzip-compressed) and Azure diagnostic log exports
 * (`{"records": [...]}`). File ingestion, `POST /events` and the hunt read each item as an event of its
 * own, so that `product: aws` and `product: azure` rules meet the fields where they are. Only a document
 * whose single key is one of these names is unwrapped: any other shape is an event as it stands.
 */
const WRAPPER_KEYS: ReadonlySet<string> = new Set(['Records', 'records']);

/** The events a wrapper document holds, or null when the document is an event itself. */
export function wrappedRecords(value: unknown): readonly unknown[] | null {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return null;
  let only: string | undefined;
  for (const key in value) {
    if (only !== undefined) return null;
    only = key;
  }
  if (only === undefined || !WRAPPER_KEYS.has(only)) return null;
  const items = (value as Record<string, unknown>)[only];
  return Array.isArray(items) ? items : null;
}
