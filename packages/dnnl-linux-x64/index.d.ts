/**
 * A convolution's sizes, 17 integers: batch, in height, in width, in channels, out channels,
 * filter height, filter width, stride height, stride width, dilation height, dilation width,
 * padding top, bottom, left, right, out height, out width. Activations are NHWC, filters HWIO.
 * The addon takes what tfjs asks for: padding in [0, the filter's extent), a stride or a dilation
 * but not both, no dilation in the gradients, and the output size the rest implies.
 */
export type ConvGeometry = Int32Array;

/**
 * Every call writes its outputs or throws one line before writing anything. A problem the addon
 * does not take rather than guess at throws an error whose `code` is "RXVISION_DNNL_UNSUPPORTED"
 * (the caller runs another kernel); any other error is a mistake in the call.
 */
export interface Dnnl {
  /** oneDNN's version, e.g. "2.6.3". */
  readonly version: string;
  /** True for the checked build (AddressSanitizer, the addon's buffers against guard pages) the tests make. */
  readonly checked: boolean;
  /** y = relu?(conv(x, filter) + bias?), written into y. */
  conv2d(geometry: ConvGeometry, x: Float32Array, filter: Float32Array, bias: Float32Array | null, y: Float32Array, relu: boolean): void;
  /** dx from dy and the filter, written into dx. */
  conv2dBackwardData(geometry: ConvGeometry, dy: Float32Array, filter: Float32Array, dx: Float32Array): void;
  /** The filter's gradient from x and dy, written into dw. */
  conv2dBackwardFilter(geometry: ConvGeometry, x: Float32Array, dy: Float32Array, dw: Float32Array): void;
  /** y[c] = scale · Σ_r x[r, c] over `rows` rows of `columns`, summed in float64; the same on every run with the same threads. */
  sumRows(rows: number, columns: number, scale: number, x: Float32Array, y: Float32Array): void;
  /** Max or average pooling (the average over the window's pixels inside the image), written into y; the geometry's in and out channels are equal, its filter the window. */
  pool2d(geometry: ConvGeometry, max: boolean, x: Float32Array, y: Float32Array): void;
  /** Pooling's input gradient, written into dx; max pooling needs x (the window's first largest element takes the gradient), average pooling ignores it. */
  pool2dBackward(geometry: ConvGeometry, max: boolean, x: Float32Array | null, dy: Float32Array, dx: Float32Array): void;
  /**
   * y = relu?(op(a) · op(b) + bias?), written into y (m×n): a is m×k (k×m when transposeA), b is k×n
   * (n×k when transposeB), all row-major; a transpose is read through strides, not copied.
   */
  matMul(
    m: number,
    k: number,
    n: number,
    transposeA: boolean,
    transposeB: boolean,
    a: Float32Array,
    b: Float32Array,
    bias: Float32Array | null,
    y: Float32Array,
    relu: boolean,
  ): void;
  /** Batch normalisation's training step over every axis but the last: y, and the batch's mean and biased variance. */
  batchNormTraining(
    rows: number,
    channels: number,
    epsilon: number,
    x: Float32Array,
    scale: Float32Array,
    offset: Float32Array,
    y: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
  ): void;
  /** Its gradient: dx, dscale and doffset from x, dy, the scale and the batch's statistics. */
  batchNormTrainingGrad(
    rows: number,
    channels: number,
    epsilon: number,
    x: Float32Array,
    dy: Float32Array,
    scale: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
    dx: Float32Array,
    dscale: Float32Array,
    doffset: Float32Array,
  ): void;
  /** The OpenMP threads oneDNN uses from now on. */
  setThreads(threads: number): void;
  /** Sets glibc malloc's mmap and trim thresholds at run time; false where glibc refused them. */
  keepFreedMemory(mmapThreshold: number, trimThreshold: number): boolean;
}

/** The addon, loaded once; throws, with the reason in one line, where this copy has none. */
export function loadDnnl(): Dnnl;
