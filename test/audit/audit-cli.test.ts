import { openOrm, type MikroORM } from '../../src/infra/db';
import { createLogger } from '../../src/infra/logger';
import { createVigilPubSub } from '../../src/infra/pubsub';
import { systemMeta } from '../../src/context';
import { AuditService } from '../../src/services/audit/audit.service';
import { runVigil } from '../cli/run-vigil';
import { createTestDatabase, type TestDatabase } from '../helpers/database';

describe('vigil audit', () => {
  let database: TestDatabase;
  let orm: MikroORM;

  beforeAll(async () => {
    database = await createTestDatabase();
    orm = await openOrm(database.url, 2, createLogger('silent'));
    const audit = new AuditService({ orm, pubsub: createVigilPubSub(), logger: createLogger('silent') });
    for (let i = 0; i < 3; i++) await audit.recordSecurityEvent(systemMeta('cli-test'), { action: 'CLI_SEED', resourceId: String(i) });
  });
  afterAll(async () => {
    await orm?.close(true);
    await database?.drop();
  });

  it('should print an intact chain and exit 0', async () => {
    const res = await runVigil(['audit', 'verify', '--json'], { DATABASE_URL: database.url });
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(JSON.parse(res.stdout)).toEqual({ ok: true, checkedCount: 3, firstBrokenSeq: null });
  });

  it('should name the broken entry and exit 1 after a row was edited behind the trigger', async () => {
    await orm.em.fork().transactional(async (tx) => {
      await tx.execute('set local session_replication_role = replica');
      await tx.execute(`update audit_log set resource_id = 'edited' where seq = 2`);
    });
    const res = await runVigil(['audit', 'verify'], { DATABASE_URL: database.url });
    expect(res.code).toBe(1);
    expect(res.stdout).toContain('BROKEN at seq 2');
  });

  it('should prune nothing while every entry is within the retention period', async () => {
    const res = await runVigil(['audit', 'prune'], { DATABASE_URL: database.url });
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('no audit entries are older than the retention period');
  });
});
