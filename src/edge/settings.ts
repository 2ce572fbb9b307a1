import type { Config, ProtectionConfig } from '../config';
import type { SettingsValues } from '../services/settings/settings.catalog';

/**
 * The figures the edge enforces. They are read through a getter on every request (never captured
 * once at boot), so live system settings can change them while the gateway runs.
 */
export interface EdgeSettings {
  rateLimit: ProtectionConfig['rateLimit'];
  limits: ProtectionConfig['limits'];
  variables: ProtectionConfig['variables'];
  costBudget: ProtectionConfig['costBudget'];
  websocket: ProtectionConfig['websocket'];
  /** `on`: everyone; `admin`: ADMIN_ACCESS only (FORBIDDEN otherwise); `off`: nobody (validation error). */
  introspection: 'on' | 'off' | 'admin';
}

/** Where the edge reads its settings from; swap the getter to make them live. */
export type EdgeSettingsSource = () => EdgeSettings;

/** The settings of the configuration, fixed for the process's life. */
export function settingsFromConfig(config: Config): EdgeSettingsSource {
  const p = config.protection;
  const settings: EdgeSettings = {
    rateLimit: p.rateLimit,
    limits: p.limits,
    variables: p.variables,
    costBudget: p.costBudget,
    websocket: p.websocket,
    introspection: config.introspection,
  };
  return () => settings;
}

/**
 * The settings of the configuration with the runtime system settings laid over them (request,
 * sign-in and websocket-subscribe limits, cost limit and budget, websocket budgets): read on every
 * request from `live`, so a change applied by this instance counts from the next request. One
 * object per applied state, so the gate's caches keyed on it survive between changes.
 */
export function settingsFromSystemSettings(config: Config, live: { readonly values: SettingsValues }): EdgeSettingsSource {
  const base = settingsFromConfig(config)();
  let cached: { values: SettingsValues; settings: EdgeSettings } | undefined;
  return () => {
    const values = live.values;
    if (cached?.values === values) return cached.settings;
    const p = values.protection;
    const roles: Partial<Record<string, number>> = {};
    for (const [role, limit] of Object.entries(p.roleRequestLimits)) if (limit !== null) roles[role] = limit;
    const settings: EdgeSettings = {
      ...base,
      rateLimit: {
        ...base.rateLimit,
        windowSeconds: p.requestWindowSeconds,
        anonymous: p.anonymousRequestLimit,
        user: p.userRequestLimit,
        roles,
        login: p.signInLimit,
        loginWindowSeconds: p.signInWindowSeconds,
        wsSubscribe: p.wsSubscribeLimit,
      },
      limits: { ...base.limits, maxCost: p.costLimit },
      costBudget: { points: p.costBudget, windowSeconds: p.costBudgetWindowSeconds },
      websocket: {
        ...base.websocket,
        maxConnectionsPerIp: p.wsMaxConnectionsPerIp,
        maxConnectionsPerUser: p.wsMaxConnectionsPerUser,
        maxSubscriptionsPerConnection: p.wsMaxSubscriptionsPerConnection,
      },
    };
    cached = { values, settings };
    return settings;
  };
}
