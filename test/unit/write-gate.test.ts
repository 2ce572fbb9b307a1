import { MAINTENANCE_REASON, WriteGate } from '../../src/services/settings/write-gate';

describe('the write gate of maintenance', () => {
  it('admits and counts writes while open, and drained() waits for the ones admitted before maintenance', async () => {
    const gate = new WriteGate();
    const first = gate.admit(['createInvestigation']);
    const second = gate.admit(['addNote']);
    expect(gate.writesInFlight).toBe(2);
    gate.setMaintenance({ message: 'Upgrading', reason: 'test', since: new Date() });
    let drained = false;
    const waiting = gate.drained().then(() => (drained = true));
    first();
    first();
    await Promise.resolve();
    expect(drained).toBe(false);
    second();
    await waiting;
    expect(gate.writesInFlight).toBe(0);
  });

  it('refuses a write once maintenance applies, with SERVICE_UNAVAILABLE, retryAfter, reason and the message, unless every root field is exempt', () => {
    const gate = new WriteGate();
    gate.setMaintenance({ message: 'Upgrading', reason: 'turned on by sue@example.org', since: new Date('2026-12-06T12:00:00Z') });
    expect(() => gate.admit(['login', 'createInvestigation'])).toThrow('Upgrading');
    try {
      gate.admit(['createInvestigation']);
    } catch (error) {
      expect((error as { extensions: unknown }).extensions).toMatchObject({
        code: 'SERVICE_UNAVAILABLE',
        retryAfter: 30,
        reason: MAINTENANCE_REASON,
        detail: 'turned on by sue@example.org',
      });
    }
    expect(gate.refusal(['createInvestigation'])?.extensions.code).toBe('SERVICE_UNAVAILABLE');
    for (const exempt of ['login', 'refreshSession', 'logout', 'updateSystemSettings', 'restoreBackup']) {
      expect(gate.refusal([exempt])).toBeNull();
      gate.admit([exempt])();
    }
    expect(gate.writesInFlight).toBe(0);
    gate.setMaintenance(null);
    expect(gate.refusal(['createInvestigation'])).toBeNull();
  });
});
