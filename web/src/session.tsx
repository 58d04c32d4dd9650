/** Who is signed in, their role, and the ways in and out. The role decides which write buttons exist. */
import { createContext, useCallback, useContext, useEffect, useMemo, useState, type ReactNode } from 'react';
import {
  api,
  ApiError,
  setCsrfToken,
  setUnauthenticatedHandler,
  type LoginAnswer,
  type Role,
  type SessionInfo,
} from './api.js';
import { connectLive, disconnectLive } from './live.js';

export interface SignedInUser {
  readonly id: string;
  readonly name: string;
  readonly role: Role;
}

export type SessionState =
  | { readonly status: 'loading' }
  | { readonly status: 'signed-out'; readonly message: string | null }
  | { readonly status: 'signed-in'; readonly user: SignedInUser };

interface SessionApi {
  readonly state: SessionState;
  signIn(email: string, password: string): Promise<void>;
  signOut(): Promise<void>;
}

const SessionContext = createContext<SessionApi | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [state, setState] = useState<SessionState>({ status: 'loading' });

  useEffect(() => {
    setUnauthenticatedHandler((error) => {
      disconnectLive();
      setCsrfToken('');
      setState({
        status: 'signed-out',
        message:
          error.code === 'session_expired'
            ? 'Your session expired. Sign in again to continue where you were.'
            : 'You are signed out. Sign in again to continue where you were.',
      });
    });
    api<SessionInfo>('/auth/session', { quiet401: true })
      .then((session) => {
        setCsrfToken(session.csrf_token ?? '');
        setState({
          status: 'signed-in',
          user: {
            id: session.actor.user_id ?? session.actor.id,
            name: session.actor.name,
            role: session.actor.role,
          },
        });
        connectLive();
      })
      .catch((error: unknown) => {
        setState({
          status: 'signed-out',
          message: error instanceof ApiError && error.status === 401 ? null : 'The server cannot be reached.',
        });
      });
  }, []);

  const signIn = useCallback(async (email: string, password: string) => {
    const answer = await api<LoginAnswer>('/auth/login', {
      method: 'POST',
      body: { email, password },
      quiet401: true,
    });
    setCsrfToken(answer.csrf_token);
    setState({
      status: 'signed-in',
      user: { id: answer.user.id, name: answer.user.name, role: answer.user.role },
    });
    connectLive();
  }, []);

  const signOut = useCallback(async () => {
    try {
      await api('/auth/logout', { method: 'POST', quiet401: true });
    } catch {
      // Signed out already (expired): the outcome is the same.
    }
    disconnectLive();
    setCsrfToken('');
    setState({ status: 'signed-out', message: 'You signed out.' });
  }, []);

  const value = useMemo(() => ({ state, signIn, signOut }), [state, signIn, signOut]);
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionApi {
  const value = useContext(SessionContext);
  if (!value) throw new Error('useSession outside SessionProvider');
  return value;
}

/** The signed-in user; only for components under the signed-in layout. */
export function useUser(): SignedInUser {
  const { state } = useSession();
  if (state.status !== 'signed-in') throw new Error('useUser while signed out');
  return state.user;
}

/** Responders and admins write; viewers read. */
export function canWrite(role: Role): boolean {
  return role === 'responder' || role === 'admin';
}
