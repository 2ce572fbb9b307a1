import { Finding } from './finding.entity';
import { Investigation } from './investigation.entity';
import { Note } from './note.entity';
import { RecommendedAction } from './recommended-action.entity';
import { RefreshToken, Session } from './session.entity';
import { Alert } from './alert.entity';
import { AlertDelivery } from './alert-delivery.entity';
import { AlertSilence } from './alert-silence.entity';
import { Backup } from './backup.entity';
import { BackupVerification } from './backup-verification.entity';
import { AuditLog } from './audit-log.entity';
import { SystemSetting } from './system-setting.entity';
import { User } from './user.entity';

/** Every entity MikroORM knows; an area adds its own here. */
export const ENTITIES = [SystemSetting, User, Session, RefreshToken, Investigation, Finding, RecommendedAction, Note, Alert, AlertSilence, AlertDelivery, Backup, BackupVerification, AuditLog];
