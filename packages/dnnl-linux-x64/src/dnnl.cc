// oneDNN's CPU convolutions for tfjs tensors, called synchronously from JavaScript. Operands are
// Float32Arrays (views of the wasm heap, shared or not), read and written in place: activations
// in NHWC and filters in HWIO, as tfjs lays them out, so nothing is transposed on the way.
#include <node_api.h>
#include <oneapi/dnnl/dnnl.hpp>
#include <omp.h>
#include <malloc.h>

#include <array>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

namespace {

using dnnl::memory;
using tag = memory::format_tag;

// n, h, w, ci, co, kh, kw, stride h, w, dilation h, w, pad top, bottom, left, right, out h, w
constexpr size_t kGeometry = 17;
using Geometry = std::array<int32_t, kGeometry>;

dnnl::engine& cpu() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

dnnl::stream& queue() {
  static dnnl::stream stream(cpu());
  return stream;
}

struct Descriptors {
  memory::desc src, weights, user_weights, dst, bias;
  memory::dims strides, dilations, pad_l, pad_r;
};

Descriptors describe(const Geometry& g, bool bias) {
  const auto f32 = memory::data_type::f32;
  memory::dims src{g[0], g[3], g[1], g[2]}, weights{g[4], g[3], g[5], g[6]}, dst{g[0], g[4], g[15], g[16]};
  Descriptors d;
  d.src = memory::desc(src, f32, tag::nhwc);
  d.dst = memory::desc(dst, f32, tag::nhwc);
  d.user_weights = memory::desc(weights, f32, tag::hwio);
  d.weights = memory::desc(weights, f32, tag::any);  // the kernel's blocked layout, reordered from HWIO
  d.bias = bias ? memory::desc({g[4]}, f32, tag::x) : memory::desc();
  d.strides = {g[7], g[8]};
  d.dilations = {g[9] - 1, g[10] - 1};  // oneDNN counts the taps skipped, tfjs the step
  d.pad_l = {g[11], g[13]};
  d.pad_r = {g[12], g[14]};
  return d;
}

dnnl::convolution_forward::primitive_desc forwardDesc(const Descriptors& d, bool relu) {
  dnnl::convolution_forward::desc desc(dnnl::prop_kind::forward_training, dnnl::algorithm::convolution_direct, d.src, d.weights, d.bias, d.dst, d.strides,
                                       d.dilations, d.pad_l, d.pad_r);
  dnnl::primitive_attr attr;
  if (relu) {
    dnnl::post_ops ops;
    ops.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
    attr.set_post_ops(ops);
  }
  return dnnl::convolution_forward::primitive_desc(desc, attr, cpu());
}

// A primitive and the scratch memory its blocked weights need, made once per geometry: making a
// primitive generates code, which costs far more than running it on these sizes.
struct Forward {
  dnnl::convolution_forward primitive;
  memory weights;  // in the primitive's layout; the user's HWIO filter is reordered into it
  bool reorder;
};
struct BackwardData {
  dnnl::convolution_backward_data primitive;
  memory weights;
  bool reorder;
};
struct BackwardWeights {
  dnnl::convolution_backward_weights primitive;
  memory diff_weights;
  bool reorder;
};

template <typename T>
using Cache = std::map<std::pair<Geometry, int>, std::unique_ptr<T>>;
Cache<Forward> forwards;
Cache<BackwardData> backward_data;
Cache<BackwardWeights> backward_weights;

Forward& forward(const Geometry& g, bool bias, bool relu) {
  auto& slot = forwards[{g, (bias ? 1 : 0) | (relu ? 2 : 0)}];
  if (!slot) {
    auto d = describe(g, bias);
    auto pd = forwardDesc(d, relu);
    slot.reset(new Forward{dnnl::convolution_forward(pd), memory(pd.weights_desc(), cpu()), pd.weights_desc() != d.user_weights});
  }
  return *slot;
}

BackwardData& backwardData(const Geometry& g) {
  auto& slot = backward_data[{g, 0}];
  if (!slot) {
    auto d = describe(g, false);
    auto hint = forwardDesc(d, false);
    dnnl::convolution_backward_data::desc desc(dnnl::algorithm::convolution_direct, d.src, d.weights, d.dst, d.strides, d.dilations, d.pad_l, d.pad_r);
    dnnl::convolution_backward_data::primitive_desc pd(desc, cpu(), hint);
    slot.reset(new BackwardData{dnnl::convolution_backward_data(pd), memory(pd.weights_desc(), cpu()), pd.weights_desc() != d.user_weights});
  }
  return *slot;
}

BackwardWeights& backwardWeights(const Geometry& g) {
  auto& slot = backward_weights[{g, 0}];
  if (!slot) {
    auto d = describe(g, false);
    auto hint = forwardDesc(d, false);
    dnnl::convolution_backward_weights::desc desc(dnnl::algorithm::convolution_direct, d.src, d.weights, d.dst, d.strides, d.dilations, d.pad_l, d.pad_r);
    dnnl::convolution_backward_weights::primitive_desc pd(desc, cpu(), hint);
    slot.reset(new BackwardWeights{dnnl::convolution_backward_weights(pd), memory(pd.diff_weights_desc(), cpu()), pd.diff_weights_desc() != d.user_weights});
  }
  return *slot;
}

// ---- N-API plumbing ----

struct Failure {
  std::string message;
};

void check(napi_status status, const char* what) {
  if (status != napi_ok) throw Failure{std::string("rxvision-dnnl: ") + what};
}

// The N arguments of a call to `name`; fewer is an error that names the function.
template <size_t N>
std::array<napi_value, N> arguments(napi_env env, napi_callback_info info, const char* name) {
  std::array<napi_value, N> args{};
  size_t count = N;
  check(napi_get_cb_info(env, info, &count, args.data(), nullptr, nullptr), "cannot read arguments");
  if (count < N) throw Failure{std::string("rxvision-dnnl: ") + name + " takes " + std::to_string(N) + " arguments"};
  return args;
}

// The data of a Float32Array of at least `elements` floats (shared memory included); null for null.
float* floats(napi_env env, napi_value value, size_t elements, const char* name) {
  napi_valuetype type;
  check(napi_typeof(env, value, &type), "cannot inspect an argument");
  if (type == napi_null || type == napi_undefined) return nullptr;
  bool is_array = false;
  check(napi_is_typedarray(env, value, &is_array), "cannot inspect an argument");
  napi_typedarray_type kind;
  size_t length = 0;
  void* data = nullptr;
  if (is_array) check(napi_get_typedarray_info(env, value, &kind, &length, &data, nullptr, nullptr), "cannot read a typed array");
  if (!is_array || kind != napi_float32_array) throw Failure{std::string("rxvision-dnnl: ") + name + " must be a Float32Array"};
  if (length < elements) throw Failure{std::string("rxvision-dnnl: ") + name + " holds " + std::to_string(length) + " floats, " + std::to_string(elements) + " needed"};
  return static_cast<float*>(data);
}

Geometry geometry(napi_env env, napi_value value) {
  bool is_array = false;
  check(napi_is_typedarray(env, value, &is_array), "cannot inspect the geometry");
  napi_typedarray_type kind;
  size_t length = 0;
  void* data = nullptr;
  if (is_array) check(napi_get_typedarray_info(env, value, &kind, &length, &data, nullptr, nullptr), "cannot read the geometry");
  if (!is_array || kind != napi_int32_array || length != kGeometry) throw Failure{"rxvision-dnnl: the geometry must be an Int32Array of 17"};
  Geometry g;
  std::memcpy(g.data(), data, sizeof(g));
  for (int i = 0; i < 11; i++)
    if (g[i] < 1) throw Failure{"rxvision-dnnl: sizes, strides and dilations must be positive"};
  return g;
}

size_t srcSize(const Geometry& g) { return size_t(g[0]) * g[1] * g[2] * g[3]; }
size_t dstSize(const Geometry& g) { return size_t(g[0]) * g[15] * g[16] * g[4]; }
size_t filterSize(const Geometry& g) { return size_t(g[5]) * g[6] * g[3] * g[4]; }

template <typename Body>
napi_value guarded(napi_env env, Body body) {
  try {
    body();
  } catch (const Failure& failure) {
    napi_throw_error(env, nullptr, failure.message.c_str());
  } catch (const dnnl::error& error) {
    napi_throw_error(env, nullptr, (std::string("oneDNN: ") + error.what()).c_str());
  } catch (const std::exception& error) {
    napi_throw_error(env, nullptr, (std::string("rxvision-dnnl: ") + error.what()).c_str());
  }
  return nullptr;
}

memory user(const memory::desc& desc, float* data) { return memory(desc, cpu(), data); }

// conv2d(geometry, x, filter, bias | null, y, relu)
napi_value Conv2d(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    auto args = arguments<6>(env, info, "conv2d");
    auto g = geometry(env, args[0]);
    float* x = floats(env, args[1], srcSize(g), "x");
    float* filter = floats(env, args[2], filterSize(g), "filter");
    float* bias = floats(env, args[3], g[4], "bias");
    float* y = floats(env, args[4], dstSize(g), "y");
    bool relu = false;
    check(napi_get_value_bool(env, args[5], &relu), "relu must be a boolean");
    if (!x || !filter || !y) throw Failure{"rxvision-dnnl: x, filter and y are required"};
    auto d = describe(g, bias != nullptr);
    auto& f = forward(g, bias != nullptr, relu);
    auto& s = queue();
    memory w = user(d.user_weights, filter);
    if (f.reorder) dnnl::reorder(w, f.weights).execute(s, w, f.weights);
    std::unordered_map<int, memory> run{{DNNL_ARG_SRC, user(d.src, x)}, {DNNL_ARG_WEIGHTS, f.reorder ? f.weights : w}, {DNNL_ARG_DST, user(d.dst, y)}};
    if (bias) run.emplace(DNNL_ARG_BIAS, user(d.bias, bias));
    f.primitive.execute(s, run);
    s.wait();
  });
}

// conv2dBackwardData(geometry, dy, filter, dx)
napi_value Conv2dBackwardData(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    auto args = arguments<4>(env, info, "conv2dBackwardData");
    auto g = geometry(env, args[0]);
    float* dy = floats(env, args[1], dstSize(g), "dy");
    float* filter = floats(env, args[2], filterSize(g), "filter");
    float* dx = floats(env, args[3], srcSize(g), "dx");
    if (!dy || !filter || !dx) throw Failure{"rxvision-dnnl: dy, filter and dx are required"};
    auto d = describe(g, false);
    auto& b = backwardData(g);
    auto& s = queue();
    memory w = user(d.user_weights, filter);
    if (b.reorder) dnnl::reorder(w, b.weights).execute(s, w, b.weights);
    b.primitive.execute(s, {{DNNL_ARG_DIFF_DST, user(d.dst, dy)}, {DNNL_ARG_WEIGHTS, b.reorder ? b.weights : w}, {DNNL_ARG_DIFF_SRC, user(d.src, dx)}});
    s.wait();
  });
}

// conv2dBackwardFilter(geometry, x, dy, dw)
napi_value Conv2dBackwardFilter(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    auto args = arguments<4>(env, info, "conv2dBackwardFilter");
    auto g = geometry(env, args[0]);
    float* x = floats(env, args[1], srcSize(g), "x");
    float* dy = floats(env, args[2], dstSize(g), "dy");
    float* dw = floats(env, args[3], filterSize(g), "dw");
    if (!x || !dy || !dw) throw Failure{"rxvision-dnnl: x, dy and dw are required"};
    auto d = describe(g, false);
    auto& b = backwardWeights(g);
    auto& s = queue();
    memory out = user(d.user_weights, dw);
    b.primitive.execute(s, {{DNNL_ARG_SRC, user(d.src, x)}, {DNNL_ARG_DIFF_DST, user(d.dst, dy)}, {DNNL_ARG_DIFF_WEIGHTS, b.reorder ? b.diff_weights : out}});
    if (b.reorder) dnnl::reorder(b.diff_weights, out).execute(s, b.diff_weights, out);
    s.wait();
  });
}

// ---- pooling (max, or average over the window's pixels inside the image, as tfjs counts) ----

struct Pool {
  dnnl::pooling_forward forward;    // forward_training: also writes which element won, for max
  dnnl::pooling_backward backward;
  memory::desc src, dst;
  memory scratch_dst, workspace;    // where backward's forward pass writes, made once
  bool max;
};
std::map<std::pair<Geometry, bool>, std::unique_ptr<Pool>> pools;

Pool& pool(const Geometry& g, bool max) {
  auto& slot = pools[{g, max}];
  if (!slot) {
    auto d = describe(g, false);
    auto algorithm = max ? dnnl::algorithm::pooling_max : dnnl::algorithm::pooling_avg_exclude_padding;
    memory::dims kernel{g[5], g[6]};
    dnnl::pooling_forward::primitive_desc fpd({dnnl::prop_kind::forward_training, algorithm, d.src, d.dst, d.strides, kernel, d.pad_l, d.pad_r}, cpu());
    dnnl::pooling_backward::primitive_desc bpd({algorithm, d.src, d.dst, d.strides, kernel, d.pad_l, d.pad_r}, cpu(), fpd);
    slot.reset(new Pool{dnnl::pooling_forward(fpd), dnnl::pooling_backward(bpd), d.src, d.dst, memory(d.dst, cpu()), memory(fpd.workspace_desc(), cpu()), max});
  }
  return *slot;
}

// pool2d(geometry, max, x, y)
napi_value Pool2d(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    auto args = arguments<4>(env, info, "pool2d");
    auto g = geometry(env, args[0]);
    bool max = false;
    check(napi_get_value_bool(env, args[1], &max), "max must be a boolean");
    if (g[3] != g[4]) throw Failure{"rxvision-dnnl: pooling keeps the channels: in and out channels differ"};
    float* x = floats(env, args[2], srcSize(g), "x");
    float* y = floats(env, args[3], dstSize(g), "y");
    if (!x || !y) throw Failure{"rxvision-dnnl: x and y are required"};
    auto& p = pool(g, max);
    auto& s = queue();
    std::unordered_map<int, memory> run{{DNNL_ARG_SRC, user(p.src, x)}, {DNNL_ARG_DST, user(p.dst, y)}};
    if (max) run.emplace(DNNL_ARG_WORKSPACE, p.workspace);
    p.forward.execute(s, run);
    s.wait();
  });
}

// pool2dBackward(geometry, max, x, dy, dx): for max, the forward pass runs again to find each
// window's winner (tfjs passes x, not oneDNN's workspace); ties go to the first, as in tfjs.
napi_value Pool2dBackward(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    auto args = arguments<5>(env, info, "pool2dBackward");
    auto g = geometry(env, args[0]);
    bool max = false;
    check(napi_get_value_bool(env, args[1], &max), "max must be a boolean");
    if (g[3] != g[4]) throw Failure{"rxvision-dnnl: pooling keeps the channels: in and out channels differ"};
    float* x = floats(env, args[2], max ? srcSize(g) : 0, "x");
    float* dy = floats(env, args[3], dstSize(g), "dy");
    float* dx = floats(env, args[4], srcSize(g), "dx");
    if ((max && !x) || !dy || !dx) throw Failure{"rxvision-dnnl: x (for max), dy and dx are required"};
    auto& p = pool(g, max);
    auto& s = queue();
    if (max) p.forward.execute(s, {{DNNL_ARG_SRC, user(p.src, x)}, {DNNL_ARG_DST, p.scratch_dst}, {DNNL_ARG_WORKSPACE, p.workspace}});
    std::unordered_map<int, memory> run{{DNNL_ARG_DIFF_DST, user(p.dst, dy)}, {DNNL_ARG_DIFF_SRC, user(p.src, dx)}};
    if (max) run.emplace(DNNL_ARG_WORKSPACE, p.workspace);
    p.backward.execute(s, run);
    s.wait();
  });
}

// ---- sums over the leading axes: y[c] = scale · Σ_r x[r, c], in float64 as the JavaScript one ----

// sumRows(rows, columns, scale, x, y)
napi_value SumRows(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    auto args = arguments<5>(env, info, "sumRows");
    int64_t rows = 0, columns = 0;
    double scale = 1;
    check(napi_get_value_int64(env, args[0], &rows), "rows must be a number");
    check(napi_get_value_int64(env, args[1], &columns), "columns must be a number");
    check(napi_get_value_double(env, args[2], &scale), "scale must be a number");
    if (rows < 1 || columns < 1) throw Failure{"rxvision-dnnl: rows and columns must be positive"};
    const float* x = floats(env, args[3], size_t(rows * columns), "x");
    float* y = floats(env, args[4], size_t(columns), "y");
    if (!x || !y) throw Failure{"rxvision-dnnl: x and y are required"};
    std::vector<double> sums(size_t(columns), 0.0);
    // Each thread sums a band of rows, then the bands are added in thread order: the same sum on
    // every run with the same thread count.
    int threads = omp_get_max_threads();
    std::vector<std::vector<double>> bands(size_t(threads), std::vector<double>(size_t(columns), 0.0));
#pragma omp parallel num_threads(threads)
    {
      auto& band = bands[size_t(omp_get_thread_num())];
#pragma omp for schedule(static)
      for (int64_t r = 0; r < rows; r++) {
        const float* row = x + r * columns;
        for (int64_t c = 0; c < columns; c++) band[size_t(c)] += row[c];
      }
    }
    for (const auto& band : bands)
      for (int64_t c = 0; c < columns; c++) sums[size_t(c)] += band[size_t(c)];
    for (int64_t c = 0; c < columns; c++) y[c] = float(sums[size_t(c)] * scale);
  });
}

// ---- matrix products: y = relu?(op(a) · op(b) + bias?), op a transpose where asked ----

std::map<std::array<int64_t, 7>, std::unique_ptr<dnnl::matmul>> matmuls;

struct MatMulShape {
  int64_t m, k, n;
  bool transpose_a, transpose_b, bias, relu;
};

memory::desc matrix(int64_t rows, int64_t columns, bool transposed) {
  // A transposed operand is read through its strides: nothing is copied.
  return memory::desc({rows, columns}, memory::data_type::f32, transposed ? tag::ba : tag::ab);
}

dnnl::matmul& matmul(const MatMulShape& p) {
  auto& slot = matmuls[{p.m, p.k, p.n, p.transpose_a, p.transpose_b, p.bias, p.relu}];
  if (!slot) {
    dnnl::primitive_attr attr;
    if (p.relu) {
      dnnl::post_ops ops;
      ops.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
      attr.set_post_ops(ops);
    }
    auto bias = p.bias ? memory::desc({1, p.n}, memory::data_type::f32, tag::ab) : memory::desc();
    dnnl::matmul::desc desc(matrix(p.m, p.k, p.transpose_a), matrix(p.k, p.n, p.transpose_b), bias, matrix(p.m, p.n, false));
    slot.reset(new dnnl::matmul(dnnl::matmul::primitive_desc(desc, attr, cpu())));
  }
  return *slot;
}

// matMul(m, k, n, transposeA, transposeB, a, b, bias | null, y, relu): a is m×k (k×m when
// transposed), b k×n (n×k when transposed), y m×n, all row-major.
napi_value MatMul(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    auto args = arguments<10>(env, info, "matMul");
    MatMulShape p{};
    check(napi_get_value_int64(env, args[0], &p.m), "m must be a number");
    check(napi_get_value_int64(env, args[1], &p.k), "k must be a number");
    check(napi_get_value_int64(env, args[2], &p.n), "n must be a number");
    check(napi_get_value_bool(env, args[3], &p.transpose_a), "transposeA must be a boolean");
    check(napi_get_value_bool(env, args[4], &p.transpose_b), "transposeB must be a boolean");
    check(napi_get_value_bool(env, args[9], &p.relu), "relu must be a boolean");
    if (p.m < 1 || p.k < 1 || p.n < 1) throw Failure{"rxvision-dnnl: matMul's sizes must be positive"};
    float* a = floats(env, args[5], size_t(p.m * p.k), "a");
    float* b = floats(env, args[6], size_t(p.k * p.n), "b");
    float* bias = floats(env, args[7], size_t(p.n), "bias");
    float* y = floats(env, args[8], size_t(p.m * p.n), "y");
    if (!a || !b || !y) throw Failure{"rxvision-dnnl: a, b and y are required"};
    p.bias = bias != nullptr;
    auto& primitive = matmul(p);
    auto& s = queue();
    std::unordered_map<int, memory> run{{DNNL_ARG_SRC, user(matrix(p.m, p.k, p.transpose_a), a)},
                                        {DNNL_ARG_WEIGHTS, user(matrix(p.k, p.n, p.transpose_b), b)},
                                        {DNNL_ARG_DST, user(matrix(p.m, p.n, false), y)}};
    if (bias) run.emplace(DNNL_ARG_BIAS, user(memory::desc({1, p.n}, memory::data_type::f32, tag::ab), bias));
    primitive.execute(s, run);
    s.wait();
  });
}

// ---- batch normalisation over every axis but the last (rows × channels), with the batch's statistics ----

struct BatchNorm {
  dnnl::batch_normalization_forward forward;
  dnnl::batch_normalization_backward backward;
  memory::desc data, stats;
};
std::map<std::tuple<int64_t, int64_t, float>, std::unique_ptr<BatchNorm>> batch_norms;

BatchNorm& batchNorm(int64_t rows, int64_t channels, float epsilon) {
  auto& slot = batch_norms[{rows, channels, epsilon}];
  if (!slot) {
    const auto f32 = memory::data_type::f32;
    // rows × channels as NHWC with H = W = 1: channels innermost, as tfjs lays them out.
    memory::desc data({rows, channels, 1, 1}, f32, tag::nhwc), stats({channels}, f32, tag::x);
    auto flags = dnnl::normalization_flags::use_scale | dnnl::normalization_flags::use_shift;
    dnnl::batch_normalization_forward::primitive_desc fpd({dnnl::prop_kind::forward_training, data, epsilon, flags}, cpu());
    dnnl::batch_normalization_backward::primitive_desc bpd({dnnl::prop_kind::backward, data, data, epsilon, flags}, cpu(), fpd);
    slot.reset(new BatchNorm{dnnl::batch_normalization_forward(fpd), dnnl::batch_normalization_backward(bpd), data, stats});
  }
  return *slot;
}

struct Rows {
  int64_t rows, channels;
  float epsilon;
};

Rows rows(napi_env env, napi_value* args) {
  int64_t r = 0, c = 0;
  double epsilon = 0;
  check(napi_get_value_int64(env, args[0], &r), "rows must be a number");
  check(napi_get_value_int64(env, args[1], &c), "channels must be a number");
  check(napi_get_value_double(env, args[2], &epsilon), "epsilon must be a number");
  if (r < 1 || c < 1 || !(epsilon > 0)) throw Failure{"rxvision-dnnl: rows and channels must be positive, and epsilon above 0"};
  return {r, c, float(epsilon)};
}

// batchNormTraining(rows, channels, epsilon, x, scale, offset, y, mean, variance): y and the batch's
// mean and (biased) variance.
napi_value BatchNormTraining(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    auto args = arguments<9>(env, info, "batchNormTraining");
    auto r = rows(env, args.data());
    size_t n = size_t(r.rows * r.channels), c = size_t(r.channels);
    float* x = floats(env, args[3], n, "x");
    float* scale = floats(env, args[4], c, "scale");
    float* offset = floats(env, args[5], c, "offset");
    float* y = floats(env, args[6], n, "y");
    float* mean = floats(env, args[7], c, "mean");
    float* variance = floats(env, args[8], c, "variance");
    if (!x || !scale || !offset || !y || !mean || !variance) throw Failure{"rxvision-dnnl: every batchNormTraining operand is required"};
    auto& b = batchNorm(r.rows, r.channels, r.epsilon);
    auto& s = queue();
    b.forward.execute(s, {{DNNL_ARG_SRC, user(b.data, x)}, {DNNL_ARG_SCALE, user(b.stats, scale)}, {DNNL_ARG_SHIFT, user(b.stats, offset)},
                          {DNNL_ARG_DST, user(b.data, y)}, {DNNL_ARG_MEAN, user(b.stats, mean)}, {DNNL_ARG_VARIANCE, user(b.stats, variance)}});
    s.wait();
  });
}

// batchNormTrainingGrad(rows, channels, epsilon, x, dy, scale, mean, variance, dx, dscale, doffset)
napi_value BatchNormTrainingGrad(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    auto args = arguments<11>(env, info, "batchNormTrainingGrad");
    auto r = rows(env, args.data());
    size_t n = size_t(r.rows * r.channels), c = size_t(r.channels);
    float* x = floats(env, args[3], n, "x");
    float* dy = floats(env, args[4], n, "dy");
    float* scale = floats(env, args[5], c, "scale");
    float* mean = floats(env, args[6], c, "mean");
    float* variance = floats(env, args[7], c, "variance");
    float* dx = floats(env, args[8], n, "dx");
    float* dscale = floats(env, args[9], c, "dscale");
    float* doffset = floats(env, args[10], c, "doffset");
    if (!x || !dy || !scale || !mean || !variance || !dx || !dscale || !doffset) throw Failure{"rxvision-dnnl: every batchNormTrainingGrad operand is required"};
    auto& b = batchNorm(r.rows, r.channels, r.epsilon);
    auto& s = queue();
    // oneDNN 2.6 asks for a shift whenever use_shift is set, though dx does not depend on it and
    // it is never read: the scale's buffer stands in.
    b.backward.execute(s, {{DNNL_ARG_SRC, user(b.data, x)}, {DNNL_ARG_DIFF_DST, user(b.data, dy)}, {DNNL_ARG_SCALE, user(b.stats, scale)}, {DNNL_ARG_SHIFT, user(b.stats, scale)},
                           {DNNL_ARG_MEAN, user(b.stats, mean)}, {DNNL_ARG_VARIANCE, user(b.stats, variance)}, {DNNL_ARG_DIFF_SRC, user(b.data, dx)},
                           {DNNL_ARG_DIFF_SCALE, user(b.stats, dscale)}, {DNNL_ARG_DIFF_SHIFT, user(b.stats, doffset)}});
    s.wait();
  });
}

// setThreads(n): the OpenMP threads oneDNN runs on (omp_set_num_threads is per calling thread, and
// every call comes from the JavaScript thread).
napi_value SetThreads(napi_env env, napi_callback_info info) {
  return guarded(env, [&] {
    auto args = arguments<1>(env, info, "setThreads");
    int32_t threads = 0;
    check(napi_get_value_int32(env, args[0], &threads), "threads must be a number");
    if (threads < 1) throw Failure{"rxvision-dnnl: threads must be positive"};
    omp_set_num_threads(threads);
  });
}

// keepFreedMemory(mmapThreshold, trimThreshold): glibc malloc's settings, changed at run time, so
// that large buffers freed on each step are reused rather than unmapped and faulted in again.
napi_value KeepFreedMemory(napi_env env, napi_callback_info info) {
  napi_value result = nullptr;
  guarded(env, [&] {
    auto args = arguments<2>(env, info, "keepFreedMemory");
    int32_t mmap_threshold = 0, trim_threshold = 0;
    check(napi_get_value_int32(env, args[0], &mmap_threshold), "mmapThreshold must be a number");
    check(napi_get_value_int32(env, args[1], &trim_threshold), "trimThreshold must be a number");
    bool ok = mallopt(M_MMAP_THRESHOLD, mmap_threshold) == 1 && mallopt(M_TRIM_THRESHOLD, trim_threshold) == 1;
    check(napi_get_boolean(env, ok, &result), "cannot answer");
  });
  return result;
}

napi_value Init(napi_env env, napi_value exports) {
  const dnnl_version_t* v = dnnl_version();
  std::string version = std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch);
  napi_value version_value;
  napi_create_string_utf8(env, version.c_str(), version.size(), &version_value);
  napi_property_descriptor properties[] = {
      {"conv2d", nullptr, Conv2d, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"conv2dBackwardData", nullptr, Conv2dBackwardData, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"conv2dBackwardFilter", nullptr, Conv2dBackwardFilter, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"pool2d", nullptr, Pool2d, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"pool2dBackward", nullptr, Pool2dBackward, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"sumRows", nullptr, SumRows, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"matMul", nullptr, MatMul, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"batchNormTraining", nullptr, BatchNormTraining, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"batchNormTrainingGrad", nullptr, BatchNormTrainingGrad, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"setThreads", nullptr, SetThreads, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"keepFreedMemory", nullptr, KeepFreedMemory, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"version", nullptr, nullptr, nullptr, nullptr, version_value, napi_enumerable, nullptr},
  };
  napi_define_properties(env, exports, sizeof(properties) / sizeof(properties[0]), properties);
  return exports;
}

}  // namespace

NAPI_MODULE_INIT() { return Init(env, exports); }
