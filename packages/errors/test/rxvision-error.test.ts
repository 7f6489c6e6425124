import { describe, expect, test } from 'vitest';
import { RxvisionError } from '../src/index.js';

class ShapeError extends RxvisionError {
  override readonly name = 'ShapeError';
}

class HeldError extends RxvisionError {
  override readonly name = 'HeldError';
  override readonly kind = 'busy';

  constructor(readonly folder: string) {
    super(`${folder} is being written`);
  }
}

describe('RxvisionError', () => {
  test('a subclass is an Error and an RxvisionError, of kind input unless it says otherwise', () => {
    const shape = new ShapeError('cat.png: not an image', { cause: new Error('decoder said no') });
    expect(shape).toBeInstanceOf(Error);
    expect(shape).toBeInstanceOf(RxvisionError);
    expect([shape.kind, shape.name, shape.message, (shape.cause as Error).message]).toEqual([
      'input',
      'ShapeError',
      'cat.png: not an image',
      'decoder said no',
    ]);
    expect(String(shape)).toBe('ShapeError: cat.png: not an image');
    const held = new HeldError('runs/a');
    expect([held.kind, held.name, held.message, held.folder]).toEqual(['busy', 'HeldError', 'runs/a is being written', 'runs/a']);
  });
});
