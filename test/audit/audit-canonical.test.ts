import { canonicalEntry, canonicalJson, chainTime, entryHash, isSensitiveKey, MASKED, normalizeChanges } from '../../src/services/audit/audit-canonical';

describe('canonical audit content', () => {
  it('should serialize objects with sorted keys at every depth, whatever the insertion order', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: 'x' } })).toBe('{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}');
    expect(canonicalJson({ a: { c: 'x', d: [3, { y: 2, z: 1 }] }, b: 1 })).toBe(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: 'x' } }));
  });

  it('should change the hash when any hashed field or the previous hash changes', () => {
    const base = {
      seq: '7',
      at: chainTime(new Date('2026-11-23T05:00:00.123Z')),
      actorId: null,
      actorEmail: null,
      actorRole: null,
      action: 'X',
      resourceType: null,
      resourceId: null,
      outcome: 'SUCCESS',
      changes: { after: { a: 1 } },
      ip: null,
      userAgent: null,
      requestId: null,
      operationName: null,
      reason: null,
      prevHash: 'a'.repeat(64),
    };
    expect(base.at).toBe('2026-11-23T05:00:00.123000Z');
    expect(canonicalEntry(base)).toBe(canonicalJson({ v: 1, ...base }));
    expect(canonicalEntry({ ...base, actorEmail: 'a"b@example.com', reason: 'é\n' })).toBe(
      canonicalJson({ v: 1, ...base, actorEmail: 'a"b@example.com', reason: 'é\n' }),
    );
    const hash = entryHash(base);
    expect(entryHash({ ...base })).toBe(hash);
    expect(entryHash({ ...base, seq: '8' })).not.toBe(hash);
    expect(entryHash({ ...base, changes: { after: { a: 2 } } })).not.toBe(hash);
    expect(entryHash({ ...base, prevHash: 'b'.repeat(64) })).not.toBe(hash);
    expect(entryHash({ ...base, at: '2026-11-23T05:00:00.123001Z' })).not.toBe(hash);
  });

  // Personal data by its `@sensitive(kind: PII)` mark in the schema (an account's email too), credentials by mark or word.
  it.each(['subjectEmail', 'subject_ip', 'SubjectName', 'email', 'password', 'passwordHash', 'newPassword', 'refreshToken', 'token', 'otp', 'mfaSecret', 'otpauthUri', 'authorization'])(
    'should treat %s as sensitive',
    (key) => expect(isSensitiveKey(key)).toBe(true),
  );

  it.each(['title', 'footprint', 'subject', 'name', 'description', 'status', 'tokensIssued'])('should not treat %s as sensitive', (key) =>
    expect(isSensitiveKey(key)).toBe(false),
  );

  it('should mask sensitive values at any depth, keeping null as null', () => {
    expect(
      normalizeChanges({
        before: { subjectEmail: null, title: 'a' },
        after: { subjectEmail: 'v@example.com', title: 'b', nested: [{ password: 'hunter2' }] },
      }),
    ).toEqual({
      before: { subjectEmail: null, title: 'a' },
      after: { subjectEmail: MASKED, title: 'b', nested: [{ password: MASKED }] },
    });
  });

  it('should survive cycles and cut very deep or long content', () => {
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    expect(normalizeChanges(cyclic)).toEqual({ name: 'loop', self: '[truncated]' });
    const long = normalizeChanges({ text: 'x'.repeat(20_000) }) as { text: string };
    expect(long.text.length).toBe(10_000);
    expect(long.text.endsWith('…')).toBe(true);
  });
});
