#include "proxy/evaluator.h"

#include <atomic>
#include <exception>
#include <mutex>
#include <thread>

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
