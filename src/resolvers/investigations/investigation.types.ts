import { Field, ID, ObjectType } from 'type-graphql';
import { Finding } from '../../entities/finding.entity';
import { Investigation } from '../../entities/investigation.entity';
import { ConnectionType } from '../../schema/connection';
import { ExportFormat } from '../../schema/investigation.enums';

/** A page of investigations. */
export const InvestigationConnection = ConnectionType(Investigation, 'Investigation');
/** A page of an investigation's findings, newest first. */
export const FindingConnection = ConnectionType(Finding, 'Finding');

@ObjectType({ simpleResolvers: true, description: 'An investigation rendered as a file; subject* data only for viewers with ACCESS_PII' })
export class InvestigationExport {
  @Field(() => ExportFormat, { description: 'The format asked for' })
  format!: ExportFormat;

  @Field({ description: 'A suggested file name' })
  filename!: string;

  @Field({ description: "The file's MIME type" })
  contentType!: string;

  @Field({ description: 'The file itself (JSON document or CSV with a header row)' })
  content!: string;

  @Field({ description: 'Whether the subject* personal data is included' })
  includesPii!: boolean;
}

/** What `deleteInvestigationV2` answers: the id a client evicts from its normalised cache. */
@ObjectType({ simpleResolvers: true, description: 'The answer of deleteInvestigationV2' })
export class DeleteInvestigationPayload {
  @Field(() => ID, { description: 'The id of the investigation that was deleted, to evict from a client cache (Relay: `deletedId @deleteRecord`)' })
  deletedId!: string;
}
