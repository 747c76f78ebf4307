import { demoCommand } from '../../jobs/demo.ts';
import { exportCommand } from '../../jobs/export.ts';
import { nightlyCommand } from '../../jobs/nightly.ts';
import { rerunCommand } from '../../jobs/rerun.ts';
import type { Command } from './command.ts';
import { generateCommand } from './generate.ts';
import { migrateCommand } from './migrate.ts';
import { runCommand } from './run.ts';
import { simulatorCommand } from './simulator.ts';
import { vatReportCommand } from './vat-report.ts';

/** Every command of the CLI, in the order `--help` lists them. */
export const commands: readonly Command[] = [
  runCommand,
  nightlyCommand,
  rerunCommand,
  exportCommand,
  vatReportCommand,
  demoCommand,
  generateCommand,
  simulatorCommand,
  migrateCommand,
];
