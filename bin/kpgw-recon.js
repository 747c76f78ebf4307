#!/usr/bin/env node
// Runs the TypeScript sources directly through tsx, so a checkout works right after `npm ci`
// with no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli.ts');
process.exitCode = await main(process.argv.slice(2));
// The command is over; a socket left open by a failed connect must not keep the process alive.
setTimeout(() => process.exit(), 5_000).unref();
