import { Permission, Role, ROLE_ORDER, permissionsOf, roleAtLeast } from '../../src/permissions/roles';

describe('the role → permission table', () => {
  it('grants each role its own permissions and those of every role below it', () => {
    expect(permissionsOf(Role.VIEWER)).toEqual([Permission.READ_INVESTIGATIONS]);
    expect(permissionsOf(Role.ANALYST)).toEqual([
      Permission.READ_INVESTIGATIONS,
      Permission.CREATE_INVESTIGATIONS,
      Permission.MODIFY_INVESTIGATIONS,
    ]);
    expect(permissionsOf(Role.SENIOR_ANALYST)).toEqual([...permissionsOf(Role.ANALYST), Permission.ACCESS_PII, Permission.EXPORT_DATA]);
    expect(permissionsOf(Role.INVESTIGATOR)).toEqual([...permissionsOf(Role.SENIOR_ANALYST), Permission.DELETE_INVESTIGATIONS]);
    expect(new Set(permissionsOf(Role.ADMIN))).toEqual(
      new Set([...permissionsOf(Role.INVESTIGATOR), Permission.ADMIN_ACCESS, Permission.AUDIT_ACCESS]),
    );
    expect(new Set(permissionsOf(Role.SUPER_ADMIN))).toEqual(new Set(Object.values(Permission)));
  });

  it('orders roles so each holds every permission of the ones below', () => {
    for (let i = 1; i < ROLE_ORDER.length; i++) {
      const lower = new Set(permissionsOf(ROLE_ORDER[i - 1]!));
      const higher = new Set(permissionsOf(ROLE_ORDER[i]!));
      for (const p of lower) expect(higher.has(p)).toBe(true);
      expect(higher.size).toBeGreaterThan(lower.size);
    }
    expect(roleAtLeast(Role.ADMIN, Role.ANALYST)).toBe(true);
    expect(roleAtLeast(Role.ANALYST, Role.ADMIN)).toBe(false);
  });
});
