import { useCallback, useEffect, useState } from 'react';
import { request, requestData } from './api';
import { LOGIN, LOGOUT, REFRESH_SESSION, WHO_AM_I } from './operations';

const STORAGE_KEY = 'vigil.session';

/** The signed-in user as `me` returns it. */
export interface Me {
  id: string;
  email: string;
  name: string;
  role: string;
}

/** The tokens a page holds: a pasted access token has no refresh token and no known expiry. */
interface Tokens {
  accessToken: string;
  refreshToken: string | null;
  /** ISO-8601 */
  expiresAt: string | null;
  /** The role requires a second factor not enrolled yet (unknown, so false, for a pasted token). */
  mfaEnrollmentRequired?: boolean;
}

/** Who is signed in, with what permissions; `me` is null when signed out. */
export interface SessionState {
  token: string | null;
  me: Me | null;
  permissions: string[];
  /** The session may only enrol the second factor its role requires (see `enrolled`). */
  mfaEnrollmentRequired: boolean;
  /** Set while a sign-in or a token check is under way. */
  loading: boolean;
  error: string | null;
}

/** Refresh this long before the access token expires. */
const REFRESH_MARGIN_MS = 60_000;

function stored(): Tokens | null {
  try {
    const raw = window.sessionStorage.getItem(STORAGE_KEY);
    const value = raw ? (JSON.parse(raw) as Partial<Tokens>) : null;
    return value && typeof value.accessToken === 'string'
      ? { accessToken: value.accessToken, refreshToken: value.refreshToken ?? null, expiresAt: value.expiresAt ?? null }
      : null;
  } catch {
    return null;
  }
}

function store(tokens: Tokens | null): void {
  try {
    if (tokens) window.sessionStorage.setItem(STORAGE_KEY, JSON.stringify(tokens));
    else window.sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    // Storage can be disabled (private mode, policy): the session then lasts as long as the page.
  }
}

/**
 * The page's sign-in state. Tokens are kept in `sessionStorage` (this tab only), so the IDE and
 * the console share them while the tab is open. A session signed in with a password is refreshed
 * (`refreshSession`) a minute before its access token expires, so a console can stay open for
 * hours; a pasted token is used until the gateway refuses it. Signing out calls `logout`.
 */
export function useSession() {
  const [tokens, setTokens] = useState<Tokens | null>(stored);
  const [state, setState] = useState<SessionState>(() => ({ token: null, me: null, permissions: [], mfaEnrollmentRequired: false, loading: stored() !== null, error: null }));

  const adopt = useCallback(async (next: Tokens | null, error: string | null = null) => {
    if (!next) {
      store(null);
      setTokens(null);
      setState({ token: null, me: null, permissions: [], mfaEnrollmentRequired: false, loading: false, error });
      return;
    }
    setState((s) => ({ ...s, loading: true, error: null }));
    try {
      const data = await requestData<{ me: Me | null; myPermissions: string[] }>(WHO_AM_I, {}, next.accessToken);
      if (!data.me) throw new Error('the token was not accepted');
      store(next);
      setTokens(next);
      setState({
        token: next.accessToken,
        me: data.me,
        permissions: data.myPermissions,
        mfaEnrollmentRequired: next.mfaEnrollmentRequired === true,
        loading: false,
        error: null,
      });
    } catch (e) {
      store(null);
      setTokens(null);
      setState({ token: null, me: null, permissions: [], mfaEnrollmentRequired: false, loading: false, error: message(e) });
    }
  }, []);

  useEffect(() => {
    const initial = stored();
    if (initial) void adopt(initial);
  }, [adopt]);

  useEffect(() => {
    if (!tokens?.refreshToken || !tokens.expiresAt) return;
    const refreshToken = tokens.refreshToken;
    const delay = Math.max(5_000, new Date(tokens.expiresAt).getTime() - Date.now() - REFRESH_MARGIN_MS);
    const timer = setTimeout(() => {
      requestData<{ refreshSession: Tokens }>(REFRESH_SESSION, { refreshToken })
        .then((data) => adopt(data.refreshSession))
        .catch((e: unknown) => adopt(null, `the session ended (${message(e)}): sign in again`));
    }, delay);
    return () => clearTimeout(timer);
  }, [tokens, adopt]);

  const login = useCallback(
    async (email: string, password: string, otp?: string) => {
      setState((s) => ({ ...s, loading: true, error: null }));
      try {
        const data = await requestData<{ login: Tokens }>(LOGIN, { email, password, otp: otp || null });
        await adopt(data.login);
      } catch (e) {
        setState((s) => ({ ...s, loading: false, error: message(e) }));
      }
    },
    [adopt],
  );

  const adoptToken = useCallback(
    (token: string) => {
      const accessToken = token.replace(/^Bearer\s+/i, '').trim();
      return adopt(accessToken ? { accessToken, refreshToken: null, expiresAt: null } : null);
    },
    [adopt],
  );

  const signOut = useCallback(async () => {
    // Best effort: the session ends on the gateway too, not only in this tab.
    if (tokens) await request(LOGOUT, {}, tokens.accessToken).catch(() => undefined);
    await adopt(null);
  }, [tokens, adopt]);

  /** After `confirmMfa…`: the same tokens now carry the role's rights; read them again. */
  const enrolled = useCallback(() => (tokens ? adopt({ ...tokens, mfaEnrollmentRequired: false }) : Promise.resolve()), [tokens, adopt]);

  return { ...state, login, adoptToken, signOut, enrolled };
}

/** A one-line, human-readable message for anything thrown. */
export function message(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
