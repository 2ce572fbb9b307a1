import { useCallback, useEffect, useRef, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { requestData } from '../shared/api';
import { CONSOLE_ACKNOWLEDGE, CONSOLE_HEALTH, CONSOLE_RECENT_ALERTS, CONSOLE_RESOLVE } from '../shared/operations';
import { message, useSession } from '../shared/session';
import { EnrolSecondFactor } from '../shared/EnrolSecondFactor';
import { SignIn } from '../shared/SignIn';
import '../shared/vigil.css';
import './console.css';
import { ALERT_LEVELS, LiveFeed, type Alert, type AlertLevel, type Health, type LiveState } from './live';
import { SettingsPanel } from './SettingsPanel';

/** The permission that allows acknowledging and resolving alerts. */
const MAY_HANDLE_ALERTS = 'MODIFY_INVESTIGATIONS';
/** The permission that shows the runtime settings. */
const MAY_READ_SETTINGS = 'ADMIN_ACCESS';
const SHOWN_ALERTS = 200;
/** How often the health is asked for while live, so "checked at" is the last check, not the last change. */
const HEALTH_REFRESH_MS = 15_000;

const levelRank = (level: AlertLevel) => ALERT_LEVELS.indexOf(level);

function sortAlerts(alerts: Map<string, Alert>): Alert[] {
  return [...alerts.values()].sort((a, b) => b.firstSeenAt.localeCompare(a.firstSeenAt) || b.id.localeCompare(a.id)).slice(0, SHOWN_ALERTS);
}

/** A date and time in the reader's locale: an alert from yesterday must not read as today's. */
function time(iso: string | null): string {
  return iso
    ? new Date(iso).toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' })
    : '';
}

/** Said over every panel while the live connection is down: what is shown may be out of date. */
function StaleNote({ live }: { live: LiveState }) {
  if (live.kind === 'live' || live.kind === 'connecting') return null;
  return (
    <p className="stale-note" data-testid="stale-note" role="status">
      {live.kind === 'paused' ? 'Paused' : 'Disconnected'}: the last known state, possibly out of date; actions are disabled until reconnected.
    </p>
  );
}

function StatusBadge({ status, testId }: { status: string; testId?: string }) {
  return (
    <span className={`badge status-${status.toLowerCase()}`} data-testid={testId}>
      {status}
    </span>
  );
}

function HealthPanel({ health, signedIn, live }: { health: Health | null; signedIn: boolean; live: LiveState }) {
  // Without the live connection the page cannot know the health: it says so instead of the last status.
  const known = live.kind === 'live';
  return (
    <section className={`panel${known ? '' : ' stale'}`} aria-label="Health">
      <StaleNote live={live} />
      <h2>
        Health{' '}
        {health ? <StatusBadge status={known ? health.status : 'UNKNOWN'} testId="health-status" /> : <span className="vigil-muted">loading…</span>}
      </h2>
      {health && (
        <p className="vigil-muted">
          {known ? 'checked at' : `last known ${health.status}, checked at`}{' '}
          <time dateTime={health.checkedAt} data-testid="health-checked-at">
            {time(health.checkedAt)}
          </time>
        </p>
      )}
      {health?.components ? (
        <table className="components" data-testid="health-components">
          <thead>
            <tr>
              <th>component</th>
              <th>status</th>
              <th>latency</th>
              <th>detail</th>
            </tr>
          </thead>
          <tbody>
            {health.components.map((c) => (
              <tr key={c.name}>
                <td>{c.name}</td>
                <td>
                  <StatusBadge status={known ? c.status : 'UNKNOWN'} />
                </td>
                <td>{c.latencyMs === null ? '' : `${Math.round(c.latencyMs)} ms`}</td>
                <td className="detail">{c.detail ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        health && (
          <p className="vigil-muted" data-testid="health-components-hidden">
            {signedIn ? 'Per-component health needs the ADMIN_ACCESS permission.' : 'Sign in with an administrator account for per-component health.'}
          </p>
        )
      )}
    </section>
  );
}

interface AlertRowProps {
  alert: Alert;
  token: string | null;
  mayHandle: boolean;
  /** False while the live connection is down: the buttons wait for it. */
  connected: boolean;
  onChanged: (alert: Alert, error?: string) => void;
}

function AlertRow({ alert, token, mayHandle, connected, onChanged }: AlertRowProps) {
  const [resolving, setResolving] = useState(false);
  const [resolution, setResolution] = useState('');
  const [busy, setBusy] = useState(false);

  const run = async (query: string, variables: Record<string, unknown>, field: 'acknowledgeAlert' | 'resolveAlert') => {
    setBusy(true);
    try {
      const data = await requestData<Record<typeof field, Alert>>(query, variables, token);
      onChanged(data[field]);
      setResolving(false);
    } catch (error) {
      onChanged(alert, message(error));
    } finally {
      setBusy(false);
    }
  };

  return (
    <tr className={`alert level-${alert.level.toLowerCase()}`} data-testid="alert-row" data-alert-id={alert.id} data-status={alert.status}>
      <td>
        <span className={`badge level level-${alert.level.toLowerCase()}`}>{alert.level}</span>
      </td>
      <td>
        <div className="title">{alert.title}</div>
        {alert.message && <div className="vigil-muted">{alert.message}</div>}
      </td>
      <td>{alert.source}</td>
      <td>
        <span className={`badge alert-status-${alert.status.toLowerCase()}`} data-testid="alert-status">
          {alert.status}
        </span>
        {alert.escalationLevel > 0 && alert.status !== 'RESOLVED' && (
          <span className="badge escalated" data-testid="alert-escalated" title="unacknowledged past the escalation time">
            escalated{alert.escalationLevel > 1 ? ` ×${alert.escalationLevel}` : ''}
          </span>
        )}
        {alert.acknowledgedBy && alert.status === 'ACKNOWLEDGED' && <div className="vigil-muted">by {alert.acknowledgedBy.name}</div>}
        {alert.resolvedBy && alert.status === 'RESOLVED' && <div className="vigil-muted">by {alert.resolvedBy.name}</div>}
      </td>
      <td>{alert.count > 1 ? `×${alert.count}` : ''}</td>
      <td className="when">
        <time dateTime={alert.lastSeenAt}>{time(alert.lastSeenAt)}</time>
      </td>
      {mayHandle && (
        <td>
          <div className="actions">
            {alert.status === 'ACTIVE' && (
              <button type="button" className="vigil-button" disabled={busy || !connected} onClick={() => void run(CONSOLE_ACKNOWLEDGE, { id: alert.id }, 'acknowledgeAlert')}>
                Acknowledge
              </button>
            )}
            {alert.status !== 'RESOLVED' && !resolving && (
              <button type="button" className="vigil-button secondary" disabled={busy || !connected} onClick={() => setResolving(true)}>
                Resolve
              </button>
            )}
            {resolving && (
              <form
                className="resolve"
                onSubmit={(e) => {
                  e.preventDefault();
                  void run(CONSOLE_RESOLVE, { id: alert.id, resolution: resolution.trim() || null }, 'resolveAlert');
                }}
              >
                <input aria-label="resolution" placeholder="resolution (optional)" value={resolution} onChange={(e) => setResolution(e.target.value)} />
                <button type="submit" className="vigil-button" disabled={busy || !connected}>
                  Confirm
                </button>
                <button type="button" className="vigil-button secondary" onClick={() => setResolving(false)}>
                  Cancel
                </button>
              </form>
            )}
          </div>
        </td>
      )}
    </tr>
  );
}

function liveLabel(state: LiveState): string {
  switch (state.kind) {
    case 'connecting':
      return 'connecting…';
    case 'live':
      return 'live';
    case 'reconnecting':
      return `disconnected (${state.reason}); reconnecting in ${state.inSeconds} s`;
    case 'paused':
      return 'paused';
    case 'refused':
      return state.reason;
  }
}

function Console() {
  const session = useSession();
  // A session held to enrolling its second factor sees what an anonymous visitor sees, and the enrolment.
  const enrolling = Boolean(session.me && session.mfaEnrollmentRequired);
  const token = session.me && !enrolling ? session.token : null;
  const mayHandle = session.permissions.includes(MAY_HANDLE_ALERTS);

  const [health, setHealth] = useState<Health | null>(null);
  const [alerts, setAlerts] = useState<Map<string, Alert>>(new Map());
  const [live, setLive] = useState<LiveState>({ kind: 'connecting' });
  const [minLevel, setMinLevel] = useState<AlertLevel>('INFO');
  const [notice, setNotice] = useState<string | null>(null);
  const feed = useRef<LiveFeed | null>(null);

  const upsert = useCallback((alert: Alert) => {
    setAlerts((prev) => {
      const next = new Map(prev);
      next.set(alert.id, alert);
      return next;
    });
  }, []);

  useEffect(() => {
    if (session.loading) return;
    let cancelled = false;
    // The live feed is replaced (signed in, out, or a refreshed token): until the new one connects
    // the page is not live, so health reads unknown and actions wait.
    setLive({ kind: 'connecting' });
    // A refreshed token restarts the feed for the same user: keep the list on screen meanwhile.
    if (!token) setAlerts(new Map());
    setNotice(null);
    const begin = async () => {
      let lastAlertId: string | null = null;
      try {
        const h = await requestData<{ health: Health }>(CONSOLE_HEALTH, {}, token);
        if (!cancelled) setHealth(h.health);
        if (token) {
          const recent = await requestData<{ alerts: { edges: { node: Alert }[] } }>(CONSOLE_RECENT_ALERTS, { first: 50 }, token);
          const nodes = recent.alerts.edges.map((e) => e.node);
          lastAlertId = nodes[0]?.id ?? null;
          if (!cancelled) setAlerts(new Map(nodes.map((a) => [a.id, a])));
        }
      } catch (error) {
        if (!cancelled) setNotice(message(error));
      }
      if (cancelled) return;
      feed.current = new LiveFeed(
        token,
        minLevel,
        {
          onAlert: (alert) => !cancelled && upsert(alert),
          onHealth: (h) => !cancelled && setHealth(h),
          onState: (s) => !cancelled && setLive(s),
          onError: (m) => !cancelled && setNotice(m),
        },
        lastAlertId,
      );
      feed.current.start();
    };
    void begin();
    return () => {
      cancelled = true;
      feed.current?.stop();
      feed.current = null;
    };
  }, [token, session.loading, minLevel, upsert]);

  // While live: ask for the health on (re)connecting and now and then, so "checked at" is the last check.
  useEffect(() => {
    if (live.kind !== 'live') return;
    let cancelled = false;
    const refresh = () =>
      requestData<{ health: Health }>(CONSOLE_HEALTH, {}, token).then(
        (h) => !cancelled && setHealth(h.health),
        () => undefined,
      );
    void refresh();
    const timer = setInterval(() => void refresh(), HEALTH_REFRESH_MS);
    return () => {
      cancelled = true;
      clearInterval(timer);
    };
  }, [live.kind, token]);

  const connected = live.kind === 'live';
  const shown = sortAlerts(alerts).filter((a) => levelRank(a.level) >= levelRank(minLevel));

  return (
    <div className="vigil-console">
      <header className="vigil-bar">
        <span className="vigil-brand">VIGIL</span>
        <span>Live console</span>
        <a href="/graphql">GraphQL IDE</a>
        <SignIn session={session} />
      </header>
      <main>
        {enrolling && <EnrolSecondFactor session={session} />}
        <div className="live-line">
          <span className={`live live-${live.kind}`} data-testid="live-state">
            {liveLabel(live)}
          </span>
          <button type="button" className="vigil-button secondary" onClick={() => feed.current?.reconnectNow()} data-testid="reconnect">
            Reconnect
          </button>
          <button type="button" className="vigil-button secondary" onClick={() => feed.current?.pause()} data-testid="pause" disabled={live.kind === 'paused'}>
            Pause
          </button>
          {notice && (
            <span className="vigil-error" role="alert">
              {notice}
            </span>
          )}
        </div>
        {!connected && live.kind !== 'connecting' && (
          <div className="disconnected" data-testid="disconnected" role="alert">
            {live.kind === 'paused' ? 'Paused.' : 'Not connected to the gateway.'} Health is unknown and Acknowledge / Resolve are disabled until
            the console is live again.
          </div>
        )}
        <HealthPanel health={health} signedIn={Boolean(token)} live={live} />
        <section className={`panel${connected ? '' : ' stale'}`} aria-label="Alerts">
          <StaleNote live={live} />
          <h2>
            Alerts{' '}
            <label className="vigil-muted min-level">
              at least{' '}
              <select value={minLevel} onChange={(e) => setMinLevel(e.target.value as AlertLevel)} aria-label="minimum level">
                {ALERT_LEVELS.map((l) => (
                  <option key={l}>{l}</option>
                ))}
              </select>
            </label>
          </h2>
          {!token ? (
            <p className="vigil-muted" data-testid="alerts-signed-out">
              Sign in to see the alert stream.
            </p>
          ) : shown.length === 0 ? (
            <p className="vigil-muted" data-testid="alerts-empty">
              No alerts yet; new ones appear here as they are raised.
            </p>
          ) : (
            <table className="alerts" data-testid="alerts">
              <thead>
                <tr>
                  <th>level</th>
                  <th>alert</th>
                  <th>source</th>
                  <th>status</th>
                  <th>count</th>
                  <th>last seen</th>
                  {mayHandle && <th>actions</th>}
                </tr>
              </thead>
              <tbody>
                {shown.map((a) => (
                  <AlertRow key={a.id} alert={a} token={token} mayHandle={mayHandle} connected={connected} onChanged={(changed, error) => (error ? setNotice(error) : upsert(changed))} />
                ))}
              </tbody>
            </table>
          )}
        </section>
        {token && session.permissions.includes(MAY_READ_SETTINGS) && (
          // A disabled fieldset disables every control of the panel while the console is not live.
          <fieldset className={`panel-group${connected ? '' : ' stale'}`} disabled={!connected}>
            <StaleNote live={live} />
            <SettingsPanel token={token} permissions={session.permissions} />
          </fieldset>
        )}
      </main>
    </div>
  );
}

createRoot(document.getElementById('root')!).render(<Console />);
