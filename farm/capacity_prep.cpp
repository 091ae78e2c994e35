#include "farm/capacity_prep.h"

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "checkpoints/prune_space.h"
#include "proxy/capacity_stat.h"
#include "proxy/checkpoint_scores.h"
#include "rundir/csv.h"
#include "rundir/log.h"
#include "spaces/files.h"

namespace zerolm {

namespace {

constexpr int kTagTable = 41;

// The first line of a cache file: what it was made from.
std::string cache_key(const CheckpointSpace& space, CapacityStat stat) {
  char hash[32];
  std::snprintf(hash, sizeof hash, "%016llx",
                static_cast<unsigned long long>(space.checkpoint().content_hash()));
  return "zerolm capacity table v1; statistic " + capacity_name(stat) + "; checkpoint " + hash +
         "; " + space.prune().describe();
}

// Layers [first, last) of rank r of n: contiguous shares, the first ones one layer longer.
std::pair<int, int> share(int layers, int r, int n) {
  const int base = layers / n, extra = layers % n;
  const int first = r * base + std::min(r, extra);
  return {first, first + base + (r < extra ? 1 : 0)};
}

}  // namespace

bool needs_capacity_table(const SearchConfig& config) {
  if (config.space != "prune" || config.capacity == "msv") return false;
  for (const SearchObjective& o : config.objective_list())
    if (o.name == "zerolm") return true;
  return config.proxy == "zerolm";
}

void prepare_capacity_table(const MpiSession& mpi, const SearchConfig& config, const RunDir& dir,
                            const std::string& device) {
  const CheckpointSpace& space = registered_checkpoint_space();
  const CapacityStat stat = parse_capacity(config.capacity);
  const std::string file = dir.path() + "/capacity-" + config.capacity + ".txt";
  const int layers = space.prune().layers();

  // Rank 0 looks for a cache made from this checkpoint and statistic.
  std::string cached, err;
  if (mpi.rank == 0) {
    try {
      const std::string key = cache_key(space, stat);
      if (std::filesystem::exists(file)) {
        const std::string text = read_text(file);
        const auto eol = text.find('\n');
        if (eol != std::string::npos && text.compare(0, eol, key) == 0) {
          CapacityTable check;
          read_table_rows(text.substr(eol + 1), space.prune(), check, file);
          bool whole = true;
          for (int l = 0; l < layers; ++l) whole = whole && !check.ffn[std::size_t(l)].empty();
          if (whole) cached = text.substr(eol + 1);
        } else {
          log::info(file + " was made for another checkpoint or statistic: made again");
        }
      }
    } catch (const std::exception& e) {
      err = e.what();
    }
  }
  if (err = first_error(err, MPI_COMM_WORLD); !err.empty()) throw InputError(err);
  cached = broadcast(cached, MPI_COMM_WORLD);
  CapacityTable table;
  table.stat = stat;
  if (!cached.empty()) {
    read_table_rows(cached, space.prune(), table, file);
    if (mpi.rank == 0) log::info("capacity table (" + config.capacity + ") read from " + file);
    install_capacity_table(space, std::move(table));
    return;
  }

  // Each rank its share of the layers, then every share to every rank through rank 0.
  const auto [first, last] = share(layers, mpi.rank, mpi.size);
  const auto start = std::chrono::steady_clock::now();
  std::string mine;
  try {
    if (mpi.rank == 0)
      log::info("capacity table (" + config.capacity + "): " + std::to_string(layers) +
                " layers over " + std::to_string(mpi.size) + " rank(s), layers " +
                std::to_string(first) + "-" + std::to_string(last - 1) + " here");
    const CapacityTable part =
        capacity_table(space.checkpoint(), space.prune(), stat, first, last, device, [&](int done) {
          const double s =
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
          log::info("capacity table: " + std::to_string(done) + " of " +
                    std::to_string(last - first) + " layers of this rank, " + format_number(s) +
                    " s");
        });
    mine = table_rows_text(part, first, last);
  } catch (const std::exception& e) {
    err = e.what();
  }
  if (err = first_error(err, MPI_COMM_WORLD); !err.empty()) throw std::runtime_error(err);
  std::string all;
  if (mpi.rank == 0) {
    all = mine;
    for (int r = 1; r < mpi.size; ++r) {
      MPI_Status status;
      MPI_Probe(r, kTagTable, MPI_COMM_WORLD, &status);
      all += recv_bytes(status, MPI_COMM_WORLD);
    }
    try {
      write_file_atomic(file, cache_key(space, stat) + "\n" + all);
    } catch (const std::exception& e) {
      err = e.what();
    }
    const double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    log::info("capacity table (" + config.capacity + ") made in " + format_number(s) +
              " s, cached in " + file);
  } else {
    send_bytes(mine, 0, kTagTable, MPI_COMM_WORLD);
  }
  if (err = first_error(err, MPI_COMM_WORLD); !err.empty()) throw IoError(err);
  all = broadcast(all, MPI_COMM_WORLD);
  read_table_rows(all, space.prune(), table, file);
  install_capacity_table(space, std::move(table));
}

}  // namespace zerolm
