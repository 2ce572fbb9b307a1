import { getArgumentValues, type GraphQLObjectType, type GraphQLResolveInfo } from 'graphql';
import { Arg, Args, Ctx, FieldResolver, ID, Info, Int, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import { requestMeta, type Context } from '../../context';
import { Finding } from '../../entities/finding.entity';
import { Investigation } from '../../entities/investigation.entity';
import { Note } from '../../entities/note.entity';
import { RecommendedAction } from '../../entities/recommended-action.entity';
import { User } from '../../entities/user.entity';
import { NotFoundError } from '../../errors';
import { createLoaders } from '../../loaders';
import { can, Permission } from '../../permissions';
import { ConnectionArgs, pageWindow, windowKey, type Page, type PageArgs, type PageWindow } from '../../schema/connection';
import { rowId } from '../../schema/node';
import { selectedFieldNodes, selectedFields } from '../../schema/selection';
import { findingCursor, findingPageShape, type FindingPageShape, type ListIncludes } from '../../services/investigations/investigation.queries';
import { ActionStatus, ExportFormat } from '../../schema/investigation.enums';
import { INVESTIGATION_UPDATED, type InvestigationUpdatedEvent } from '../../services/investigations/investigation.types';
import {
  ActionInput,
  CreateInvestigationInput,
  FindingInput,
  InvestigationFilter,
  investigationListFilter,
  InvestigationOrder,
  UpdateInvestigationInput,
} from './investigation.inputs';
import { DeleteInvestigationPayload, FindingConnection, InvestigationConnection, InvestigationExport } from './investigation.types';
import { subscriberQueue } from '../subscriber-queue';
import { resetPiiReads } from './pii-read';

const findingShapes = new WeakMap<object, FindingPageShape>();
const INVESTIGATION_TYPE = 'Investigation';

/** What the selection of a `findings` field reads (cached per field node: parents share it). */
function findingShapeOf(info: Pick<GraphQLResolveInfo, 'fieldNodes' | 'fragments'>): FindingPageShape {
  const node = info.fieldNodes[0]!;
  let shape = findingShapes.get(node);
  if (!shape) {
    shape = findingPageShape({
      connection: selectedFields(info),
      edge: selectedFields(info, 'edges'),
      node: selectedFields(info, 'edges', 'node'),
    });
    findingShapes.set(node, shape);
  }
  return shape;
}

/**
 * What the nested fields of an `investigations` page will read, to load it with the page: the
 * users and actions when selected, and the findings page when every `findings` selection asks for
 * the same page with valid arguments (anything else is left to the field's own resolver).
 */
function listIncludes(info: GraphQLResolveInfo): ListIncludes {
  const node = selectedFields(info, 'edges', 'node');
  const include: ListIncludes = { users: node.has('assignee') || node.has('createdBy'), actions: node.has('actions') };
  if (!node.has('findings')) return include;
  const fieldNodes = selectedFieldNodes(info, 'findings', 'edges', 'node');
  const field = (info.schema.getType(INVESTIGATION_TYPE) as GraphQLObjectType).getFields().findings!;
  let window: PageWindow | undefined;
  try {
    for (const fieldNode of fieldNodes) {
      const these = pageWindow(getArgumentValues(field, fieldNode, info.variableValues) as PageArgs);
      // A cursor is checked here too: a bad one is left to the field's resolver to report.
      findingCursor(these);
      if (window && windowKey(window) !== windowKey(these)) return include;
      window = these;
    }
  } catch {
    return include;
  }
  if (window) include.findings = { window, shape: findingShapeOf({ fieldNodes, fragments: info.fragments }) };
  return include;
}

@Resolver(() => Investigation)
export class InvestigationResolver {
  @Query(() => Investigation, { nullable: true, description: 'READ_INVESTIGATIONS (null with FORBIDDEN otherwise): one investigation; null for an unknown id' })
  investigation(@Arg('id', () => ID, { description: "The investigation's id" }) id: string, @Ctx() ctx: Context): Promise<Investigation | null> {
    return ctx.services.investigations.get(ctx.em, id);
  }

  @Query(() => InvestigationConnection, {
    nullable: true,
    description: 'READ_INVESTIGATIONS (null with FORBIDDEN otherwise): investigations, newest first unless `orderBy` says otherwise',
  })
  async investigations(
    @Ctx() ctx: Context,
    @Info() info: GraphQLResolveInfo,
    @Args(() => ConnectionArgs) page: ConnectionArgs,
    @Arg('filter', () => InvestigationFilter, { nullable: true, description: 'Narrows the list; all given conditions must hold' }) filter?: InvestigationFilter,
    @Arg('orderBy', () => InvestigationOrder, { nullable: true, description: 'The order; newest first when omitted' }) orderBy?: InvestigationOrder,
  ): Promise<Page<Investigation>> {
    const include = listIncludes(info);
    const result = await ctx.services.investigations.list(ctx.em, { ...page, filter: investigationListFilter(filter), orderBy }, include);
    // What was read along with the page is handed to the loaders the nested fields use, so they
    // answer from it instead of asking the database again.
    const { loaders } = ctx;
    for (const { node } of result.page.edges) loaders.investigationById.prime(node.id, node);
    for (const [id, user] of result.users) loaders.userById.prime(id, user);
    for (const [id, actions] of result.actions) loaders.investigationActions.prime(id, actions);
    const findings = include.findings;
    if (findings && result.findings.size) {
      const loader = loaders.investigationFindings(findings.window, findings.shape);
      for (const [id, page] of result.findings) loader.prime(id, page);
    }
    return result.page;
  }

  @Mutation(() => Investigation, { description: 'CREATE_INVESTIGATIONS' })
  createInvestigation(@Arg('input', () => CreateInvestigationInput, { description: 'The new investigation' }) input: CreateInvestigationInput, @Ctx() ctx: Context): Promise<Investigation> {
    return ctx.services.investigations.create(ctx.em, requestMeta(ctx), input);
  }

  @Mutation(() => Investigation, {
    description: 'MODIFY_INVESTIGATIONS; CONFLICT (and nothing changed) when the investigation is no longer at `expectedVersion`',
  })
  updateInvestigation(
    @Arg('id', () => ID, { description: "The investigation's id" }) id: string,
    @Arg('expectedVersion', () => Int, { description: 'The `version` the change was made against' }) expectedVersion: number,
    @Arg('input', () => UpdateInvestigationInput, { description: 'The changes; omitted fields stay as they are' }) input: UpdateInvestigationInput,
    @Ctx() ctx: Context,
  ): Promise<Investigation> {
    return ctx.services.investigations.update(ctx.em, requestMeta(ctx), id, expectedVersion, input);
  }

  @Mutation(() => Boolean, {
    description: 'DELETE_INVESTIGATIONS; its findings, actions and notes go with it. Answers true',
    deprecationReason: 'Use deleteInvestigationV2, which answers with the deleted id for client caches',
  })
  deleteInvestigation(@Arg('id', () => ID, { description: "The investigation's id" }) id: string, @Ctx() ctx: Context): Promise<boolean> {
    return ctx.services.investigations.delete(ctx.em, requestMeta(ctx), rowId(id));
  }

  @Mutation(() => DeleteInvestigationPayload, {
    description: 'DELETE_INVESTIGATIONS; its findings, actions and notes go with it. Answers with its id, for client caches to evict',
  })
  async deleteInvestigationV2(@Arg('id', () => ID, { description: "The investigation's id" }) id: string, @Ctx() ctx: Context): Promise<DeleteInvestigationPayload> {
    const deletedId = rowId(id);
    await ctx.services.investigations.delete(ctx.em, requestMeta(ctx), deletedId);
    return { deletedId };
  }

  @Mutation(() => Finding, { description: 'MODIFY_INVESTIGATIONS; not on a CLOSED investigation' })
  addFinding(
    @Arg('investigationId', () => ID, { description: "The investigation's id" }) investigationId: string,
    @Arg('input', () => FindingInput, { description: 'The finding' }) input: FindingInput,
    @Ctx() ctx: Context,
  ): Promise<Finding> {
    return ctx.services.investigations.addFinding(ctx.em, requestMeta(ctx), investigationId, input);
  }

  @Mutation(() => RecommendedAction, { description: 'MODIFY_INVESTIGATIONS; not on a CLOSED investigation' })
  addAction(
    @Arg('investigationId', () => ID, { description: "The investigation's id" }) investigationId: string,
    @Arg('input', () => ActionInput, { description: 'The action' }) input: ActionInput,
    @Ctx() ctx: Context,
  ): Promise<RecommendedAction> {
    return ctx.services.investigations.addAction(ctx.em, requestMeta(ctx), investigationId, input);
  }

  @Mutation(() => RecommendedAction, { description: 'MODIFY_INVESTIGATIONS; an illegal transition is BAD_USER_INPUT' })
  updateActionStatus(
    @Arg('id', () => ID, { description: "The action's id" }) id: string,
    @Arg('status', () => ActionStatus, { description: 'The new status; must be an allowed transition' }) status: ActionStatus,
    @Ctx() ctx: Context,
  ): Promise<RecommendedAction> {
    return ctx.services.investigations.updateActionStatus(ctx.em, requestMeta(ctx), id, status);
  }

  @Mutation(() => Note, { description: 'MODIFY_INVESTIGATIONS; body 1–10,000 characters' })
  addNote(@Arg('investigationId', () => ID, { description: "The investigation's id" }) investigationId: string, @Arg('body', { description: 'The comment, 1–10,000 characters' }) body: string, @Ctx() ctx: Context): Promise<Note> {
    return ctx.services.investigations.addNote(ctx.em, requestMeta(ctx), investigationId, body);
  }

  @Mutation(() => InvestigationExport, { description: 'EXPORT_DATA; subject* personal data only for viewers with ACCESS_PII' })
  exportInvestigation(
    @Arg('id', () => ID, { description: "The investigation's id" }) id: string,
    @Arg('format', () => ExportFormat, { description: 'JSON or CSV' }) format: ExportFormat,
    @Ctx() ctx: Context,
  ): Promise<InvestigationExport> {
    const includePii = can(ctx.viewer, Permission.ACCESS_PII);
    return ctx.services.investigations.export(ctx.em, requestMeta(ctx), id, format, includePii);
  }

  @Subscription(() => Investigation, {
    description: 'READ_INVESTIGATIONS; the investigation as it is after each change to it or its findings, actions, notes',
    subscribe: async ({ args, context }) => {
      const ctx = context as Context;
      const id = String(args.id);
      if (!(await ctx.services.investigations.get(ctx.em.fork(), id))) throw new NotFoundError('Investigation', id);
      return ctx.pubsub.subscribe<InvestigationUpdatedEvent>(INVESTIGATION_UPDATED, id, subscriberQueue(ctx));
    },
  })
  async investigationUpdated(
    @Root() event: InvestigationUpdatedEvent,
    @Arg('id', () => ID, { description: "The investigation's id" }) _id: string,
    @Ctx() ctx: Context,
  ): Promise<Investigation> {
    // A subscription's context outlives a request: each event gets a fresh EntityManager and
    // fresh loaders, so nothing cached from an earlier event is shown. Events of one operation are
    // executed one after another, which makes replacing them here safe.
    const em = ctx.em.fork({ clear: true });
    ctx.em = em;
    ctx.loaders = createLoaders(() => em);
    resetPiiReads(ctx);
    const investigation = await ctx.services.investigations.reload(em, event.id);
    if (!investigation) throw new NotFoundError('Investigation', event.id);
    return investigation;
  }

  // The nested fields answer with the value itself when the page primed it (see `investigations`).
  @FieldResolver(() => User, { nullable: true, description: 'Who works on it; null while unassigned or once the account is gone' })
  assignee(@Root() investigation: Investigation, @Ctx() ctx: Context): User | null | Promise<User | null> {
    return investigation.assigneeId ? ctx.loaders.userById.get(investigation.assigneeId) : null;
  }

  @FieldResolver(() => User, { description: 'Who opened it' })
  createdBy(@Root() investigation: Investigation, @Ctx() ctx: Context): User | Promise<User> {
    const id = investigation.createdById;
    const known = (user: User | null): User => {
      if (!user) throw new NotFoundError('User', id);
      return user;
    };
    const user = ctx.loaders.userById.get(id);
    return user instanceof Promise ? user.then(known) : known(user);
  }

  @FieldResolver(() => FindingConnection, { description: 'Its findings, newest first' })
  findings(
    @Root() investigation: Investigation,
    @Ctx() ctx: Context,
    @Info() info: GraphQLResolveInfo,
    @Args(() => ConnectionArgs) page: ConnectionArgs,
  ): Page<Finding> | Promise<Page<Finding>> {
    const window = pageWindow(page);
    findingCursor(window);
    return ctx.loaders.investigationFindings(window, findingShapeOf(info)).get(investigation.id);
  }

  @FieldResolver(() => [RecommendedAction], { description: 'Oldest first; at most 100 per investigation' })
  actions(@Root() investigation: Investigation, @Ctx() ctx: Context): RecommendedAction[] | Promise<RecommendedAction[]> {
    return ctx.loaders.investigationActions.get(investigation.id);
  }

  @FieldResolver(() => [Note], { description: 'Oldest first; at most 500 per investigation' })
  notes(@Root() investigation: Investigation, @Ctx() ctx: Context): Promise<Note[]> {
    return ctx.loaders.investigationNotes.load(investigation.id);
  }
}
