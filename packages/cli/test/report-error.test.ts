import { DatasetError } from '@rxvision/dataset';
import { RxvisionError } from '@rxvision/errors';
import { FolderHeldError } from '@rxvision/folder';
import { TrialPausedError } from '@rxvision/sweep/node';
import { describe, expect, test } from 'vitest';
import { InterruptedError } from '../src/cli-error.js';
import { reportError } from '../src/report-error.js';

// The CLI knows no error class but its own: each package's errors share RxvisionError, whose kind
// sets the exit code (#35). An error class added anywhere is one line, not an internal error.
describe('reportError', () => {
  test('an RxvisionError of a class the CLI has never heard of is its one line, exit 1', () => {
    class NewPackageError extends RxvisionError {
      override readonly name = 'NewPackageError';
    }
    expect(reportError(new NewPackageError('photos/cat.heic: HEIC is not read; convert it to JPEG'))).toEqual({
      line: 'rxvision: photos/cat.heic: HEIC is not read; convert it to JPEG',
      exitCode: 1,
    });
    expect(reportError(new DatasetError('data/train.arrow', 'does not exist'))).toEqual({
      line: 'rxvision: data/train.arrow: does not exist',
      exitCode: 1,
    });
  });

  test('the kind sets the exit code: busy 75, paused 76, interrupted by its signal', () => {
    expect(reportError(new FolderHeldError('runs/a', undefined)).exitCode).toBe(75);
    expect(reportError(new TrialPausedError('paused')).exitCode).toBe(76);
    expect(reportError(new InterruptedError('interrupted', 'SIGINT')).exitCode).toBe(130);
    expect(reportError(new InterruptedError('interrupted', 'SIGTERM')).exitCode).toBe(143);
    // Another package's interrupted error: its kind and signal, not its class.
    class StoppedElsewhere extends RxvisionError {
      override readonly kind = 'interrupted';
      override readonly signal = 'SIGTERM';
    }
    expect(reportError(new StoppedElsewhere('stopped')).exitCode).toBe(143);
  });

  test('anything else is an internal error, exit 70', () => {
    expect(reportError(new TypeError("Cannot read properties of null (reading 'toFixed')"))).toEqual({
      line: expect.stringMatching(/^rxvision: internal error: Cannot read properties of null \(reading 'toFixed'\)/),
      exitCode: 70,
    });
  });
});
