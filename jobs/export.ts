// `kpgw-recon export` as a script of its own, with this process's flags: `node dist/jobs/export.js`
// once built, `npx tsx jobs/export.ts` from the sources. The command is src/commands/export.ts.
import { runAsProcess } from '../src/cli.ts';

await runAsProcess(['export', ...process.argv.slice(2)]);
