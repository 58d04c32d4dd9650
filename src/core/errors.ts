/**
 * Errors by who is at fault. Each carries a stable snake_case `code` and the ids involved;
 * only the API layer maps them to HTTP status codes.
 */
export interface ErrorDetails {
  readonly [key: string]: unknown;
}

abstract class FirebreakError extends Error {
  abstract readonly kind: string;
  constructor(
    readonly code: string,
    message: string,
    readonly details: ErrorDetails = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The caller sent something we will not accept (bad input, conflict). */
export class UserError extends FirebreakError {
  readonly kind = 'user';
}

/** The caller is not who they need to be: unauthenticated (no valid credentials). */
export class AuthenticationError extends FirebreakError {
  readonly kind = 'authentication';
}

/** The caller is authenticated but their role does not allow this. */
export class ForbiddenError extends FirebreakError {
  readonly kind = 'forbidden';
}

/** Too many attempts; `retryAfterSeconds` tells when to try again. */
export class RateLimitedError extends FirebreakError {
  readonly kind = 'rate_limited';
  constructor(
    code: string,
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(code, message, { retry_after_seconds: retryAfterSeconds });
  }
}

/** The record does not exist, or exists in another organisation (never say which). */
export class NotFoundError extends FirebreakError {
  readonly kind = 'not_found';
  constructor(
    readonly resource: string,
    readonly id: string,
  ) {
    super(`${resource}_not_found`, `${resource} ${id} not found`, { resource, id });
  }
}

/** The request is well formed but not allowed in the record's current state (an invalid transition). */
export class IllegalStateError extends FirebreakError {
  readonly kind = 'illegal_state';
}

/** Transient failure of something outside (database busy, network); retrying may help. */
export class OperationalError extends FirebreakError {
  readonly kind = 'operational';
}

export type AnyFirebreakError =
  | UserError
  | AuthenticationError
  | ForbiddenError
  | RateLimitedError
  | NotFoundError
  | IllegalStateError
  | OperationalError;

export function isFirebreakError(error: unknown): error is AnyFirebreakError {
  return error instanceof FirebreakError;
}
