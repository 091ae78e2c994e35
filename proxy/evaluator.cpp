#include "proxy/evaluator.h"

#include <dlfcn.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <atomic>
#include <exception>
#include <mutex>
#include <thread>

#include "proxy/metrics.h"
#include "proxy/ranking.h"
#include "spaces/model.h"
#include "spaces/rng.h"
#include "spaces/space.h"

namespace zerolm {

struct Evaluator::Impl {
  EvalOptions opt;
  torch::Device device{torch::kCPU};
  std::vector<std::unique_ptr<Proxy>> proxies;
  bool needs_model = false;
};

Evaluator::Evaluator(const std::vector<std::string>& proxy_names, EvalOptions options)
    : names_(proxy_names), impl_(std::make_unique<Impl>()) {
  impl_->opt = std::move(options);
  impl_->opt.proxy.seed = impl_->opt.seed;
  impl_->device = resolve_device(impl_->opt.device);
  for (const std::string& n : proxy_names) {
    impl_->proxies.push_back(make_proxy(n, impl_->opt.proxy));
    impl_->needs_model = impl_->needs_model || impl_->proxies.back()->needs_model();
  }
}

Evaluator::~Evaluator() = default;

std::vector<std::string> Evaluator::columns() const {
  std::vector<std::string> c = names_;
  for (const auto& p : impl_->proxies)
    for (const std::string& part : p->part_names()) c.push_back(p->name() + "_" + part);
  return c;
}

std::vector<double> Evaluator::row(const Evaluation& e) const {
  std::vector<double> v;
  for (const ProxyResult& r : e.results) v.push_back(r.score);
  for (const ProxyResult& r : e.results) v.insert(v.end(), r.parts.begin(), r.parts.end());
  return v;
}

double weights_mib(const ModelPlan& plan) {
  double bytes = 0;
  for (const TensorSpec& t : plan.tensors) bytes += 4.0 * double(t.numel());
  return bytes / 1048576.0;
}

Evaluation Evaluator::evaluate(const Arch& arch) {
  Evaluation e;
  e.encoding = encode(arch);
  const ModelPlan plan = make_plan(arch, impl_->opt.profile, impl_->needs_model);
  e.params = count_params(plan);
  if (impl_->opt.memory_limit_mb > 0) {
    const double mib = weights_mib(plan);
    if (mib > impl_->opt.memory_limit_mb)
      throw std::runtime_error("out of memory: the model needs " + std::to_string(int(mib)) +
                               " MiB of weights, the limit is " +
                               std::to_string(int(impl_->opt.memory_limit_mb)) + " MiB");
  }
  std::unique_ptr<TorchModel> model;
  if (impl_->needs_model)
    model = std::make_unique<TorchModel>(plan, impl_->device, impl_->opt.proxy.init,
                                         derive_seed(impl_->opt.seed, fnv1a(e.encoding)));
  for (auto& p : impl_->proxies) e.results.push_back(p->score(ScoreInput{plan, model.get()}));
  return e;
}

void parallel_for(std::size_t n, int threads, const std::function<void(std::size_t)>& fn) {
  std::atomic<std::size_t> next{0};
  std::mutex mutex;
  std::exception_ptr error;
  std::size_t error_index = n;
  auto work = [&] {
    for (std::size_t i = next++; i < n; i = next++) {
      try {
        fn(i);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex);
        if (i < error_index) {
          error_index = i;
          error = std::current_exception();
        }
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < std::min<int>(threads, int(n)); ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  if (error) std::rethrow_exception(error);
}

void set_torch_threads(int intra_op) {
  torch::set_num_threads(std::max(1, intra_op));
  // Debian's LibTorch calls OpenBLAS, whose own thread pool ignores set_num_threads and spins on
  // every core; bound it the same way when the BLAS is OpenBLAS.
  using SetThreads = void (*)(int);
  if (auto f = reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads")))
    f(std::max(1, intra_op));
  // Inter-op threads can be set only once per process, before any parallel work.
  static const bool once = [] {
    try {
      torch::set_num_interop_threads(1);
    } catch (const c10::Error&) {
    }
#ifdef __GLIBC__
    // Scoring draws and frees the same weight sizes thousands of times a second. glibc's default
    // hands freed blocks of a few MB back to the kernel (mmap, heap trimming), so every new
    // weight page-faults its memory in again: 25% of weights-mode time on FlexiBERT-500. Keep
    // blocks up to 32 MB (glibc's maximum) in the heap and the heap's top up to 1 GiB.
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
#endif
    return true;
  }();
  (void)once;
}

}  // namespace zerolm

namespace zerolm {

std::vector<Evaluation> evaluate_all(const std::vector<Arch>& archs,
                                     const std::vector<std::string>& proxy_names,
                                     const EvalOptions& options, int threads) {
  threads = std::max(1, std::min<int>(threads, int(archs.size())));
  std::vector<Evaluation> out(archs.size());
  std::atomic<std::size_t> next{0};
  std::mutex err_mutex;
  std::exception_ptr first_error;
  std::size_t first_error_index = archs.size();
  auto work = [&] {
    try {
      Evaluator ev(proxy_names, options);
      for (std::size_t i = next++; i < archs.size(); i = next++) {
        try {
          out[i] = ev.evaluate(archs[i]);
        } catch (const std::exception& e) {
          std::lock_guard<std::mutex> lock(err_mutex);
          if (i < first_error_index) {
            first_error_index = i;
            first_error = std::make_exception_ptr(
                std::runtime_error("scoring \"" + encode(archs[i]) + "\" failed: " + e.what()));
          }
        }
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(err_mutex);
      if (!first_error) first_error = std::current_exception();
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  if (first_error) std::rethrow_exception(first_error);
  return out;
}

}  // namespace zerolm

namespace zerolm {

double heuristic_alpha(const Space& space, const EvalOptions& options, int samples, int threads,
                       double* tau) {
  Rng rng(derive_seed(options.seed, fnv1a("alpha-heuristic")));
  std::vector<Arch> sample;
  for (int i = 0; i < samples; ++i) sample.push_back(space.sample(rng));
  const auto evals = evaluate_all(sample, {"zerolm", "params"}, options, threads);
  std::vector<double> attn, ffn, params;
  for (const Evaluation& e : evals) {
    attn.push_back(e.results[0].parts[0]);
    ffn.push_back(e.results[0].parts[1]);
    params.push_back(e.results[1].score);
  }
  const double alpha = best_alpha(attn, ffn, params, {}, alpha_grid());
  if (tau) *tau = kendall_tau_b(combine(attn, ffn, alpha), params);
  return alpha;
}

int cuda_device_count() {
  return torch::cuda::is_available() ? int(torch::cuda::device_count()) : 0;
}

std::string pick_device(const std::string& requested, int local_rank) {
  if (requested != "auto") return requested;
  const int n = cuda_device_count();
  return n > 0 ? "cuda:" + std::to_string(local_rank % n) : "cpu";
}

}  // namespace zerolm
