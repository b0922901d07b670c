// Squash's native kernels for TensorFlow.js (Node-API, no other dependency).
//
// Every function works on Float32Arrays owned by JavaScript (the cpu backend's tensor storage):
// inputs are read in place, outputs are written into arrays the caller allocated. Hot loops are
// compiled three times (AVX-512, AVX2+FMA, baseline x86-64) with GCC's target_clones, and the
// loader picks the one this CPU runs, so one build works on every x86-64 machine. Work is split
// over a small persistent thread pool (2 threads by default; SQUASH_NATIVE_THREADS overrides).
#include <node_api.h>

#include <algorithm>
#include <cmath>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <mutex>
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

// Rows [s0*MR, s1*MR) of C over every panel.
SQ_CLONES void gemm_packed(const float* A, long a_rs, long a_cs, const float* Bp, float* C, long ldc,
                           int M, int K, int N, bool acc, long s0, long s1) {
  const long np = panels(N);
  for (long p = 0; p < np; p++) {
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
      for (int r = 0; r < mr; r++) {
        float* crow = C + (long)(i0 + r) * ldc + n0;
        const float* v = (const float*)cs[r];
        if (acc)
          for (int j = 0; j < nn; j++) crow[j] += v[j];
        else
          for (int j = 0; j < nn; j++) crow[j] = v[j];
      }
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
thread_local Buf tl_pack, tl_col, tl_acc;

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
  parallel_for(np, 4, [&](int, long a, long b) { pack_b(B, transB, ldb, K, N, Bp, a, b); });
  const long ns = strips(M);
  parallel_for(ns, 2, [&](int, long a, long b) { gemm_packed(A, a_rs, a_cs, Bp, C, ldc, M, K, N, acc, a, b); });
}

// ---------------------------------------------------------------- convolution (NHWC, HWIO)
struct Conv {
  int n, h, w, c, oh, ow, oc, fh, fw, sh, sw, dh, dw, pt, pl;
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
  const int T = pool().size();
  std::vector<float*> accs(T, nullptr);
  std::fill(dw, dw + size, 0.f);
  std::atomic<int> used{0};
  parallel_for(v.n, 1, [&](int tid, long a, long b) {
    float* accum = tid == 0 ? dw : tl_acc.get((size_t)size);
    if (tid != 0) std::fill(accum, accum + size, 0.f);
    accs[tid] = accum;
    used++;
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
  for (int t = 1; t < T; t++)
    if (accs[t])
      for (long i = 0; i < size; i++) dw[i] += accs[t][i];
}

// ---------------------------------------------------------------- max pooling (NHWC)
struct Pool2 {
  int n, h, w, c, oh, ow, fh, fw, sh, sw, pt, pl;
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

// tfjs' Adam, step for step in float32: m = β1·m + (1−β1)·g; v = β2·v + (1−β2)·g²;
// w += −lr · (m / (1−β1ᵗ)) / (√(v / (1−β2ᵗ)) + ε).
SQ_CLONES void adam(const float* w, const float* g, float* m, float* v, float* out, long n, float lr, float b1,
                    float omb1, float b2, float omb2, float eps, float c1, float c2) {
  for (long i = 0; i < n; i++) {
    const float gi = g[i];
    const float mi = m[i] * b1 + gi * omb1;
    const float vi = v[i] * b2 + (gi * gi) * omb2;
    m[i] = mi;
    v[i] = vi;
    const float mh = mi / c1, vh = vi / c2;
    out[i] = (mh / (__builtin_sqrtf(vh) + eps)) * -lr + w[i];
  }
}

// ---------------------------------------------------------------- Node-API glue
struct Args {
  napi_env env;
  napi_value argv[24];
  size_t argc = 24;
  bool ok = true;
  Args(napi_env e, napi_callback_info info) : env(e) { napi_get_cb_info(e, info, &argc, argv, nullptr, nullptr); }
  float* f32(size_t i, size_t* len = nullptr) {
    napi_valuetype t;
    napi_typeof(env, argv[i], &t);
    if (t == napi_null || t == napi_undefined) return nullptr;
    napi_typedarray_type type;
    size_t n;
    void* data;
    if (napi_get_typedarray_info(env, argv[i], &type, &n, &data, nullptr, nullptr) != napi_ok || type != napi_float32_array) {
      fail("expected a Float32Array");
      return nullptr;
    }
    if (len) *len = n;
    return (float*)data;
  }
  long i64(size_t i) {
    int64_t v = 0;
    if (napi_get_value_int64(env, argv[i], &v) != napi_ok) fail("expected a number");
    return (long)v;
  }
  double f64(size_t i) {
    double v = 0;
    if (napi_get_value_double(env, argv[i], &v) != napi_ok) fail("expected a number");
    return v;
  }
  void fail(const char* msg) {
    if (ok) napi_throw_type_error(env, nullptr, msg);
    ok = false;
  }
};

Conv conv_args(Args& a, size_t at) {
  Conv v;
  int* f[] = {&v.n, &v.h, &v.w, &v.c, &v.oh, &v.ow, &v.oc, &v.fh, &v.fw, &v.sh, &v.sw, &v.dh, &v.dw, &v.pt, &v.pl};
  for (size_t i = 0; i < 15; i++) *f[i] = (int)a.i64(at + i);
  return v;
}

Pool2 pool_args(Args& a, size_t at) {
  Pool2 v;
  int* f[] = {&v.n, &v.h, &v.w, &v.c, &v.oh, &v.ow, &v.fh, &v.fw, &v.sh, &v.sw, &v.pt, &v.pl};
  for (size_t i = 0; i < 12; i++) *f[i] = (int)a.i64(at + i);
  return v;
}

// matMul(a, b, c, batch, M, K, N, transA, transB, aBatchStride, bBatchStride, bias|null, act)
napi_value MatMul(napi_env env, napi_callback_info info) {
  Args a(env, info);
  float *A = a.f32(0), *B = a.f32(1), *C = a.f32(2);
  long batch = a.i64(3), M = a.i64(4), K = a.i64(5), N = a.i64(6), ta = a.i64(7), tb = a.i64(8), sa = a.i64(9), sb = a.i64(10);
  size_t blen = 0;
  float* bias = a.f32(11, &blen);
  long act = a.i64(12);
  if (!a.ok) return nullptr;
  for (long i = 0; i < batch; i++) {
    const float* Ai = A + i * sa;
    gemm(Ai, ta ? 1 : K, ta ? M : 1, B + i * sb, tb != 0, tb ? K : N, C + i * M * N, N, (int)M, (int)K, (int)N, false);
  }
  if (bias || act) bias_act(C, batch * M, (int)N, bias, (long)blen, (int)act);
  return nullptr;
}

// conv2d(x, w, y, bias|null, act, ...15 dims)
napi_value Conv2D(napi_env env, napi_callback_info info) {
  Args a(env, info);
  float *x = a.f32(0), *w = a.f32(1), *y = a.f32(2);
  size_t blen = 0;
  float* bias = a.f32(3, &blen);
  long act = a.i64(4);
  Conv v = conv_args(a, 5);
  if (!a.ok) return nullptr;
  conv2d(v, x, w, y);
  if (bias || act) bias_act(y, (long)v.n * v.pos(), v.oc, bias, (long)blen, (int)act);
  return nullptr;
}

napi_value Conv2DBackpropInput(napi_env env, napi_callback_info info) {
  Args a(env, info);
  float *dy = a.f32(0), *w = a.f32(1), *dx = a.f32(2);
  Conv v = conv_args(a, 3);
  if (!a.ok) return nullptr;
  conv2d_backprop_input(v, dy, w, dx);
  return nullptr;
}

napi_value Conv2DBackpropFilter(napi_env env, napi_callback_info info) {
  Args a(env, info);
  float *x = a.f32(0), *dy = a.f32(1), *dw = a.f32(2);
  Conv v = conv_args(a, 3);
  if (!a.ok) return nullptr;
  conv2d_backprop_filter(v, x, dy, dw);
  return nullptr;
}

napi_value MaxPool(napi_env env, napi_callback_info info) {
  Args a(env, info);
  float *x = a.f32(0), *y = a.f32(1);
  Pool2 v = pool_args(a, 2);
  if (!a.ok) return nullptr;
  max_pool(v, x, y);
  return nullptr;
}

napi_value MaxPoolGrad(napi_env env, napi_callback_info info) {
  Args a(env, info);
  float *dy = a.f32(0), *x = a.f32(1), *dx = a.f32(2);
  Pool2 v = pool_args(a, 3);
  if (!a.ok) return nullptr;
  max_pool_grad(v, dy, x, dx);
  return nullptr;
}

// sumRows(x, rows, n, out)
napi_value SumRows(napi_env env, napi_callback_info info) {
  Args a(env, info);
  float* x = a.f32(0);
  long rows = a.i64(1), n = a.i64(2);
  float* out = a.f32(3);
  if (!a.ok) return nullptr;
  sum_rows(x, rows, n, out);
  return nullptr;
}

// adam(w, g, m, v, out, lr, b1, oneMinusB1, b2, oneMinusB2, eps, oneMinusAccB1, oneMinusAccB2)
napi_value Adam(napi_env env, napi_callback_info info) {
  Args a(env, info);
  size_t n = 0;
  float *w = a.f32(0, &n), *g = a.f32(1), *m = a.f32(2), *v = a.f32(3), *out = a.f32(4);
  float p[8];
  for (int i = 0; i < 8; i++) p[i] = (float)a.f64(5 + i);
  if (!a.ok) return nullptr;
  parallel_for((long)n, 1 << 16, [&](int, long s, long e) {
    adam(w + s, g + s, m + s, v + s, out + s, e - s, p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]);
  });
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
             {"sumRows", SumRows}, {"adam", Adam}, {"info", Info}};
  for (auto& f : fns) {
    napi_value v;
    napi_create_function(env, f.name, NAPI_AUTO_LENGTH, f.fn, nullptr, &v);
    napi_set_named_property(env, exports, f.name, v);
  }
  return exports;
}
