import { graphql, type GraphQLResponse } from '../helpers/clients';

/** Waits until `condition` holds, checking every 10 ms; fails with `what` after `timeoutMs`. Resolves with the time it took. */
export async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 10_000): Promise<number> {
  const started = Date.now();
  const deadline = started + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return Date.now() - started;
}

export const SETTINGS_QUERY = /* GraphQL */ `
  query Settings {
    systemSettings {
      version
      updatedAt
      updatedBy { id }
      protection { anonymousRequestLimit { effective source defaultValue min max variable } roleRequestLimits { role effective source } }
      identity { mfaRequired { role effective source } }
      alerts { cooldownSeconds { effective source } logMinLevel { effective source } }
      retention { backupSchedule { effective source } }
      maintenance { enabled message since reason }
    }
  }
`;

export const UPDATE_SETTINGS = /* GraphQL */ `
  mutation UpdateSettings($expectedVersion: Int!, $input: SystemSettingsInput!) {
    updateSystemSettings(expectedVersion: $expectedVersion, input: $input) {
      version
      protection { anonymousRequestLimit { effective source } }
      maintenance { enabled message since reason }
    }
  }
`;

export const CREATE_INVESTIGATION = /* GraphQL */ `
  mutation Create($title: String!) { createInvestigation(input: { title: $title }) { id } }
`;

export const LIST_INVESTIGATIONS = /* GraphQL */ `
  query List { investigations(first: 1) { totalCount } }
`;

interface SettingsData {
  systemSettings: { version: number; maintenance: { enabled: boolean } } & Record<string, unknown>;
}

/** The settings as `url` reports them (ADMIN_ACCESS token). */
export async function readSettings(url: string, token: string): Promise<SettingsData['systemSettings']> {
  const res = await graphql<SettingsData>(url, SETTINGS_QUERY, {}, { token });
  if (!res.data?.systemSettings) throw new Error(`systemSettings failed: ${JSON.stringify(res.errors)}`);
  return res.data.systemSettings;
}

/** updateSystemSettings at the current version. */
export async function updateSettings(url: string, token: string, input: Record<string, unknown>): Promise<GraphQLResponse<{ updateSystemSettings: { version: number } }>> {
  const { version } = await readSettings(url, token);
  return graphql(url, UPDATE_SETTINGS, { expectedVersion: version, input }, { token });
}
