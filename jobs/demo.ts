// `kpgw-recon demo` as a script of its own, with this process's flags: `node dist/jobs/demo.js`
// once built, `npx tsx jobs/demo.ts` from the sources. The command is src/commands/demo.ts.
import { runAsProcess } from '../src/cli.ts';

await runAsProcess(['demo', ...process.argv.slice(2)]);
