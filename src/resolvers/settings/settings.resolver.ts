import { Arg, Args, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root, Subscription } from 'type-graphql';
import { requestMeta, type Context } from '../../context';
import { User } from '../../entities/user.entity';
import { ConnectionArgs, type Page } from '../../schema/connection';
import { typedId } from '../../schema/node';
import { rangeOf } from '../../schema/time-range';
import type { SettingsSnapshot } from '../../services/settings/settings.service';
import type { SettingsChangeRow } from '../../services/settings/settings.store';
import { SystemSettingsChangeFilter, SystemSettingsInput } from './settings.inputs';
import { SystemSettings, SystemSettingsChange, SystemSettingsChangeConnection } from './settings.types';
import { patchFromInput, settingsView } from './settings.view';

/** The typed id of the one SystemSettings object (see schema/node.ts). */
export const SYSTEM_SETTINGS_ID = typedId('SystemSettings');

@Resolver(() => SystemSettings)
export class SettingsResolver {
  @Query(() => SystemSettings, { nullable: true, description: 'ADMIN_ACCESS: the runtime settings in force, each with its source, and the maintenance state' })
  systemSettings(@Ctx() ctx: Context): SystemSettings {
    return settingsView(ctx.services.settings, ctx.services.settings.current());
  }

  @Query(() => SystemSettingsChangeConnection, { nullable: true, description: 'ADMIN_ACCESS: every change of the settings, newest first' })
  systemSettingsHistory(
    @Ctx() ctx: Context,
    @Args(() => ConnectionArgs) page: ConnectionArgs,
    @Arg('filter', () => SystemSettingsChangeFilter, { nullable: true, description: 'Narrows the list; all given conditions must hold' })
    filter?: SystemSettingsChangeFilter | null,
  ): Promise<Page<SettingsChangeRow>> {
    return ctx.services.settings.history(ctx.em, { ...page, at: rangeOf(filter, 'at') });
  }

  @Mutation(() => SystemSettings, {
    description:
      'SYSTEM_CONFIG: changes settings and the maintenance switch as one new version, applied by every instance within a second; CONFLICT when expectedVersion is stale, BAD_USER_INPUT (naming the field and range) when a value is out of range',
  })
  async updateSystemSettings(
    @Ctx() ctx: Context,
    @Arg('expectedVersion', () => Int, { description: 'The version the change is based on (SystemSettings.version)' }) expectedVersion: number,
    @Arg('input', () => SystemSettingsInput, { description: 'What to change; absent fields stay, null returns a field to its boot value' })
    input: SystemSettingsInput,
  ): Promise<SystemSettings> {
    const { patch, maintenance } = patchFromInput(input);
    const snapshot = await ctx.services.settings.update(requestMeta(ctx), expectedVersion, patch, maintenance);
    return settingsView(ctx.services.settings, snapshot);
  }

  @Subscription(() => SystemSettings, {
    description: 'ADMIN_ACCESS: the settings in force now, then again each time this instance applies a change (a slow reader gets the latest only)',
    subscribe: ({ context }) => (context as Context).services.settings.changes(),
  })
  systemSettingsChanged(@Root() snapshot: SettingsSnapshot, @Ctx() ctx: Context): SystemSettings {
    return settingsView(ctx.services.settings, snapshot);
  }

  @FieldResolver(() => ID, { description: `Always \`${SYSTEM_SETTINGS_ID}\`: there is one SystemSettings, and each answer is its current state` })
  id(): string {
    return SYSTEM_SETTINGS_ID;
  }

  @FieldResolver(() => User, { nullable: true, description: 'Who made the last change; null for the system or a removed account' })
  updatedBy(@Root() settings: SystemSettings, @Ctx() ctx: Context): Promise<User | null> | null {
    return settings.updatedById ? ctx.loaders.userById.load(settings.updatedById) : null;
  }
}

@Resolver(() => SystemSettingsChange)
export class SettingsChangeResolver {
  @FieldResolver(() => User, { nullable: true, description: 'Who made the change; null for the system or a removed account' })
  actor(@Root() change: SettingsChangeRow, @Ctx() ctx: Context): Promise<User | null> | null {
    return change.actorId ? ctx.loaders.userById.load(change.actorId) : null;
  }
}
