/**
 * The generic JSON integration: the integration's mapping (`generic-mapping.ts`) says where each
 * part of an alert is in what the sender posts. Pure.
 */
import { SEVERITIES, type Severity } from '../core/vocabulary.js';
import type { ExtractedObservable } from '../ingest/event-record.js';
import {
  clip,
  isRecord,
  MAX_DESCRIPTION,
  MAX_ITEMS,
  MAX_KEY,
  MAX_TITLE,
  severityFromWord,
  text,
  toIsoTime,
  withinDepth,
} from './common.js';
import { resolvePointer, type GenericMapping } from './generic-mapping.js';
import { each } from './observables.js';
import type { ItemError, MapContext, MappedItem, MapResult } from './types.js';

/**
 * Pure. Maps posted documents with `mapping`. With `mapping.items`, each document holds a list of
 * alerts at that place and items are counted across the lists; otherwise each document is one
 * alert. An item without a title at `mapping.title` is an item error naming that place.
 */
export function mapGeneric(
  documents: ReadonlyArray<{ readonly index: number; readonly value: unknown }>,
  mapping: GenericMapping,
  context: MapContext,
): MapResult {
  const items: MappedItem[] = [];
  const errors: ItemError[] = [];
  let next = 0;
  const candidates: Array<{ index: number; value: unknown }> = [];
  for (const document of documents) {
    if (mapping.items === undefined) {
      candidates.push(document);
      continue;
    }
    const list = resolvePointer(document.value, mapping.items);
    if (!Array.isArray(list)) {
      errors.push({
        index: next,
        code: 'invalid_item',
        message: `no list of alerts at ${mapping.items}`,
        field: mapping.items,
      });
      next += 1;
      continue;
    }
    for (const value of list.slice(0, Math.max(0, MAX_ITEMS - candidates.length))) {
      candidates.push({ index: next, value });
      next += 1;
    }
  }
  for (const { index, value } of candidates) {
    const mapped = mapOne(index, value, mapping, context);
    if ('code' in mapped) errors.push(mapped);
    else items.push(mapped);
  }
  return { items, errors };
}

function mapOne(
  index: number,
  value: unknown,
  mapping: GenericMapping,
  context: MapContext,
): MappedItem | ItemError {
  if (!isRecord(value) && !Array.isArray(value)) {
    return { index, code: 'invalid_item', message: 'an alert must be a JSON object' };
  }
  if (!withinDepth(value)) return { index, code: 'too_deep', message: 'the alert nests too deeply' };
  const title = text(resolvePointer(value, mapping.title));
  if (title === undefined) {
    return {
      index,
      code: 'invalid_item',
      message: `no title at ${mapping.title || '(the document)'}`,
      field: mapping.title,
    };
  }
  let dedupKey: string | undefined;
  if (mapping.dedup_key !== undefined) {
    const pointers = Array.isArray(mapping.dedup_key) ? mapping.dedup_key : [mapping.dedup_key];
    const parts = pointers.map((pointer) => text(resolvePointer(value, pointer)));
    if (parts.some((part) => part !== undefined)) {
      dedupKey = `generic:${context.integrationId}:${parts.map((part) => part ?? '-').join(':')}`;
      if (dedupKey.length > MAX_KEY) {
        return {
          index,
          code: 'invalid_item',
          message: `the dedup key is longer than ${MAX_KEY} characters`,
          field: pointers[0],
        };
      }
    }
  }
  const source = mapping.source === undefined ? undefined : text(resolvePointer(value, mapping.source));
  const description =
    mapping.description === undefined ? undefined : text(resolvePointer(value, mapping.description));
  const rule = mapping.rule === undefined ? undefined : text(resolvePointer(value, mapping.rule));
  const observables: ExtractedObservable[] = [];
  for (const { type, path } of mapping.observables ?? [])
    observables.push(...each(type, resolvePointer(value, path)));
  return {
    kind: 'alert',
    index,
    alert: {
      title: clip(title, MAX_TITLE),
      severity: genericSeverity(
        mapping.severity === undefined ? undefined : resolvePointer(value, mapping.severity),
        mapping,
      ),
      source: clip(source ?? `generic:${context.integrationName}`, 200),
      rule: rule === undefined ? undefined : clip(rule, 500),
      dedupKey,
      seenAt:
        mapping.timestamp === undefined ? undefined : toIsoTime(resolvePointer(value, mapping.timestamp)),
      description: description === undefined ? undefined : clip(description, MAX_DESCRIPTION),
      observables,
      payload: value,
    },
  };
}

/**
 * Pure. The mapping's `severity_map` first (keys compared as written), then a Firebreak severity
 * name, then the shared word table (`warning` → medium, `P1` → critical, ...), else the mapping's
 * `default_severity`.
 */
export function genericSeverity(
  value: unknown,
  mapping: Pick<GenericMapping, 'severity_map' | 'default_severity'>,
): Severity {
  const written = text(value);
  if (written === undefined) return mapping.default_severity;
  if (mapping.severity_map && Object.hasOwn(mapping.severity_map, written))
    return mapping.severity_map[written]!;
  const lower = written.toLowerCase();
  if ((SEVERITIES as readonly string[]).includes(lower)) return lower as Severity;
  return severityFromWord(lower) ?? mapping.default_severity;
}
