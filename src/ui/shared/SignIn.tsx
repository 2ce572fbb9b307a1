import { useState, type FormEvent } from 'react';
import type { useSession } from './session';

type Session = ReturnType<typeof useSession>;

/**
 * The sign-in bar shared by the IDE and the console: log in with email and password (and a TOTP
 * code when the account has one), or paste an access token; once signed in, who and which role.
 */
export function SignIn({ session }: { session: Session }) {
  const [mode, setMode] = useState<'password' | 'token'>('password');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [otp, setOtp] = useState('');
  const [token, setToken] = useState('');

  if (session.me) {
    return (
      <div className="vigil-signin" data-testid="signed-in">
        <span>
          Signed in as <strong data-testid="me-email">{session.me.email}</strong>{' '}
          <span className="vigil-role" data-testid="me-role">
            {session.me.role}
          </span>
        </span>
        <button type="button" onClick={() => void session.signOut()}>
          Sign out
        </button>
      </div>
    );
  }

  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (mode === 'password') void session.login(email, password, otp);
    else void session.adoptToken(token);
  };

  return (
    <form className="vigil-signin" onSubmit={submit} aria-label="Sign in">
      {mode === 'password' ? (
        <>
          <input type="email" name="email" placeholder="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} />
          <input
            type="password"
            name="password"
            placeholder="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
          <input type="text" name="otp" placeholder="code (if MFA)" inputMode="numeric" autoComplete="one-time-code" size={10} value={otp} onChange={(e) => setOtp(e.target.value)} />
        </>
      ) : (
        <input type="text" name="token" placeholder="access token" required size={40} value={token} onChange={(e) => setToken(e.target.value)} />
      )}
      <button type="submit" disabled={session.loading}>
        {session.loading ? 'Signing in…' : 'Sign in'}
      </button>
      <button type="button" className="vigil-link" onClick={() => setMode(mode === 'password' ? 'token' : 'password')}>
        {mode === 'password' ? 'paste a token instead' : 'use email and password'}
      </button>
      {session.error ? (
        <span className="vigil-error" role="alert">
          {session.error}
        </span>
      ) : (
        <span className="vigil-muted">not signed in: anonymous requests</span>
      )}
    </form>
  );
}
