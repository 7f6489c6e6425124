// The addon's interface, declared here once: @rxvision/backend imports these types, and the C++
// (src/dnnl.cc) reads each call's fields by these names, so a field missing or renamed on either
// side is one thrown line naming it.

/**
 * A convolution's or a pooling's sizes. Activations are NHWC, filters HWIO; a pooling's in and out
 * channels are equal and its filter is the window. The addon takes what tfjs asks for: padding in
 * [0, the filter's extent), a stride or a dilation but not both, no dilation in the gradients, and
 * the output size the rest implies.
 */
export interface ConvGeometry {
  batch: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outChannels: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  /** tfjs's step between taps (1 for none), not oneDNN's taps skipped. */
  dilationHeight: number;
  dilationWidth: number;
  padTop: number;
  padBottom: number;
  padLeft: number;
  padRight: number;
  outHeight: number;
  outWidth: number;
}

/** A product's sizes: a is m×k (k×m when transposeA), b is k×n (n×k when transposeB), y is m×n. */
export interface MatMulShape {
  m: number;
  k: number;
  n: number;
  transposeA: boolean;
  transposeB: boolean;
}

/** Batch normalisation over every axis but the last: `rows` rows of `channels`. */
export interface BatchNormShape {
  rows: number;
  channels: number;
  epsilon: number;
}

/** The activations the addon computes as one oneDNN kernel, by tfjs-layers' names; GELU is the erf form. */
export type ActivationName = 'gelu' | 'relu' | 'sigmoid' | 'tanh' | 'swish';

/** The element-wise binary operations the addon computes: a + b, a − b, a · b, a / b. */
export type BinaryOperation = 'add' | 'sub' | 'mul' | 'div';

/**
 * Every call takes one object of named fields, writes its outputs or throws one line before
 * writing anything. A problem the addon does not take rather than guess at throws an error whose
 * `code` is "RXVISION_DNNL_UNSUPPORTED" (the caller runs another kernel); any other error is a
 * mistake in the call.
 */
export interface Dnnl {
  /** oneDNN's version, e.g. "2.6.3". */
  readonly version: string;
  /**
   * True where the CPU runs oneDNN's bf16 kernels natively (AVX512-BF16): there, convolutions and
   * products take `bf16: true` (bfloat16 copies of what they read, float32 sums and outputs).
   * Elsewhere such a call throws one line rather than run oneDNN's slower emulation.
   */
  readonly bf16: boolean;
  /** True for the checked build (AddressSanitizer, the addon's buffers against guard pages) the tests make. */
  readonly checked: boolean;
  /** y = relu?(conv(x, filter) + bias?). */
  conv2d(call: {
    geometry: ConvGeometry;
    x: Float32Array;
    filter: Float32Array;
    bias: Float32Array | null;
    y: Float32Array;
    relu: boolean;
    bf16?: boolean;
  }): void;
  /** dx from dy and the filter. */
  conv2dBackwardData(call: { geometry: ConvGeometry; dy: Float32Array; filter: Float32Array; dx: Float32Array; bf16?: boolean }): void;
  /** The filter's gradient dw from x and dy. */
  conv2dBackwardFilter(call: { geometry: ConvGeometry; x: Float32Array; dy: Float32Array; dw: Float32Array; bf16?: boolean }): void;
  /** Max or average pooling (the average over the window's pixels inside the image). */
  pool2d(call: { geometry: ConvGeometry; max: boolean; x: Float32Array; y: Float32Array }): void;
  /** Pooling's input gradient; max pooling needs x (the window's first largest element takes the gradient), average ignores it. */
  pool2dBackward(call: { geometry: ConvGeometry; max: boolean; x: Float32Array | null; dy: Float32Array; dx: Float32Array }): void;
  /** y[c] = scale · Σ_r x[r, c], summed in float64; the same on every run with the same threads. */
  sumRows(call: { rows: number; columns: number; scale: number; x: Float32Array; y: Float32Array }): void;
  /** y = relu?(op(a) · op(b) + bias?), all row-major; a transpose is read through strides, not copied. */
  matMul(call: {
    shape: MatMulShape;
    a: Float32Array;
    b: Float32Array;
    bias: Float32Array | null;
    y: Float32Array;
    relu: boolean;
    bf16?: boolean;
  }): void;
  /** Batch normalisation's training step: y, and the batch's mean and biased variance; `relu`: y = max(0, ·) in the same pass. */
  batchNormTraining(call: {
    shape: BatchNormShape;
    x: Float32Array;
    scale: Float32Array;
    offset: Float32Array;
    y: Float32Array;
    mean: Float32Array;
    variance: Float32Array;
    relu?: boolean;
  }): void;
  /**
   * Its gradient: dx, dscale and doffset from x, dy, the scale and the batch's statistics. After a
   * fused ReLU, `rectified` is the forward's y: dy counts only where it is above 0.
   */
  batchNormTrainingGrad(call: {
    rectified?: Float32Array | null;
    shape: BatchNormShape;
    x: Float32Array;
    dy: Float32Array;
    scale: Float32Array;
    mean: Float32Array;
    variance: Float32Array;
    dx: Float32Array;
    dscale: Float32Array;
    doffset: Float32Array;
  }): void;
  /** Inference from given statistics, as tfjs's batchNorm: y = (x − mean) / √(variance + ε) · scale? + offset?. */
  batchNormInference(call: {
    shape: BatchNormShape;
    x: Float32Array;
    mean: Float32Array;
    variance: Float32Array;
    scale: Float32Array | null;
    offset: Float32Array | null;
    y: Float32Array;
  }): void;
  /**
   * y = a ∘ b, element by element, all row-major: a and y of `shape` (1 to 12 axes), b of `bShape`,
   * as many axes, each shape's or 1 (broadcast). A broadcast oneDNN has no vectorised kernel for
   * (b repeating along alternate axes) is refused as unsupported.
   */
  binary(call: { op: BinaryOperation; shape: number[]; bShape: number[]; a: Float32Array; b: Float32Array; y: Float32Array }): void;
  /** y = f(x), element by element, for one of tfjs-layers' activations (swish is SiLU, x·σ(x)). */
  activation(call: { activation: ActivationName; elements: number; x: Float32Array; y: Float32Array }): void;
  /** Its gradient: dx = dy · f'(x), from x. */
  activationBackward(call: { activation: ActivationName; elements: number; x: Float32Array; dy: Float32Array; dx: Float32Array }): void;
  /** The OpenMP threads oneDNN uses from now on. */
  setThreads(threads: number): void;
  /** Sets glibc malloc's mmap and trim thresholds at run time; false where glibc refused them. */
  keepFreedMemory(mmapThreshold: number, trimThreshold: number): boolean;
}

/** The addon, loaded once; throws, with the reason in one line, where this copy has none. */
export function loadDnnl(): Dnnl;
