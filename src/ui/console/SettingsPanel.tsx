import { useCallback, useEffect, useState } from 'react';
import { ApiError, requestData } from '../shared/api';
import { CONSOLE_SETTINGS, CONSOLE_UPDATE_SETTINGS } from '../shared/operations';
import { message } from '../shared/session';

/** The permission `updateSystemSettings` requires; reading the settings needs ADMIN_ACCESS. */
const MAY_CHANGE_SETTINGS = 'SYSTEM_CONFIG';
const LEVELS = ['INFO', 'WARNING', 'ERROR', 'CRITICAL'];

interface Setting {
  effective: number | string | boolean | null;
  source: string;
  defaultValue: number | string | boolean | null;
  variable: string;
  min?: number;
  max?: number;
  role?: string;
}

type Group = Record<string, Setting | Setting[]>;

interface Settings {
  version: number;
  updatedAt: string;
  updatedBy: { email: string } | null;
  maintenance: { enabled: boolean; message: string | null; since: string | null; reason: string | null };
  alerts: Group;
  protection: Group;
  identity: Group;
  retention: Group;
}

const GROUPS: { name: 'alerts' | 'protection' | 'identity' | 'retention'; title: string }[] = [
  { name: 'alerts', title: 'Alerts' },
  { name: 'protection', title: 'Protection' },
  { name: 'identity', title: 'Identity' },
  { name: 'retention', title: 'Retention and backups' },
];

/** What a setting is edited as. */
function kindOf(setting: Setting, name: string): 'int' | 'level' | 'text' | 'flag' {
  if (typeof setting.defaultValue === 'boolean' || name === 'mfaRequired') return 'flag';
  if (setting.min !== undefined) return 'int';
  if (name.endsWith('MinLevel')) return 'level';
  return 'text';
}

/** The rows of a group: one per setting, per-role lists flattened to `name.ROLE`. */
function rowsOf(group: Group): { key: string; name: string; setting: Setting }[] {
  return Object.entries(group)
    .filter(([name]) => name !== '__typename')
    .flatMap(([name, value]) =>
      Array.isArray(value) ? value.map((s) => ({ key: `${name}.${s.role!}`, name, setting: s })) : [{ key: name, name, setting: value }],
    );
}

const shown = (value: Setting['effective']) => (value === null ? '— (user limit)' : String(value));

/** The `SystemSettingsInput` of the edited fields: an emptied number field returns it to its boot value. */
function inputOf(settings: Settings, edits: Map<string, string>, maintenance: { enabled: boolean; message: string }): Record<string, unknown> {
  const input: Record<string, Record<string, unknown>> = {};
  for (const { name: groupName } of GROUPS) {
    for (const { key, name, setting } of rowsOf(settings[groupName])) {
      const raw = edits.get(`${groupName}.${key}`);
      if (raw === undefined) continue;
      const kind = kindOf(setting, name);
      const value = kind === 'int' ? (raw.trim() === '' ? null : Number(raw)) : kind === 'flag' ? raw === 'true' : raw;
      const group = (input[groupName] ??= {});
      if (setting.role) {
        const list = ((group[name] as Record<string, unknown>[] | undefined) ??= []);
        list.push({ role: setting.role, [name === 'mfaRequired' ? 'required' : 'limit']: value });
      } else {
        group[name] = value;
      }
    }
  }
  const current = settings.maintenance;
  if (maintenance.enabled !== current.enabled || maintenance.message !== (current.message ?? '')) {
    input.maintenance = { enabled: maintenance.enabled, message: maintenance.message.trim() || null };
  }
  return input;
}

/**
 * The runtime settings: read-only for ADMIN_ACCESS, editable with SYSTEM_CONFIG. A save sends the
 * edited fields with the version they were read at; when someone changed the settings meanwhile
 * the gateway answers CONFLICT and the panel shows the newer values to edit again.
 */
export function SettingsPanel({ token, permissions }: { token: string; permissions: string[] }) {
  const mayChange = permissions.includes(MAY_CHANGE_SETTINGS);
  const [settings, setSettings] = useState<Settings | null>(null);
  const [edits, setEdits] = useState<Map<string, string>>(new Map());
  const [maintenance, setMaintenance] = useState({ enabled: false, message: '' });
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const show = useCallback((next: Settings) => {
    setSettings(next);
    setEdits(new Map());
    setMaintenance({ enabled: next.maintenance.enabled, message: next.maintenance.message ?? '' });
  }, []);

  const load = useCallback(async () => {
    const data = await requestData<{ systemSettings: Settings }>(CONSOLE_SETTINGS, {}, token);
    show(data.systemSettings);
  }, [token, show]);

  useEffect(() => {
    load().catch((error: unknown) => setNotice(message(error)));
  }, [load]);

  const save = async () => {
    if (!settings) return;
    setBusy(true);
    setNotice(null);
    try {
      const data = await requestData<{ updateSystemSettings: Settings }>(
        CONSOLE_UPDATE_SETTINGS,
        { expectedVersion: settings.version, input: inputOf(settings, edits, maintenance) },
        token,
      );
      show(data.updateSystemSettings);
      setNotice(`Saved: version ${data.updateSystemSettings.version}`);
    } catch (error) {
      if (error instanceof ApiError && error.code === 'CONFLICT') {
        await load().catch(() => undefined);
        setNotice('Someone changed the settings meanwhile: here they are as they are now; make your change again.');
      } else {
        setNotice(message(error));
      }
    } finally {
      setBusy(false);
    }
  };

  if (!settings) {
    return (
      <section className="panel" aria-label="Settings">
        <h2>Settings</h2>
        <p className="vigil-muted">{notice ?? 'loading…'}</p>
      </section>
    );
  }

  const editor = (id: string, name: string, setting: Setting) => {
    const value = edits.get(id) ?? (setting.effective === null ? '' : String(setting.effective));
    const set = (v: string) => setEdits((prev) => new Map(prev).set(id, v));
    const kind = kindOf(setting, name);
    if (kind === 'flag') {
      return <input type="checkbox" data-testid={`setting-${id}`} checked={value === 'true'} onChange={(e) => set(String(e.target.checked))} />;
    }
    if (kind === 'level') {
      return (
        <select data-testid={`setting-${id}`} value={value} onChange={(e) => set(e.target.value)}>
          {LEVELS.map((l) => (
            <option key={l}>{l}</option>
          ))}
        </select>
      );
    }
    return (
      <input
        data-testid={`setting-${id}`}
        type={kind === 'int' ? 'number' : 'text'}
        min={setting.min}
        max={setting.max}
        value={value}
        placeholder={setting.defaultValue === null ? 'user limit' : String(setting.defaultValue)}
        onChange={(e) => set(e.target.value)}
      />
    );
  };

  const m = settings.maintenance;
  return (
    <section className="panel settings" aria-label="Settings">
      <h2>
        Settings <span className="vigil-muted" data-testid="settings-version">version {settings.version}</span>
        {!mayChange && (
          <span className="vigil-muted" data-testid="settings-read-only">
            read-only: changing settings needs the SYSTEM_CONFIG permission
          </span>
        )}
      </h2>
      <div className="maintenance" data-testid="settings-maintenance" data-enabled={String(m.enabled)}>
        <strong>Maintenance</strong>{' '}
        {mayChange ? (
          <>
            <label>
              <input
                type="checkbox"
                data-testid="setting-maintenance.enabled"
                checked={maintenance.enabled}
                onChange={(e) => setMaintenance((prev) => ({ ...prev, enabled: e.target.checked }))}
              />{' '}
              on
            </label>{' '}
            <input
              data-testid="setting-maintenance.message"
              placeholder="message for refused writes"
              value={maintenance.message}
              onChange={(e) => setMaintenance((prev) => ({ ...prev, message: e.target.value }))}
            />
          </>
        ) : (
          <span>{m.enabled ? 'on' : 'off'}</span>
        )}
        {m.enabled && <span className="vigil-muted"> since {m.since ? new Date(m.since).toLocaleString() : '?'} — {m.reason}</span>}
      </div>
      {GROUPS.map(({ name: groupName, title }) => (
        <table key={groupName} className="settings-group" data-testid={`settings-${groupName}`}>
          <caption>{title}</caption>
          <thead>
            <tr>
              <th>setting</th>
              <th>value</th>
              <th>source</th>
              <th>variable</th>
            </tr>
          </thead>
          <tbody>
            {rowsOf(settings[groupName]).map(({ key, name, setting }) => {
              const id = `${groupName}.${key}`;
              return (
                <tr key={id}>
                  <td>{key}</td>
                  <td>
                    {mayChange ? (
                      editor(id, name, setting)
                    ) : (
                      <span data-testid={`setting-${id}`}>{shown(setting.effective)}</span>
                    )}
                    {setting.min !== undefined && <span className="vigil-muted range"> {setting.min}–{setting.max}</span>}
                  </td>
                  <td>
                    <span className={`badge source-${setting.source.toLowerCase()}`} data-testid={`source-${id}`}>
                      {setting.source}
                    </span>
                  </td>
                  <td className="vigil-muted">{setting.variable}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      ))}
      {mayChange && (
        <div className="settings-actions">
          <button type="button" className="vigil-button" data-testid="settings-save" disabled={busy} onClick={() => void save()}>
            Save as version {settings.version + 1}
          </button>
          <button type="button" className="vigil-button secondary" disabled={busy} onClick={() => show(settings)}>
            Discard changes
          </button>
        </div>
      )}
      {notice && (
        <p className="vigil-muted" role="status" data-testid="settings-notice">
          {notice}
        </p>
      )}
      <p className="vigil-muted">
        Last changed {new Date(settings.updatedAt).toLocaleString()}
        {settings.updatedBy ? ` by ${settings.updatedBy.email}` : ''}.
      </p>
    </section>
  );
}
