import { SystemSetting } from './system-setting.entity';

/** Every entity MikroORM knows; an area adds its own here. */
export const ENTITIES = [SystemSetting];
