/** What an edit changed, keyed by the wire name of each field, as the audit trail records it. */
export type FieldChanges = Record<string, { from: unknown; to: unknown }>;

/**
 * Pure. Compares a patch (undefined = leave alone) with the current record over the listed fields,
 * named on the wire by `wireNames`. Returns the changed fields with before and after, and the record
 * with the patch applied; `changed` is false when the patch changes nothing.
 */
export function applyPatch<T extends object, K extends keyof T & string>(
  current: T,
  patch: Partial<Pick<T, K>>,
  wireNames: Readonly<Record<K, string>>,
): { next: T; changes: FieldChanges; changed: boolean } {
  const changes: FieldChanges = {};
  const next = { ...current };
  for (const field of Object.keys(wireNames) as K[]) {
    const value = patch[field];
    if (value === undefined || value === current[field]) continue;
    changes[wireNames[field]] = { from: current[field], to: value };
    next[field] = value as T[K];
  }
  return { next, changes, changed: Object.keys(changes).length > 0 };
}
