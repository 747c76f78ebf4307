import type { Command } from './command.ts';
import { migrateCommand } from './migrate.ts';
import { runCommand } from './run.ts';
import { simulatorCommand } from './simulator.ts';

/** Every command of the CLI, in the order `--help` lists them. */
export const commands: readonly Command[] = [runCommand, simulatorCommand, migrateCommand];
