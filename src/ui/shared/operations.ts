/**
 * Every GraphQL operation the browser pages send, in one place so that a test can validate them
 * against `schema.graphql` (test/ui/operations.test.ts) and a trusted-documents manifest can
 * register them.
 */

const AUTH_FIELDS = 'accessToken refreshToken expiresAt mfaEnrollmentRequired';

export const LOGIN = /* GraphQL */ `
  mutation UiLogin($email: String!, $password: String!, $otp: String) {
    login(email: $email, password: $password, otp: $otp) { ${AUTH_FIELDS} }
  }
`;

export const REFRESH_SESSION = /* GraphQL */ `
  mutation UiRefreshSession($refreshToken: String!) { refreshSession(refreshToken: $refreshToken) { ${AUTH_FIELDS} } }
`;

export const LOGOUT = /* GraphQL */ `
  mutation UiLogout { logout }
`;

export const ENROLL_MFA = /* GraphQL */ `
  mutation UiEnrollMfa { enrollMfa { secret otpauthUri } }
`;

export const CONFIRM_MFA = /* GraphQL */ `
  mutation UiConfirmMfa($otp: String!) { confirmMfaWithRecoveryCodes(otp: $otp) { recoveryCodes } }
`;

export const WHO_AM_I = /* GraphQL */ `
  query UiWhoAmI { me { id email name role } myPermissions }
`;

const ALERT_FIELDS = /* GraphQL */ `
  fragment ConsoleAlert on Alert {
    id level title message source status count firstSeenAt lastSeenAt
    acknowledgedAt acknowledgedBy { id name } resolvedAt resolvedBy { id name } resolution escalationLevel
  }
`;

const HEALTH_FIELDS = /* GraphQL */ `
  fragment ConsoleHealth on Health { status checkedAt components { name status latencyMs detail } }
`;

export const CONSOLE_HEALTH = /* GraphQL */ `
  query ConsoleHealth { health { ...ConsoleHealth } }
  ${HEALTH_FIELDS}
`;

export const CONSOLE_RECENT_ALERTS = /* GraphQL */ `
  query ConsoleRecentAlerts($first: Int) { alerts(first: $first) { edges { node { ...ConsoleAlert } } } }
  ${ALERT_FIELDS}
`;

export const CONSOLE_ACKNOWLEDGE = /* GraphQL */ `
  mutation ConsoleAcknowledge($id: ID!) { acknowledgeAlert(id: $id) { ...ConsoleAlert } }
  ${ALERT_FIELDS}
`;

export const CONSOLE_RESOLVE = /* GraphQL */ `
  mutation ConsoleResolve($id: ID!, $resolution: String) { resolveAlert(id: $id, resolution: $resolution) { ...ConsoleAlert } }
  ${ALERT_FIELDS}
`;

export const CONSOLE_ALERT_RAISED = /* GraphQL */ `
  subscription ConsoleAlertRaised($minLevel: AlertLevel, $after: ID) { alertRaised(minLevel: $minLevel, after: $after) { ...ConsoleAlert } }
  ${ALERT_FIELDS}
`;

export const CONSOLE_ALERT_UPDATED = /* GraphQL */ `
  subscription ConsoleAlertUpdated { alertUpdated { ...ConsoleAlert } }
  ${ALERT_FIELDS}
`;

export const CONSOLE_HEALTH_CHANGED = /* GraphQL */ `
  subscription ConsoleHealthChanged { healthChanged { ...ConsoleHealth } }
  ${HEALTH_FIELDS}
`;

const SETTINGS_FIELDS = /* GraphQL */ `
  fragment ConsoleIntSetting on IntSetting { effective source defaultValue min max variable }
  fragment ConsoleLevelSetting on AlertLevelSetting { effective source defaultValue variable }
  fragment ConsoleScheduleSetting on ScheduleSetting { effective source defaultValue variable }
  fragment ConsoleSettings on SystemSettings {
    version updatedAt updatedBy { email }
    maintenance { enabled message since reason }
    alerts {
      cooldownSeconds { ...ConsoleIntSetting } escalationSeconds { ...ConsoleIntSetting }
      denialsThreshold { ...ConsoleIntSetting } denialsWindowSeconds { ...ConsoleIntSetting }
      logMinLevel { ...ConsoleLevelSetting } webhookMinLevel { ...ConsoleLevelSetting }
      slackMinLevel { ...ConsoleLevelSetting } emailMinLevel { ...ConsoleLevelSetting }
    }
    protection {
      requestWindowSeconds { ...ConsoleIntSetting } anonymousRequestLimit { ...ConsoleIntSetting } userRequestLimit { ...ConsoleIntSetting }
      roleRequestLimits { role effective source defaultValue min max variable }
      signInLimit { ...ConsoleIntSetting } signInWindowSeconds { ...ConsoleIntSetting }
      costLimit { ...ConsoleIntSetting } costBudget { ...ConsoleIntSetting } costBudgetWindowSeconds { ...ConsoleIntSetting }
      wsSubscribeLimit { ...ConsoleIntSetting } wsMaxQueue { ...ConsoleIntSetting } wsMaxConnectionsPerIp { ...ConsoleIntSetting }
      wsMaxConnectionsPerUser { ...ConsoleIntSetting } wsMaxSubscriptionsPerConnection { ...ConsoleIntSetting }
    }
    identity {
      lockoutThreshold { ...ConsoleIntSetting } lockoutWindowSeconds { ...ConsoleIntSetting } lockoutDurationSeconds { ...ConsoleIntSetting }
      sessionIdleTimeoutSeconds { ...ConsoleIntSetting } sessionMaxLifetimeSeconds { ...ConsoleIntSetting } maxSessionsPerUser { ...ConsoleIntSetting }
      mfaRequired { role effective source defaultValue variable }
    }
    retention {
      auditRetentionDays { ...ConsoleIntSetting } backupSchedule { ...ConsoleScheduleSetting } backupKeepLast { ...ConsoleIntSetting }
      backupKeepDays { ...ConsoleIntSetting } drillSchedule { ...ConsoleScheduleSetting } backupMaxAgeHours { ...ConsoleIntSetting }
    }
  }
`;

export const CONSOLE_SETTINGS = /* GraphQL */ `
  query ConsoleSettings { systemSettings { ...ConsoleSettings } }
  ${SETTINGS_FIELDS}
`;

export const CONSOLE_UPDATE_SETTINGS = /* GraphQL */ `
  mutation ConsoleUpdateSettings($expectedVersion: Int!, $input: SystemSettingsInput!) {
    updateSystemSettings(expectedVersion: $expectedVersion, input: $input) { ...ConsoleSettings }
  }
  ${SETTINGS_FIELDS}
`;

/** All of the above, by name. */
export const UI_OPERATIONS: Record<string, string> = {
  LOGIN,
  REFRESH_SESSION,
  LOGOUT,
  WHO_AM_I,
  CONSOLE_HEALTH,
  CONSOLE_RECENT_ALERTS,
  CONSOLE_ACKNOWLEDGE,
  CONSOLE_RESOLVE,
  CONSOLE_ALERT_RAISED,
  CONSOLE_ALERT_UPDATED,
  CONSOLE_HEALTH_CHANGED,
  CONSOLE_SETTINGS,
  CONSOLE_UPDATE_SETTINGS,
};
