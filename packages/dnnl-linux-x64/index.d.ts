/**
 * A convolution's sizes, 17 integers: batch, in height, in width, in channels, out channels,
 * filter height, filter width, stride height, stride width, dilation height, dilation width,
 * padding top, bottom, left, right, out height, out width. Activations are NHWC, filters HWIO.
 */
export type ConvGeometry = Int32Array;

export interface Dnnl {
  /** oneDNN's version, e.g. "2.6.3". */
  readonly version: string;
  /** y = relu?(conv(x, filter) + bias?), written into y. */
  conv2d(geometry: ConvGeometry, x: Float32Array, filter: Float32Array, bias: Float32Array | null, y: Float32Array, relu: boolean): void;
  /** dx from dy and the filter, written into dx. */
  conv2dBackwardData(geometry: ConvGeometry, dy: Float32Array, filter: Float32Array, dx: Float32Array): void;
  /** The filter's gradient from x and dy, written into dw. */
  conv2dBackwardFilter(geometry: ConvGeometry, x: Float32Array, dy: Float32Array, dw: Float32Array): void;
  /** The OpenMP threads oneDNN uses from now on. */
  setThreads(threads: number): void;
  /** Sets glibc malloc's mmap and trim thresholds at run time; false where glibc refused them. */
  keepFreedMemory(mmapThreshold: number, trimThreshold: number): boolean;
}

/** The addon, loaded once; throws, with the reason in one line, where this copy has none. */
export function loadDnnl(): Dnnl;
