// Reading a call's arguments from JavaScript, and turning what went wrong into one thrown line.
#pragma once

#include <node_api.h>
#include <oneapi/dnnl/dnnl.hpp>

#include <array>
#include <cstdint>
#include <exception>
#include <string>
#include <vector>
#include <utility>

namespace rxvision {

// A caller's mistake: a TypeError-like line naming the argument.
struct Failure {
  std::string message;
};

// A problem the addon does not take (it would have to guess): thrown with the code below, on
// which @rxvision/backend runs the kernel it replaced instead. Nothing has been written.
struct Unsupported {
  std::string message;
};
constexpr const char* kUnsupportedCode = "RXVISION_DNNL_UNSUPPORTED";

inline void check(napi_status status, const char* what) {
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

inline int64_t integer(napi_env env, napi_value value, const std::string& name) {
  int64_t result = 0;
  check(napi_get_value_int64(env, value, &result), (name + " must be a number").c_str());
  return result;
}

// The named fields of one object: every call but the two scalar ones takes its arguments so, by
// the names index.d.ts declares; a field that is missing reads as undefined and fails by its name.
class Fields {
 public:
  Fields(napi_env env, napi_value object, std::string path) : env_(env), object_(object), path_(std::move(path)) {
    napi_valuetype type;
    check(napi_typeof(env, object, &type), "cannot inspect an argument");
    if (type != napi_object) throw Failure{"rxvision-dnnl: " + path_ + " must be an object of named fields"};
  }
  // The call's one argument.
  Fields(napi_env env, napi_callback_info info, const char* call) : Fields(env, arguments<1>(env, info, call)[0], call) {}

  napi_value get(const char* name) const {
    napi_value value = nullptr;
    check(napi_get_named_property(env_, object_, name, &value), "cannot read a field");
    return value;
  }
  std::string named(const char* name) const { return path_ + "." + name; }
  Fields object(const char* name) const { return Fields(env_, get(name), named(name)); }
  int64_t integer(const char* name) const { return rxvision::integer(env_, get(name), named(name)); }
  double number(const char* name) const {
    double result = 0;
    check(napi_get_value_double(env_, get(name), &result), (named(name) + " must be a number").c_str());
    return result;
  }
  std::string string(const char* name) const {
    napi_value value = get(name);
    size_t length = 0;
    check(napi_get_value_string_utf8(env_, value, nullptr, 0, &length), (named(name) + " must be a string").c_str());
    std::string result(length, '\0');
    check(napi_get_value_string_utf8(env_, value, result.data(), length + 1, &length), (named(name) + " must be a string").c_str());
    return result;
  }
  bool boolean(const char* name) const {
    bool result = false;
    check(napi_get_value_bool(env_, get(name), &result), (named(name) + " must be a boolean").c_str());
    return result;
  }
  // A boolean that may be left out (undefined: false).
  bool flag(const char* name) const {
    napi_value value = get(name);
    napi_valuetype type;
    check(napi_typeof(env_, value, &type), "cannot inspect an argument");
    return type != napi_undefined && boolean(name);
  }

  // An array of integers, each read as `integer` reads one.
  std::vector<int64_t> integers(const char* name) const {
    napi_value value = get(name);
    bool is_array = false;
    check(napi_is_array(env_, value, &is_array), "cannot inspect an argument");
    if (!is_array) throw Failure{"rxvision-dnnl: " + named(name) + " must be an array of integers"};
    uint32_t length = 0;
    check(napi_get_array_length(env_, value, &length), "cannot read an array");
    std::vector<int64_t> result(length);
    for (uint32_t i = 0; i < length; i++) {
      napi_value element = nullptr;
      check(napi_get_element(env_, value, i, &element), "cannot read an array");
      result[i] = rxvision::integer(env_, element, named(name) + "[" + std::to_string(i) + "]");
    }
    return result;
  }

  // The data of a Float32Array of at least `elements` floats (shared memory included); null for
  // null or a field left out.
  float* floats(const char* name, size_t elements) const {
    napi_value value = get(name);
    napi_valuetype type;
    check(napi_typeof(env_, value, &type), "cannot inspect an argument");
    if (type == napi_null || type == napi_undefined) return nullptr;
    bool is_array = false;
    check(napi_is_typedarray(env_, value, &is_array), "cannot inspect an argument");
    napi_typedarray_type kind;
    size_t length = 0;
    void* data = nullptr;
    if (is_array) check(napi_get_typedarray_info(env_, value, &kind, &length, &data, nullptr, nullptr), "cannot read a typed array");
    if (!is_array || kind != napi_float32_array) throw Failure{"rxvision-dnnl: " + named(name) + " must be a Float32Array"};
    if (length < elements)
      throw Failure{"rxvision-dnnl: " + named(name) + " holds " + std::to_string(length) + " floats, " + std::to_string(elements) + " needed"};
    return static_cast<float*>(data);
  }

 private:
  napi_env env_;
  napi_value object_;
  std::string path_;
};

// Runs a call's body, turning each way it can fail into one thrown JavaScript error.
template <typename Body>
napi_value guarded(napi_env env, Body body) {
  try {
    body();
  } catch (const Unsupported& unsupported) {
    napi_throw_error(env, kUnsupportedCode, unsupported.message.c_str());
  } catch (const Failure& failure) {
    napi_throw_error(env, nullptr, failure.message.c_str());
  } catch (const dnnl::error& error) {
    // oneDNN has no implementation for this problem: the kernel replaced takes it.
    if (error.status == dnnl_unimplemented) napi_throw_error(env, kUnsupportedCode, (std::string("oneDNN: ") + error.what()).c_str());
    else napi_throw_error(env, nullptr, (std::string("oneDNN: ") + error.what()).c_str());
  } catch (const std::exception& error) {
    napi_throw_error(env, nullptr, (std::string("rxvision-dnnl: ") + error.what()).c_str());
  }
  return nullptr;
}

}  // namespace rxvision
