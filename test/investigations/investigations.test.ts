import { randomUUID } from 'node:crypto';
import { Role } from '../../src/permissions/roles';
import {
  type ActionStatus,
  type InvestigationStatus,
  AddActionDocument,
  AddFindingDocument,
  AddNoteDocument,
  CreateInvestigationDocument,
  DeleteInvestigationDocument,
  DeleteInvestigationV2Document,
  ExportInvestigationDocument,
  InvestigationDocument,
  InvestigationFindingsDocument,
  InvestigationPiiDocument,
  UpdateActionStatusDocument,
  UpdateInvestigationDocument,
} from '../generated/graphql';
import { createUser, signIn, tokenFor } from '../helpers/auth';
import { graphql, subscribe, wsClient } from '../helpers/clients';
import { startTestServer, type TestServer } from '../helpers/server';

describe('investigations: queries and mutations', () => {
  let server: TestServer;
  const tokens = {} as Record<Role, string>;
  let analystId: string;

  beforeAll(async () => {
    server = await startTestServer();
    for (const role of Object.values(Role)) {
      if (role === Role.ANALYST) {
        const user = await createUser(server, role);
        analystId = user.id;
        tokens[role] = (await signIn(server, user.email, user.password)).accessToken;
      } else {
        tokens[role] = await tokenFor(server, role);
      }
    }
  }, 120_000);
  afterAll(() => server.close());

  const create = async (input: Record<string, unknown> = {}, token = tokens.ANALYST) => {
    const res = await graphql(server.url, CreateInvestigationDocument, { input: { title: 'Card testing via checkout', ...input } }, { token });
    expect(res.errors).toBeUndefined();
    return res.data!.createInvestigation;
  };

  const auditCount = async (action: string, resourceId: string) => {
    const rows = await server.orm.em.getKnex().raw<{ rows: { n: number }[] }>(
      'select count(*)::int as n from audit_log where action = ? and resource_id = ?',
      [action, resourceId],
    );
    return rows.rows[0]!.n;
  };

  it('creates an investigation with defaults, its creator and an audit entry', async () => {
    const created = await create({ description: 'Small authorisations', tags: ['payments', 'fraud', 'payments'], assigneeId: analystId });
    expect(created).toMatchObject({
      title: 'Card testing via checkout',
      description: 'Small authorisations',
      status: 'OPEN',
      riskLevel: 'MEDIUM',
      tags: ['payments', 'fraud'],
      version: 1,
      closedAt: null,
      assignee: { id: analystId },
      createdBy: { id: analystId },
    });
    expect(await auditCount('INVESTIGATION_CREATE', created.id)).toBe(1);

    const read = await graphql(server.url, InvestigationDocument, { id: created.id }, { token: tokens.VIEWER });
    expect(read.errors).toBeUndefined();
    expect(read.data?.investigation).toMatchObject({ id: created.id, findings: { totalCount: 0, edges: [] }, actions: [], notes: [] });
  });

  it('answers null for an unknown id and NOT_FOUND when mutating one', async () => {
    const read = await graphql(server.url, InvestigationDocument, { id: randomUUID() }, { token: tokens.VIEWER });
    expect(read.errors).toBeUndefined();
    expect(read.data?.investigation).toBeNull();
    const notAnId = await graphql(server.url, InvestigationDocument, { id: 'nope' }, { token: tokens.VIEWER });
    expect(notAnId.data?.investigation).toBeNull();

    for (const id of [randomUUID(), 'not-a-uuid']) {
      const upd = await graphql(server.url, UpdateInvestigationDocument, { id, expectedVersion: 1, input: { title: 'xyz' } }, { token: tokens.ANALYST });
      expect(upd.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    }
    const del = await graphql(server.url, DeleteInvestigationDocument, { id: randomUUID() }, { token: tokens.INVESTIGATOR });
    expect(del.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const finding = await graphql(server.url, AddFindingDocument, { investigationId: randomUUID(), input: { summary: 'x' } }, { token: tokens.ANALYST });
    expect(finding.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const action = await graphql(server.url, AddActionDocument, { investigationId: randomUUID(), input: { title: 'Block it' } }, { token: tokens.ANALYST });
    expect(action.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const note = await graphql(server.url, AddNoteDocument, { investigationId: randomUUID(), body: 'hello' }, { token: tokens.ANALYST });
    expect(note.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const status = await graphql(server.url, UpdateActionStatusDocument, { id: randomUUID(), status: 'APPROVED' }, { token: tokens.ANALYST });
    expect(status.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const exp = await graphql(server.url, ExportInvestigationDocument, { id: randomUUID(), format: 'JSON' }, { token: tokens.SENIOR_ANALYST });
    expect(exp.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const assignee = await graphql(server.url, CreateInvestigationDocument, { input: { title: 'Assigned to nobody', assigneeId: randomUUID() } }, { token: tokens.ANALYST });
    expect(assignee.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it.each([
    ['title', 'shorter than 3 characters', { title: 'ab' }],
    ['title', 'longer than 200 characters', { title: 'x'.repeat(201) }],
    ['description', 'longer than 10,000 characters', { description: 'x'.repeat(10_001) }],
    ['tags', 'more than 20 tags', { tags: Array.from({ length: 21 }, (_, i) => `tag${i}`) }],
    ['tags', 'a tag longer than 50 characters', { tags: ['x'.repeat(51)] }],
    ['assigneeId', 'not an id', { assigneeId: 'not-a-uuid' }],
  ])('refuses a create with %s %s (BAD_USER_INPUT naming the field)', async (field, _why, input) => {
    const res = await graphql(server.url, CreateInvestigationDocument, { input: { title: 'Valid title', ...input } }, { token: tokens.ANALYST });
    expect(res.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(res.errors?.[0]?.extensions?.field).toBe(field);
  });

  it('updates with the expected version, bumps it and records before/after', async () => {
    const inv = await create();
    const res = await graphql(
      server.url,
      UpdateInvestigationDocument,
      { id: inv.id, expectedVersion: 1, input: { title: 'Card testing ring', riskLevel: 'HIGH', status: 'IN_PROGRESS', tags: ['cards'] } },
      { token: tokens.ANALYST },
    );
    expect(res.errors).toBeUndefined();
    expect(res.data?.updateInvestigation).toMatchObject({ title: 'Card testing ring', riskLevel: 'HIGH', status: 'IN_PROGRESS', tags: ['cards'], version: 2 });
    const rows = await server.orm.em.getKnex().raw<{ rows: { changes: { before: Record<string, unknown>; after: Record<string, unknown> } }[] }>(
      "select changes from audit_log where action = 'INVESTIGATION_UPDATE' and resource_id = ?",
      [inv.id],
    );
    expect(rows.rows).toHaveLength(1);
    expect(rows.rows[0]!.changes.before).toMatchObject({ title: 'Card testing via checkout', riskLevel: 'MEDIUM', status: 'OPEN', version: 1 });
    expect(rows.rows[0]!.changes.after).toMatchObject({ title: 'Card testing ring', riskLevel: 'HIGH', status: 'IN_PROGRESS', version: 2 });
  });

  it('refuses a stale version with CONFLICT and changes nothing', async () => {
    const inv = await create();
    await graphql(server.url, UpdateInvestigationDocument, { id: inv.id, expectedVersion: 1, input: { title: 'First edit' } }, { token: tokens.ANALYST });
    const stale = await graphql(server.url, UpdateInvestigationDocument, { id: inv.id, expectedVersion: 1, input: { title: 'Lost edit', riskLevel: 'LOW' } }, { token: tokens.ANALYST });
    expect(stale.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    expect(stale.errors?.[0]?.extensions?.currentVersion).toBe(2);
    const read = await graphql(server.url, InvestigationDocument, { id: inv.id }, { token: tokens.VIEWER });
    expect(read.data?.investigation).toMatchObject({ title: 'First edit', riskLevel: 'MEDIUM', version: 2 });
    expect(await auditCount('INVESTIGATION_UPDATE', inv.id)).toBe(1);
  });

  it('keeps the version when an update changes nothing', async () => {
    const inv = await create({ riskLevel: 'HIGH' });
    const res = await graphql(server.url, UpdateInvestigationDocument, { id: inv.id, expectedVersion: 1, input: { riskLevel: 'HIGH', title: inv.title } }, { token: tokens.ANALYST });
    expect(res.data?.updateInvestigation.version).toBe(1);
    expect(await auditCount('INVESTIGATION_UPDATE', inv.id)).toBe(0);
  });

  it('lets exactly one of ten concurrent updates with the same version win', async () => {
    const inv = await create();
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        graphql(server.url, UpdateInvestigationDocument, { id: inv.id, expectedVersion: 1, input: { title: `Concurrent edit ${i}` } }, { token: tokens.ANALYST }),
      ),
    );
    const winners = results.filter((r) => r.data?.updateInvestigation);
    const conflicts = results.filter((r) => r.errors?.[0]?.extensions?.code === 'CONFLICT');
    expect(winners).toHaveLength(1);
    expect(conflicts).toHaveLength(9);
    const read = await graphql(server.url, InvestigationDocument, { id: inv.id }, { token: tokens.VIEWER });
    expect(read.data?.investigation?.version).toBe(2);
    expect(read.data?.investigation?.title).toBe(winners[0]!.data!.updateInvestigation.title);
    expect(await auditCount('INVESTIGATION_UPDATE', inv.id)).toBe(1);
  });

  it('enforces the status workflow, including closing and reopening', async () => {
    const inv = await create();
    const step = (version: number, status: InvestigationStatus, extra: Record<string, unknown> = {}) =>
      graphql(server.url, UpdateInvestigationDocument, { id: inv.id, expectedVersion: version, input: { status, ...extra } }, { token: tokens.ANALYST });

    const illegal = await step(1, 'ESCALATED');
    expect(illegal.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'status', from: 'OPEN', to: 'ESCALATED' });

    expect((await step(1, 'IN_PROGRESS')).data?.updateInvestigation.status).toBe('IN_PROGRESS');
    expect((await step(2, 'ESCALATED')).data?.updateInvestigation.status).toBe('ESCALATED');
    expect((await step(3, 'OPEN')).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const closed = await step(3, 'CLOSED');
    expect(closed.data?.updateInvestigation).toMatchObject({ status: 'CLOSED', version: 4 });
    expect(closed.data?.updateInvestigation.closedAt).toEqual(expect.any(String));

    const edit = await graphql(server.url, UpdateInvestigationDocument, { id: inv.id, expectedVersion: 4, input: { title: 'Edit while closed' } }, { token: tokens.ANALYST });
    expect(edit.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'title' });
    const finding = await graphql(server.url, AddFindingDocument, { investigationId: inv.id, input: { summary: 'late' } }, { token: tokens.ANALYST });
    expect(finding.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'investigationId' });
    const note = await graphql(server.url, AddNoteDocument, { investigationId: inv.id, body: 'Closed after review' }, { token: tokens.ANALYST });
    expect(note.errors).toBeUndefined();

    expect((await step(4, 'OPEN')).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    const reopened = await step(4, 'IN_PROGRESS', { title: 'Reopened with new evidence' });
    expect(reopened.data?.updateInvestigation).toMatchObject({ status: 'IN_PROGRESS', version: 5, closedAt: null, title: 'Reopened with new evidence' });
  });

  it('adds findings, validates them and pages them newest first', async () => {
    const inv = await create();
    const bad = [
      [{ summary: '' }, 'summary'],
      [{ summary: 'ok', subjectEmail: 'not-an-email' }, 'subjectEmail'],
      [{ summary: 'ok', subjectIp: '999.1.1.1' }, 'subjectIp'],
      [{ summary: 'ok', evidence: { blob: 'x'.repeat(65 * 1024) } }, 'evidence'],
      [{ summary: 'ok', source: 'x'.repeat(201) }, 'source'],
    ] as const;
    for (const [input, field] of bad) {
      const res = await graphql(server.url, AddFindingDocument, { investigationId: inv.id, input }, { token: tokens.ANALYST });
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
    }
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const res = await graphql(
        server.url,
        AddFindingDocument,
        {
          investigationId: inv.id,
          input: { summary: `Finding ${i}`, evidence: { hits: i, nested: ['a', { b: true }] }, riskLevel: 'HIGH', source: 'edge-waf', observedAt: '2026-11-01T10:00:00.000Z', subjectIp: i % 2 ? '2001:db8::1' : '203.0.113.7', subjectEmail: 'someone@example.com' },
        },
        { token: tokens.ANALYST },
      );
      expect(res.errors).toBeUndefined();
      expect(res.data?.addFinding).toMatchObject({ summary: `Finding ${i}`, evidence: { hits: i, nested: ['a', { b: true }] }, riskLevel: 'HIGH', source: 'edge-waf', observedAt: '2026-11-01T10:00:00.000Z' });
      ids.push(res.data!.addFinding.id);
    }
    const first = await graphql(server.url, InvestigationFindingsDocument, { id: inv.id, first: 3 }, { token: tokens.VIEWER });
    const page1 = first.data!.investigation!.findings;
    expect(page1.totalCount).toBe(7);
    expect(page1.edges.map((e) => e.node.summary)).toEqual(['Finding 6', 'Finding 5', 'Finding 4']);
    expect(page1.pageInfo.hasNextPage).toBe(true);
    const second = await graphql(server.url, InvestigationFindingsDocument, { id: inv.id, first: 3, after: page1.pageInfo.endCursor }, { token: tokens.VIEWER });
    expect(second.data!.investigation!.findings.edges.map((e) => e.node.summary)).toEqual(['Finding 3', 'Finding 2', 'Finding 1']);
    const last = await graphql(server.url, InvestigationFindingsDocument, { id: inv.id, first: 3, after: second.data!.investigation!.findings.pageInfo.endCursor }, { token: tokens.VIEWER });
    expect(last.data!.investigation!.findings.edges.map((e) => e.node.summary)).toEqual(['Finding 0']);
    expect(last.data!.investigation!.findings.pageInfo.hasNextPage).toBe(false);

    const tampered = await graphql(server.url, InvestigationFindingsDocument, { id: inv.id, first: 3, after: 'bm90LWEtY3Vyc29y' }, { token: tokens.VIEWER });
    expect(tampered.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'after' });
    const tooMany = await graphql(server.url, InvestigationFindingsDocument, { id: inv.id, first: 101 }, { token: tokens.VIEWER });
    expect(tooMany.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'first' });
    expect(await auditCount('FINDING_ADD', ids[0]!)).toBe(1);
  });

  it('adds actions and moves them through their workflow', async () => {
    const inv = await create();
    const invalid = await graphql(server.url, AddActionDocument, { investigationId: inv.id, input: { title: 'no' } }, { token: tokens.ANALYST });
    expect(invalid.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'title' });
    const added = await graphql(
      server.url,
      AddActionDocument,
      { investigationId: inv.id, input: { title: 'Freeze payouts', detail: 'Pending review', ownerId: analystId, dueAt: '2026-12-01T00:00:00.000Z' } },
      { token: tokens.ANALYST },
    );
    expect(added.errors).toBeUndefined();
    const action = added.data!.addAction;
    expect(action).toMatchObject({ title: 'Freeze payouts', status: 'PROPOSED', owner: { id: analystId }, dueAt: '2026-12-01T00:00:00.000Z' });

    const move = (status: ActionStatus) => graphql(server.url, UpdateActionStatusDocument, { id: action.id, status }, { token: tokens.ANALYST });
    expect((await move('DONE')).errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'status', from: 'PROPOSED', to: 'DONE' });
    expect((await move('APPROVED')).data?.updateActionStatus.status).toBe('APPROVED');
    expect((await move('IN_PROGRESS')).data?.updateActionStatus.status).toBe('IN_PROGRESS');
    expect((await move('REJECTED')).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await move('DONE')).data?.updateActionStatus.status).toBe('DONE');
    expect((await move('PROPOSED')).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(await auditCount('ACTION_STATUS_UPDATE', action.id)).toBe(3);

    const second = await graphql(server.url, AddActionDocument, { investigationId: inv.id, input: { title: 'Notify users' } }, { token: tokens.ANALYST });
    const rejected = await graphql(server.url, UpdateActionStatusDocument, { id: second.data!.addAction.id, status: 'REJECTED' }, { token: tokens.ANALYST });
    expect(rejected.data?.updateActionStatus.status).toBe('REJECTED');

    const read = await graphql(server.url, InvestigationDocument, { id: inv.id }, { token: tokens.VIEWER });
    expect(read.data?.investigation?.actions.map((a) => [a.title, a.status])).toEqual([
      ['Freeze payouts', 'DONE'],
      ['Notify users', 'REJECTED'],
    ]);
  });

  it('adds notes with their author and validates the body', async () => {
    const inv = await create();
    for (const body of ['', '   ', 'x'.repeat(10_001)]) {
      const res = await graphql(server.url, AddNoteDocument, { investigationId: inv.id, body }, { token: tokens.ANALYST });
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'body' });
    }
    const added = await graphql(server.url, AddNoteDocument, { investigationId: inv.id, body: 'Registrar contacted' }, { token: tokens.ANALYST });
    expect(added.data?.addNote).toMatchObject({ body: 'Registrar contacted', author: { id: analystId } });
    await graphql(server.url, AddNoteDocument, { investigationId: inv.id, body: 'Takedown done' }, { token: tokens.SENIOR_ANALYST });
    const read = await graphql(server.url, InvestigationDocument, { id: inv.id }, { token: tokens.VIEWER });
    expect(read.data?.investigation?.notes.map((n) => n.body)).toEqual(['Registrar contacted', 'Takedown done']);
    expect(await auditCount('NOTE_ADD', added.data!.addNote.id)).toBe(1);
  });

  it('deletes an investigation with its findings, actions and notes', async () => {
    const inv = await create();
    await graphql(server.url, AddFindingDocument, { investigationId: inv.id, input: { summary: 'f' } }, { token: tokens.ANALYST });
    await graphql(server.url, AddActionDocument, { investigationId: inv.id, input: { title: 'Act now' } }, { token: tokens.ANALYST });
    await graphql(server.url, AddNoteDocument, { investigationId: inv.id, body: 'n' }, { token: tokens.ANALYST });

    const denied = await graphql(server.url, DeleteInvestigationDocument, { id: inv.id }, { token: tokens.SENIOR_ANALYST });
    expect(denied.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const res = await graphql(server.url, DeleteInvestigationDocument, { id: inv.id }, { token: tokens.INVESTIGATOR });
    expect(res.data?.deleteInvestigation).toBe(true);

    const knex = server.orm.em.getKnex();
    for (const table of ['investigation', 'finding', 'recommended_action']) {
      const column = table === 'investigation' ? 'id' : 'investigation_id';
      const rows = await knex(table).where(column, inv.id).count<{ n: string }[]>({ n: '*' });
      expect(Number(rows[0]!.n)).toBe(0);
    }
    const notes = await knex('note').where('investigation_id', inv.id).count<{ n: string }[]>({ n: '*' });
    expect(Number(notes[0]!.n)).toBe(0);
    expect(await auditCount('INVESTIGATION_DELETE', inv.id)).toBe(1);
    const again = await graphql(server.url, DeleteInvestigationDocument, { id: inv.id }, { token: tokens.INVESTIGATOR });
    expect(again.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('deleteInvestigationV2 deletes as deleteInvestigation does and answers with the id a cache holds', async () => {
    const inv = await create();
    await graphql(server.url, AddFindingDocument, { investigationId: inv.id, input: { summary: 'f' } }, { token: tokens.ANALYST });
    await graphql(server.url, AddNoteDocument, { investigationId: inv.id, body: 'n' }, { token: tokens.ANALYST });

    const anonymous = await graphql(server.url, DeleteInvestigationV2Document, { id: inv.id });
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const denied = await graphql(server.url, DeleteInvestigationV2Document, { id: inv.id }, { token: tokens.SENIOR_ANALYST });
    expect(denied.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(denied.data).toBeNull();
    // Asked for in capitals, answered as every other answer spells the id.
    const res = await graphql(server.url, DeleteInvestigationV2Document, { id: inv.id.toUpperCase() }, { token: tokens.INVESTIGATOR });
    expect(res.errors).toBeUndefined();
    expect(res.data?.deleteInvestigationV2).toEqual({ deletedId: inv.id });

    const knex = server.orm.em.getKnex();
    for (const [table, column] of [['investigation', 'id'], ['finding', 'investigation_id'], ['note', 'investigation_id']] as const) {
      const rows = await knex(table).where(column, inv.id).count<{ n: string }[]>({ n: '*' });
      expect(Number(rows[0]!.n)).toBe(0);
    }
    expect(await auditCount('INVESTIGATION_DELETE', inv.id)).toBe(1);
    const read = await graphql(server.url, InvestigationDocument, { id: inv.id }, { token: tokens.VIEWER });
    expect(read.data?.investigation).toBeNull();
    for (const id of [inv.id, randomUUID(), 'not-an-id']) {
      const missing = await graphql(server.url, DeleteInvestigationV2Document, { id }, { token: tokens.INVESTIGATOR });
      expect(missing.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
      expect(missing.data).toBeNull();
    }
  });

  it('deleteInvestigationV2 over the websocket answers as over HTTP: FORBIDDEN, then the id, then NOT_FOUND', async () => {
    const inv = await create();
    const run = async (token: string) => {
      const client = wsClient(server.wsUrl, token);
      const result = subscribe(client, DeleteInvestigationV2Document, { id: inv.id });
      try {
        return await result.next();
      } finally {
        await result.close();
        await client.dispose();
      }
    };
    expect((await run(tokens.SENIOR_ANALYST)).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const deleted = await run(tokens.INVESTIGATOR);
    expect(deleted.errors).toBeUndefined();
    expect(deleted.data?.deleteInvestigationV2).toEqual({ deletedId: inv.id });
    expect(await auditCount('INVESTIGATION_DELETE', inv.id)).toBe(1);
    expect((await run(tokens.INVESTIGATOR)).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('applies the permission map to every operation', async () => {
    const inv = await create();
    const anonymous = await graphql(server.url, InvestigationDocument, { id: inv.id });
    expect(anonymous.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    const viewerCreate = await graphql(server.url, CreateInvestigationDocument, { input: { title: 'Viewer attempt' } }, { token: tokens.VIEWER });
    expect(viewerCreate.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const viewerUpdate = await graphql(server.url, UpdateInvestigationDocument, { id: inv.id, expectedVersion: 1, input: { title: 'Viewer edit' } }, { token: tokens.VIEWER });
    expect(viewerUpdate.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const viewerNote = await graphql(server.url, AddNoteDocument, { investigationId: inv.id, body: 'hi' }, { token: tokens.VIEWER });
    expect(viewerNote.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const analystDelete = await graphql(server.url, DeleteInvestigationDocument, { id: inv.id }, { token: tokens.ANALYST });
    expect(analystDelete.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const analystExport = await graphql(server.url, ExportInvestigationDocument, { id: inv.id, format: 'JSON' }, { token: tokens.ANALYST });
    expect(analystExport.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    const read = await graphql(server.url, InvestigationDocument, { id: inv.id }, { token: tokens.VIEWER });
    expect(read.data?.investigation?.title).toBe('Card testing via checkout');
  });

  describe('personal data', () => {
    let investigationId: string;
    let findingId: string;

    beforeAll(async () => {
      investigationId = (await create({ title: 'Phishing domain' })).id;
      const res = await graphql(
        server.url,
        AddFindingDocument,
        { investigationId, input: { summary: 'Victim reported', subjectEmail: 'victim@example.com', subjectIp: '198.51.100.4', subjectName: 'Pat Doe' } },
        { token: tokens.ANALYST },
      );
      findingId = res.data!.addFinding.id;
    }, 60_000);

    it.each([Role.VIEWER, Role.ANALYST])('hides subject* from %s with FORBIDDEN on those paths only', async (role) => {
      const res = await graphql(server.url, InvestigationPiiDocument, { id: investigationId }, { token: tokens[role] });
      const node = res.data?.investigation?.findings.edges[0]?.node;
      expect(node).toMatchObject({ id: findingId, summary: 'Victim reported', subjectEmail: null, subjectIp: null, subjectName: null });
      expect(res.data?.investigation?.title).toBe('Phishing domain');
      const paths = (res.errors ?? []).map((e) => e.path?.at(-1));
      expect(paths.sort()).toEqual(['subjectEmail', 'subjectIp', 'subjectName']);
      expect(res.errors?.every((e) => e.extensions?.code === 'FORBIDDEN')).toBe(true);
    });

    it.each([Role.SENIOR_ANALYST, Role.INVESTIGATOR, Role.ADMIN, Role.SUPER_ADMIN])(
      'shows subject* to %s and audits the read once per request per finding',
      async (role) => {
        const before = await auditCount('PII_READ', findingId);
        const res = await graphql(server.url, InvestigationPiiDocument, { id: investigationId }, { token: tokens[role] });
        expect(res.errors).toBeUndefined();
        expect(res.data?.investigation?.findings.edges[0]?.node).toMatchObject({
          subjectEmail: 'victim@example.com',
          subjectIp: '198.51.100.4',
          subjectName: 'Pat Doe',
        });
        expect(await auditCount('PII_READ', findingId)).toBe(before + 1);
      },
    );

    it('exports JSON with personal data for SENIOR_ANALYST and audits the export', async () => {
      await graphql(server.url, AddActionDocument, { investigationId, input: { title: 'Request takedown' } }, { token: tokens.ANALYST });
      await graphql(server.url, AddNoteDocument, { investigationId, body: 'Registrar notified' }, { token: tokens.ANALYST });
      const res = await graphql(server.url, ExportInvestigationDocument, { id: investigationId, format: 'JSON' }, { token: tokens.SENIOR_ANALYST });
      expect(res.errors).toBeUndefined();
      const file = res.data!.exportInvestigation;
      expect(file).toMatchObject({ format: 'JSON', contentType: 'application/json', includesPii: true });
      expect(file.filename).toMatch(new RegExp(`^investigation-${investigationId}-.*\\.json$`));
      const doc = JSON.parse(file.content);
      expect(doc.investigation).toMatchObject({ id: investigationId, title: 'Phishing domain' });
      expect(doc.findings[0]).toMatchObject({ id: findingId, subjectEmail: 'victim@example.com', subjectIp: '198.51.100.4', subjectName: 'Pat Doe' });
      expect(doc.actions[0]).toMatchObject({ title: 'Request takedown', status: 'PROPOSED' });
      expect(doc.notes[0]).toMatchObject({ body: 'Registrar notified' });
      expect(await auditCount('INVESTIGATION_EXPORT', investigationId)).toBeGreaterThanOrEqual(1);
    });

    it('exports CSV with one row per record, escaping formulas', async () => {
      await graphql(server.url, AddNoteDocument, { investigationId, body: '=HYPERLINK("http://evil.example","click"), said the attacker' }, { token: tokens.ANALYST });
      const res = await graphql(server.url, ExportInvestigationDocument, { id: investigationId, format: 'CSV' }, { token: tokens.SENIOR_ANALYST });
      const file = res.data!.exportInvestigation;
      expect(file).toMatchObject({ format: 'CSV', contentType: 'text/csv; charset=utf-8', includesPii: true });
      const lines = file.content.trimEnd().split('\r\n');
      expect(lines[0]).toMatch(/^record_type,id,.*,subject_email,subject_ip,subject_name$/);
      expect(lines[1]).toMatch(new RegExp(`^investigation,${investigationId},Phishing domain,OPEN,MEDIUM`));
      expect(lines.find((l) => l.startsWith('finding,'))).toContain('victim@example.com');
      expect(lines.filter((l) => l.startsWith('note,'))).toHaveLength(2);
      expect(file.content).toContain(`"'=HYPERLINK(""http://evil.example"",""click""), said the attacker"`);
    });

    it('exports without personal data for a role that may export but not read PII', async () => {
      // Only SENIOR_ANALYST and above hold EXPORT_DATA, and they all hold ACCESS_PII, so the
      // PII-less export is exercised at the service level with includePii false.
      const em = server.orm.em.fork();
      const meta = { requestId: 'test', ip: '127.0.0.1', userAgent: null, operationName: null, actor: null, sessionId: null };
      const json = await server.services.investigations.export(em, meta, investigationId, 'JSON' as never, false);
      expect(json.includesPii).toBe(false);
      expect(json.content).not.toContain('victim@example.com');
      expect(JSON.parse(json.content).findings[0]).not.toHaveProperty('subjectEmail');
      const csv = await server.services.investigations.export(em, meta, investigationId, 'CSV' as never, false);
      expect(csv.content).not.toContain('victim@example.com');
      expect(csv.content.split('\r\n')[0]).not.toContain('subject_email');
    });
  });
});
