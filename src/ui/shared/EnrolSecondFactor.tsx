import { useState, type FormEvent } from 'react';
import { requestData } from './api';
import { CONFIRM_MFA, ENROLL_MFA } from './operations';
import { message, type useSession } from './session';

type Session = ReturnType<typeof useSession>;

type Step = { kind: 'start' } | { kind: 'confirm'; secret: string; otpauthUri: string } | { kind: 'codes'; recoveryCodes: string[] };

/**
 * Shown to a session whose role requires a second factor it has not enrolled (it may do nothing
 * else): enrol a TOTP secret, confirm it with a code, and keep the recovery codes shown once.
 */
export function EnrolSecondFactor({ session }: { session: Session }) {
  const [step, setStep] = useState<Step>({ kind: 'start' });
  const [otp, setOtp] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const run = async (work: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await work();
    } catch (e) {
      setError(message(e));
    } finally {
      setBusy(false);
    }
  };

  const start = () =>
    run(async () => {
      const { enrollMfa } = await requestData<{ enrollMfa: { secret: string; otpauthUri: string } }>(ENROLL_MFA, {}, session.token);
      setStep({ kind: 'confirm', ...enrollMfa });
    });

  const confirm = (event: FormEvent) => {
    event.preventDefault();
    void run(async () => {
      const data = await requestData<{ confirmMfaWithRecoveryCodes: { recoveryCodes: string[] } }>(CONFIRM_MFA, { otp: otp.trim() }, session.token);
      setStep({ kind: 'codes', recoveryCodes: data.confirmMfaWithRecoveryCodes.recoveryCodes });
    });
  };

  return (
    <section className="panel" data-testid="mfa-enrolment" aria-label="Second factor">
      <h2>Set up a second factor</h2>
      {step.kind === 'start' && (
        <>
          <p>Your role requires a second factor. Until you set one up, this session can do nothing else.</p>
          <button type="button" disabled={busy} onClick={() => void start()}>
            Set up an authenticator app
          </button>
        </>
      )}
      {step.kind === 'confirm' && (
        <form onSubmit={confirm}>
          <p>
            Add this key to your authenticator app (or open the link on the device that has it), then enter the code it shows.
          </p>
          <p>
            <code data-testid="mfa-secret">{step.secret}</code> · <a href={step.otpauthUri}>otpauth link</a>
          </p>
          <input
            type="text"
            name="mfa-code"
            aria-label="code from the app"
            placeholder="123456"
            inputMode="numeric"
            autoComplete="one-time-code"
            required
            size={10}
            value={otp}
            onChange={(e) => setOtp(e.target.value)}
          />
          <button type="submit" disabled={busy}>
            Confirm
          </button>
        </form>
      )}
      {step.kind === 'codes' && (
        <>
          <p>The second factor is on. Keep these recovery codes somewhere safe: each replaces a code from the app once, and they are shown only now.</p>
          <ol className="vigil-recovery-codes" data-testid="mfa-recovery-codes">
            {step.recoveryCodes.map((code) => (
              <li key={code}>
                <code>{code}</code>
              </li>
            ))}
          </ol>
          <button type="button" onClick={() => void session.enrolled()}>
            I have kept them: continue
          </button>
        </>
      )}
      {error && (
        <p className="vigil-error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
