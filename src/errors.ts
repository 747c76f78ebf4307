/**
 * What a user or the environment can cause, as codes. Each maps to one of the exit
 * codes (docs/reference.md §1.1) in one place ({@link exitCodeOf}); everything else is a bug and is reported as such.
 */
export type ReconErrorCode =
  | 'USAGE' // bad flag, missing argument
  | 'CONFIG' // bad or missing configuration (e.g. no secret key)
  | 'INPUT' // unreadable input file (missing columns, not CSV)
  | 'INPUT_CHANGED' // an input file changed while it was read: nothing of it kept; later it may be whole
  | 'OUTPUT_FAILED' // the report files could not be written (a full disk): the run is not finished
  | 'DATABASE_UNREACHABLE'
  | 'DATABASE_LOST' // the database went away during a run (restart, network, a killed backend)
  | 'GATEWAY_AUTH' // the gateway answered authentication_failure
  | 'GATEWAY_IP_NOT_ALLOWED' // the gateway answered ip_not_allow
  | 'GATEWAY_REDIRECT' // the gateway (or something in between) answered a 3xx
  | 'GATEWAY_UNREACHABLE' // no request of the inquiry stage got any HTTP answer
  | 'INTERRUPTED'
  | 'RUN_IN_PROGRESS';

export class ReconError extends Error {
  readonly code: ReconErrorCode;

  constructor(code: ReconErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ReconError';
    this.code = code;
  }
}

export const EXIT = {
  ok: 0,
  findings: 1,
  usage: 2,
  aborted: 3,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export function exitCodeOf(error: ReconError): ExitCode {
  switch (error.code) {
    case 'USAGE':
    case 'CONFIG':
    case 'INPUT':
      return EXIT.usage;
    case 'INPUT_CHANGED':
    case 'OUTPUT_FAILED':
    case 'DATABASE_UNREACHABLE':
    case 'DATABASE_LOST':
    case 'GATEWAY_AUTH':
    case 'GATEWAY_IP_NOT_ALLOWED':
    case 'GATEWAY_REDIRECT':
    case 'GATEWAY_UNREACHABLE':
    case 'INTERRUPTED':
    case 'RUN_IN_PROGRESS':
      return EXIT.aborted;
  }
}

export function isReconError(error: unknown): error is ReconError {
  return error instanceof ReconError;
}

/** Postgres SQLSTATEs we react to. */
export const PG = {
  UNIQUE_VIOLATION: '23505',
  UNDEFINED_TABLE: '42P01',
  DUPLICATE_DATABASE: '42P04',
} as const;
