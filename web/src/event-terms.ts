/** Building terms of the event search language (see GET /events: `field:value`, quotes, `-`). */

/** Pure. `field:value`, quoted (with `\` escapes) when the value is empty, has spaces or quotes, or starts with `-`. */
export function fieldTerm(field: string, value: string): string {
  const plain = value !== '' && !/[\s"\\]/.test(value) && !value.startsWith('-');
  return plain ? `${field}:${value}` : `${field}:"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

/** Pure. The query with `term` appended, unless it is already one of the query's terms. */
export function addTerm(q: string, term: string): string {
  const trimmed = q.trim();
  if (trimmed.split(/\s+/).includes(term)) return trimmed;
  return trimmed ? `${trimmed} ${term}` : term;
}
