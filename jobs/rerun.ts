// `kpgw-recon rerun` as a script of its own, with this process's flags: `node dist/jobs/rerun.js`
// once built, `npx tsx jobs/rerun.ts` from the sources. The command is src/commands/rerun.ts.
import { runAsProcess } from '../src/cli.ts';

await runAsProcess(['rerun', ...process.argv.slice(2)]);
