// asaflow: the command-line host. Parses the command line, prepares the environment
// (BLAS kernel selection and the OpenMP spin policy must be set before the libraries load,
// so main re-executes itself once with them set; the allocator policy is set in process),
// and turns errors into exit codes; nothing else does.
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include "asaflow/error.hpp"
#include "asaflow/memory_usage.hpp"
#include "asaflow/run_info.hpp"
#include "commands.hpp"

namespace {

// Two settings are read only when their libraries load, so main sets them once and
// re-executes itself (ASAFLOW_NO_REEXEC=1 disables this; a value the user set is kept):
// - OPENBLAS_CORETYPE: OpenBLAS 0.3.21 does not recognise this CPU and falls back to slow
//   generic kernels.
// - GOMP_SPINCOUNT: libgomp (LibTorch's and OpenBLAS's threads) spins 300,000 iterations
//   before a waiting thread sleeps. When another process shares the cores (ctest -j2, a
//   second run, a shared CI host) the spinning threads take the cores the other process
//   needs: measured on 2 cores, two small training runs side by side took 46 s and 49 s
//   instead of 3 s and 5 s alone. With 10,000 they took 7 s and 10 s, and a run alone is
//   as fast as with the default (within the 5% noise of three runs each).
void ensure_thread_environment(char** argv) {
  if (std::getenv("ASAFLOW_NO_REEXEC")) return;
  bool changed = false;
  if (!std::getenv("OPENBLAS_CORETYPE")) {
    const std::string isa = asaflow::cpu_vector_extension();
    if (!isa.empty()) {
      ::setenv("OPENBLAS_CORETYPE", isa == "avx512f" ? "SkylakeX" : "Haswell", 1);
      changed = true;
    }
  }
  if (!std::getenv("GOMP_SPINCOUNT") && !std::getenv("OMP_WAIT_POLICY")) {
    ::setenv("GOMP_SPINCOUNT", "10000", 1);
    changed = true;
  }
  if (!changed) return;
  ::setenv("ASAFLOW_NO_REEXEC", "1", 1);
  ::execv("/proc/self/exe", argv);
  // execv failed: carry on with the defaults.
}

}  // namespace

int main(int argc, char** argv) {
  ensure_thread_environment(argv);
  asaflow::keep_freed_memory();
  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    return asaflow::app::dispatch(args);
  } catch (const asaflow::ConfigError& e) {
    for (const auto& d : e.diagnostics()) std::cerr << "error: " << d << "\n";
    return int(e.exit_code());
  } catch (const asaflow::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return int(e.exit_code());
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
