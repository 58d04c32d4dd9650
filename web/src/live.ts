/**
 * Live updates: one EventSource on /api/v1/stream per signed-in tab. Each `change` event names the action
 * and target; pages subscribe and reload what the change touched.
 */
import { useEffect, useRef, useSyncExternalStore } from 'react';
import { API, api } from './api.js';

export interface ChangeEvent {
  readonly action: string;
  readonly target: { readonly type: string; readonly id: string };
  readonly incident_id: string | null;
  readonly at: string;
}

export type LiveState = 'connecting' | 'live' | 'offline';

type Listener = (event: ChangeEvent) => void;

const listeners = new Set<Listener>();
const stateListeners = new Set<() => void>();
let source: EventSource | null = null;
let state: LiveState = 'offline';
let retryTimer: ReturnType<typeof setTimeout> | null = null;

function setState(next: LiveState): void {
  state = next;
  for (const listener of stateListeners) listener();
}

/** Opens the stream (idempotent). The browser reconnects after network errors by itself. */
export function connectLive(): void {
  if (source) return;
  setState('connecting');
  const stream = new EventSource(`${API}/stream`, { withCredentials: true });
  source = stream;
  stream.onopen = () => setState('live');
  stream.addEventListener('change', (message) => {
    let event: ChangeEvent;
    try {
      event = JSON.parse((message as MessageEvent<string>).data) as ChangeEvent;
    } catch {
      return;
    }
    for (const listener of listeners) listener(event);
  });
  stream.onerror = () => {
    if (stream.readyState !== EventSource.CLOSED) {
      setState('connecting');
      return;
    }
    // Closed for good (e.g. 401): ask who we are; a 401 there sends the app back to sign-in.
    disconnectLive();
    setState('offline');
    retryTimer = setTimeout(() => {
      api('/auth/session')
        .then(() => connectLive())
        .catch(() => undefined);
    }, 3_000);
  };
}

export function disconnectLive(): void {
  if (retryTimer) clearTimeout(retryTimer);
  retryTimer = null;
  source?.close();
  source = null;
  setState('offline');
}

/** Calls `handler` for every change while the component is mounted (the latest handler, no resubscribe). */
export function useLive(handler: Listener): void {
  const ref = useRef(handler);
  ref.current = handler;
  useEffect(() => {
    const listener: Listener = (event) => ref.current(event);
    listeners.add(listener);
    return () => {
      listeners.delete(listener);
    };
  }, []);
}

export function useLiveState(): LiveState {
  return useSyncExternalStore(
    (notify) => {
      stateListeners.add(notify);
      return () => stateListeners.delete(notify);
    },
    () => state,
  );
}
