import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { Role } from '../../src/permissions/roles';
import {
  AddFindingDocument,
  AddNoteDocument,
  CreateInvestigationDocument,
  InvestigationUpdatedDocument,
  UpdateInvestigationDocument,
} from '../generated/graphql';
import { tokenFor } from '../helpers/auth';
import { graphql, subscribe, wsClient } from '../helpers/clients';
import { testRedisUrl } from '../helpers/database';
import { startTestServer, type TestServer } from '../helpers/server';

/** Polls Redis until a channel has a subscriber (the subscribe call travels asynchronously). */
async function waitForRedisSubscriber(channel: string): Promise<void> {
  const redis = new Redis(testRedisUrl());
  try {
    for (let attempt = 0; attempt < 200; attempt++) {
      const [, count] = (await redis.pubsub('NUMSUB', channel)) as [string, number];
      if (Number(count) > 0) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`nobody subscribed to ${channel}`);
  } finally {
    redis.disconnect();
  }
}

describe('investigationUpdated across instances', () => {
  let a: TestServer;
  let b: TestServer;
  let analyst: string;
  let viewer: string;

  beforeAll(async () => {
    a = await startTestServer();
    b = await startTestServer({ database: a.database, redisPrefix: a.config.redisPrefix });
    analyst = await tokenFor(a, Role.ANALYST);
    viewer = await tokenFor(a, Role.VIEWER);
  }, 120_000);
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it('pushes the reloaded investigation to a subscriber on the other instance after each change', async () => {
    const created = await graphql(a.url, CreateInvestigationDocument, { input: { title: 'Live case' } }, { token: analyst });
    const id = created.data!.createInvestigation.id;
    const client = wsClient(b.wsUrl, viewer);
    const events = subscribe(client, InvestigationUpdatedDocument, { id });
    try {
      // B has subscribed to the Redis channel once it counts a subscriber.
      await waitForRedisSubscriber(`${a.config.redisPrefix}INVESTIGATION_UPDATED:${id}`);
      const updated = await graphql(a.url, UpdateInvestigationDocument, { id, expectedVersion: 1, input: { title: 'Live case, renamed' } }, { token: analyst });
      expect(updated.errors).toBeUndefined();
      const first = await events.next();
      expect(first.errors).toBeUndefined();
      expect(first.data?.investigationUpdated).toMatchObject({ id, title: 'Live case, renamed', version: 2, findings: { totalCount: 0 }, notes: [] });

      await graphql(a.url, AddFindingDocument, { investigationId: id, input: { summary: 'New evidence' } }, { token: analyst });
      const second = await events.next();
      expect(second.data?.investigationUpdated.findings.totalCount).toBe(1);

      await graphql(b.url, AddNoteDocument, { investigationId: id, body: 'Seen live' }, { token: analyst });
      const third = await events.next();
      expect(third.data?.investigationUpdated.notes.map((n) => n.body)).toEqual(['Seen live']);
    } finally {
      await events.close();
      await client.dispose();
    }
  }, 120_000);

  it('refuses to subscribe without READ_INVESTIGATIONS or to an unknown investigation', async () => {
    const anonymous = wsClient(b.wsUrl);
    const denied = subscribe(anonymous, InvestigationUpdatedDocument, { id: randomUUID() });
    try {
      const result = await denied.next().catch((error: unknown) => ({ errors: error as never }));
      const errors = Array.isArray(result.errors) ? result.errors : [result.errors];
      expect(JSON.stringify(errors)).toContain('UNAUTHENTICATED');
    } finally {
      await denied.close();
      await anonymous.dispose();
    }
    const client = wsClient(b.wsUrl, viewer);
    const unknown = subscribe(client, InvestigationUpdatedDocument, { id: randomUUID() });
    try {
      const result = await unknown.next().catch((error: unknown) => ({ errors: error as never }));
      const errors = Array.isArray(result.errors) ? result.errors : [result.errors];
      expect(JSON.stringify(errors)).toContain('NOT_FOUND');
    } finally {
      await unknown.close();
      await client.dispose();
    }
  }, 120_000);
});
