/**
 * Index of the range holding `row`, for ranges that follow one another from row 0: the last whose
 * start is ≤ row (binary search). Empty ranges share their successor's start and are passed over.
 */
export function rangeOf(starts: (range: number) => number, ranges: number, row: number): number {
  let low = 0;
  let high = ranges - 1;
  while (low < high) {
    const middle = (low + high + 1) >>> 1;
    if (starts(middle) <= row) low = middle;
    else high = middle - 1;
  }
  return low;
}
