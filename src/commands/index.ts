import type { Command } from './command.ts';
import { migrateCommand } from './migrate.ts';

/** Every command of the CLI, in the order `--help` lists them. */
export const commands: readonly Command[] = [migrateCommand];
