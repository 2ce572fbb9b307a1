import { randomBytes } from 'node:crypto';
import { Option, type Command } from 'commander';
import { systemMeta } from '../../context';
import type { User } from '../../entities/user.entity';
import { Role } from '../../permissions/roles';
import { CliError, ExitCode } from '../runtime';
import { withServices } from '../services';

const ROLES = Object.values(Role);

function parseRole(value: string): Role {
  const role = value.toUpperCase() as Role;
  if (!ROLES.includes(role)) throw new CliError(`unknown role "${value}": one of ${ROLES.join(', ')}`, ExitCode.USAGE);
  return role;
}

function describe(user: User): string {
  return `${user.email} (${user.role}${user.disabled ? ', disabled' : ''}) id ${user.id}`;
}

/** `vigil user create|set-role|disable|enable|reset-password`: account administration for the operator. */
export function registerUserCommand(program: Command): void {
  const user = program.command('user').description('manage user accounts (as the operator: audited as the system)');

  user
    .command('create')
    .description('create an account; without --password a strong one is generated and printed once')
    .requiredOption('--email <email>', 'sign-in address')
    .requiredOption('--name <name>', 'display name')
    .addOption(new Option('--role <role>', 'role').choices(ROLES).default(Role.VIEWER))
    .option('--password <password>', 'at least 12 characters (beware of shell history)')
    .action(async (opts: { email: string; name: string; role: string; password?: string }) => {
      const role = parseRole(opts.role);
      const password = opts.password ?? randomBytes(18).toString('base64url');
      const created = await withServices((s) => s.users.create(systemMeta('cli:user:create'), { email: opts.email, name: opts.name, role, password }));
      console.log(`created ${describe(created)}`);
      if (!opts.password) console.log(`password (shown once): ${password}`);
    });

  user
    .command('set-role')
    .description('change the role of an account (the last active SUPER_ADMIN cannot be demoted)')
    .argument('<email>', 'the account')
    .argument('<role>', ROLES.join(' | '))
    .action(async (email: string, roleName: string) => {
      const role = parseRole(roleName);
      const changed = await withServices((s) => s.users.setRoleByEmail(email, role));
      console.log(`updated ${describe(changed)}`);
    });

  user
    .command('disable')
    .description('disable an account and end all of its sessions')
    .argument('<email>', 'the account')
    .action(async (email: string) => {
      const changed = await withServices((s) => s.users.setDisabledByEmail(email, true));
      console.log(`disabled ${describe(changed)}`);
    });

  user
    .command('enable')
    .description('enable a disabled account')
    .argument('<email>', 'the account')
    .action(async (email: string) => {
      const changed = await withServices((s) => s.users.setDisabledByEmail(email, false));
      console.log(`enabled ${describe(changed)}`);
    });

  user
    .command('reset-password')
    .description('set a new password (generated and printed once unless --password), end all sessions, lift a lockout')
    .argument('<email>', 'the account')
    .option('--password <password>', 'at least 12 characters (beware of shell history)')
    .action(async (email: string, opts: { password?: string }) => {
      const result = await withServices((s) => s.users.resetPassword(email, opts.password));
      console.log(`reset the password of ${describe(result.user)}; every session was ended`);
      if (!opts.password) console.log(`new password (shown once): ${result.password}`);
    });
}
