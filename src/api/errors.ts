import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { isFirebreakError, type AnyFirebreakError } from '../core/errors.js';

/** The one error shape on the wire: `{ error: { code, message, field?, details? } }`. */
export interface WireError {
  readonly error: {
    readonly code: string;
    readonly message: string;
    readonly field?: string;
    readonly fields?: ReadonlyArray<{ field: string; message: string }>;
    readonly details?: Record<string, unknown>;
  };
}

/** Only the API layer knows HTTP status codes. */
export function statusFor(error: AnyFirebreakError): number {
  switch (error.kind) {
    case 'user':
      return error.code.endsWith('_taken') ? 409 : 400;
    case 'authentication':
      return 401;
    case 'forbidden':
      return 403;
    case 'rate_limited':
      return 429;
    case 'not_found':
      return 404;
    case 'illegal_state':
      return 409;
    case 'operational':
      return 503;
  }
}

/** `['observables', 0, 'value']` → `observables[0].value`; query and params fields get their root. */
function fieldPath(path: ReadonlyArray<string | number>, root: string): string {
  let out = '';
  for (const part of path) out += typeof part === 'number' ? `[${part}]` : out === '' ? part : `.${part}`;
  if (out === '') return root;
  return root === 'body' ? out : `${root}.${out}`;
}

/** Maps every error to a status and the wire shape, without leaking internals on 500s. */
export function handleError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): WireError {
  if (hasZodFastifySchemaValidationErrors(error)) {
    const root = error.validationContext ?? 'body';
    const fields = error.validation.map((issue) => {
      const path = issue.instancePath
        .split('/')
        .filter(Boolean)
        .map((part) => (/^\d+$/.test(part) ? Number(part) : part));
      const keys = (issue.params as { keys?: unknown }).keys;
      if (issue.keyword === 'unrecognized_keys' && Array.isArray(keys) && keys.length > 0) {
        return {
          field: keys.map((key) => fieldPath([...path, String(key)], root)).join(', '),
          message: `unknown field${keys.length > 1 ? 's' : ''}`,
        };
      }
      return { field: fieldPath(path, root), message: issue.message ?? 'invalid' };
    });
    reply.status(400);
    const first = fields[0];
    return {
      error: {
        code: 'invalid_request',
        message: fields.map((f) => `${f.field}: ${f.message}`).join('; '),
        ...(first ? { field: first.field } : {}),
        fields,
      },
    };
  }
  if (isFirebreakError(error)) {
    reply.status(statusFor(error));
    if (error.kind === 'rate_limited') reply.header('retry-after', String(error.retryAfterSeconds));
    const field = typeof error.details.field === 'string' ? error.details.field : undefined;
    const { field: _field, ...details } = error.details;
    return {
      error: {
        code: error.code,
        message: error.message,
        ...(field ? { field } : {}),
        ...(Object.keys(details).length ? { details } : {}),
      },
    };
  }
  if (isResponseSerializationError(error)) {
    request.log.error({ err: error }, 'response does not match its schema');
    reply.status(500);
    return { error: { code: 'internal_error', message: 'internal error' } };
  }
  const status = typeof error.statusCode === 'number' && error.statusCode >= 400 ? error.statusCode : 500;
  reply.status(status);
  if (status >= 500) {
    request.log.error({ err: error }, 'unhandled error');
    return { error: { code: 'internal_error', message: 'internal error' } };
  }
  const code =
    status === 413
      ? 'body_too_large'
      : status === 415
        ? 'unsupported_media_type'
        : error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || error.code === 'FST_ERR_CTP_EMPTY_JSON_BODY'
          ? 'invalid_json'
          : 'bad_request';
  return { error: { code, message: error.message } };
}
