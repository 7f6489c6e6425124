// oneDNN's CPU kernels for tfjs tensors, called synchronously from JavaScript. Operands are
// Float32Arrays (views of the wasm heap, shared or not), read and written in place: activations
// in NHWC and filters in HWIO, as tfjs lays them out. Where oneDNN's kernels for its own layouts
// are the faster (blocked filters; blocked activations of convolutions with many channels), the
// addon reorders into buffers of its own around the call.
//
// Over 250 lines: one translation unit, since oneDNN's header is most of the build's time. Each
// kernel family is a section; the N-API plumbing and the addon's own memory are headers beside it.
#include <malloc.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <optional>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "napi-arguments.h"
#include "native-buffer.h"

namespace {

using dnnl::memory;
using rxvision::Failure;
using rxvision::NativeBuffer;
using rxvision::Unsupported;
using tag = memory::format_tag;
using Args = std::unordered_map<int, memory>;

dnnl::engine& cpu() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

// ---- running a primitive: the scratchpad is the addon's (checked builds guard it) ----

dnnl::primitive_attr attributes(bool relu = false) {
  dnnl::primitive_attr attr;
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  if (relu) {
    dnnl::post_ops ops;
    ops.append_eltwise(1.f, dnnl::algorithm::eltwise_relu, 0.f, 0.f);
    attr.set_post_ops(ops);
  }
  return attr;
}

// A primitive with the scratchpad it needs; made once per problem: making one generates code,
// which costs far more than running it on these sizes.
struct Step {
  dnnl::primitive primitive;
  memory::desc scratchpad;
};

template <typename PrimitiveDesc>
Step step(const PrimitiveDesc& pd) {
  return {dnnl::primitive(pd.get()), pd.scratchpad_desc()};
}

// Runs `s` with `args` and a scratchpad, then checks the buffers of the addon's it used. A plain
// build keeps one scratchpad, grown to the largest asked; a checked build makes each one afresh,
// its end against a guard page.
void run(const Step& s, Args args, const std::vector<const NativeBuffer*>& owned = {}) {
  static dnnl::stream stream(cpu());
  static std::unique_ptr<NativeBuffer> kept;
  const size_t bytes = s.scratchpad.get_size();
  std::unique_ptr<NativeBuffer> fresh;
#ifdef RXVISION_DNNL_CHECKED
  fresh.reset(new NativeBuffer(bytes));
  NativeBuffer* scratchpad = fresh.get();
#else
  if (!kept || kept->bytes() < bytes) kept.reset(new NativeBuffer(bytes));
  NativeBuffer* scratchpad = kept.get();
#endif
  if (bytes) args.emplace(DNNL_ARG_SCRATCHPAD, memory(s.scratchpad, cpu(), scratchpad->data()));
  s.primitive.execute(stream, args);
  stream.wait();
  if (bytes) scratchpad->check("its scratchpad");
  for (const NativeBuffer* buffer : owned)
    if (buffer) buffer->check("a buffer of the addon's");
}

memory user(const memory::desc& desc, float* data) { return memory(desc, cpu(), data); }

// A buffer of the addon's in `desc`'s layout, and the memory that reads it.
struct Owned {
  std::unique_ptr<NativeBuffer> buffer;
  memory view;
};
Owned owned(const memory::desc& desc) {
  auto buffer = std::make_unique<NativeBuffer>(desc.get_size());
  memory view(desc, cpu(), buffer->data());
  return {std::move(buffer), view};
}

// Implementations of oneDNN 2.6.3 that are wrong for some problems, passed over for the next in
// oneDNN's list. Its 1×1 backward-weights kernels reduce a strided convolution to a unit-stride
// one in a scratchpad sized for NHWC activations (is·ic floats a thread) but indexed as if blocked
// ((ic_b·is + sp)·ic_block): where the input channels are not a multiple of the block they write
// past it, corrupting the heap, computing wrong filters or looping (rxvision#34). The bf16 one
// (jit_bf16_1x1) shares that reduction and its fault.
bool unitStrideReduction(const std::string& implementation) {
  return implementation.rfind("jit_1x1", 0) == 0 || implementation.rfind("jit_bf16_1x1", 0) == 0;
}

template <typename PrimitiveDesc>
PrimitiveDesc passOver(PrimitiveDesc pd, bool strided) {
  while (strided && unitStrideReduction(pd.impl_info_str()))
    if (!pd.next_impl()) throw Unsupported{"rxvision-dnnl: no implementation for a strided 1×1 convolution's filter gradient"};
  return pd;
}

// ---- bf16: the kernels read bfloat16 copies of their operands and write float32 ----

// Whether this CPU runs oneDNN's bf16 kernels natively (AVX512-BF16; AMX includes it): elsewhere
// oneDNN would emulate them, slower than float32, so the addon refuses rather than run that.
// Asked once: oneDNN fixes its ISA at its first use.
bool bf16Native() {
  static const bool native = [] {
    const auto isa = static_cast<unsigned>(dnnl::get_effective_cpu_isa());
    const auto bf16 = static_cast<unsigned>(dnnl::cpu_isa::avx512_core_bf16);
    return (isa & bf16) == bf16;
  }();
  return native;
}

// The call's `bf16` field (left out: float32), refused in one line where the CPU lacks AVX512-BF16.
bool bf16Asked(const rxvision::Fields& call) {
  if (!call.flag("bf16")) return false;
  if (!bf16Native()) throw Failure{"rxvision-dnnl: bf16 needs a CPU with AVX512-BF16, which this one lacks"};
  return true;
}

// The data types a pass's kernel sees, by descriptor role: bf16 for what it reads (activations,
// filters, gradients flowing back) and float32 for what it writes, so that the sums stay float32
// and tfjs's tensors (and the master weights) stay float32 around it.
struct Precision {
  memory::data_type src, weights, dst;
};
constexpr auto kF32 = memory::data_type::f32, kBf16 = memory::data_type::bf16;
constexpr Precision kFloat32{kF32, kF32, kF32};
Precision forwardPrecision(bool bf16) { return bf16 ? Precision{kBf16, kBf16, kF32} : kFloat32; }
Precision backwardDataPrecision(bool bf16) { return bf16 ? Precision{kF32, kBf16, kBf16} : kFloat32; }  // writes diff src
Precision backwardWeightsPrecision(bool bf16) { return bf16 ? Precision{kBf16, kF32, kBf16} : kFloat32; }  // writes diff weights

// ---- convolutions ----

// n, h, w, ci, co, kh, kw, stride h, w, dilation h, w, pad top, bottom, left, right, out h, w: a
// plain array, so that it is the key of the primitive caches.
constexpr size_t kGeometry = 17;
using Geometry = std::array<int32_t, kGeometry>;

bool strided(const Geometry& g) { return g[7] > 1 || g[8] > 1; }
bool dilated(const Geometry& g) { return g[9] > 1 || g[10] > 1; }

// The geometry's fields in Geometry's order (index.d.ts's ConvGeometry).
constexpr std::array<const char*, kGeometry> kGeometryFields{
    "batch",       "inHeight",     "inWidth",        "inChannels",    "outChannels", "filterHeight", "filterWidth", "strideHeight", "strideWidth",
    "dilationHeight", "dilationWidth", "padTop", "padBottom", "padLeft", "padRight", "outHeight", "outWidth"};

// The problems the addon takes are those tfjs asks for, and no others: padding below the filter's
// extent (so every window sees the image), a stride or a dilation but not both, sizes oneDNN
// indexes with 32-bit integers, and the output size that the rest implies.
Geometry geometry(const rxvision::Fields& call) {
  auto fields = call.object("geometry");
  Geometry g;
  for (size_t i = 0; i < kGeometry; i++) {
    const int64_t value = fields.integer(kGeometryFields[i]);
    if (value < INT32_MIN || value > INT32_MAX) throw Failure{"rxvision-dnnl: " + fields.named(kGeometryFields[i]) + " is out of range"};
    g[i] = int32_t(value);
  }
  for (int i = 0; i < 11; i++)
    if (g[i] < 1) throw Failure{"rxvision-dnnl: sizes, strides and dilations must be positive"};
  const int64_t extent_h = int64_t(g[5] - 1) * g[9] + 1, extent_w = int64_t(g[6] - 1) * g[10] + 1;
  for (int i : {11, 12})
    if (g[i] < 0 || g[i] >= extent_h) throw Unsupported{"rxvision-dnnl: padding outside [0, the filter's extent)"};
  for (int i : {13, 14})
    if (g[i] < 0 || g[i] >= extent_w) throw Unsupported{"rxvision-dnnl: padding outside [0, the filter's extent)"};
  if (strided(g) && dilated(g)) throw Unsupported{"rxvision-dnnl: a convolution both strided and dilated"};
  if (g[1] + g[11] + g[12] < extent_h || g[2] + g[13] + g[14] < extent_w) throw Failure{"rxvision-dnnl: the filter is larger than the padded image"};
  const int64_t out_h = (g[1] + g[11] + g[12] - extent_h) / g[7] + 1, out_w = (g[2] + g[13] + g[14] - extent_w) / g[8] + 1;
  if (g[15] != out_h || g[16] != out_w)
    throw Failure{"rxvision-dnnl: the output is " + std::to_string(out_h) + "×" + std::to_string(out_w) + ", not " + std::to_string(g[15]) + "×" + std::to_string(g[16])};
  const int64_t limit = INT32_MAX;
  if (int64_t(g[0]) * g[1] * g[2] * g[3] > limit || int64_t(g[0]) * g[15] * g[16] * g[4] > limit || int64_t(g[5]) * g[6] * g[3] * g[4] > limit)
    throw Unsupported{"rxvision-dnnl: a tensor of 2^31 elements or more"};
  return g;
}

size_t srcSize(const Geometry& g) { return size_t(g[0]) * g[1] * g[2] * g[3]; }
size_t dstSize(const Geometry& g) { return size_t(g[0]) * g[15] * g[16] * g[4]; }
size_t filterSize(const Geometry& g) { return size_t(g[5]) * g[6] * g[3] * g[4]; }

struct Descriptors {
  memory::desc src, weights, user_weights, dst, bias;
  memory::desc user_src, user_dst;  // NHWC, as tfjs holds them; src and dst may be oneDNN's choice
  memory::dims strides, dilations, pad_l, pad_r;
};

// Whether a convolution's activations go through oneDNN's blocked layout (reordered from and to
// NHWC around each pass) rather than NHWC itself: with 64 or more channels in and out, in
// multiples of 16, its blocked kernels are the faster (ResNet-18's 3×3 layers at 224 px: 10-25% a
// pass, more than the reorders cost; airbench's step 15%). Below that they are not: CIFAR ResNet-8's
// 48- and 96-channel layers took 5% longer a step, and the stem's 3 channels far longer. A rule of
// the geometry alone, so every run, resumed or not, computes with the same kernels.
bool blockedActivations(const Geometry& g) { return g[3] >= 64 && g[4] >= 64 && g[3] % 16 == 0 && g[4] % 16 == 0; }

// The kernel's operands in `p`'s data types; the user's (tfjs's) are float32. An operand whose
// kernel descriptor differs from the user's (layout or type) is reordered around the pass.
Descriptors describe(const Geometry& g, bool bias, Precision p = kFloat32) {
  const auto f32 = kF32;
  memory::dims src{g[0], g[3], g[1], g[2]}, weights{g[4], g[3], g[5], g[6]}, dst{g[0], g[4], g[15], g[16]};
  Descriptors d;
  d.user_src = memory::desc(src, f32, tag::nhwc);
  d.user_dst = memory::desc(dst, f32, tag::nhwc);
  const auto activations = blockedActivations(g) ? tag::any : tag::nhwc;
  d.src = memory::desc(src, p.src, activations);
  d.dst = memory::desc(dst, p.dst, activations);
  d.user_weights = memory::desc(weights, f32, tag::hwio);
  d.weights = memory::desc(weights, p.weights, tag::any);  // the kernel's blocked layout, reordered from HWIO
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
  return dnnl::convolution_forward::primitive_desc(desc, attributes(relu), cpu());
}

// The reorder between a kernel's layout and the caller's, in the direction the data goes.
Step reorderStep(const memory::desc& kernel, const memory::desc& user, bool to_user) {
  const auto& [from, to] = to_user ? std::pair(kernel, user) : std::pair(user, kernel);
  return step(dnnl::reorder::primitive_desc(cpu(), from, cpu(), to, attributes()));
}

// One activation operand of a pass in the kernel's layout where that is not NHWC: the reorder
// between the two, and which of the two shared arenas holds it while the pass runs.
struct Relayout {
  memory::desc kernel;  // the kernel's layout; empty where it is NHWC
  Step reorder;
  int arena = 0;
};

Relayout relayout(const memory::desc& kernel, const memory::desc& user, bool to_user, int arena) {
  if (kernel == user) return {};
  return {kernel, reorderStep(kernel, user, to_user), arena};
}

// Where blocked activations live during a pass: two buffers of the addon's, grown to the largest
// asked and shared by every convolution (passes run one at a time). A checked build makes each
// afresh, its end against a guard page.
NativeBuffer* arena(int which, size_t bytes) {
  static std::unique_ptr<NativeBuffer> buffers[2];
#ifdef RXVISION_DNNL_CHECKED
  buffers[which].reset(new NativeBuffer(bytes));
#else
  if (!buffers[which] || buffers[which]->bytes() < bytes) buffers[which].reset(new NativeBuffer(bytes));
#endif
  return buffers[which].get();
}

// A convolution pass, its filter (or filter gradient) in the kernel's layout where that is not
// HWIO, and the reorder between the two; and its activations' relayouts (in: read, out: written).
struct Convolution {
  Step pass;
  Owned blocked;  // empty where the kernel reads HWIO itself
  Step reorder;
  std::vector<std::pair<int, Relayout>> in, out;  // by the pass's argument (DNNL_ARG_SRC, …)
};

template <typename PrimitiveDesc>
std::unique_ptr<Convolution> convolution(const PrimitiveDesc& pd, const memory::desc& blocked, const memory::desc& user_weights, bool to_user) {
  auto c = std::make_unique<Convolution>(Convolution{step(pd), {}, {}, {}, {}});
  if (blocked == user_weights) return c;
  c->blocked = owned(blocked);
  c->reorder = reorderStep(blocked, user_weights, to_user);
  return c;
}

// Runs `pass` with `args`, its operands reordered into (`in`) and out of (`out`) the arenas where
// the kernel's layout or type is another; the addon's buffers in `used` are checked after it.
void runRelayouted(const Step& pass, const std::vector<std::pair<int, Relayout>>& in, const std::vector<std::pair<int, Relayout>>& out, Args args,
                   std::vector<const NativeBuffer*> used = {}) {
  struct WriteBack {
    const Step* reorder;
    memory from, to;
    const NativeBuffer* buffer;
  };
  std::vector<WriteBack> writeBacks;
  for (bool reading : {true, false})
    for (const auto& [argument, r] : reading ? in : out) {
      if (!r.reorder.primitive) continue;
      NativeBuffer* buffer = arena(r.arena, r.kernel.get_size());
      memory inKernel(r.kernel, cpu(), buffer->data());
      if (reading) run(r.reorder, {{DNNL_ARG_FROM, args.at(argument)}, {DNNL_ARG_TO, inKernel}}, {buffer});
      else writeBacks.push_back({&r.reorder, inKernel, args.at(argument), buffer});
      args[argument] = inKernel;
      used.push_back(buffer);
    }
  run(pass, args, used);
  for (const auto& w : writeBacks) run(*w.reorder, {{DNNL_ARG_FROM, w.from}, {DNNL_ARG_TO, w.to}}, {w.buffer});
}

void runRelayouted(const Convolution& c, Args args) { runRelayouted(c.pass, c.in, c.out, std::move(args), {c.blocked.buffer.get()}); }

template <typename T>
using Cache = std::map<std::pair<Geometry, int>, std::unique_ptr<T>>;

Convolution& forward(const Geometry& g, bool bias, bool relu, bool bf16) {
  static Cache<Convolution> cache;
  auto& slot = cache[{g, (bias ? 1 : 0) | (relu ? 2 : 0) | (bf16 ? 4 : 0)}];
  if (!slot) {
    auto d = describe(g, bias, forwardPrecision(bf16));
    auto pd = forwardDesc(d, relu);
    slot = convolution(pd, pd.weights_desc(), d.user_weights, false);
    slot->in = {{DNNL_ARG_SRC, relayout(pd.src_desc(), d.user_src, false, 0)}};
    slot->out = {{DNNL_ARG_DST, relayout(pd.dst_desc(), d.user_dst, true, 1)}};
  }
  return *slot;
}

Convolution& backwardData(const Geometry& g, bool bf16) {
  static Cache<Convolution> cache;
  auto& slot = cache[{g, bf16 ? 1 : 0}];
  if (!slot) {
    if (dilated(g)) throw Unsupported{"rxvision-dnnl: a dilated convolution's gradients (tfjs has none)"};
    auto d = describe(g, false, backwardDataPrecision(bf16));
    dnnl::convolution_backward_data::desc desc(dnnl::algorithm::convolution_direct, d.src, d.weights, d.dst, d.strides, d.dilations, d.pad_l, d.pad_r);
    auto hint = forwardDesc(describe(g, false, forwardPrecision(bf16)), false);
    dnnl::convolution_backward_data::primitive_desc pd(desc, attributes(), cpu(), hint);
    slot = convolution(pd, pd.weights_desc(), d.user_weights, false);
    slot->in = {{DNNL_ARG_DIFF_DST, relayout(pd.diff_dst_desc(), d.user_dst, false, 0)}};
    slot->out = {{DNNL_ARG_DIFF_SRC, relayout(pd.diff_src_desc(), d.user_src, true, 1)}};
  }
  return *slot;
}

Convolution& backwardWeights(const Geometry& g, bool bf16) {
  static Cache<Convolution> cache;
  auto& slot = cache[{g, bf16 ? 1 : 0}];
  if (!slot) {
    if (dilated(g)) throw Unsupported{"rxvision-dnnl: a dilated convolution's gradients (tfjs has none)"};
    auto d = describe(g, false, backwardWeightsPrecision(bf16));
    dnnl::convolution_backward_weights::desc desc(dnnl::algorithm::convolution_direct, d.src, d.weights, d.dst, d.strides, d.dilations, d.pad_l, d.pad_r);
    auto hint = forwardDesc(describe(g, false, forwardPrecision(bf16)), false);
    auto pd = passOver(dnnl::convolution_backward_weights::primitive_desc(desc, attributes(), cpu(), hint), strided(g));
    slot = convolution(pd, pd.diff_weights_desc(), d.user_weights, true);
    slot->in = {{DNNL_ARG_SRC, relayout(pd.src_desc(), d.user_src, false, 0)}, {DNNL_ARG_DIFF_DST, relayout(pd.diff_dst_desc(), d.user_dst, false, 1)}};
  }
  return *slot;
}

// conv2d({ geometry, x, filter, bias | null, y, relu, bf16? })
napi_value Conv2d(napi_env env, napi_callback_info info) {
  return rxvision::guarded(env, [&] {
    rxvision::Fields call(env, info, "conv2d");
    auto g = geometry(call);
    float* x = call.floats("x", srcSize(g));
    float* filter = call.floats("filter", filterSize(g));
    float* bias = call.floats("bias", g[4]);
    float* y = call.floats("y", dstSize(g));
    bool relu = call.boolean("relu");
    if (!x || !filter || !y) throw Failure{"rxvision-dnnl: x, filter and y are required"};
    auto d = describe(g, bias != nullptr);
    auto& c = forward(g, bias != nullptr, relu, bf16Asked(call));
    memory w = user(d.user_weights, filter);
    if (c.blocked.buffer) run(c.reorder, {{DNNL_ARG_FROM, w}, {DNNL_ARG_TO, c.blocked.view}}, {c.blocked.buffer.get()});
    Args a{{DNNL_ARG_SRC, user(d.user_src, x)}, {DNNL_ARG_WEIGHTS, c.blocked.buffer ? c.blocked.view : w}, {DNNL_ARG_DST, user(d.user_dst, y)}};
    if (bias) a.emplace(DNNL_ARG_BIAS, user(d.bias, bias));
    runRelayouted(c, a);
  });
}

// conv2dBackwardData({ geometry, dy, filter, dx, bf16? })
napi_value Conv2dBackwardData(napi_env env, napi_callback_info info) {
  return rxvision::guarded(env, [&] {
    rxvision::Fields call(env, info, "conv2dBackwardData");
    auto g = geometry(call);
    float* dy = call.floats("dy", dstSize(g));
    float* filter = call.floats("filter", filterSize(g));
    float* dx = call.floats("dx", srcSize(g));
    if (!dy || !filter || !dx) throw Failure{"rxvision-dnnl: dy, filter and dx are required"};
    auto d = describe(g, false);
    auto& c = backwardData(g, bf16Asked(call));
    memory w = user(d.user_weights, filter);
    if (c.blocked.buffer) run(c.reorder, {{DNNL_ARG_FROM, w}, {DNNL_ARG_TO, c.blocked.view}}, {c.blocked.buffer.get()});
    memory weights = c.blocked.buffer ? c.blocked.view : w;
    runRelayouted(c, {{DNNL_ARG_DIFF_DST, user(d.user_dst, dy)}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DIFF_SRC, user(d.user_src, dx)}});
  });
}

// conv2dBackwardFilter({ geometry, x, dy, dw, bf16? })
napi_value Conv2dBackwardFilter(napi_env env, napi_callback_info info) {
  return rxvision::guarded(env, [&] {
    rxvision::Fields call(env, info, "conv2dBackwardFilter");
    auto g = geometry(call);
    float* x = call.floats("x", srcSize(g));
    float* dy = call.floats("dy", dstSize(g));
    float* dw = call.floats("dw", filterSize(g));
    if (!x || !dy || !dw) throw Failure{"rxvision-dnnl: x, dy and dw are required"};
    auto d = describe(g, false);
    auto& c = backwardWeights(g, bf16Asked(call));
    memory out = user(d.user_weights, dw);
    memory gradient = c.blocked.buffer ? c.blocked.view : out;
    runRelayouted(c, {{DNNL_ARG_SRC, user(d.user_src, x)}, {DNNL_ARG_DIFF_DST, user(d.user_dst, dy)}, {DNNL_ARG_DIFF_WEIGHTS, gradient}});
    if (c.blocked.buffer) run(c.reorder, {{DNNL_ARG_FROM, c.blocked.view}, {DNNL_ARG_TO, out}}, {c.blocked.buffer.get()});
  });
}

// ---- pooling (max, or average over the window's pixels inside the image, as tfjs counts) ----

struct Pool {
  Step forward;  // forward_training: also writes which element won, for max
  Step backward;
  memory::desc src, dst;
  Owned scratch_dst, workspace;  // where backward's forward pass writes
};

Pool& pool(const Geometry& g, bool max) {
  static std::map<std::pair<Geometry, bool>, std::unique_ptr<Pool>> cache;
  auto& slot = cache[{g, max}];
  if (!slot) {
    if (g[3] != g[4]) throw Failure{"rxvision-dnnl: pooling keeps the channels: in and out channels differ"};
    if (dilated(g)) throw Unsupported{"rxvision-dnnl: dilated pooling"};
    auto d = describe(g, false);
    auto algorithm = max ? dnnl::algorithm::pooling_max : dnnl::algorithm::pooling_avg_exclude_padding;
    memory::dims kernel{g[5], g[6]};
    const auto &src = d.user_src, &dst = d.user_dst;  // pooling reads and writes NHWC itself
    dnnl::pooling_forward::primitive_desc fpd({dnnl::prop_kind::forward_training, algorithm, src, dst, d.strides, kernel, d.pad_l, d.pad_r}, attributes(),
                                              cpu());
    dnnl::pooling_backward::primitive_desc bpd({algorithm, src, dst, d.strides, kernel, d.pad_l, d.pad_r}, attributes(), cpu(), fpd);
    slot.reset(new Pool{step(fpd), step(bpd), src, dst, owned(dst), owned(fpd.workspace_desc())});
  }
  return *slot;
}

// pool2d({ geometry, max, x, y })
napi_value Pool2d(napi_env env, napi_callback_info info) {
  return rxvision::guarded(env, [&] {
    rxvision::Fields call(env, info, "pool2d");
    auto g = geometry(call);
    bool max = call.boolean("max");
    float* x = call.floats("x", srcSize(g));
    float* y = call.floats("y", dstSize(g));
    if (!x || !y) throw Failure{"rxvision-dnnl: x and y are required"};
    auto& p = pool(g, max);
    Args a{{DNNL_ARG_SRC, user(p.src, x)}, {DNNL_ARG_DST, user(p.dst, y)}};
    if (max) a.emplace(DNNL_ARG_WORKSPACE, p.workspace.view);
    run(p.forward, a, {p.workspace.buffer.get()});
  });
}

// pool2dBackward({ geometry, max, x, dy, dx }): for max, the forward pass runs again to find each
// window's winner (tfjs passes x, not oneDNN's workspace); ties go to the first, as in tfjs.
napi_value Pool2dBackward(napi_env env, napi_callback_info info) {
  return rxvision::guarded(env, [&] {
    rxvision::Fields call(env, info, "pool2dBackward");
    auto g = geometry(call);
    bool max = call.boolean("max");
    float* x = call.floats("x", max ? srcSize(g) : 0);
    float* dy = call.floats("dy", dstSize(g));
    float* dx = call.floats("dx", srcSize(g));
    if ((max && !x) || !dy || !dx) throw Failure{"rxvision-dnnl: x (for max), dy and dx are required"};
    auto& p = pool(g, max);
    const std::initializer_list<const NativeBuffer*> mine{p.workspace.buffer.get(), p.scratch_dst.buffer.get()};
    if (max) run(p.forward, {{DNNL_ARG_SRC, user(p.src, x)}, {DNNL_ARG_DST, p.scratch_dst.view}, {DNNL_ARG_WORKSPACE, p.workspace.view}}, mine);
    Args a{{DNNL_ARG_DIFF_DST, user(p.dst, dy)}, {DNNL_ARG_DIFF_SRC, user(p.src, dx)}};
    if (max) a.emplace(DNNL_ARG_WORKSPACE, p.workspace.view);
    run(p.backward, a, mine);
  });
}

// ---- sums over the leading axes: y[c] = scale · Σ_r x[r, c], in float64 as the JavaScript one ----

// sumRows({ rows, columns, scale, x, y })
napi_value SumRows(napi_env env, napi_callback_info info) {
  return rxvision::guarded(env, [&] {
    rxvision::Fields call(env, info, "sumRows");
    int64_t rows = call.integer("rows"), columns = call.integer("columns");
    double scale = call.number("scale");
    if (rows < 1 || columns < 1) throw Failure{"rxvision-dnnl: rows and columns must be positive"};
    const float* x = call.floats("x", size_t(rows * columns));
    float* y = call.floats("y", size_t(columns));
    if (!x || !y) throw Failure{"rxvision-dnnl: x and y are required"};
    // Each thread sums a band of rows, then the bands are added in thread order: the same sum on
    // every run with the same thread count.
    const int threads = omp_get_max_threads();
    std::vector<std::vector<double>> bands(size_t(threads), std::vector<double>(size_t(columns), 0.0));
#pragma omp parallel num_threads(threads)
    {
      auto& band = bands.at(size_t(omp_get_thread_num()));
#pragma omp for schedule(static)
      for (int64_t r = 0; r < rows; r++) {
        const float* row = x + r * columns;
        for (int64_t c = 0; c < columns; c++) band[size_t(c)] += row[c];
      }
    }
    std::vector<double> sums(size_t(columns), 0.0);
    for (const auto& band : bands)
      for (int64_t c = 0; c < columns; c++) sums[size_t(c)] += band[size_t(c)];
    for (int64_t c = 0; c < columns; c++) y[c] = float(sums[size_t(c)] * scale);
  });
}

// ---- matrix products: y = relu?(op(a) · op(b) + bias?), op a transpose where asked ----

struct MatMulShape {
  int64_t m, k, n;
  bool transpose_a, transpose_b, bias, relu, bf16;
};

memory::desc matrix(int64_t rows, int64_t columns, bool transposed, memory::data_type type = kF32) {
  // A transposed operand is read through its strides: nothing is copied (in float32).
  return memory::desc({rows, columns}, type, transposed ? tag::ba : tag::ab);
}

// A product, and for bf16 its operands' conversions (into the arenas, their layouts kept).
struct Product {
  Step pass;
  std::vector<std::pair<int, Relayout>> in;  // DNNL_ARG_SRC, DNNL_ARG_WEIGHTS; without a reorder in float32
};

Product& matmul(const MatMulShape& p) {
  static std::map<std::array<int64_t, 8>, std::unique_ptr<Product>> cache;
  auto& slot = cache[{p.m, p.k, p.n, p.transpose_a, p.transpose_b, p.bias, p.relu, p.bf16}];
  if (!slot) {
    const auto type = p.bf16 ? kBf16 : kF32;
    auto a = matrix(p.m, p.k, p.transpose_a, type), b = matrix(p.k, p.n, p.transpose_b, type);
    auto bias = p.bias ? memory::desc({1, p.n}, kF32, tag::ab) : memory::desc();
    dnnl::matmul::desc desc(a, b, bias, matrix(p.m, p.n, false));
    slot.reset(new Product{step(dnnl::matmul::primitive_desc(desc, attributes(p.relu), cpu())), {}});
    slot->in = {{DNNL_ARG_SRC, relayout(a, matrix(p.m, p.k, p.transpose_a), false, 0)},
                {DNNL_ARG_WEIGHTS, relayout(b, matrix(p.k, p.n, p.transpose_b), false, 1)}};
  }
  return *slot;
}

// matMul({ shape: { m, k, n, transposeA, transposeB }, a, b, bias | null, y, relu, bf16? }): a is m×k
// (k×m when transposed), b k×n (n×k when transposed), y m×n, all row-major.
napi_value MatMul(napi_env env, napi_callback_info info) {
  return rxvision::guarded(env, [&] {
    rxvision::Fields call(env, info, "matMul");
    auto shape = call.object("shape");
    MatMulShape p{shape.integer("m"), shape.integer("k"), shape.integer("n"), shape.boolean("transposeA"), shape.boolean("transposeB"), false,
                  call.boolean("relu"), false};
    if (p.m < 1 || p.k < 1 || p.n < 1) throw Failure{"rxvision-dnnl: matMul's sizes must be positive"};
    if (p.m * p.k > INT32_MAX || p.k * p.n > INT32_MAX || p.m * p.n > INT32_MAX) throw Unsupported{"rxvision-dnnl: a matrix of 2^31 elements or more"};
    float* a = call.floats("a", size_t(p.m * p.k));
    float* b = call.floats("b", size_t(p.k * p.n));
    float* bias = call.floats("bias", size_t(p.n));
    float* y = call.floats("y", size_t(p.m * p.n));
    if (!a || !b || !y) throw Failure{"rxvision-dnnl: a, b and y are required"};
    p.bias = bias != nullptr;
    p.bf16 = bf16Asked(call);
    Args run_args{{DNNL_ARG_SRC, user(matrix(p.m, p.k, p.transpose_a), a)},
                  {DNNL_ARG_WEIGHTS, user(matrix(p.k, p.n, p.transpose_b), b)},
                  {DNNL_ARG_DST, user(matrix(p.m, p.n, false), y)}};
    if (bias) run_args.emplace(DNNL_ARG_BIAS, user(memory::desc({1, p.n}, memory::data_type::f32, tag::ab), bias));
    auto& product = matmul(p);
    runRelayouted(product.pass, product.in, {}, run_args);
  });
}

// ---- batch normalisation's training step where oneDNN's vectorised kernel does not go ----
//
// oneDNN 2.6 runs its AVX-512 NHWC batch norm only for channels in multiples of 16; others take an
// AVX2 kernel about 2.4 times slower an element (a CIFAR ResNet's 24-channel stage: 13 ms of its
// 128 ms step). These loops are compiled for each ISA and picked at load (target_clones); each
// thread sums its own rows, 256 at a time in float then into doubles, and the threads' sums are
// added in thread order: the same result on every run with the same threads.

#define RXVISION_VECTORISED __attribute__((target_clones("avx512f", "avx2", "default"), optimize("O3")))
constexpr int64_t kRowBlock = 256;

// sum[c] += Σ_r f(r, c) over rows [begin, end), f as a per-row kernel on one row's channels.
RXVISION_VECTORISED void addColumns(const float* x, const float* centre, int64_t rows, int64_t channels, float* sum, bool square) {
  for (int64_t r = 0; r < rows; r++, x += channels)
    if (square)
      for (int64_t c = 0; c < channels; c++) sum[c] += (x[c] - centre[c]) * (x[c] - centre[c]);
    else
      for (int64_t c = 0; c < channels; c++) sum[c] += x[c];
}

// The gradient's sums; where `rectified` (the output after a fused ReLU) is given, dy counts only
// where it is above 0.
RXVISION_VECTORISED void addGradientColumns(const float* x, const float* dy, const float* rectified, const float* mean, int64_t rows,
                                            int64_t channels, float* sum_dy, float* sum_dy_centred) {
  // Two loops rather than a test of `rectified` inside one: that kept the compiler from vectorising.
  if (rectified)
    for (int64_t r = 0; r < rows; r++, x += channels, dy += channels, rectified += channels)
      for (int64_t c = 0; c < channels; c++) {
        const float d = dy[c], g = rectified[c] > 0.f ? d : 0.f;  // dy read either way: a select, not a branch
        sum_dy[c] += g;
        sum_dy_centred[c] += g * (x[c] - mean[c]);
      }
  else
    for (int64_t r = 0; r < rows; r++, x += channels, dy += channels)
      for (int64_t c = 0; c < channels; c++) {
        sum_dy[c] += dy[c];
        sum_dy_centred[c] += dy[c] * (x[c] - mean[c]);
      }
}

// y = x·a + b, then max(y, 0) where `relu`.
RXVISION_VECTORISED void normaliseRows(const float* x, const float* a, const float* b, int64_t rows, int64_t channels, bool relu, float* y) {
  for (int64_t r = 0; r < rows; r++, x += channels, y += channels)
    if (relu)
      for (int64_t c = 0; c < channels; c++) y[c] = std::max(x[c] * a[c] + b[c], 0.f);
    else
      for (int64_t c = 0; c < channels; c++) y[c] = x[c] * a[c] + b[c];
}

// dx = g·k + (x − mean)·p + q, g being dy (masked as addGradientColumns masks it).
RXVISION_VECTORISED void gradientRows(const float* x, const float* dy, const float* rectified, const float* mean, const float* k, const float* p,
                                      const float* q, int64_t rows, int64_t channels, float* dx) {
  if (rectified)
    for (int64_t r = 0; r < rows; r++, x += channels, dy += channels, dx += channels, rectified += channels)
      for (int64_t c = 0; c < channels; c++) {
        const float d = dy[c];
        dx[c] = (rectified[c] > 0.f ? d : 0.f) * k[c] + (x[c] - mean[c]) * p[c] + q[c];
      }
  else
    for (int64_t r = 0; r < rows; r++, x += channels, dy += channels, dx += channels)
      for (int64_t c = 0; c < channels; c++) dx[c] = dy[c] * k[c] + (x[c] - mean[c]) * p[c] + q[c];
}

// Runs `body(first row, rows)` over blocks of rows on every thread, each thread its own share,
// and returns each thread's float64 sums of `width` columns that body added into (in thread order).
template <typename Body>
std::vector<double> overRowBlocks(int64_t rows, int64_t width, Body body) {
  const int threads = omp_get_max_threads();
  std::vector<double> totals(static_cast<size_t>(threads * width), 0.0);
  const int64_t blocks = (rows + kRowBlock - 1) / kRowBlock;
#pragma omp parallel num_threads(threads)
  {
    const int t = omp_get_thread_num(), n = omp_get_num_threads();
    std::vector<float> partial(static_cast<size_t>(width));
    double* total = &totals[size_t(t * width)];
    for (int64_t block = blocks * t / n; block < blocks * (t + 1) / n; block++) {
      std::fill(partial.begin(), partial.end(), 0.f);
      const int64_t first = block * kRowBlock;
      body(first, std::min(kRowBlock, rows - first), partial.data());
      for (int64_t c = 0; c < width; c++) total[c] += partial[size_t(c)];
    }
  }
  std::vector<double> sum(static_cast<size_t>(width), 0.0);
  for (int t = 0; t < threads; t++)
    for (int64_t c = 0; c < width; c++) sum[size_t(c)] += totals[size_t(t * width + c)];
  return sum;
}

void batchNormTrainingLoops(int64_t rows, int64_t channels, float epsilon, bool relu, const float* x, const float* scale, const float* offset,
                            float* y, float* mean, float* variance) {
  const std::vector<float> zeros(static_cast<size_t>(channels), 0.f);
  auto sum = overRowBlocks(rows, channels, [&](int64_t first, int64_t n, float* partial) {
    addColumns(x + first * channels, zeros.data(), n, channels, partial, false);
  });
  for (int64_t c = 0; c < channels; c++) mean[c] = float(sum[size_t(c)] / double(rows));
  auto squares = overRowBlocks(rows, channels, [&](int64_t first, int64_t n, float* partial) {
    addColumns(x + first * channels, mean, n, channels, partial, true);
  });
  std::vector<float> a(static_cast<size_t>(channels)), b(static_cast<size_t>(channels));
  for (int64_t c = 0; c < channels; c++) {
    variance[c] = float(squares[size_t(c)] / double(rows));
    const float inverse = 1.f / std::sqrt(variance[c] + epsilon);
    a[size_t(c)] = scale[c] * inverse;
    b[size_t(c)] = offset[c] - mean[c] * a[size_t(c)];
  }
  overRowBlocks(rows, 0, [&](int64_t first, int64_t n, float*) {
    normaliseRows(x + first * channels, a.data(), b.data(), n, channels, relu, y + first * channels);
  });
}

// dx = k·(dy − Σdy/N − x̂·Σ(dy·x̂)/N) with k = scale/σ, x̂ = (x − mean)/σ; dscale = Σ(dy·x̂), doffset = Σdy;
// dy taken as 0 where `rectified` (a fused ReLU's output), if given, is not above 0.
void batchNormGradientLoops(int64_t rows, int64_t channels, float epsilon, const float* x, const float* dy, const float* rectified,
                            const float* scale, const float* mean, const float* variance, float* dx, float* dscale, float* doffset) {
  auto sums = overRowBlocks(rows, 2 * channels, [&](int64_t first, int64_t n, float* partial) {
    const float* masks = rectified ? rectified + first * channels : nullptr;
    addGradientColumns(x + first * channels, dy + first * channels, masks, mean, n, channels, partial, partial + channels);
  });
  std::vector<float> k(static_cast<size_t>(channels)), p(static_cast<size_t>(channels)), q(static_cast<size_t>(channels));
  for (int64_t c = 0; c < channels; c++) {
    const double inverse = 1.0 / std::sqrt(double(variance[c]) + double(epsilon));
    const double sum_dy = sums[size_t(c)], sum_dy_centred = sums[size_t(channels + c)];
    dscale[c] = float(sum_dy_centred * inverse);
    doffset[c] = float(sum_dy);
    const double kc = double(scale[c]) * inverse;
    k[size_t(c)] = float(kc);
    p[size_t(c)] = float(-kc * inverse * inverse * sum_dy_centred / double(rows));
    q[size_t(c)] = float(-kc * sum_dy / double(rows));
  }
  overRowBlocks(rows, 0, [&](int64_t first, int64_t n, float*) {
    const float* masks = rectified ? rectified + first * channels : nullptr;
    gradientRows(x + first * channels, dy + first * channels, masks, mean, k.data(), p.data(), q.data(), n, channels, dx + first * channels);
  });
}

// Whether oneDNN's own kernel is the vectorised one for these channels.
bool oneDnnBatchNormVectorised(int64_t channels) { return channels % 16 == 0; }

// ---- batch normalisation over every axis but the last (rows × channels), with the batch's statistics ----

// rows × channels as NHWC with H = W = 1: channels innermost, as tfjs lays them out.
memory::desc rowsOfChannels(int64_t rows, int64_t channels) { return memory::desc({rows, channels, 1, 1}, memory::data_type::f32, tag::nhwc); }
memory::desc perChannel(int64_t channels) { return memory::desc({channels}, memory::data_type::f32, tag::x); }

struct BatchNorm {
  Step forward, backward;
  memory::desc data, stats;
};

BatchNorm& batchNorm(int64_t rows, int64_t channels, float epsilon) {
  static std::map<std::tuple<int64_t, int64_t, float>, std::unique_ptr<BatchNorm>> cache;
  auto& slot = cache[{rows, channels, epsilon}];
  if (!slot) {
    memory::desc data = rowsOfChannels(rows, channels), stats = perChannel(channels);
    auto flags = dnnl::normalization_flags::use_scale | dnnl::normalization_flags::use_shift;
    dnnl::batch_normalization_forward::primitive_desc fpd({dnnl::prop_kind::forward_training, data, epsilon, flags}, attributes(), cpu());
    dnnl::batch_normalization_backward::primitive_desc bpd({dnnl::prop_kind::backward, data, data, epsilon, flags}, attributes(), cpu(), fpd);
    slot.reset(new BatchNorm{step(fpd), step(bpd), data, stats});
  }
  return *slot;
}

struct Rows {
  int64_t rows, channels;
  float epsilon;
};

Rows rows(const rxvision::Fields& call) {
  auto shape = call.object("shape");
  int64_t r = shape.integer("rows"), c = shape.integer("channels");
  double epsilon = shape.number("epsilon");
  if (r < 1 || c < 1 || !(epsilon > 0)) throw Failure{"rxvision-dnnl: rows and channels must be positive, and epsilon above 0"};
  if (r * c > INT32_MAX) throw Unsupported{"rxvision-dnnl: a tensor of 2^31 elements or more"};
  return {r, c, float(epsilon)};
}

// batchNormTraining({ shape: { rows, channels, epsilon }, x, scale, offset, y, mean, variance, relu? }): y
// (rectified where relu) and the batch's mean and (biased) variance.
napi_value BatchNormTraining(napi_env env, napi_callback_info info) {
  return rxvision::guarded(env, [&] {
    rxvision::Fields call(env, info, "batchNormTraining");
    auto r = rows(call);
    size_t n = size_t(r.rows * r.channels), c = size_t(r.channels);
    float* x = call.floats("x", n);
    float* scale = call.floats("scale", c);
    float* offset = call.floats("offset", c);
    float* y = call.floats("y", n);
    float* mean = call.floats("mean", c);
    float* variance = call.floats("variance", c);
    if (!x || !scale || !offset || !y || !mean || !variance) throw Failure{"rxvision-dnnl: every batchNormTraining operand is required"};
    const bool relu = call.flag("relu");
    if (relu || !oneDnnBatchNormVectorised(r.channels))
      return batchNormTrainingLoops(r.rows, r.channels, r.epsilon, relu, x, scale, offset, y, mean, variance);
    auto& b = batchNorm(r.rows, r.channels, r.epsilon);
    run(b.forward, {{DNNL_ARG_SRC, user(b.data, x)}, {DNNL_ARG_SCALE, user(b.stats, scale)}, {DNNL_ARG_SHIFT, user(b.stats, offset)},
                    {DNNL_ARG_DST, user(b.data, y)}, {DNNL_ARG_MEAN, user(b.stats, mean)}, {DNNL_ARG_VARIANCE, user(b.stats, variance)}});
  });
}

// batchNormTrainingGrad({ shape, x, dy, scale, mean, variance, dx, dscale, doffset, rectified? }): rectified
// is the forward's output where it fused a ReLU.
napi_value BatchNormTrainingGrad(napi_env env, napi_callback_info info) {
  return rxvision::guarded(env, [&] {
    rxvision::Fields call(env, info, "batchNormTrainingGrad");
    auto r = rows(call);
    size_t n = size_t(r.rows * r.channels), c = size_t(r.channels);
    float* x = call.floats("x", n);
    float* dy = call.floats("dy", n);
    float* scale = call.floats("scale", c);
    float* mean = call.floats("mean", c);
    float* variance = call.floats("variance", c);
    float* dx = call.floats("dx", n);
    float* dscale = call.floats("dscale", c);
    float* doffset = call.floats("doffset", c);
    if (!x || !dy || !scale || !mean || !variance || !dx || !dscale || !doffset)
      throw Failure{"rxvision-dnnl: every batchNormTrainingGrad operand is required"};
    float* rectified = call.floats("rectified", n);
    if (rectified || !oneDnnBatchNormVectorised(r.channels))
      return batchNormGradientLoops(r.rows, r.channels, r.epsilon, x, dy, rectified, scale, mean, variance, dx, dscale, doffset);
    auto& b = batchNorm(r.rows, r.channels, r.epsilon);
    // oneDNN 2.6 asks for a shift whenever use_shift is set, though dx does not depend on it and
    // it is never read: the scale's buffer stands in.
    run(b.backward, {{DNNL_ARG_SRC, user(b.data, x)}, {DNNL_ARG_DIFF_DST, user(b.data, dy)}, {DNNL_ARG_SCALE, user(b.stats, scale)},
                     {DNNL_ARG_SHIFT, user(b.stats, scale)}, {DNNL_ARG_MEAN, user(b.stats, mean)}, {DNNL_ARG_VARIANCE, user(b.stats, variance)},
                     {DNNL_ARG_DIFF_SRC, user(b.data, dx)}, {DNNL_ARG_DIFF_SCALE, user(b.stats, dscale)}, {DNNL_ARG_DIFF_SHIFT, user(b.stats, doffset)}});
  });
}

// Inference: the moving statistics given, scale and shift each optional (tfjs's batchNorm).
Step& batchNormInference(const Rows& r, bool scale, bool shift) {
  static std::map<std::tuple<int64_t, int64_t, float, bool, bool>, std::unique_ptr<Step>> cache;
  auto& slot = cache[{r.rows, r.channels, r.epsilon, scale, shift}];
  if (!slot) {
    const memory::desc data = rowsOfChannels(r.rows, r.channels);
    auto flags = dnnl::normalization_flags::use_global_stats;
    if (scale) flags |= dnnl::normalization_flags::use_scale;
    if (shift) flags |= dnnl::normalization_flags::use_shift;
    dnnl::batch_normalization_forward::desc desc(dnnl::prop_kind::forward_inference, data, r.epsilon, flags);
    slot.reset(new Step(step(dnnl::batch_normalization_forward::primitive_desc(desc, attributes(), cpu()))));
  }
  return *slot;
}

// batchNormInference({ shape, x, mean, variance, scale | null, offset | null, y }): y from the
// given statistics, as tfjs's FusedBatchNorm (validation and test passes).
napi_value BatchNormInference(napi_env env, napi_callback_info info) {
  return rxvision::guarded(env, [&] {
    rxvision::Fields call(env, info, "batchNormInference");
    auto r = rows(call);
    size_t n = size_t(r.rows * r.channels), c = size_t(r.channels);
    float* x = call.floats("x", n);
    float* mean = call.floats("mean", c);
    float* variance = call.floats("variance", c);
    float* scale = call.floats("scale", c);
    float* offset = call.floats("offset", c);
    float* y = call.floats("y", n);
    if (!x || !mean || !variance || !y) throw Failure{"rxvision-dnnl: batchNormInference needs x, mean, variance and y"};
    auto& pass = batchNormInference(r, scale != nullptr, offset != nullptr);
    const memory::desc data = rowsOfChannels(r.rows, r.channels), stats = perChannel(r.channels);
    Args args{{DNNL_ARG_SRC, user(data, x)}, {DNNL_ARG_DST, user(data, y)},
              {DNNL_ARG_MEAN, user(stats, mean)}, {DNNL_ARG_VARIANCE, user(stats, variance)}};
    if (scale) args.emplace(DNNL_ARG_SCALE, user(stats, scale));
    if (offset) args.emplace(DNNL_ARG_SHIFT, user(stats, offset));
    run(pass, args);
  });
}

// ---- activations and their gradients, element by element, one pass each ----

struct Activation {
  Step forward, backward;
  memory::desc data;
};

// tfjs-layers' names for the activations oneDNN computes as one kernel; swish is SiLU (x·σ(x)).
const std::map<std::string, dnnl::algorithm> kActivations{{"gelu", dnnl::algorithm::eltwise_gelu_erf},
                                                          {"relu", dnnl::algorithm::eltwise_relu},
                                                          {"sigmoid", dnnl::algorithm::eltwise_logistic},
                                                          {"tanh", dnnl::algorithm::eltwise_tanh},
                                                          {"swish", dnnl::algorithm::eltwise_swish}};

Activation& activation(const std::string& name, int64_t elements) {
  static std::map<std::pair<std::string, int64_t>, std::unique_ptr<Activation>> cache;
  auto& slot = cache[{name, elements}];
  if (!slot) {
    const auto algorithm = kActivations.at(name);
    const float alpha = algorithm == dnnl::algorithm::eltwise_swish ? 1.f : 0.f;  // relu's slope below 0, swish's σ(αx)
    memory::desc data({elements}, memory::data_type::f32, tag::a);
    dnnl::eltwise_forward::primitive_desc fpd({dnnl::prop_kind::forward_training, algorithm, data, alpha, 0.f}, attributes(), cpu());
    dnnl::eltwise_backward::primitive_desc bpd({algorithm, data, data, alpha, 0.f}, attributes(), cpu(), fpd);
    slot.reset(new Activation{step(fpd), step(bpd), data});
  }
  return *slot;
}

// The call's activation name and element count, checked.
std::pair<std::string, int64_t> activationCall(const rxvision::Fields& call) {
  std::string name = call.string("activation");
  if (!kActivations.count(name)) throw Failure{"rxvision-dnnl: no activation named " + name};
  int64_t elements = call.integer("elements");
  if (elements < 1) throw Failure{"rxvision-dnnl: elements must be positive"};
  if (elements > INT32_MAX) throw Unsupported{"rxvision-dnnl: a tensor of 2^31 elements or more"};
  return {name, elements};
}

// activation({ activation, elements, x, y }): y = f(x).
napi_value ActivationForward(napi_env env, napi_callback_info info) {
  return rxvision::guarded(env, [&] {
    rxvision::Fields call(env, info, "activation");
    auto [name, elements] = activationCall(call);
    float* x = call.floats("x", size_t(elements));
    float* y = call.floats("y", size_t(elements));
    if (!x || !y) throw Failure{"rxvision-dnnl: x and y are required"};
    auto& a = activation(name, elements);
    run(a.forward, {{DNNL_ARG_SRC, user(a.data, x)}, {DNNL_ARG_DST, user(a.data, y)}});
  });
}

// activationBackward({ activation, elements, x, dy, dx }): dx = dy · f'(x).
napi_value ActivationBackward(napi_env env, napi_callback_info info) {
  return rxvision::guarded(env, [&] {
    rxvision::Fields call(env, info, "activationBackward");
    auto [name, elements] = activationCall(call);
    float* x = call.floats("x", size_t(elements));
    float* dy = call.floats("dy", size_t(elements));
    float* dx = call.floats("dx", size_t(elements));
    if (!x || !dy || !dx) throw Failure{"rxvision-dnnl: x, dy and dx are required"};
    auto& a = activation(name, elements);
    run(a.backward, {{DNNL_ARG_SRC, user(a.data, x)}, {DNNL_ARG_DIFF_DST, user(a.data, dy)}, {DNNL_ARG_DIFF_SRC, user(a.data, dx)}});
  });
}

// ---- element-wise binary operations: y = a ∘ b, b broadcast over a's shape ----

const std::map<std::string, dnnl::algorithm> kBinary{{"add", dnnl::algorithm::binary_add},
                                                     {"sub", dnnl::algorithm::binary_sub},
                                                     {"mul", dnnl::algorithm::binary_mul},
                                                     {"div", dnnl::algorithm::binary_div}};

// a's and b's shapes with neighbouring axes merged where b is broadcast along both or along
// neither, and axes of one element dropped: [N, H, W, C] ∘ [1, 1, 1, C] is [NHW, C] ∘ [1, C],
// shapes oneDNN's vectorised kernels take.
std::pair<memory::dims, memory::dims> merged(const memory::dims& a, const memory::dims& b) {
  memory::dims ma, mb;
  for (size_t i = 0; i < a.size(); i++) {
    if (a[i] == 1) continue;
    const bool broadcast = b[i] == 1;
    if (!ma.empty() && (mb.back() == 1) == broadcast) {
      ma.back() *= a[i];
      mb.back() *= b[i];
    } else {
      ma.push_back(a[i]);
      mb.push_back(b[i]);
    }
  }
  if (ma.empty()) ma = mb = {1};
  return {ma, mb};
}

memory::desc rowMajor(const memory::dims& dims) {
  memory::dims strides(dims.size());
  int64_t stride = 1;
  for (size_t i = dims.size(); i-- > 0;) strides[i] = stride, stride *= dims[i];
  return memory::desc(dims, memory::data_type::f32, strides);
}

struct Binary {
  std::optional<Step> pass;  // none where oneDNN has only its reference kernel
  memory::desc a, b;
};

Binary& binary(const std::string& op, const memory::dims& a, const memory::dims& b) {
  static std::map<std::tuple<std::string, memory::dims, memory::dims>, std::unique_ptr<Binary>> cache;
  auto& slot = cache[{op, a, b}];
  if (!slot) {
    dnnl::binary::desc desc(kBinary.at(op), rowMajor(a), rowMajor(b), rowMajor(a));
    dnnl::binary::primitive_desc pd(desc, attributes(), cpu());
    // oneDNN's reference kernel runs element by element: the kernel this one replaced is faster.
    const bool vectorised = std::string(pd.impl_info_str()).rfind("ref", 0) != 0;
    slot.reset(new Binary{vectorised ? std::optional<Step>(step(pd)) : std::nullopt, rowMajor(a), rowMajor(b)});
  }
  if (!slot->pass) throw Unsupported{"rxvision-dnnl: no vectorised kernel for this broadcast"};
  return *slot;
}

// binary({ op, shape, bShape, a, b, y }): y = a ∘ b for op add, sub, mul or div; a and y
// of `shape`, b of `bShape` (as many axes, each shape's or 1), all row-major.
napi_value BinaryOp(napi_env env, napi_callback_info info) {
  return rxvision::guarded(env, [&] {
    rxvision::Fields call(env, info, "binary");
    std::string op = call.string("op");
    if (!kBinary.count(op)) throw Failure{"rxvision-dnnl: no binary operation named " + op};
    memory::dims shape = call.integers("shape"), b_shape = call.integers("bShape");
    if (shape.empty() || shape.size() > DNNL_MAX_NDIMS || b_shape.size() != shape.size())
      throw Failure{"rxvision-dnnl: shape and bShape must have the same 1 to " + std::to_string(DNNL_MAX_NDIMS) + " axes"};
    int64_t elements = 1, b_elements = 1;
    for (size_t i = 0; i < shape.size(); i++) {
      if (shape[i] < 1 || (b_shape[i] != shape[i] && b_shape[i] != 1))
        throw Failure{"rxvision-dnnl: every axis is positive, and bShape's is shape's or 1"};
      if (shape[i] > INT32_MAX / elements) throw Unsupported{"rxvision-dnnl: a tensor of 2^31 elements or more"};
      elements *= shape[i], b_elements *= b_shape[i];
    }
    float* a = call.floats("a", size_t(elements));
    float* b = call.floats("b", size_t(b_elements));
    float* y = call.floats("y", size_t(elements));
    if (!a || !b || !y) throw Failure{"rxvision-dnnl: a, b and y are required"};
    auto [ma, mb] = merged(shape, b_shape);
    auto& pass = binary(op, ma, mb);
    run(*pass.pass, {{DNNL_ARG_SRC_0, user(pass.a, a)}, {DNNL_ARG_SRC_1, user(pass.b, b)}, {DNNL_ARG_DST, user(pass.a, y)}});
  });
}

// ---- the process: threads, malloc ----

// setThreads(n): the OpenMP threads oneDNN runs on (omp_set_num_threads is per calling thread, and
// every call comes from the JavaScript thread).
napi_value SetThreads(napi_env env, napi_callback_info info) {
  return rxvision::guarded(env, [&] {
    auto args = rxvision::arguments<1>(env, info, "setThreads");
    int64_t threads = rxvision::integer(env, args[0], "threads");
    if (threads < 1 || threads > 1024) throw Failure{"rxvision-dnnl: threads must be from 1 to 1024"};
    omp_set_num_threads(int(threads));
  });
}

// keepFreedMemory(mmapThreshold, trimThreshold): glibc malloc's settings, changed at run time, so
// that large buffers freed on each step are reused rather than unmapped and faulted in again.
napi_value KeepFreedMemory(napi_env env, napi_callback_info info) {
  napi_value result = nullptr;
  rxvision::guarded(env, [&] {
    auto args = rxvision::arguments<2>(env, info, "keepFreedMemory");
    int64_t mmap_threshold = rxvision::integer(env, args[0], "mmapThreshold"), trim_threshold = rxvision::integer(env, args[1], "trimThreshold");
    bool ok = mallopt(M_MMAP_THRESHOLD, int(mmap_threshold)) == 1 && mallopt(M_TRIM_THRESHOLD, int(trim_threshold)) == 1;
    rxvision::check(napi_get_boolean(env, ok, &result), "cannot answer");
  });
  return result;
}

napi_value Init(napi_env env, napi_value exports) {
  const dnnl_version_t* v = dnnl_version();
  std::string version = std::to_string(v->major) + "." + std::to_string(v->minor) + "." + std::to_string(v->patch);
  napi_value version_value, checked_value, bf16_value;
  napi_get_boolean(env, bf16Native(), &bf16_value);
  napi_create_string_utf8(env, version.c_str(), version.size(), &version_value);
#ifdef RXVISION_DNNL_CHECKED
  napi_get_boolean(env, true, &checked_value);
#else
  napi_get_boolean(env, false, &checked_value);
#endif
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
      {"batchNormInference", nullptr, BatchNormInference, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"binary", nullptr, BinaryOp, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"activation", nullptr, ActivationForward, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"activationBackward", nullptr, ActivationBackward, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"setThreads", nullptr, SetThreads, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"keepFreedMemory", nullptr, KeepFreedMemory, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"version", nullptr, nullptr, nullptr, nullptr, version_value, napi_enumerable, nullptr},
      {"checked", nullptr, nullptr, nullptr, nullptr, checked_value, napi_enumerable, nullptr},
      {"bf16", nullptr, nullptr, nullptr, nullptr, bf16_value, napi_enumerable, nullptr},
  };
  napi_define_properties(env, exports, sizeof(properties) / sizeof(properties[0]), properties);
  return exports;
}

}  // namespace

NAPI_MODULE_INIT() { return Init(env, exports); }
