// Factories of the built-in proxies; registry.cpp lists them by name.
#pragma once

#include <memory>

#include "proxy/proxy.h"

namespace zerolm {

std::unique_ptr<Proxy> make_zerolm(const ProxyOptions& o);
std::unique_ptr<Proxy> make_zerolm2(const ProxyOptions& o);
std::unique_ptr<Proxy> make_hidden_layers(const ProxyOptions& o);
std::unique_ptr<Proxy> make_params(const ProxyOptions& o);
std::unique_ptr<Proxy> make_params_nonemb(const ProxyOptions& o);
std::unique_ptr<Proxy> make_flops(const ProxyOptions& o);
std::unique_ptr<Proxy> make_noop(const ProxyOptions& o);
std::unique_ptr<Proxy> make_kept_norm(const ProxyOptions& o);
std::unique_ptr<Proxy> make_synflow(const ProxyOptions& o);
std::unique_ptr<Proxy> make_snip(const ProxyOptions& o);
std::unique_ptr<Proxy> make_grad_norm(const ProxyOptions& o);

}  // namespace zerolm
