import { afterAll } from 'vitest';
import { endOfFile } from './file-scope.ts';

// A setup file runs again before each test file (see file-scope.ts); its hook is the first
// registered, so it runs after the file's own.
afterAll(endOfFile);
