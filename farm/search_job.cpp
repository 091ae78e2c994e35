// The MPI side of `zerolm search` (driver/search_cmd.cpp parses and resolves the configuration):
// every rank enters here; rank 0 resolves the configuration and the run directory, then all ranks
// agree (collectively) that start-up succeeded before anyone works, so that bad input ends every
// rank with one line from rank 0.
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "farm/capacity_prep.h"
#include "farm/farm.h"
#include "farm/search_run.h"
#include "farm/stop_handler.h"
#include "farm/task_farm.h"
#include "proxy/torch_runtime.h"
#include "rundir/log.h"
#include "spaces/errors.h"

namespace zerolm {

namespace {

// One line from rank 0 (in one write, control characters escaped); every rank returns `code`.
int fail_all(const MpiSession& mpi, const std::string& err, int code = kInputErrorExit) {
  if (mpi.rank == 0) {
    const std::string line = "zerolm: error: " + printable(err) + "\n";
    std::fwrite(line.data(), 1, line.size(), stderr);
  }
  return code;
}

}  // namespace

int run_search_job(SearchJob& job, log::Level level) {
  MpiSession mpi(nullptr, nullptr);
  StopHandler::install();
  // Open MPI under a mismatched srun starts N one-rank jobs: refuse instead of searching N times.
  if (const char* n = std::getenv("SLURM_NTASKS"); n && std::atoi(n) > 1 && mpi.size == 1)
    return fail_all(
        mpi,
        "SLURM started " + std::string(n) +
            " tasks but MPI sees a world of 1 rank: each task would run its own search. Launch "
            "with `srun --mpi=pmix` (check `srun --mpi=list`) or with mpirun inside the "
            "allocation");

  std::string err;
  RunDir dir(job.dir);
  SearchConfig config;
  RunLock lock;  // rank 0: held until this function returns (also on errors)
  int start_code = kInputErrorExit;
  if (mpi.rank == 0) {
    try {
      config = job.resolve(dir, lock);
    } catch (const InputError& e) {
      err = e.what();
    } catch (const IoError& e) {
      err = e.what();
      start_code = kIoErrorExit;
    } catch (const std::exception& e) {
      err = e.what();
      start_code = kFailureExit;
    }
  }
  if (err = first_error(err, MPI_COMM_WORLD); !err.empty())
    return fail_all(mpi, err, std::stoi(broadcast(std::to_string(start_code), MPI_COMM_WORLD)));
  config = SearchConfig::from_json(broadcast(config.to_json(), MPI_COMM_WORLD), "config");
  dir = RunDir(broadcast(dir.path(), MPI_COMM_WORLD));

  log::init(level, dir.log_file(mpi.rank), mpi.rank, mpi.rank == 0);
  log::info("rank " + std::to_string(mpi.rank) + " of " + std::to_string(mpi.size) + " on " +
            mpi.host + " (local rank " + std::to_string(mpi.local_rank) + ")");
  set_torch_threads(config.threads);

  SearchRun run{&mpi, config, &dir, job.resume, job.stop_after};
  // Every rank scores, rank 0 too (in a thread beside the coordination): N ranks on a node use
  // N devices.
  std::unique_ptr<Scorer> scorer;
  try {
    if (mpi.rank != 0 && job.prepare) job.prepare(config);
    scorer = std::make_unique<Scorer>(config, mpi.rank, mpi.local_rank);
    log::info("scoring on " + scorer->device() + " (" + scorer->device_name() + ")");
  } catch (const std::exception& e) {
    err = e.what();
  }
  if (err = first_error(err, MPI_COMM_WORLD); !err.empty()) return fail_all(mpi, err);
  // A pruning search that reads a capacity table makes it now, spread over the ranks.
  if (needs_capacity_table(config)) {
    try {
      prepare_capacity_table(mpi, config, dir, scorer->device());
    } catch (const std::exception& e) {
      err = e.what();
    }
    // Every rank threw the same agreed message, or none did.
    if (!err.empty()) return fail_all(mpi, err, kFailureExit);
  }
  if (mpi.rank == 0) {
    const int gpus = cuda_device_count(), evaluators_here = mpi.local_size;
    if (gpus > evaluators_here && config.device == "auto")
      log::warn(std::to_string(gpus) + " GPUs visible on " + mpi.host + " but only " +
                std::to_string(evaluators_here) + " evaluating ranks there: some GPUs stay idle");
  }
  int code = 0;
  try {
    {
      const PhaseComm comm;  // the search's own messages
      code = mpi.rank == 0 ? run_coordinator(run, comm.get(), *scorer)
                           : run_worker(comm.get(), *scorer);
    }
    log::flush();
    // Then, on the same ranks, the top architectures are trained briefly (unless stopped early).
    if (code == 0 && job.finetune.top_k > 0 && StopHandler::level() == StopLevel::None) {
      job.finetune.run = dir.path();
      job.finetune.resume = true;
      job.finetune.locked = true;  // this search's lock, held until it ends
      code = finetune_job(mpi, job.finetune);
    }
  } catch (const FarmFailure& e) {
    // Rank 0 only: every rank has been stopped and exits non-zero.
    const std::string line = "zerolm: error: " + printable(e.what()) + "\n";
    std::fwrite(line.data(), 1, line.size(), stderr);
    log::error(e.what());
    log::flush();
    code = 1;
  } catch (const std::exception& e) {
    // After start-up a failure cannot be agreed on collectively: end the whole job (the lock
    // first: MPI_Abort runs no destructors).
    const std::string line =
        "zerolm: error: rank " + std::to_string(mpi.rank) + ": " + printable(e.what()) + "\n";
    std::fwrite(line.data(), 1, line.size(), stderr);
    log::error(e.what());
    log::flush();
    lock.release();
    const int exit_code = dynamic_cast<const IoError*>(&e)      ? kIoErrorExit
                          : dynamic_cast<const InputError*>(&e) ? kInputErrorExit
                                                                : kFailureExit;
    MPI_Abort(MPI_COMM_WORLD, exit_code);
    return exit_code;
  }
  // No rank leaves before rank 0 has said why (and written its checkpoint): mpiexec ends the whole
  // job as soon as one rank exits non-zero.
  MPI_Barrier(MPI_COMM_WORLD);
  return code;
}

}  // namespace zerolm
