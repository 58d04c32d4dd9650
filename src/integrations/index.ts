/**
 * Alert webhook integrations: pure mappers from what Alertmanager, Suricata, Wazuh or any JSON
 * sender posts to alerts, resolutions and events (see docs/integrations.md).
 */
import { UserError } from '../core/errors.js';
import { mapAlertmanager } from './alertmanager.js';
import { parseDocuments } from './common.js';
import { mapGeneric } from './generic.js';
import { mapSuricata } from './suricata.js';
import type { IntegrationType, MapContext, MapResult } from './types.js';
import type { GenericMapping } from './generic-mapping.js';
import { mapWazuh } from './wazuh.js';

export * from './types.js';
export {
  GenericMappingSchema,
  isJsonPointer,
  resolvePointer,
  type GenericMapping,
} from './generic-mapping.js';
export { MAX_ITEMS } from './common.js';

/**
 * Pure. Reads a posted body for an integration of `type`. Alertmanager takes one JSON document;
 * the others take one document, a JSON array of them, or newline-delimited JSON. Throws UserError
 * (`empty_body`, `invalid_json`, `too_many_items`, `invalid_payload`) when the body as a whole is
 * unreadable; a bad item is an entry in `errors` while the others are mapped.
 */
export function mapWebhook(
  integration: { readonly type: IntegrationType; readonly mapping: GenericMapping | null },
  body: string,
  context: MapContext,
): MapResult {
  if (integration.type === 'alertmanager') {
    const { documents } = parseDocuments(body, { ndjson: false, arrays: false });
    return mapAlertmanager(documents[0]?.value, context);
  }
  const { documents, errors } = parseDocuments(body, { ndjson: true, arrays: true });
  let result: MapResult;
  switch (integration.type) {
    case 'suricata':
      result = mapSuricata(documents, context);
      break;
    case 'wazuh':
      result = mapWazuh(documents, context);
      break;
    case 'generic':
      if (!integration.mapping) {
        throw new UserError('mapping_required', 'this generic integration has no mapping', {
          field: 'mapping',
        });
      }
      result = mapGeneric(documents, integration.mapping, context);
      break;
  }
  return { items: result.items, errors: [...errors, ...result.errors].sort((a, b) => a.index - b.index) };
}
