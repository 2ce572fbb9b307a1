import { Field, Float, ID, Int, ObjectType } from 'type-graphql';
import { Node } from '../../schema/node';

@ObjectType({ simpleResolvers: true, description: 'One configuration check of the security audit' })
export class SecurityCheck {
  @Field()
  name!: string;

  @Field({ description: 'PASS, WARN or FAIL' })
  status!: string;

  @Field()
  message!: string;
}

@ObjectType({ simpleResolvers: true, implements: Node, description: 'How safe the running configuration is' })
export class SecurityAudit {
  @Field(() => ID, { description: 'Always `SecurityAudit`' })
  id!: string;

  @Field(() => Float, { description: '(failures*10 + warnings*5) / total_checks * 10' })
  riskScore!: number;

  @Field({ description: 'LOW (< 2), MEDIUM (2–5), HIGH (5–8) or CRITICAL (8+)' })
  riskLevel!: string;

  @Field(() => [SecurityCheck])
  checks!: SecurityCheck[];
}

@ObjectType({ simpleResolvers: true, implements: Node, description: "Counters of this instance's response/entity cache since it started" })
export class CacheStats {
  @Field(() => ID, { description: 'Always `CacheStats`' })
  id!: string;

  @Field()
  enabled!: boolean;

  @Field(() => Float)
  hits!: number;

  @Field(() => Float)
  misses!: number;

  @Field(() => Float)
  hitRatePercent!: number;

  @Field(() => Float)
  invalidations!: number;

  @Field()
  redisConnected!: boolean;
}

@ObjectType({ simpleResolvers: true, description: "Connections to the gateway's database in one pg_stat_activity state" })
export class ConnectionStateCount {
  @Field({ description: 'active, idle, idle in transaction … (background for server processes)' })
  state!: string;

  @Field(() => Int)
  count!: number;
}

@ObjectType({ simpleResolvers: true })
export class TableSize {
  @Field({ description: 'schema.table' })
  name!: string;

  @Field(() => Float, { description: 'Table, indexes and TOAST' })
  totalBytes!: number;

  @Field(() => Float, { nullable: true, description: "The planner's row estimate; null before the first ANALYZE" })
  rowEstimate?: number | null;
}

@ObjectType({ simpleResolvers: true, description: 'A statement text this instance saw slower than the threshold' })
export class SlowStatement {
  @Field({ description: 'The SQL with placeholders; bound values are never kept' })
  statement!: string;

  @Field(() => Int)
  count!: number;

  @Field(() => Float)
  maxMs!: number;

  @Field(() => Float)
  meanMs!: number;

  @Field()
  lastSeenAt!: Date;
}

@ObjectType({ simpleResolvers: true, description: "This instance's database connection pool" })
export class DatabasePool {
  @Field(() => Int)
  used!: number;

  @Field(() => Int)
  free!: number;

  @Field(() => Int, { description: 'Callers waiting for a connection' })
  pending!: number;

  @Field(() => Int)
  max!: number;
}

@ObjectType({ simpleResolvers: true, implements: Node, description: "PostgreSQL's view of the gateway's database" })
export class DatabaseStats {
  @Field(() => ID, { description: 'Always `DatabaseStats`' })
  id!: string;

  @Field()
  databaseName!: string;

  @Field(() => Float)
  sizeBytes!: number;

  @Field(() => [ConnectionStateCount])
  connections!: ConnectionStateCount[];

  @Field(() => [TableSize], { description: 'The largest tables, largest first' })
  largestTables!: TableSize[];

  @Field(() => Float, { nullable: true, description: "Share of block reads served from PostgreSQL's buffer cache" })
  cacheHitRatioPercent?: number | null;

  @Field(() => Float)
  slowStatementThresholdMs!: number;

  @Field(() => [SlowStatement], { description: 'Slowest first; seen by this instance since it started' })
  slowStatements!: SlowStatement[];

  @Field(() => DatabasePool, { nullable: true })
  pool?: DatabasePool | null;

  @Field()
  checkedAt!: Date;
}
