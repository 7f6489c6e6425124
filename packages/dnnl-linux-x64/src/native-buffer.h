// Memory the addon owns: oneDNN's blocked weights, pooling's workspace and scratch output, and the
// scratchpad every primitive works in. A checked build (RXVISION_DNNL_CHECKED, which the tests
// build with AddressSanitizer) ends each buffer against a page that may not be touched and fills
// the bytes around it with a pattern: oneDNN's generated code is not instrumented by ASan, so a
// kernel writing past a buffer faults at the write, and one writing just before it is named by
// check() after the call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#ifdef RXVISION_DNNL_CHECKED
#include <sys/mman.h>
#include <unistd.h>
#endif

namespace rxvision {

constexpr size_t kAlignment = 64;  // oneDNN's, and a cache line

inline size_t roundUp(size_t bytes, size_t to) { return (bytes + to - 1) / to * to; }

class NativeBuffer {
 public:
  explicit NativeBuffer(size_t bytes) : bytes_(bytes) {
    if (bytes == 0) return;
#ifdef RXVISION_DNNL_CHECKED
    const size_t page = size_t(sysconf(_SC_PAGESIZE));
    const size_t rounded = roundUp(bytes, kAlignment);
    span_ = roundUp(rounded, page) + 2 * page;  // a guard page on either side
    base_ = static_cast<uint8_t*>(mmap(nullptr, span_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
    if (base_ == MAP_FAILED) std::abort();
    mprotect(base_, page, PROT_NONE);
    mprotect(base_ + span_ - page, page, PROT_NONE);
    data_ = base_ + span_ - page - rounded;
    std::memset(base_ + page, kPattern, span_ - 2 * page);
#else
    data_ = static_cast<uint8_t*>(std::aligned_alloc(kAlignment, roundUp(bytes, kAlignment)));
    if (!data_) std::abort();
#endif
  }

  ~NativeBuffer() {
#ifdef RXVISION_DNNL_CHECKED
    if (base_) munmap(base_, span_);
#else
    std::free(data_);
#endif
  }

  NativeBuffer(const NativeBuffer&) = delete;
  NativeBuffer& operator=(const NativeBuffer&) = delete;

  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }

  // In a checked build, stops the process where anything wrote outside [data, data + bytes).
  void check(const char* what) const {
#ifdef RXVISION_DNNL_CHECKED
    if (!base_) return;
    const size_t page = size_t(sysconf(_SC_PAGESIZE));
    for (const uint8_t* p = base_ + page; p < data_; p++) untouched(p, what);
    for (const uint8_t* p = data_ + bytes_; p < base_ + span_ - page; p++) untouched(p, what);
#else
    (void)what;
#endif
  }

 private:
#ifdef RXVISION_DNNL_CHECKED
  static constexpr uint8_t kPattern = 0xA5;
  static void untouched(const uint8_t* p, const char* what) {
    if (*p == kPattern) return;
    std::fprintf(stderr, "rxvision-dnnl: a kernel wrote outside %s\n", what);
    std::abort();
  }
  uint8_t* base_ = nullptr;
  size_t span_ = 0;
#endif
  uint8_t* data_ = nullptr;
  size_t bytes_;
};

}  // namespace rxvision
