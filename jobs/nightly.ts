// `kpgw-recon nightly` as a script of its own, with this process's flags: `node dist/jobs/nightly.js`
// once built, `npx tsx jobs/nightly.ts` from the sources. The command is src/commands/nightly.ts.
import { runAsProcess } from '../src/cli.ts';

await runAsProcess(['nightly', ...process.argv.slice(2)]);
