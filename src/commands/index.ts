import type { Command } from './command.ts';

/**
 * A command as `kpgw-recon --help` lists it. Its module is imported only when the command is
 * used, so the CLI starts without loading the pipeline, the database driver or the simulator.
 */
export interface CommandEntry {
  readonly name: string;
  /** One line for `kpgw-recon --help` (here, so listing the commands loads none of them). */
  readonly summary: string;
  readonly load: () => Promise<Command>;
}

/** Every command of the CLI, one line each, in the order `--help` lists them. */
export const commands: readonly CommandEntry[] = [
  { name: 'run', summary: 'ingest, inquire, reconcile and report for a range of transaction dates', load: async () => (await import('./run.ts')).runCommand },
  { name: 'nightly', summary: 'reconcile yesterday (in RECON_TZ) from the inbox: what cron runs', load: async () => (await import('./nightly.ts')).nightlyCommand },
  { name: 'worker', summary: 'run the merchants\' scheduled nights as graphile-worker jobs, on any number of machines', load: async () => (await import('./worker.ts')).workerCommand },
  { name: 'enqueue', summary: 'queue a merchant-night (one merchant or all) for the workers, e.g. to replay it', load: async () => (await import('./enqueue.ts')).enqueueCommand },
  { name: 'status', summary: 'did last night run? each merchant\'s last finished run; exit 1 when one is too old', load: async () => (await import('./status.ts')).statusCommand },
  { name: 'rerun', summary: 'reconcile a past range again from what is stored, asking the gateway afresh', load: async () => (await import('./rerun.ts')).rerunCommand },
  { name: 'export', summary: 'finance export: one row per charge from the latest finished runs', load: async () => (await import('./export.ts')).exportCommand },
  { name: 'open-items', summary: 'every open charge and unacknowledged error finding, with its age in nights', load: async () => (await import('./open-items.ts')).openItemsCommand },
  { name: 'ack', summary: 'acknowledge findings with a note, one or many from a CSV; --undo takes them back', load: async () => (await import('./ack.ts')).ackCommand },
  { name: 'retract', summary: 'take ledger rows booked by mistake out of reconciliation, with who and why; --undo brings one back', load: async () => (await import('./retract.ts')).retractCommand },
  { name: 'vat-report', summary: 'monthly MDR and VAT schedule per MID, to tie to KBank\'s tax invoice (ภ.พ.30)', load: async () => (await import('./vat-report.ts')).vatReportCommand },
  { name: 'notify-receiver', summary: 'receive KBank\'s WebHook Notify calls over HTTP and store them, checksum checked', load: async () => (await import('./notify-receiver.ts')).notifyReceiverCommand },
  { name: 'notify-import', summary: 'load notifications the shop already stored (JSON lines or a JSON array), same checks', load: async () => (await import('./notify-import.ts')).notifyImportCommand },
  { name: 'demo', summary: 'generated sample + simulator + a full run, on the embedded PostgreSQL (npm start)', load: async () => (await import('./demo.ts')).demoCommand },
  { name: 'generate', summary: 'write a realistic sample inbox (ledger, plan report, fees, gateway data) to a folder', load: async () => (await import('./generate.ts')).generateCommand },
  { name: 'simulator', summary: 'run the bundled K-Payment Gateway simulator', load: async () => (await import('./simulator.ts')).simulatorCommand },
  { name: 'migrate', summary: 'apply database migrations', load: async () => (await import('./migrate.ts')).migrateCommand },
];
