import type { Config } from '../../config';
import { runSecurityAudit, securityAuditInput, type SecurityAuditReport } from './security-audit';

/** Scores the running configuration for `securityAudit` and the CLI. */
export class SecurityAuditService {
  constructor(private readonly config: Config) {}

  run(): SecurityAuditReport {
    return runSecurityAudit(securityAuditInput(this.config));
  }
}
