import type { Config, ProtectionConfig } from '../config';

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
