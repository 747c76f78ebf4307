#!/usr/bin/env node
// Runs the compiled CLI (dist/, built by `npm ci` through the `prepare` script, or `npm run build`).
import { setFlagsFromString } from 'node:v8';

// A run streams: what it holds at any moment is small (tens of MB), but V8 lets the heap grow to
// four times what survived its last full collection before collecting again. Doubling at most
// keeps a run's peak memory near what it holds, for a few more (short) collections.
setFlagsFromString('--heap-growing-percent=100');
let cli;
try {
  cli = await import('../dist/src/cli.js');
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.message).includes('dist/src/cli.js')) throw error;
  process.stderr.write("kpgw-recon: not built yet; run 'npm run build' (or 'npm ci') in the checkout\n");
  process.exit(2);
}
await cli.runAsProcess(process.argv.slice(2));
