// `zerolm list`: the registered spaces (with their sizes) and proxies.
#include <cstdio>
#include <iostream>

#include "checkpoints/prune_space.h"
#include "driver/commands.h"
#include "proxy/capacity_stat.h"
#include "proxy/proxy.h"
#include "search/strategy.h"
#include "spaces/space.h"

namespace zerolm {

Runner add_list_command(CLI::App& app) {
  app.add_subcommand("list", "List search spaces, proxies and capacity statistics");
  return [] {
    std::cout << "spaces:\n";
    for (const auto& n : space_names()) {
      const Space& s = find_space(n);
      char count[64];
      std::snprintf(count, sizeof count, s.count() < 1e15 ? "%.0f" : "%.3g", s.count());
      std::cout << "  " << n << "  (" << count << " architectures)  " << s.spec().description
                << "\n";
    }
    // Registered at run time over one checkpoint, so not among the names above.
    std::cout << "  prune  (per checkpoint)  sub-networks of a Hugging Face checkpoint (LLaMA, "
                 "GPT-2): zerolm search --space prune --checkpoint DIR\n";
    std::cout << "default objective of a search (without --proxy or --objective):\n";
    const auto line = [](const std::string& space, const DefaultScore& d) {
      std::cout << "  " << space << "  " << d.text() << ": " << d.why << "\n";
    };
    for (const auto& n : space_names()) line(n, find_space(n).spec().score);
    line("prune", prune_default_score());
    std::cout << "strategies:\n";
    for (const auto& n : strategy_names()) std::cout << "  " << n << "\n";
    std::cout << "proxies:\n";
    for (const auto& e : proxies().entries()) std::cout << "  " << e.name << "  " << e.help << "\n";
    std::cout << "capacity statistics (ZeroLM):\n";
    for (const auto& c : capacity_names()) std::cout << "  " << c << "\n";
    return 0;
  };
}

}  // namespace zerolm
