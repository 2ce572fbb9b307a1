import { migrate, openOrm, type MikroORM } from '../../src/infra/db';
import { createLogger } from '../../src/infra/logger';
import { MIGRATIONS } from '../../src/migrations';
import { createTestDatabase, type TestDatabase } from '../helpers/database';

describe('database and migrations (real PostgreSQL)', () => {
  let database: TestDatabase;
  let orm: MikroORM;

  beforeAll(async () => {
    database = await createTestDatabase();
    orm = await openOrm(database.url, 2, createLogger('silent'));
  });
  afterAll(async () => {
    await orm.close(true);
    await database.drop();
  });

  it('has applied every committed migration, in order, and has nothing pending', async () => {
    const executed = await orm.getMigrator().getExecutedMigrations();
    expect(executed.map((m) => m.name)).toEqual(MIGRATIONS.map((m) => m.name));
    expect(await migrate(orm)).toEqual([]);
  });

  it('created the foundation tables', async () => {
    const rows = await orm.em
      .getConnection()
      .execute<{ table_name: string }[]>(`select table_name from information_schema.tables where table_schema = 'public'`);
    expect(rows.map((r) => r.table_name)).toEqual(expect.arrayContaining(['system_setting', 'mikro_orm_migrations']));
  });
});
