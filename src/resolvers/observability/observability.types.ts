import { Field, Float, ID, Int, ObjectType } from 'type-graphql';
import { RiskLevel } from '../../schema/investigation.enums';
import { Node } from '../../schema/node';
import { SecurityCheckStatusEnum } from '../../schema/observability.enums';
import { BigIntScalar, BytesScalar } from '../../schema/scalars';
import type { SecurityCheckStatus, SecurityRiskLevel } from '../../services/security/security-audit';

@ObjectType({ simpleResolvers: true, description: 'One configuration check of the security audit' })
export class SecurityCheck {
  @Field({ description: 'The check, e.g. signing-key-length' })
  name!: string;

  @Field(() => SecurityCheckStatusEnum, { description: 'PASS, WARN or FAIL' })
  status!: SecurityCheckStatus;

  @Field({ description: 'What was found and what to do about it' })
  message!: string;
}

@ObjectType({ simpleResolvers: true, implements: Node, description: 'How safe the running configuration is' })
export class SecurityAudit {
  @Field(() => ID, { description: 'Always `SecurityAudit`' })
  id!: string;

  @Field(() => Float, { description: '(failures*10 + warnings*5) / total_checks * 10' })
  riskScore!: number;

  @Field(() => RiskLevel, { description: 'LOW (< 2), MEDIUM (2–5), HIGH (5–8) or CRITICAL (8+)' })
  riskLevel!: SecurityRiskLevel;

  @Field(() => [SecurityCheck], { description: 'Every check and its result' })
  checks!: SecurityCheck[];
}

@ObjectType({ simpleResolvers: true, implements: Node, description: "Counters of this instance's response/entity cache since it started" })
export class CacheStats {
  @Field(() => ID, { description: 'Always `CacheStats`' })
  id!: string;

  @Field({ description: 'Whether the cache is on' })
  enabled!: boolean;

  @Field(() => BigIntScalar, { description: 'Reads answered from the cache (since this instance started)' })
  hits!: number;

  @Field(() => BigIntScalar, { description: 'Reads that had to load (since this instance started)' })
  misses!: number;

  @Field(() => Float, { description: 'hits / (hits + misses) × 100; 0 before any read' })
  hitRatePercent!: number;

  @Field(() => BigIntScalar, { description: 'Entries dropped because what they held changed (since this instance started)' })
  invalidations!: number;

  @Field({ description: 'Whether the shared (Redis) layer is connected' })
  redisConnected!: boolean;
}

@ObjectType({ simpleResolvers: true, description: "Connections to the gateway's database in one pg_stat_activity state" })
export class ConnectionStateCount {
  @Field({ description: 'active, idle, idle in transaction … (background for server processes)' })
  state!: string;

  @Field(() => Int, { description: 'How many connections are in this state' })
  count!: number;
}

@ObjectType({ simpleResolvers: true, description: 'One of the largest tables of the database' })
export class TableSize {
  @Field({ description: 'schema.table' })
  name!: string;

  @Field(() => BytesScalar, { description: 'Table, indexes and TOAST' })
  totalBytes!: number;

  @Field(() => BigIntScalar, { nullable: true, description: "The planner's row estimate; null before the first ANALYZE" })
  rowEstimate?: number | null;
}

@ObjectType({ simpleResolvers: true, description: 'A statement text this instance saw slower than the threshold' })
export class SlowStatement {
  @Field({ description: 'The SQL with placeholders; bound values are never kept' })
  statement!: string;

  @Field(() => Int, { description: 'How many times it ran slower than the threshold' })
  count!: number;

  @Field(() => Float, { description: 'Its slowest run, in milliseconds' })
  maxMs!: number;

  @Field(() => Float, { description: 'Its mean over the slow runs, in milliseconds' })
  meanMs!: number;

  @Field({ description: 'When it was last slow' })
  lastSeenAt!: Date;
}

@ObjectType({ simpleResolvers: true, description: "This instance's database connection pool" })
export class DatabasePool {
  @Field(() => Int, { description: 'Connections in use' })
  used!: number;

  @Field(() => Int, { description: 'Idle connections' })
  free!: number;

  @Field(() => Int, { description: 'Callers waiting for a connection' })
  pending!: number;

  @Field(() => Int, { description: "The pool's size limit" })
  max!: number;
}

@ObjectType({ simpleResolvers: true, implements: Node, description: "PostgreSQL's view of the gateway's database" })
export class DatabaseStats {
  @Field(() => ID, { description: 'Always `DatabaseStats`' })
  id!: string;

  @Field({ description: 'The database the gateway uses' })
  databaseName!: string;

  @Field(() => BytesScalar, { description: "The database's size on disk" })
  sizeBytes!: number;

  @Field(() => [ConnectionStateCount], { description: 'Connections to this database, by state' })
  connections!: ConnectionStateCount[];

  @Field(() => [TableSize], { description: 'The largest tables, largest first' })
  largestTables!: TableSize[];

  @Field(() => Float, { nullable: true, description: "Share of block reads served from PostgreSQL's buffer cache" })
  cacheHitRatioPercent?: number | null;

  @Field(() => Float, { description: 'Statements slower than this many milliseconds are listed' })
  slowStatementThresholdMs!: number;

  @Field(() => [SlowStatement], { description: 'Slowest first; seen by this instance since it started' })
  slowStatements!: SlowStatement[];

  @Field(() => DatabasePool, { nullable: true, description: "This instance's pool; null when it cannot be read" })
  pool?: DatabasePool | null;

  @Field({ description: 'When these were read' })
  checkedAt!: Date;
}
