// Squash's native kernels for TensorFlow.js (Node-API, no other dependency).
//
// Every function works on Float32Arrays owned by JavaScript (the cpu backend's tensor storage):
// inputs are read in place, outputs are written into arrays the caller allocated. Hot loops are
// compiled three times (AVX-512, AVX2+FMA, baseline x86-64) with GCC's target_clones, and the
// loader picks the one this CPU runs, so one build works on every x86-64 machine. Work is split
// over a small persistent thread pool (2 threads by default; SQUASH_NATIVE_THREADS overrides).
#include <node_api.h>

#include <algorithm>
#include <climits>
#include <cmath>
#include <condition_variable>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
#define SQ_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define SQ_CLONES
#endif

namespace {

// ---------------------------------------------------------------- thread pool
class Pool {
 public:
  explicit Pool(int n) : n_(std::max(1, n)) {
    for (int i = 1; i < n_; i++) workers_.emplace_back([this, i] { loop(i); });
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> g(mu_);
      stop_ = true;
      gen_++;
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
  }
  int size() const { return n_; }
  // Runs fn(tid) on every thread (tid 0 is the caller) and waits for all.
  void run(const std::function<void(int)>& fn) {
    if (n_ == 1) return fn(0);
    std::unique_lock<std::mutex> lk(call_mu_);
    {
      std::lock_guard<std::mutex> g(mu_);
      fn_ = &fn;
      pending_ = n_ - 1;
      gen_++;
    }
    cv_.notify_all();
    fn(0);
    std::unique_lock<std::mutex> g(mu_);
    done_cv_.wait(g, [this] { return pending_ == 0; });
  }

 private:
  void loop(int tid) {
    uint64_t seen = 0;
    for (;;) {
      const std::function<void(int)>* fn;
      {
        std::unique_lock<std::mutex> g(mu_);
        cv_.wait(g, [&] { return gen_ != seen; });
        seen = gen_;
        if (stop_) return;
        fn = fn_;
      }
      (*fn)(tid);
      {
        std::lock_guard<std::mutex> g(mu_);
        if (--pending_ == 0) done_cv_.notify_one();
      }
    }
  }
  int n_;
  std::vector<std::thread> workers_;
  std::mutex mu_, call_mu_;
  std::condition_variable cv_, done_cv_;
  const std::function<void(int)>* fn_ = nullptr;
  int pending_ = 0;
  uint64_t gen_ = 0;
  bool stop_ = false;
};

int pool_threads() {
  const char* env = std::getenv("SQUASH_NATIVE_THREADS");
  int n = env ? std::atoi(env) : 2;
  int hw = (int)std::thread::hardware_concurrency();
  if (n < 1) n = 1;
  if (hw > 0 && n > hw) n = hw;
  return n;
}

Pool& pool() {
  static Pool p(pool_threads());
  return p;
}

// Splits [0, n) into contiguous ranges, one per thread; small jobs stay on the caller.
void parallel_for(long n, long min_per_thread, const std::function<void(int, long, long)>& fn) {
  int t = pool().size();
  if (n <= 0) return;
  if (t == 1 || n < 2 * min_per_thread) return fn(0, 0, n);
  long chunk = (n + t - 1) / t;
  pool().run([&](int tid) {
    long a = tid * chunk, b = std::min(n, a + chunk);
    if (a < b) fn(tid, a, b);
  });
}

// Reductions are split into this many fixed ranges whatever the thread count, each range's partial
// computed by one thread and the partials added in range order: a sum's rounding then depends on
// nothing but its inputs, so 1 and 2 threads (a `--jobs` worker, a queue worker) give the same bits.
constexpr int kChunks = 8;

void for_chunks(long n, const std::function<void(int, long, long)>& fn) {
  const long chunk = (n + kChunks - 1) / kChunks;
  parallel_for(kChunks, 1, [&](int, long a, long b) {
    for (long k = a; k < b; k++) {
      const long s = k * chunk, e = std::min(n, s + chunk);
      if (s < e) fn((int)k, s, e);
    }
  });
}

// ---------------------------------------------------------------- GEMM
// C[M×N] (+)= op(A)[M×K] · op(B)[K×N]. A is read through strides (element (i, k) at
// A[i*a_rs + k*a_cs]), so A and Aᵀ need no copy; B is packed into panels of 16 columns.
constexpr int MR = 6, NR = 16;
typedef float v16 __attribute__((vector_size(64)));

inline long panels(int N) { return (N + NR - 1) / NR; }

// Packs op(B) (element (k, n) at B[k*ldb + n], or B[n*ldb + k] when transposed) into
// panels[p][k][0..15], zero-padded past N.
SQ_CLONES void pack_b(const float* B, bool trans, long ldb, int K, int N, float* out, long p0, long p1) {
  for (long p = p0; p < p1; p++) {
    float* dst = out + p * (long)K * NR;
    int n0 = (int)p * NR, nn = std::min(NR, N - n0);
    if (!trans) {
      for (int k = 0; k < K; k++) {
        const float* src = B + (long)k * ldb + n0;
        int j = 0;
        for (; j < nn; j++) dst[k * NR + j] = src[j];
        for (; j < NR; j++) dst[k * NR + j] = 0.f;
      }
    } else {
      for (int k = 0; k < K; k++)
        for (int j = 0; j < NR; j++) dst[k * NR + j] = j < nn ? B[(long)(n0 + j) * ldb + k] : 0.f;
    }
  }
}

// Writes (or adds, with acc) an MR×NR tile of accumulators to C: rows i0.., columns n0.., clipped to mr×nn.
inline void store_tile(const v16* const* cs, float* C, long ldc, int i0, int mr, int n0, int nn, bool acc) {
  for (int r = 0; r < mr; r++) {
    float* crow = C + (long)(i0 + r) * ldc + n0;
    const float* v = (const float*)cs[r];
    if (acc)
      for (int j = 0; j < nn; j++) crow[j] += v[j];
    else
      for (int j = 0; j < nn; j++) crow[j] = v[j];
  }
}

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
#define SQ_WIDE 1
// AVX-512: two panels at once, 12 accumulators (6 rows × 32 columns). One panel's 6 leave FMA
// latency exposed on 32 zmm registers; 12 keep both FMA ports busy. (AVX2 has 16 ymm registers,
// too few for this tile, so it keeps the one-panel loop.)
__attribute__((target("arch=x86-64-v4"))) long gemm_pairs(const float* A, long a_rs, long a_cs, const float* Bp,
                                                          float* C, long ldc, int M, int K, int N, bool acc, long s0,
                                                          long s1) {
  const long np = panels(N), pairs = np / 2;
  for (long q = 0; q < pairs; q++) {
    const float* bp0 = Bp + (2 * q) * (long)K * NR;
    const float* bp1 = bp0 + (long)K * NR;
    const int n0 = (int)(2 * q) * NR, nn0 = std::min(NR, N - n0), nn1 = std::min(NR, N - n0 - NR);
    for (long s = s0; s < s1; s++) {
      const int i0 = (int)s * MR, mr = std::min(MR, M - i0);
      const float* a[MR];
      for (int r = 0; r < MR; r++) a[r] = A + (long)(i0 + std::min(r, mr - 1)) * a_rs;
      v16 c0 = {}, c1 = {}, c2 = {}, c3 = {}, c4 = {}, c5 = {};
      v16 d0 = {}, d1 = {}, d2 = {}, d3 = {}, d4 = {}, d5 = {};
      long ka = 0;
      for (int k = 0; k < K; k++, ka += a_cs) {
        v16 b, e;
        std::memcpy(&b, bp0 + (long)k * NR, sizeof b);
        std::memcpy(&e, bp1 + (long)k * NR, sizeof e);
        const float x0 = a[0][ka], x1 = a[1][ka], x2 = a[2][ka], x3 = a[3][ka], x4 = a[4][ka], x5 = a[5][ka];
        c0 += x0 * b;
        d0 += x0 * e;
        c1 += x1 * b;
        d1 += x1 * e;
        c2 += x2 * b;
        d2 += x2 * e;
        c3 += x3 * b;
        d3 += x3 * e;
        c4 += x4 * b;
        d4 += x4 * e;
        c5 += x5 * b;
        d5 += x5 * e;
      }
      const v16* cs[MR] = {&c0, &c1, &c2, &c3, &c4, &c5};
      const v16* ds[MR] = {&d0, &d1, &d2, &d3, &d4, &d5};
      store_tile(cs, C, ldc, i0, mr, n0, nn0, acc);
      store_tile(ds, C, ldc, i0, mr, n0 + NR, nn1, acc);
    }
  }
  return 2 * pairs;
}

bool wide_gemm() {
  static const bool yes = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
  }();
  return yes;
}
#endif

// Rows [s0*MR, s1*MR) of C over every panel. Each C element is one k-ordered sum whichever kernel
// and thread computes it.
SQ_CLONES void gemm_packed(const float* A, long a_rs, long a_cs, const float* Bp, float* C, long ldc,
                           int M, int K, int N, bool acc, long s0, long s1) {
  const long np = panels(N);
  long first = 0;
#ifdef SQ_WIDE
  if (wide_gemm()) first = gemm_pairs(A, a_rs, a_cs, Bp, C, ldc, M, K, N, acc, s0, s1);
#endif
  for (long p = first; p < np; p++) {
    const float* bp = Bp + p * (long)K * NR;
    const int n0 = (int)p * NR, nn = std::min(NR, N - n0);
    for (long s = s0; s < s1; s++) {
      const int i0 = (int)s * MR, mr = std::min(MR, M - i0);
      const float* a[MR];
      for (int r = 0; r < MR; r++) a[r] = A + (long)(i0 + std::min(r, mr - 1)) * a_rs;
      v16 c0 = {}, c1 = {}, c2 = {}, c3 = {}, c4 = {}, c5 = {};
      long ka = 0;
      for (int k = 0; k < K; k++, ka += a_cs) {
        v16 b;
        std::memcpy(&b, bp + (long)k * NR, sizeof b);
        c0 += a[0][ka] * b;
        c1 += a[1][ka] * b;
        c2 += a[2][ka] * b;
        c3 += a[3][ka] * b;
        c4 += a[4][ka] * b;
        c5 += a[5][ka] * b;
      }
      const v16* cs[MR] = {&c0, &c1, &c2, &c3, &c4, &c5};
      store_tile(cs, C, ldc, i0, mr, n0, nn, acc);
    }
  }
}

inline long strips(int M) { return (M + MR - 1) / MR; }

struct Buf {
  std::vector<float> v;
  float* get(size_t n) {
    if (v.size() < n) v.resize(n);
    return v.data();
  }
};
Buf& packed_buf() {
  static Buf b;
  return b;
}
thread_local Buf tl_pack, tl_col;

// Multiply-adds below which a GEMM stays on the calling thread.
constexpr double kParallelMacs = 64e6;

// A whole GEMM with the work split over the pool (by rows, or by columns when rows are few).
void gemm(const float* A, long a_rs, long a_cs, const float* B, bool transB, long ldb, float* C, long ldc,
          int M, int K, int N, bool acc) {
  if (M == 0 || N == 0) return;
  if (K == 0) {
    if (!acc)
      for (int i = 0; i < M; i++) std::fill(C + (long)i * ldc, C + (long)i * ldc + N, 0.f);
    return;
  }
  const long np = panels(N);
  float* Bp = packed_buf().get((size_t)np * K * NR);
  // Below kParallelMacs one thread is faster: measured on 2 vCPUs that share a core's float units,
  // a second thread made the MLPs' training steps (GEMMs up to 128×784×300) 20–50 % slower.
  if ((double)M * K * N < kParallelMacs) {
    pack_b(B, transB, ldb, K, N, Bp, 0, np);
    gemm_packed(A, a_rs, a_cs, Bp, C, ldc, M, K, N, acc, 0, strips(M));
    return;
  }
  parallel_for(np, 4, [&](int, long a, long b) { pack_b(B, transB, ldb, K, N, Bp, a, b); });
  const long ns = strips(M);
  parallel_for(ns, 2, [&](int, long a, long b) { gemm_packed(A, a_rs, a_cs, Bp, C, ldc, M, K, N, acc, a, b); });
}

// ---------------------------------------------------------------- convolution (NHWC, HWIO)
struct Conv {
  int n, h, w, c, oh, ow, oc, fh, fw, sh, sw, dh, dw, pt, pb, pl, pr;
  long kc() const { return (long)fh * fw * c; }
  long pos() const { return (long)oh * ow; }
};
constexpr long ROWS = 256;  // output positions per im2col chunk

// col[r][(ky*fw + kx)*c + ci] for output positions [p0, p0+rows) of one image. A row of taps that
// lies inside the image with no dilation is one contiguous run of fw·c floats.
SQ_CLONES void im2col(const Conv& v, const float* __restrict__ x, long p0, long rows, float* __restrict__ col) {
  const long kc = v.kc();
  const long run = (long)v.fw * v.c;
  for (long r = 0; r < rows; r++) {
    const long p = p0 + r;
    const int oy = (int)(p / v.ow), ox = (int)(p % v.ow);
    const int ix0 = ox * v.sw - v.pl, ix1 = ix0 + (v.fw - 1) * v.dw;
    const bool inside = v.dw == 1 && ix0 >= 0 && ix1 < v.w;
    float* dst = col + r * kc;
    for (int ky = 0; ky < v.fh; ky++) {
      const int iy = oy * v.sh - v.pt + ky * v.dh;
      float* d = dst + (long)ky * run;
      if (iy < 0 || iy >= v.h) {
        for (long j = 0; j < run; j++) d[j] = 0.f;
        continue;
      }
      const float* xrow = x + (long)iy * v.w * v.c;
      if (inside) {
        const float* s = xrow + (long)ix0 * v.c;
        for (long j = 0; j < run; j++) d[j] = s[j];
        continue;
      }
      for (int kx = 0; kx < v.fw; kx++) {
        const int ix = ix0 + kx * v.dw;
        float* dk = d + (long)kx * v.c;
        if (ix < 0 || ix >= v.w)
          for (int ci = 0; ci < v.c; ci++) dk[ci] = 0.f;
        else
          for (int ci = 0; ci < v.c; ci++) dk[ci] = xrow[(long)ix * v.c + ci];
      }
    }
  }
}

SQ_CLONES void col2im_add(const Conv& v, const float* __restrict__ col, long p0, long rows, float* __restrict__ dx) {
  const long kc = v.kc();
  const long run = (long)v.fw * v.c;
  for (long r = 0; r < rows; r++) {
    const long p = p0 + r;
    const int oy = (int)(p / v.ow), ox = (int)(p % v.ow);
    const int ix0 = ox * v.sw - v.pl, ix1 = ix0 + (v.fw - 1) * v.dw;
    const bool inside = v.dw == 1 && ix0 >= 0 && ix1 < v.w;
    const float* src = col + r * kc;
    for (int ky = 0; ky < v.fh; ky++) {
      const int iy = oy * v.sh - v.pt + ky * v.dh;
      if (iy < 0 || iy >= v.h) continue;
      const float* s = src + (long)ky * run;
      float* drow = dx + (long)iy * v.w * v.c;
      if (inside) {
        float* d = drow + (long)ix0 * v.c;
        for (long j = 0; j < run; j++) d[j] += s[j];
        continue;
      }
      for (int kx = 0; kx < v.fw; kx++) {
        const int ix = ix0 + kx * v.dw;
        if (ix < 0 || ix >= v.w) continue;
        for (int ci = 0; ci < v.c; ci++) drow[(long)ix * v.c + ci] += s[(long)kx * v.c + ci];
      }
    }
  }
}

void conv2d(const Conv& v, const float* x, const float* wt, float* y) {
  const long kc = v.kc(), P = v.pos();
  const long np = panels(v.oc);
  float* Bp = packed_buf().get((size_t)np * kc * NR);
  pack_b(wt, false, v.oc, (int)kc, v.oc, Bp, 0, np);
  const long chunks = (P + ROWS - 1) / ROWS, jobs = (long)v.n * chunks;
  parallel_for(jobs, 1, [&](int, long a, long b) {
    float* col = tl_col.get((size_t)ROWS * kc);
    for (long j = a; j < b; j++) {
      const long img = j / chunks, p0 = (j % chunks) * ROWS, rows = std::min(ROWS, P - p0);
      im2col(v, x + img * (long)v.h * v.w * v.c, p0, rows, col);
      gemm_packed(col, kc, 1, Bp, y + (img * P + p0) * v.oc, v.oc, (int)rows, (int)kc, v.oc, false, 0, strips((int)rows));
    }
  });
}

void conv2d_backprop_input(const Conv& v, const float* dy, const float* wt, float* dx) {
  const long kc = v.kc(), P = v.pos();
  const long np = panels((int)kc);
  float* Bp = packed_buf().get((size_t)np * v.oc * NR);
  // op(B) = Wᵀ: [oc × kc], element (k=o, n=j) at W[j*oc + o].
  pack_b(wt, true, v.oc, v.oc, (int)kc, Bp, 0, np);
  parallel_for(v.n, 1, [&](int, long a, long b) {
    float* col = tl_col.get((size_t)ROWS * kc);
    for (long img = a; img < b; img++) {
      float* dxi = dx + img * (long)v.h * v.w * v.c;
      std::fill(dxi, dxi + (long)v.h * v.w * v.c, 0.f);
      for (long p0 = 0; p0 < P; p0 += ROWS) {
        const long rows = std::min(ROWS, P - p0);
        gemm_packed(dy + (img * P + p0) * v.oc, v.oc, 1, Bp, col, kc, (int)rows, v.oc, (int)kc, false, 0, strips((int)rows));
        col2im_add(v, col, p0, rows, dxi);
      }
    }
  });
}

void conv2d_backprop_filter(const Conv& v, const float* x, const float* dy, float* dw) {
  const long kc = v.kc(), P = v.pos(), size = kc * v.oc;
  // Chunk 0 sums into dw, the others into their own partials, added in chunk order afterwards.
  std::vector<float> parts((size_t)(kChunks - 1) * size, 0.f);
  std::fill(dw, dw + size, 0.f);
  std::vector<char> used(kChunks, 0);
  for_chunks(v.n, [&](int k, long a, long b) {
    float* accum = k == 0 ? dw : parts.data() + (size_t)(k - 1) * size;
    used[k] = 1;
    float* col = tl_col.get((size_t)ROWS * kc);
    float* bp = tl_pack.get((size_t)panels(v.oc) * ROWS * NR);
    for (long img = a; img < b; img++) {
      for (long p0 = 0; p0 < P; p0 += ROWS) {
        const long rows = std::min(ROWS, P - p0);
        im2col(v, x + img * (long)v.h * v.w * v.c, p0, rows, col);
        pack_b(dy + (img * P + p0) * v.oc, false, v.oc, (int)rows, v.oc, bp, 0, panels(v.oc));
        // dW[kc × oc] += colᵀ · dy: op(A) element (i=j, k=r) at col[r*kc + j].
        gemm_packed(col, 1, kc, bp, accum, v.oc, (int)kc, (int)rows, v.oc, true, 0, strips((int)kc));
      }
    }
  });
  for (int k = 1; k < kChunks; k++)
    if (used[k])
      for (long i = 0; i < size; i++) dw[i] += parts[(size_t)(k - 1) * size + i];
}

// ---------------------------------------------------------------- max pooling (NHWC)
struct Pool2 {
  int n, h, w, c, oh, ow, fh, fw, sh, sw, pt, pb, pl, pr;
};

// Channels innermost so the loops over c vectorize. NaN never wins (a strict > compare), as on cpu.
SQ_CLONES void max_pool_row(const Pool2& v, const float* xi, int oy, float* yrow) {
  for (int ox = 0; ox < v.ow; ox++) {
    float* yo = yrow + (long)ox * v.c;
    for (int ci = 0; ci < v.c; ci++) yo[ci] = -HUGE_VALF;
    for (int ky = 0; ky < v.fh; ky++) {
      const int iy = oy * v.sh - v.pt + ky;
      if (iy < 0 || iy >= v.h) continue;
      for (int kx = 0; kx < v.fw; kx++) {
        const int ix = ox * v.sw - v.pl + kx;
        if (ix < 0 || ix >= v.w) continue;
        const float* xr = xi + ((long)iy * v.w + ix) * v.c;
        for (int ci = 0; ci < v.c; ci++) yo[ci] = xr[ci] > yo[ci] ? xr[ci] : yo[ci];
      }
    }
  }
}

void max_pool(const Pool2& v, const float* x, float* y) {
  parallel_for((long)v.n * v.oh, 8, [&](int, long a, long b) {
    for (long row = a; row < b; row++) {
      const long img = row / v.oh;
      max_pool_row(v, x + img * (long)v.h * v.w * v.c, (int)(row % v.oh), y + row * v.ow * v.c);
    }
  });
}

// Each output's gradient goes to the first strict maximum of its window in window order (rows,
// then columns), the position tfjs' cpu backend picks; a window with no value > -inf gets none.
SQ_CLONES void max_pool_grad_image(const Pool2& v, const float* __restrict__ xi, const float* __restrict__ dyi, float* __restrict__ dxi,
                                   float* __restrict__ best, int32_t* __restrict__ arg) {
  std::fill(dxi, dxi + (long)v.h * v.w * v.c, 0.f);
  for (int oy = 0; oy < v.oh; oy++)
    for (int ox = 0; ox < v.ow; ox++) {
      for (int ci = 0; ci < v.c; ci++) best[ci] = -HUGE_VALF, arg[ci] = -1;
      for (int ky = 0; ky < v.fh; ky++) {
        const int iy = oy * v.sh - v.pt + ky;
        if (iy < 0 || iy >= v.h) continue;
        for (int kx = 0; kx < v.fw; kx++) {
          const int ix = ox * v.sw - v.pl + kx;
          if (ix < 0 || ix >= v.w) continue;
          const int32_t base = (int32_t)(((long)iy * v.w + ix) * v.c);
          const float* xr = xi + base;
          for (int ci = 0; ci < v.c; ci++) {
            const bool gt = xr[ci] > best[ci];
            best[ci] = gt ? xr[ci] : best[ci];
            arg[ci] = gt ? base + ci : arg[ci];
          }
        }
      }
      const float* d = dyi + ((long)oy * v.ow + ox) * v.c;
      for (int ci = 0; ci < v.c; ci++)
        if (arg[ci] >= 0) dxi[arg[ci]] += d[ci];
    }
}

void max_pool_grad(const Pool2& v, const float* dy, const float* x, float* dx) {
  const long img_in = (long)v.h * v.w * v.c, img_out = (long)v.oh * v.ow * v.c;
  parallel_for(v.n, 1, [&](int, long a, long b) {
    std::vector<float> best(v.c);
    std::vector<int32_t> arg(v.c);
    for (long img = a; img < b; img++) max_pool_grad_image(v, x + img * img_in, dy + img * img_out, dx + img * img_in, best.data(), arg.data());
  });
}

// ---------------------------------------------------------------- small fused loops
SQ_CLONES void bias_act(float* y, long rows, int n, const float* bias, long bias_len, int act) {
  for (long r = 0; r < rows; r++) {
    float* row = y + r * n;
    if (bias) {
      if (bias_len == 1)
        for (int j = 0; j < n; j++) row[j] += bias[0];
      else
        for (int j = 0; j < n; j++) row[j] += bias[j];
    }
    if (act == 1)
      for (int j = 0; j < n; j++) row[j] = row[j] > 0.f ? row[j] : 0.f;
  }
}

SQ_CLONES void sum_rows(const float* x, long rows, long n, float* out) {
  std::fill(out, out + n, 0.f);
  for (long r = 0; r < rows; r++) {
    const float* row = x + r * n;
    for (long j = 0; j < n; j++) out[j] += row[j];
  }
}

// tfjs' Adam, step for step in float32, with the gradient scaled (global-norm clipping) and weight
// decay: g' = g·scale (+ λ·w for L2, PyTorch's Adam(weight_decay)); m = β1·m + (1−β1)·g';
// v = β2·v + (1−β2)·g'²; w' = w·keep with keep = 1 − lr·λ when decoupled (PyTorch's AdamW), else w;
// out = (m / (1−β1ᵗ)) / (√(v / (1−β2ᵗ)) + ε) · −lr + w'. The extra steps run only when they
// change something, so scale 1 and λ 0 give exactly tfjs' Adam (adding 0·w would turn −0 into +0).
SQ_CLONES void adam(const float* w, const float* g, float* m, float* v, float* out, long n, float lr, float b1,
                    float omb1, float b2, float omb2, float eps, float c1, float c2, float scale, float l2,
                    float keep) {
  const bool scaled = scale != 1.f, decays = l2 != 0.f, keeps = keep != 1.f;
  for (long i = 0; i < n; i++) {
    float gi = g[i];
    if (scaled) gi = gi * scale;
    if (decays) gi = gi + l2 * w[i];
    const float mi = m[i] * b1 + gi * omb1;
    const float vi = v[i] * b2 + (gi * gi) * omb2;
    m[i] = mi;
    v[i] = vi;
    const float mh = mi / c1, vh = vi / c2;
    const float wi = keeps ? w[i] * keep : w[i];
    out[i] = (mh / (__builtin_sqrtf(vh) + eps)) * -lr + wi;
  }
}

// PyTorch's SGD (dampening 0) in float32: g' = g·scale + λ·w; with momentum μ > 0,
// buf = μ·buf + g' (buf starts at 0, so step 1 gives PyTorch's buf = g') and the step is buf, or
// g' + μ·buf with Nesterov; out = w − lr·step. Without momentum, buf is not read.
SQ_CLONES void sgd(const float* w, const float* g, float* buf, float* out, long n, float lr, float mu, bool nesterov,
                   float l2, float scale) {
  const bool scaled = scale != 1.f, decays = l2 != 0.f;
  for (long i = 0; i < n; i++) {
    float gi = g[i];
    if (scaled) gi = gi * scale;
    if (decays) gi = gi + l2 * w[i];
    float d = gi;
    if (buf) {
      const float bi = mu * buf[i] + gi;
      buf[i] = bi;
      d = nesterov ? gi + mu * bi : bi;
    }
    out[i] = w[i] - lr * d;
  }
}


// ---------------------------------------------------------------- training-plan loops
// Elementwise and per-channel work of the trainer's compiled plan (batch norm, relu, depthwise
// convolution): in JavaScript these ran at 5–20 ns per element (relu's branch on random signs
// alone cost ~6 ns), here a few per vector.

// y = min(max(x, 0), cap) (cap 0: no upper bound).
SQ_CLONES void relu_loop(const float* x, float* y, long n, float cap) {
  if (cap > 0.f)
    for (long i = 0; i < n; i++) y[i] = std::min(std::max(x[i], 0.f), cap);
  else
    for (long i = 0; i < n; i++) y[i] = std::max(x[i], 0.f);
}

// dx = dy where 0 < v (≤ cap when cap > 0), else 0; v is relu's output, or relu6's input.
SQ_CLONES void relu_grad_loop(const float* v, const float* dy, float* dx, long n, float cap) {
  if (cap > 0.f)
    for (long i = 0; i < n; i++) dx[i] = (v[i] > 0.f && v[i] <= cap) ? dy[i] : 0.f;
  else
    for (long i = 0; i < n; i++) dx[i] = v[i] > 0.f ? dy[i] : 0.f;
}

// Two per-channel sums over rows × C (channels last) in double, over fixed row chunks
// (for_chunks): `add(a, b, s1, s2)` accumulates rows [a, b) into s1 and s2.
void channel_sums2(long rows, int C, const std::function<void(long, long, double*, double*)>& add, double* out1,
                   double* out2) {
  std::vector<double> part((size_t)kChunks * 2 * C, 0.0);
  for_chunks(rows, [&](int k, long a, long b) { add(a, b, part.data() + (size_t)k * 2 * C, part.data() + (size_t)k * 2 * C + C); });
  std::fill(out1, out1 + C, 0.0);
  std::fill(out2, out2 + C, 0.0);
  for (int k = 0; k < kChunks; k++)
    for (int c = 0; c < C; c++) {
      out1[c] += part[(size_t)k * 2 * C + c];
      out2[c] += part[(size_t)k * 2 * C + C + c];
    }
}

struct BatchNorm {
  long rows;
  int c;
  double eps;
};

// Σx and Σx² per channel over rows [a, b).
SQ_CLONES void bn_moments_rows(const float* x, long a, long b, int C, double* s1, double* s2) {
  for (long r = a; r < b; r++) {
    const float* row = x + r * C;
    for (int c = 0; c < C; c++) {
      const double v = row[c];
      s1[c] += v;
      s2[c] += v * v;
    }
  }
}

// x̂ = (x − mean)·inv and y = x̂·γ + β over rows [a, b) (g, bt: γ and β, or 1 and 0, per channel).
SQ_CLONES void bn_normalize_rows(const float* x, long a, long b, int C, const float* mean, const double* inv,
                                 const double* g, const double* bt, float* xhat, float* y) {
  for (long r = a; r < b; r++)
    for (int c = 0; c < C; c++) {
      const double h = ((double)x[r * C + c] - mean[c]) * inv[c];
      if (xhat) xhat[r * C + c] = (float)h;
      y[r * C + c] = (float)(h * g[c] + bt[c]);
    }
}

// Σdy and Σdy·x̂ per channel over rows [a, b).
SQ_CLONES void bn_grad_sums_rows(const float* dy, const float* xhat, long a, long b, int C, double* db, double* dg) {
  for (long r = a; r < b; r++)
    for (int c = 0; c < C; c++) {
      const double d = dy[r * C + c];
      db[c] += d;
      dg[c] += d * xhat[r * C + c];
    }
}

SQ_CLONES void bn_dx_rows(const float* dy, const float* xhat, long a, long b, int C, double R, const double* k,
                          const double* db, const double* dg, float* dx) {
  for (long r = a; r < b; r++)
    for (int c = 0; c < C; c++)
      dx[r * C + c] = (float)(k[c] * (R * dy[r * C + c] - db[c] - (double)xhat[r * C + c] * dg[c]));
}

// Training: the batch's mean and biased variance per channel (float32, from double Σx and Σx² in
// one pass), x̂ and y = x̂·γ + β. Inference (train false): mean and variance are given (the moving ones).
void batch_norm_forward(const BatchNorm& v, const float* x, const float* gamma, const float* beta, float* y,
                        float* xhat, float* mean, float* var, bool train) {
  const int C = v.c;
  std::vector<double> inv(C), s1(C), s2(C), g(C), bt(C);
  if (train) {
    channel_sums2(v.rows, C, [&](long a, long b, double* p1, double* p2) { bn_moments_rows(x, a, b, C, p1, p2); },
                  s1.data(), s2.data());
    for (int c = 0; c < C; c++) {
      const double m = s1[c] / v.rows;
      mean[c] = (float)m;
      var[c] = (float)std::max(0.0, s2[c] / v.rows - m * m);
    }
  }
  for (int c = 0; c < C; c++) {
    inv[c] = 1.0 / std::sqrt((double)var[c] + v.eps);
    g[c] = gamma ? gamma[c] : 1.0;
    bt[c] = beta ? beta[c] : 0.0;
  }
  parallel_for(v.rows, 256, [&](int, long a, long b) {
    bn_normalize_rows(x, a, b, C, mean, inv.data(), g.data(), bt.data(), xhat, y);
  });
}

// The standard backward pass over x̂: dβ = Σdy, dγ = Σdy·x̂ (one pass), dx = γ/(σ·R)·(R·dy − dβ − x̂·dγ).
void batch_norm_backward(const BatchNorm& v, const float* dy, const float* xhat, const float* gamma, const float* var,
                         float* dx, float* dgamma, float* dbeta) {
  const int C = v.c;
  std::vector<double> db(C), dg(C), k(C);
  channel_sums2(v.rows, C, [&](long a, long b, double* p1, double* p2) { bn_grad_sums_rows(dy, xhat, a, b, C, p1, p2); },
                db.data(), dg.data());
  for (int c = 0; c < C; c++) {
    if (dgamma) dgamma[c] = (float)dg[c];
    if (dbeta) dbeta[c] = (float)db[c];
    k[c] = ((gamma ? gamma[c] : 1.f) / std::sqrt((double)var[c] + v.eps)) / v.rows;
  }
  if (!dx) return;
  parallel_for(v.rows, 256, [&](int, long a, long b) {
    bn_dx_rows(dy, xhat, a, b, C, (double)v.rows, k.data(), db.data(), dg.data(), dx);
  });
}

// A depthwise convolution (NHWC, dilation 1): C input channels, M outputs per channel, filter
// [fh, fw, C, M]; output channel c·M + m.
struct Depthwise {
  int n, h, w, c, m, oh, ow, fh, fw, sh, sw, pt, pl;
};

SQ_CLONES void depthwise_image(const Depthwise& v, const float* x, const float* f, float* y) {
  const int CO = v.c * v.m;
  std::vector<float> acc(CO);
  for (int oh = 0; oh < v.oh; oh++)
    for (int ow = 0; ow < v.ow; ow++) {
      std::fill(acc.begin(), acc.end(), 0.f);
      for (int kh = 0; kh < v.fh; kh++) {
        const int r = oh * v.sh - v.pt + kh;
        if (r < 0 || r >= v.h) continue;
        for (int kw = 0; kw < v.fw; kw++) {
          const int col = ow * v.sw - v.pl + kw;
          if (col < 0 || col >= v.w) continue;
          const float* xp = x + ((long)r * v.w + col) * v.c;
          const float* fp = f + ((long)kh * v.fw + kw) * CO;
          if (v.m == 1)
            for (int c = 0; c < v.c; c++) acc[c] += xp[c] * fp[c];
          else
            for (int d = 0; d < CO; d++) acc[d] += xp[d / v.m] * fp[d];
        }
      }
      std::copy(acc.begin(), acc.end(), y + ((long)oh * v.ow + ow) * CO);
    }
}

// dx for one image: each output's gradient spread back over its window.
SQ_CLONES void depthwise_input_image(const Depthwise& v, const float* dy, const float* f, float* dx) {
  const int CO = v.c * v.m;
  std::fill(dx, dx + (long)v.h * v.w * v.c, 0.f);
  for (int oh = 0; oh < v.oh; oh++)
    for (int ow = 0; ow < v.ow; ow++) {
      const float* g = dy + ((long)oh * v.ow + ow) * CO;
      for (int kh = 0; kh < v.fh; kh++) {
        const int r = oh * v.sh - v.pt + kh;
        if (r < 0 || r >= v.h) continue;
        for (int kw = 0; kw < v.fw; kw++) {
          const int col = ow * v.sw - v.pl + kw;
          if (col < 0 || col >= v.w) continue;
          float* xp = dx + ((long)r * v.w + col) * v.c;
          const float* fp = f + ((long)kh * v.fw + kw) * CO;
          if (v.m == 1)
            for (int c = 0; c < v.c; c++) xp[c] += g[c] * fp[c];
          else
            for (int d = 0; d < CO; d++) xp[d / v.m] += g[d] * fp[d];
        }
      }
    }
}

// dW accumulated over one image into acc ([fh, fw, C·M]), in double: a filter sums over every position of the batch.
SQ_CLONES void depthwise_filter_image(const Depthwise& v, const float* x, const float* dy, double* acc) {
  const int CO = v.c * v.m;
  for (int oh = 0; oh < v.oh; oh++)
    for (int ow = 0; ow < v.ow; ow++) {
      const float* g = dy + ((long)oh * v.ow + ow) * CO;
      for (int kh = 0; kh < v.fh; kh++) {
        const int r = oh * v.sh - v.pt + kh;
        if (r < 0 || r >= v.h) continue;
        for (int kw = 0; kw < v.fw; kw++) {
          const int col = ow * v.sw - v.pl + kw;
          if (col < 0 || col >= v.w) continue;
          const float* xp = x + ((long)r * v.w + col) * v.c;
          double* ap = acc + ((long)kh * v.fw + kw) * CO;
          if (v.m == 1)
            for (int c = 0; c < v.c; c++) ap[c] += (double)xp[c] * g[c];
          else
            for (int d = 0; d < CO; d++) ap[d] += (double)xp[d / v.m] * g[d];
        }
      }
    }
}

// ---------------------------------------------------------------- Node-API glue
// The boundary contract. Each entry point takes its arrays and one object of named dimensions,
// spelled as src/addon.ts declares them (one interface per kernel). Nothing is trusted: the
// argument count and types, every dimension (an integer in range), their consistency (output size
// from input, filter, stride and padding; batch strides) and each array's length against what the
// dimensions imply are checked before any memory is touched. A mismatch throws a JS Error naming
// the kernel and the shapes, instead of reading or writing past an array.

// A kernel call's arguments, read and checked. The first failure throws (a TypeError for a wrong
// kind of argument, an Error for a wrong shape); later reads are no-ops and `ok` turns false.
class Call {
 public:
  Call(napi_env env, napi_callback_info info, const char* kernel, const char* signature, size_t count)
      : env_(env), kernel_(kernel) {
    size_t argc = kMaxArgs;
    napi_get_cb_info(env, info, &argc, argv_, nullptr, nullptr);
    if (argc != count) type_error("expects %zu arguments %s, got %zu", count, signature, argc);
  }
  bool ok() const { return ok_; }

  // A Float32Array (or null when `nullable`); its length goes to `len`.
  float* f32(size_t i, const char* name, long* len, bool nullable = false) {
    if (!ok_) return nullptr;
    napi_valuetype t;
    napi_typeof(env_, argv_[i], &t);
    *len = 0;
    if (nullable && t == napi_null) return nullptr;
    napi_typedarray_type type;
    size_t n = 0;
    void* data = nullptr;
    bool is_array = false;
    napi_is_typedarray(env_, argv_[i], &is_array);
    if (!is_array || napi_get_typedarray_info(env_, argv_[i], &type, &n, &data, nullptr, nullptr) != napi_ok ||
        type != napi_float32_array) {
      type_error("%s must be a Float32Array%s", name, nullable ? " or null" : "");
      return nullptr;
    }
    *len = (long)n;
    return (float*)data;
  }

  // An integer in [lo, hi] given directly as argument i.
  long integer(size_t i, const char* name, long lo, long hi) {
    if (!ok_) return 0;
    return checked_integer(argv_[i], name, lo, hi);
  }

  // The dims object at argument i.
  napi_value object(size_t i, const char* name) {
    if (!ok_) return nullptr;
    napi_valuetype t;
    napi_typeof(env_, argv_[i], &t);
    if (t != napi_object) type_error("%s must be an object of named dimensions", name);
    return argv_[i];
  }

  // dims.<name>: an integer in [lo, hi].
  long field(napi_value obj, const char* name, long lo = 1, long hi = INT32_MAX) {
    napi_value v = property(obj, name);
    return v ? checked_integer(v, name, lo, hi) : 0;
  }

  bool flag(napi_value obj, const char* name) {
    napi_value v = property(obj, name);
    bool b = false;
    if (v && napi_get_value_bool(env_, v, &b) != napi_ok) type_error("dims.%s must be a boolean", name);
    return b;
  }

  // dims.<name>: a finite number (at least `lo`).
  double number(napi_value obj, const char* name, double lo = -HUGE_VAL) {
    napi_value v = property(obj, name);
    double d = 0;
    if (v && (napi_get_value_double(env_, v, &d) != napi_ok || !std::isfinite(d)))
      type_error("%s must be a finite number", name);
    else if (v && d < lo)
      error("%s must be at least %g, got %g", name, lo, d);
    return d;
  }

  // Whether the optional dims.<name> is given (a property holding undefined is not).
  bool has(napi_value obj, const char* name) {
    if (!ok_ || !obj) return false;
    bool has = false;
    napi_value v = nullptr;
    if (napi_has_named_property(env_, obj, name, &has) != napi_ok || !has ||
        napi_get_named_property(env_, obj, name, &v) != napi_ok)
      return false;
    napi_valuetype t;
    return napi_typeof(env_, v, &t) == napi_ok && t != napi_undefined;
  }

  // Checks an array's length against the product of its dimensions, named in `how`.
  void length(const char* array, long actual, std::initializer_list<long> dims, const char* how) {
    if (!ok_) return;
    long want = 1;
    for (long d : dims)
      if (__builtin_mul_overflow(want, d, &want)) return error("%s: %s overflows", array, how);
    if (actual != want) error("%s holds %ld floats, but %s = %s needs %ld", array, actual, how, values(dims).c_str(), want);
  }

  // One element per channel, or a single value for all.
  void bias(long actual, long channels) {
    if (ok_ && actual != 0 && actual != 1 && actual != channels)
      error("bias holds %ld floats, but there are %ld output channels (bias must hold 1 or %ld)", actual, channels, channels);
  }

  // An output extent from input, filter, stride and padding as tfjs computes it: (in + pads −
  // effective filter) / stride + 1, rounded down or up (tfjs' dimRoundingMode).
  void extent(const char* axis, long in, long filter, long dilation, long stride, long pad_a, long pad_b, long out) {
    if (!ok_) return;
    const long span = in + pad_a + pad_b - ((filter - 1) * dilation + 1);
    const long down = span >= 0 ? span / stride : -((-span + stride - 1) / stride);  // floor(span / stride)
    const long up = span >= 0 ? (span + stride - 1) / stride : -(-span / stride);    // ceil(span / stride)
    if (out != down + 1 && out != up + 1)
      error("%s: output %ld does not follow from input %ld, filter %ld (dilation %ld), stride %ld, padding %ld+%ld "
            "(expected %ld)", axis, out, in, filter, dilation, stride, pad_a, pad_b, down + 1);
  }

  __attribute__((format(printf, 2, 3))) void error(const char* fmt, ...) {
    va_list args;
    va_start(args, fmt);
    raise(false, fmt, args);
    va_end(args);
  }
  __attribute__((format(printf, 2, 3))) void type_error(const char* fmt, ...) {
    va_list args;
    va_start(args, fmt);
    raise(true, fmt, args);
    va_end(args);
  }

 private:
  static constexpr size_t kMaxArgs = 8;

  napi_value property(napi_value obj, const char* name) {
    if (!ok_ || !obj) return nullptr;
    bool has = false;
    napi_value v = nullptr;
    if (napi_has_named_property(env_, obj, name, &has) != napi_ok || !has ||
        napi_get_named_property(env_, obj, name, &v) != napi_ok) {
      type_error("dims.%s is missing", name);
      return nullptr;
    }
    return v;
  }

  long checked_integer(napi_value v, const char* name, long lo, long hi) {
    double d = 0;
    if (napi_get_value_double(env_, v, &d) != napi_ok) {
      type_error("%s must be a number", name);
      return 0;
    }
    if (!(d >= (double)lo && d <= (double)hi) || d != std::floor(d)) {
      error("%s must be an integer in [%ld, %ld], got %g", name, lo, hi, d);
      return 0;
    }
    return (long)d;
  }

  static std::string values(std::initializer_list<long> dims) {
    std::string s;
    for (long d : dims) s += (s.empty() ? "" : "×") + std::to_string(d);
    return s;
  }

  __attribute__((format(printf, 3, 0))) void raise(bool type, const char* fmt, va_list args) {
    if (!ok_) return;
    ok_ = false;
    char msg[512];
    const int n = std::snprintf(msg, sizeof msg, "native %s: ", kernel_);
    std::vsnprintf(msg + n, sizeof msg - (size_t)n, fmt, args);
    if (type)
      napi_throw_type_error(env_, nullptr, msg);
    else
      napi_throw_error(env_, nullptr, msg);
  }

  napi_env env_;
  const char* kernel_;
  napi_value argv_[kMaxArgs] = {};
  bool ok_ = true;
};

// ConvDims (src/addon.ts), checked for consistency.
Conv conv_dims(Call& a, napi_value d) {
  Conv v{};
  v.n = (int)a.field(d, "batch");
  v.h = (int)a.field(d, "inHeight");
  v.w = (int)a.field(d, "inWidth");
  v.c = (int)a.field(d, "inChannels");
  v.oh = (int)a.field(d, "outHeight");
  v.ow = (int)a.field(d, "outWidth");
  v.oc = (int)a.field(d, "outChannels");
  v.fh = (int)a.field(d, "filterHeight");
  v.fw = (int)a.field(d, "filterWidth");
  v.sh = (int)a.field(d, "strideHeight");
  v.sw = (int)a.field(d, "strideWidth");
  v.dh = (int)a.field(d, "dilationHeight");
  v.dw = (int)a.field(d, "dilationWidth");
  v.pt = (int)a.field(d, "padTop", 0);
  v.pb = (int)a.field(d, "padBottom", 0);
  v.pl = (int)a.field(d, "padLeft", 0);
  v.pr = (int)a.field(d, "padRight", 0);
  a.extent("height", v.h, v.fh, v.dh, v.sh, v.pt, v.pb, v.oh);
  a.extent("width", v.w, v.fw, v.dw, v.sw, v.pl, v.pr, v.ow);
  return v;
}

// PoolDims (src/addon.ts), checked for consistency.
Pool2 pool_dims(Call& a, napi_value d) {
  Pool2 v{};
  v.n = (int)a.field(d, "batch");
  v.h = (int)a.field(d, "inHeight");
  v.w = (int)a.field(d, "inWidth");
  v.c = (int)a.field(d, "channels");
  v.oh = (int)a.field(d, "outHeight");
  v.ow = (int)a.field(d, "outWidth");
  v.fh = (int)a.field(d, "filterHeight");
  v.fw = (int)a.field(d, "filterWidth");
  v.sh = (int)a.field(d, "strideHeight");
  v.sw = (int)a.field(d, "strideWidth");
  v.pt = (int)a.field(d, "padTop", 0);
  v.pb = (int)a.field(d, "padBottom", 0);
  v.pl = (int)a.field(d, "padLeft", 0);
  v.pr = (int)a.field(d, "padRight", 0);
  a.extent("height", v.h, v.fh, 1, v.sh, v.pt, v.pb, v.oh);
  a.extent("width", v.w, v.fw, 1, v.sw, v.pl, v.pr, v.ow);
  return v;
}

// matMul(a, b, c, bias | null, act, MatMulDims)
napi_value MatMul(napi_env env, napi_callback_info info) {
  Call a(env, info, "matMul", "(a, b, c, bias, act, dims)", 6);
  long la, lb, lc, lbias;
  float *A = a.f32(0, "a", &la), *B = a.f32(1, "b", &lb), *C = a.f32(2, "c", &lc);
  float* bias = a.f32(3, "bias", &lbias, true);
  const long act = a.integer(4, "act", 0, 1);
  napi_value d = a.object(5, "dims");
  const long batch = a.field(d, "batch"), M = a.field(d, "m"), K = a.field(d, "k"), N = a.field(d, "n");
  const bool ta = a.flag(d, "transposeA"), tb = a.flag(d, "transposeB");
  const long sa = a.field(d, "aBatchStride", 0, LONG_MAX), sb = a.field(d, "bBatchStride", 0, LONG_MAX);
  if (a.ok() && sa != 0 && sa != M * K) a.error("aBatchStride is %ld, but a's matrices are m×k = %ld×%ld (0 broadcasts one)", sa, M, K);
  if (a.ok() && sb != 0 && sb != K * N) a.error("bBatchStride is %ld, but b's matrices are k×n = %ld×%ld (0 broadcasts one)", sb, K, N);
  if (sa) a.length("a", la, {batch, M, K}, "batch×m×k");
  else a.length("a", la, {M, K}, "m×k");
  if (sb) a.length("b", lb, {batch, K, N}, "batch×k×n");
  else a.length("b", lb, {K, N}, "k×n");
  a.length("c", lc, {batch, M, N}, "batch×m×n");
  a.bias(lbias, N);
  if (!a.ok()) return nullptr;
  for (long i = 0; i < batch; i++) {
    const float* Ai = A + i * sa;
    gemm(Ai, ta ? 1 : K, ta ? M : 1, B + i * sb, tb, tb ? K : N, C + i * M * N, N, (int)M, (int)K, (int)N, false);
  }
  if (bias || act) bias_act(C, batch * M, (int)N, bias, lbias, (int)act);
  return nullptr;
}

// conv2d(x, w, y, bias | null, act, ConvDims)
napi_value Conv2D(napi_env env, napi_callback_info info) {
  Call a(env, info, "conv2d", "(x, w, y, bias, act, dims)", 6);
  long lx, lw, ly, lbias;
  float *x = a.f32(0, "x", &lx), *w = a.f32(1, "w", &lw), *y = a.f32(2, "y", &ly);
  float* bias = a.f32(3, "bias", &lbias, true);
  const long act = a.integer(4, "act", 0, 1);
  const Conv v = conv_dims(a, a.object(5, "dims"));
  a.length("x", lx, {v.n, v.h, v.w, v.c}, "batch×inHeight×inWidth×inChannels");
  a.length("w", lw, {v.fh, v.fw, v.c, v.oc}, "filterHeight×filterWidth×inChannels×outChannels");
  a.length("y", ly, {v.n, v.oh, v.ow, v.oc}, "batch×outHeight×outWidth×outChannels");
  a.bias(lbias, v.oc);
  if (!a.ok()) return nullptr;
  conv2d(v, x, w, y);
  if (bias || act) bias_act(y, (long)v.n * v.pos(), v.oc, bias, lbias, (int)act);
  return nullptr;
}

// conv2dBackpropInput(dy, w, dx, ConvDims)
napi_value Conv2DBackpropInput(napi_env env, napi_callback_info info) {
  Call a(env, info, "conv2dBackpropInput", "(dy, w, dx, dims)", 4);
  long ldy, lw, ldx;
  float *dy = a.f32(0, "dy", &ldy), *w = a.f32(1, "w", &lw), *dx = a.f32(2, "dx", &ldx);
  const Conv v = conv_dims(a, a.object(3, "dims"));
  a.length("dy", ldy, {v.n, v.oh, v.ow, v.oc}, "batch×outHeight×outWidth×outChannels");
  a.length("w", lw, {v.fh, v.fw, v.c, v.oc}, "filterHeight×filterWidth×inChannels×outChannels");
  a.length("dx", ldx, {v.n, v.h, v.w, v.c}, "batch×inHeight×inWidth×inChannels");
  if (!a.ok()) return nullptr;
  conv2d_backprop_input(v, dy, w, dx);
  return nullptr;
}

// conv2dBackpropFilter(x, dy, dw, ConvDims)
napi_value Conv2DBackpropFilter(napi_env env, napi_callback_info info) {
  Call a(env, info, "conv2dBackpropFilter", "(x, dy, dw, dims)", 4);
  long lx, ldy, ldw;
  float *x = a.f32(0, "x", &lx), *dy = a.f32(1, "dy", &ldy), *dw = a.f32(2, "dw", &ldw);
  const Conv v = conv_dims(a, a.object(3, "dims"));
  a.length("x", lx, {v.n, v.h, v.w, v.c}, "batch×inHeight×inWidth×inChannels");
  a.length("dy", ldy, {v.n, v.oh, v.ow, v.oc}, "batch×outHeight×outWidth×outChannels");
  a.length("dw", ldw, {v.fh, v.fw, v.c, v.oc}, "filterHeight×filterWidth×inChannels×outChannels");
  if (!a.ok()) return nullptr;
  conv2d_backprop_filter(v, x, dy, dw);
  return nullptr;
}

// maxPool(x, y, PoolDims)
napi_value MaxPool(napi_env env, napi_callback_info info) {
  Call a(env, info, "maxPool", "(x, y, dims)", 3);
  long lx, ly;
  float *x = a.f32(0, "x", &lx), *y = a.f32(1, "y", &ly);
  const Pool2 v = pool_dims(a, a.object(2, "dims"));
  a.length("x", lx, {v.n, v.h, v.w, v.c}, "batch×inHeight×inWidth×channels");
  a.length("y", ly, {v.n, v.oh, v.ow, v.c}, "batch×outHeight×outWidth×channels");
  if (!a.ok()) return nullptr;
  max_pool(v, x, y);
  return nullptr;
}

// maxPoolGrad(dy, x, dx, PoolDims)
napi_value MaxPoolGrad(napi_env env, napi_callback_info info) {
  Call a(env, info, "maxPoolGrad", "(dy, x, dx, dims)", 4);
  long ldy, lx, ldx;
  float *dy = a.f32(0, "dy", &ldy), *x = a.f32(1, "x", &lx), *dx = a.f32(2, "dx", &ldx);
  const Pool2 v = pool_dims(a, a.object(3, "dims"));
  a.length("dy", ldy, {v.n, v.oh, v.ow, v.c}, "batch×outHeight×outWidth×channels");
  a.length("x", lx, {v.n, v.h, v.w, v.c}, "batch×inHeight×inWidth×channels");
  a.length("dx", ldx, {v.n, v.h, v.w, v.c}, "batch×inHeight×inWidth×channels");
  if (!a.ok()) return nullptr;
  max_pool_grad(v, dy, x, dx);
  return nullptr;
}

// sumRows(x, out, SumRowsDims)
napi_value SumRows(napi_env env, napi_callback_info info) {
  Call a(env, info, "sumRows", "(x, out, dims)", 3);
  long lx, lout;
  float *x = a.f32(0, "x", &lx), *out = a.f32(1, "out", &lout);
  napi_value d = a.object(2, "dims");
  const long rows = a.field(d, "rows"), columns = a.field(d, "columns");
  a.length("x", lx, {rows, columns}, "rows×columns");
  a.length("out", lout, {columns}, "columns");
  if (!a.ok()) return nullptr;
  sum_rows(x, rows, columns, out);
  return nullptr;
}

// adam(w, g, m, v, out, AdamParams): five arrays of one length.
napi_value Adam(napi_env env, napi_callback_info info) {
  Call a(env, info, "adam", "(w, g, m, v, out, params)", 6);
  long n, lg, lm, lv, lout;
  float *w = a.f32(0, "w", &n), *g = a.f32(1, "g", &lg), *m = a.f32(2, "m", &lm), *v = a.f32(3, "v", &lv),
        *out = a.f32(4, "out", &lout);
  napi_value p = a.object(5, "params");
  const char* names[] = {"learningRate", "beta1", "oneMinusBeta1", "beta2", "oneMinusBeta2",
                         "epsilon", "oneMinusBeta1Power", "oneMinusBeta2Power"};
  double given[8];
  float q[8];
  for (int i = 0; i < 8; i++) q[i] = (float)(given[i] = a.number(p, names[i]));
  // Optional (absent: plain Adam), so callers from before weight decay and clipping stay valid.
  const double wd = a.has(p, "weightDecay") ? a.number(p, "weightDecay", 0) : 0;
  const bool decoupled = a.has(p, "decoupled") && a.field(p, "decoupled", 0, 1) == 1;
  const float scale = a.has(p, "gradScale") ? (float)a.number(p, "gradScale", 0) : 1.f;
  a.length("g", lg, {n}, "w's length");
  a.length("m", lm, {n}, "w's length");
  a.length("v", lv, {n}, "w's length");
  a.length("out", lout, {n}, "w's length");
  if (!a.ok()) return nullptr;
  // AdamW's factor as PyTorch forms it: 1 − lr·λ in double, then a float32 multiply.
  const float l2 = decoupled ? 0.f : (float)wd, keep = decoupled ? (float)(1 - given[0] * wd) : 1.f;
  parallel_for(n, 1 << 16, [&](int, long s, long e) {
    adam(w + s, g + s, m + s, v + s, out + s, e - s, q[0], q[1], q[2], q[3], q[4], q[5], q[6], q[7], scale, l2, keep);
  });
  return nullptr;
}

// sgd(w, g, buf, out, SgdParams): w, g, out of one length; buf too, or empty without momentum.
napi_value Sgd(napi_env env, napi_callback_info info) {
  Call a(env, info, "sgd", "(w, g, buf, out, params)", 5);
  long n, lg, lbuf, lout;
  float *w = a.f32(0, "w", &n), *g = a.f32(1, "g", &lg), *buf = a.f32(2, "buf", &lbuf), *out = a.f32(3, "out", &lout);
  napi_value p = a.object(4, "params");
  const float lr = (float)a.number(p, "learningRate");
  const float mu = (float)a.number(p, "momentum", 0);
  const bool nesterov = a.field(p, "nesterov", 0, 1) == 1;
  const float wd = (float)a.number(p, "weightDecay", 0);
  const float scale = (float)a.number(p, "gradScale", 0);
  if (a.ok() && nesterov && !(mu > 0.f)) a.error("nesterov needs momentum > 0, got %g", (double)mu);
  a.length("g", lg, {n}, "w's length");
  if (mu > 0.f) a.length("buf", lbuf, {n}, "w's length (momentum > 0)");
  else if (a.ok() && lbuf != 0 && lbuf != n)
    a.error("buf holds %ld floats, but momentum is 0: it must be empty or hold w's length %ld", lbuf, n);
  a.length("out", lout, {n}, "w's length");
  if (!a.ok()) return nullptr;
  float* b = mu > 0.f ? buf : nullptr;
  parallel_for(n, 1 << 16, [&](int, long s, long e) {
    sgd(w + s, g + s, b ? b + s : nullptr, out + s, e - s, lr, mu, nesterov, wd, scale);
  });
  return nullptr;
}


// relu(x, y, cap): y = min(max(x, 0), cap); cap 0 = none. y may be x.
napi_value Relu(napi_env env, napi_callback_info info) {
  Call a(env, info, "relu", "(x, y, cap)", 3);
  long lx, ly;
  float *x = a.f32(0, "x", &lx), *y = a.f32(1, "y", &ly);
  const long cap = a.integer(2, "cap", 0, INT32_MAX);
  a.length("y", ly, {lx}, "x's length");
  if (!a.ok()) return nullptr;
  parallel_for(lx, 1 << 15, [&](int, long s, long e) { relu_loop(x + s, y + s, e - s, (float)cap); });
  return nullptr;
}

// reluGrad(v, dy, dx, cap): dx = dy where 0 < v (≤ cap when cap > 0), else 0. dx may be dy.
napi_value ReluGrad(napi_env env, napi_callback_info info) {
  Call a(env, info, "reluGrad", "(v, dy, dx, cap)", 4);
  long lv, ldy, ldx;
  float *v = a.f32(0, "v", &lv), *dy = a.f32(1, "dy", &ldy), *dx = a.f32(2, "dx", &ldx);
  const long cap = a.integer(3, "cap", 0, INT32_MAX);
  a.length("dy", ldy, {lv}, "v's length");
  a.length("dx", ldx, {lv}, "v's length");
  if (!a.ok()) return nullptr;
  parallel_for(lv, 1 << 15, [&](int, long s, long e) { relu_grad_loop(v + s, dy + s, dx + s, e - s, (float)cap); });
  return nullptr;
}

BatchNorm batch_norm_dims(Call& a, napi_value d) {
  BatchNorm v{};
  v.rows = a.field(d, "rows", 1, LONG_MAX);
  v.c = (int)a.field(d, "channels");
  v.eps = a.number(d, "epsilon", 0);
  return v;
}

// batchNormForward(x, gamma | null, beta | null, y, xhat | null, mean, variance, {rows, channels, epsilon, training})
napi_value BatchNormForward(napi_env env, napi_callback_info info) {
  Call a(env, info, "batchNormForward", "(x, gamma, beta, y, xhat, mean, variance, dims)", 8);
  long lx, lg, lb, ly, lh, lm, lv;
  float *x = a.f32(0, "x", &lx), *gamma = a.f32(1, "gamma", &lg, true), *beta = a.f32(2, "beta", &lb, true),
        *y = a.f32(3, "y", &ly), *xhat = a.f32(4, "xhat", &lh, true), *mean = a.f32(5, "mean", &lm),
        *var = a.f32(6, "variance", &lv);
  napi_value d = a.object(7, "dims");
  const BatchNorm v = batch_norm_dims(a, d);
  const bool train = a.flag(d, "training");
  a.length("x", lx, {v.rows, v.c}, "rows×channels");
  a.length("y", ly, {v.rows, v.c}, "rows×channels");
  if (gamma) a.length("gamma", lg, {v.c}, "channels");
  if (beta) a.length("beta", lb, {v.c}, "channels");
  if (xhat) a.length("xhat", lh, {v.rows, v.c}, "rows×channels");
  a.length("mean", lm, {v.c}, "channels");
  a.length("variance", lv, {v.c}, "channels");
  if (!a.ok()) return nullptr;
  batch_norm_forward(v, x, gamma, beta, y, xhat, mean, var, train);
  return nullptr;
}

// batchNormBackward(dy, xhat, gamma | null, variance, dx | null, dgamma | null, dbeta | null, {rows, channels, epsilon})
napi_value BatchNormBackward(napi_env env, napi_callback_info info) {
  Call a(env, info, "batchNormBackward", "(dy, xhat, gamma, variance, dx, dgamma, dbeta, dims)", 8);
  long ldy, lh, lg, lv, ldx, ldg, ldb;
  float *dy = a.f32(0, "dy", &ldy), *xhat = a.f32(1, "xhat", &lh), *gamma = a.f32(2, "gamma", &lg, true),
        *var = a.f32(3, "variance", &lv), *dx = a.f32(4, "dx", &ldx, true), *dg = a.f32(5, "dgamma", &ldg, true),
        *db = a.f32(6, "dbeta", &ldb, true);
  const BatchNorm v = batch_norm_dims(a, a.object(7, "dims"));
  a.length("dy", ldy, {v.rows, v.c}, "rows×channels");
  a.length("xhat", lh, {v.rows, v.c}, "rows×channels");
  if (gamma) a.length("gamma", lg, {v.c}, "channels");
  a.length("variance", lv, {v.c}, "channels");
  if (dx) a.length("dx", ldx, {v.rows, v.c}, "rows×channels");
  if (dg) a.length("dgamma", ldg, {v.c}, "channels");
  if (db) a.length("dbeta", ldb, {v.c}, "channels");
  if (!a.ok()) return nullptr;
  batch_norm_backward(v, dy, xhat, gamma, var, dx, dg, db);
  return nullptr;
}

// DepthwiseDims (packages/native/src/kernels/depthwise.ts), checked for consistency.
Depthwise depthwise_dims(Call& a, napi_value d) {
  Depthwise v{};
  v.n = (int)a.field(d, "batch");
  v.h = (int)a.field(d, "inHeight");
  v.w = (int)a.field(d, "inWidth");
  v.c = (int)a.field(d, "channels");
  v.m = (int)a.field(d, "multiplier");
  v.oh = (int)a.field(d, "outHeight");
  v.ow = (int)a.field(d, "outWidth");
  v.fh = (int)a.field(d, "filterHeight");
  v.fw = (int)a.field(d, "filterWidth");
  v.sh = (int)a.field(d, "strideHeight");
  v.sw = (int)a.field(d, "strideWidth");
  v.pt = (int)a.field(d, "padTop", 0);
  v.pl = (int)a.field(d, "padLeft", 0);
  // Bottom and right padding are whatever the output extent leaves: at least 0, below a stride.
  a.extent("height", v.h, v.fh, 1, v.sh, v.pt, std::max(0L, (long)(v.oh - 1) * v.sh + v.fh - v.h - v.pt), v.oh);
  a.extent("width", v.w, v.fw, 1, v.sw, v.pl, std::max(0L, (long)(v.ow - 1) * v.sw + v.fw - v.w - v.pl), v.ow);
  return v;
}

void depthwise_lengths(Call& a, const Depthwise& v, long lx, long lf, long ly, const char* xn, const char* yn) {
  a.length(xn, lx, {v.n, v.h, v.w, v.c}, "batch×inHeight×inWidth×channels");
  a.length("filter", lf, {v.fh, v.fw, v.c, v.m}, "filterHeight×filterWidth×channels×multiplier");
  a.length(yn, ly, {v.n, v.oh, v.ow, (long)v.c * v.m}, "batch×outHeight×outWidth×(channels·multiplier)");
}

// depthwiseConv2d(x, filter, y, DepthwiseDims)
napi_value DepthwiseConv2D(napi_env env, napi_callback_info info) {
  Call a(env, info, "depthwiseConv2d", "(x, filter, y, dims)", 4);
  long lx, lf, ly;
  float *x = a.f32(0, "x", &lx), *f = a.f32(1, "filter", &lf), *y = a.f32(2, "y", &ly);
  const Depthwise v = depthwise_dims(a, a.object(3, "dims"));
  depthwise_lengths(a, v, lx, lf, ly, "x", "y");
  if (!a.ok()) return nullptr;
  const long xs = (long)v.h * v.w * v.c, ys = (long)v.oh * v.ow * v.c * v.m;
  parallel_for(v.n, 1, [&](int, long s, long e) {
    for (long b = s; b < e; b++) depthwise_image(v, x + b * xs, f, y + b * ys);
  });
  return nullptr;
}

// depthwiseConv2dBackpropInput(dy, filter, dx, DepthwiseDims)
napi_value DepthwiseBackpropInput(napi_env env, napi_callback_info info) {
  Call a(env, info, "depthwiseConv2dBackpropInput", "(dy, filter, dx, dims)", 4);
  long ldy, lf, ldx;
  float *dy = a.f32(0, "dy", &ldy), *f = a.f32(1, "filter", &lf), *dx = a.f32(2, "dx", &ldx);
  const Depthwise v = depthwise_dims(a, a.object(3, "dims"));
  depthwise_lengths(a, v, ldx, lf, ldy, "dx", "dy");
  if (!a.ok()) return nullptr;
  const long xs = (long)v.h * v.w * v.c, ys = (long)v.oh * v.ow * v.c * v.m;
  parallel_for(v.n, 1, [&](int, long s, long e) {
    for (long b = s; b < e; b++) depthwise_input_image(v, dy + b * ys, f, dx + b * xs);
  });
  return nullptr;
}

// depthwiseConv2dBackpropFilter(x, dy, dw, DepthwiseDims): partial sums per fixed chunk of images, added in order.
napi_value DepthwiseBackpropFilter(napi_env env, napi_callback_info info) {
  Call a(env, info, "depthwiseConv2dBackpropFilter", "(x, dy, dw, dims)", 4);
  long lx, ldy, ldw;
  float *x = a.f32(0, "x", &lx), *dy = a.f32(1, "dy", &ldy), *dw = a.f32(2, "dw", &ldw);
  const Depthwise v = depthwise_dims(a, a.object(3, "dims"));
  depthwise_lengths(a, v, lx, ldw, ldy, "x", "dy");
  if (!a.ok()) return nullptr;
  const long xs = (long)v.h * v.w * v.c, ys = (long)v.oh * v.ow * v.c * v.m, fs = ldw;
  std::vector<double> part((size_t)kChunks * fs, 0.0);
  for_chunks(v.n, [&](int k, long s, long e) {
    for (long b = s; b < e; b++) depthwise_filter_image(v, x + b * xs, dy + b * ys, part.data() + (size_t)k * fs);
  });
  for (long i = 0; i < fs; i++) {
    double sum = 0;
    for (int k = 0; k < kChunks; k++) sum += part[(size_t)k * fs + i];
    dw[i] = (float)sum;
  }
  return nullptr;
}

// info() → { threads, isa }
napi_value Info(napi_env env, napi_callback_info) {
  napi_value obj, threads, isa;
  napi_create_object(env, &obj);
  napi_create_int32(env, pool().size(), &threads);
  const char* name = "baseline";
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl")) name = "AVX-512";
  else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) name = "AVX2";
#endif
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &isa);
  napi_set_named_property(env, obj, "threads", threads);
  napi_set_named_property(env, obj, "isa", isa);
  return obj;
}

}  // namespace

NAPI_MODULE_INIT() {
  struct {
    const char* name;
    napi_callback fn;
  } fns[] = {{"matMul", MatMul}, {"conv2d", Conv2D}, {"conv2dBackpropInput", Conv2DBackpropInput},
             {"conv2dBackpropFilter", Conv2DBackpropFilter}, {"maxPool", MaxPool}, {"maxPoolGrad", MaxPoolGrad},
             {"sumRows", SumRows}, {"adam", Adam}, {"sgd", Sgd}, {"relu", Relu}, {"reluGrad", ReluGrad},
             {"batchNormForward", BatchNormForward}, {"batchNormBackward", BatchNormBackward},
             {"depthwiseConv2d", DepthwiseConv2D}, {"depthwiseConv2dBackpropInput", DepthwiseBackpropInput},
             {"depthwiseConv2dBackpropFilter", DepthwiseBackpropFilter}, {"info", Info}};
  for (auto& f : fns) {
    napi_value v;
    napi_create_function(env, f.name, NAPI_AUTO_LENGTH, f.fn, nullptr, &v);
    napi_set_named_property(env, exports, f.name, v);
  }
  return exports;
}
