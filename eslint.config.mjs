import js from '@eslint/js';
import graphqlPlugin from '@graphql-eslint/eslint-plugin';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'test/generated/**', 'bench/.node22/**', 'public/**', '.vigil/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    files: ['src/cli/**', 'src/main.ts', 'bench/**', 'test/**', 'scripts/**'],
    rules: { 'no-console': 'off' },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { globals: { require: 'readonly', module: 'writable', process: 'readonly', __dirname: 'readonly', console: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // The checked-in schema, as client tools read it: graphql-eslint's recommended and Relay schema rules.
    files: ['schema.graphql'],
    languageOptions: { parser: graphqlPlugin.parser, parserOptions: { graphQLConfig: { schema: 'schema.graphql' } } },
    plugins: { '@graphql-eslint': graphqlPlugin },
    rules: {
      ...graphqlPlugin.configs['flat/schema-recommended'].rules,
      ...graphqlPlugin.configs['flat/schema-relay'].rules,
      // Exceptions, each with its reason (README, "The GraphQL schema"):
      '@graphql-eslint/strict-id-in-types': [
        'error',
        {
          exceptions: {
            // Pages are not records: Relay and urql key them by their parent field (graphcache treats
            // *Connection, *Edge and PageInfo as keyless on its own).
            suffixes: ['Connection', 'Edge'],
            types: [
              'PageInfo',
              // Parts of a record with an id, fetched and replaced with it, never on their own.
              'BackupCheck',
              'SecurityCheck',
              'ConnectionStateCount',
              'TableSize',
              'SlowStatement',
              'DatabasePool',
              // The groups and values of SystemSettings (id `SystemSettings`) and of a history entry.
              'AlertSettings',
              'ProtectionSettings',
              'IdentitySettings',
              'RetentionSettings',
              'Maintenance',
              'IntSetting',
              'AlertLevelSetting',
              'RoleRequestLimitSetting',
              'RoleMfaSetting',
              'ScheduleSetting',
              'SettingChange',
              // One-off answers of a mutation: never fetched again, nothing to merge them with.
              'AuthPayload',
              'MfaEnrollment',
              'MfaRecoveryCodes',
              'InvestigationExport',
              'AuditExport',
              'RestoreResult',
              // A deletion's answer is the id of a record that no longer exists (named `deletedId` /
              // `revokedId`, not `id`, so a cache does not key the answer as that record).
              'DeleteInvestigationPayload',
              'DeleteBackupPayload',
              'RevokeSessionPayload',
            ],
          },
        },
      ],
      // Relay's own `nodes(ids:)` is `[Node]!`, and short bounded lists (an investigation's actions and
      // notes, a report's checks) are plain lists by design; edges must still wrap Node types.
      '@graphql-eslint/relay-edge-types': ['error', { listTypeCanWrapOnlyEdgeType: false, shouldImplementNode: true, withEdgeSuffix: true }],
    },
  },
);
