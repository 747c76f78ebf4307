import { demoCommand } from './demo.ts';
import { exportCommand } from './export.ts';
import { nightlyCommand } from './nightly.ts';
import { rerunCommand } from './rerun.ts';
import type { Command } from './command.ts';
import { generateCommand } from './generate.ts';
import { migrateCommand } from './migrate.ts';
import { runCommand } from './run.ts';
import { simulatorCommand } from './simulator.ts';

/** Every command of the CLI, in the order `--help` lists them. */
export const commands: readonly Command[] = [
  runCommand,
  nightlyCommand,
  rerunCommand,
  exportCommand,
  demoCommand,
  generateCommand,
  simulatorCommand,
  migrateCommand,
];
