import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { abortRun, findResumableRun, startRun, type RunParams } from '../../src/run/run-record.ts';
import { createTestDatabase } from '../helpers/database.ts';

const { db } = await createTestDatabase();

/** A run of `kind` over one day, recorded with `status`, started after the ones before it. */
async function recorded(kind: RunParams['kind'], date: string, status: 'running' | 'aborted' | 'finished'): Promise<string> {
  const runId = randomUUID();
  await startRun(db, { runId, kind, from: date, to: date, asOf: date });
  // Each run starts a moment after the one before: "latest" must not hang on the clock's resolution.
  await db.updateTable('recon_runs').set({ started_at: new Date(Date.parse('2026-05-01T00:00:00Z') + (await count()) * 1000) }).where('run_id', '=', runId).execute();
  if (status === 'aborted') await abortRun(db, runId, 'interrupted', 3);
  if (status === 'finished') await db.updateTable('recon_runs').set({ status: 'finished', finished_at: new Date() }).where('run_id', '=', runId).execute();
  return runId;
}

async function count(): Promise<number> {
  const row = await db.selectFrom('recon_runs').select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

describe("a run's record", () => {
  it('records an abort with its reason and exit code, and only while the run is running', async () => {
    const runId = await recorded('run', '2026-05-10', 'running');
    await abortRun(db, runId, 'the gateway refused the key', 3);
    await abortRun(db, runId, 'a second abort changes nothing', 2);
    expect(await db.selectFrom('recon_runs').select(['status', 'abort_reason', 'exit_code']).where('run_id', '=', runId).executeTakeFirst()).toEqual({
      status: 'aborted',
      abort_reason: 'the gateway refused the key',
      exit_code: 3,
    });
  });

  it('resumes the latest aborted run of the same command begun after its last finished one', async () => {
    const D = '2026-05-11';
    await recorded('run', D, 'aborted');
    await recorded('run', D, 'finished');
    const params = { runId: randomUUID(), kind: 'run' as const, from: D, to: D, asOf: D };
    expect(await findResumableRun(db, params)).toBeUndefined();
    await recorded('run', D, 'aborted');
    const latest = await recorded('run', D, 'aborted');
    // Another command (a rerun of the same day) is not the same command.
    await recorded('rerun', D, 'aborted');
    expect(await findResumableRun(db, params)).toBe(latest);
  });

  it("takes up a night's latest run, finished or not: a night run twice asks only what is still due", async () => {
    const D = '2026-05-12';
    await recorded('nightly', D, 'aborted');
    const finished = await recorded('nightly', D, 'finished');
    expect(await findResumableRun(db, { runId: randomUUID(), kind: 'nightly', from: D, to: D, asOf: D })).toBe(finished);
  });
});
