import { registerEnumType } from 'type-graphql';

/** The result of one security check (the services' `SecurityCheckStatus`). */
export const SecurityCheckStatusEnum = { PASS: 'PASS', WARN: 'WARN', FAIL: 'FAIL' } as const;

registerEnumType(SecurityCheckStatusEnum, {
  name: 'SecurityCheckStatus',
  description: 'The result of one security check',
  valuesConfig: {
    PASS: { description: 'Nothing to do' },
    WARN: { description: 'Worth changing; counts 5 in the risk score' },
    FAIL: { description: 'Must be changed; counts 10 in the risk score' },
  },
});
