import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import type { Context } from '../../context';
import { Finding } from '../../entities/finding.entity';
import { Investigation } from '../../entities/investigation.entity';
import { investigationOf } from './investigation-of';
import { Sensitive, Sensitivity } from '../../schema/sensitive';
import { recordPiiRead } from './pii-read';

/**
 * The personal data of a finding. The permission map lets only ACCESS_PII reach these resolvers;
 * each read is audited before the value leaves.
 */
@Resolver(() => Finding)
export class FindingResolver {
  @FieldResolver(() => Investigation, {
    description: 'The investigation it belongs to, as it is now (after a mutation: with its new `updatedAt` and counts)',
  })
  investigation(@Root() child: { investigationId: string }, @Ctx() ctx: Context): Investigation | Promise<Investigation> {
    return investigationOf(ctx, child.investigationId);
  }

  @Sensitive(Sensitivity.PII)
  @FieldResolver(() => String, { nullable: true, description: 'Personal data: needs ACCESS_PII' })
  async subjectEmail(@Root() finding: Finding, @Ctx() ctx: Context): Promise<string | null> {
    await recordPiiRead(ctx, finding.id);
    return finding.subjectEmail ?? null;
  }

  @Sensitive(Sensitivity.PII)
  @FieldResolver(() => String, { nullable: true, description: 'Personal data: needs ACCESS_PII' })
  async subjectIp(@Root() finding: Finding, @Ctx() ctx: Context): Promise<string | null> {
    await recordPiiRead(ctx, finding.id);
    return finding.subjectIp ?? null;
  }

  @Sensitive(Sensitivity.PII)
  @FieldResolver(() => String, { nullable: true, description: 'Personal data: needs ACCESS_PII' })
  async subjectName(@Root() finding: Finding, @Ctx() ctx: Context): Promise<string | null> {
    await recordPiiRead(ctx, finding.id);
    return finding.subjectName ?? null;
  }
}
