// Facts about this run that reports must carry: date, commit, hardware, software. Collected
// once by the host and handed to every stage.
#pragma once

#include <map>
#include <string>

#include "asaflow/export.hpp"

namespace asaflow {

struct ASAFLOW_API RunInfo {
  std::string date_utc;  // ISO 8601
  // git rev-parse HEAD of the repository holding the pipeline (else of asaflow's sources),
  // plus " (dirty)"; "unknown" outside git.
  std::string commit;
  std::string cpu_model;
  int cpu_cores = 0;
  double ram_gib = 0.0;
  std::string os;
  std::string compiler;
  std::string torch_version;
  std::string asaflow_version;
  std::string device_fingerprint;                    // identifies this machine for device-dependent stages
  int threads = 1;                                   // --threads: what compute stages should use
  std::map<std::string, std::string> data_packages;  // name -> version

  std::string data_dir;

  // `repo_dir`: where the pipeline lives, for the commit of the user's repository.
  static RunInfo collect(int threads, const std::string& data_dir, const std::string& repo_dir = "");
};

// The widest x86 vector extension /proc/cpuinfo lists: "avx512f", "avx2", or "" (neither, or
// not x86).
ASAFLOW_API std::string cpu_vector_extension();

// This machine as it decides a result's bits: the CPU model, family, model number and widest
// vector extension, and OPENBLAS_CORETYPE (and ATEN_CPU_CAPABILITY when set), e.g. "AMD EPYC
// (family 26, model 2, avx512f); OPENBLAS_CORETYPE Haswell". Recorded with every result: two
// machines can give different bits for one cache key (the CPU study's none[seed=1], rerun on
// another machine from the same initial weights, ended 0.35 PPL away after 2,000 steps).
ASAFLOW_API std::string machine_description();

// "HEAD[ (dirty)]" of the git repository holding `dir`, or "" when it is not in one.
ASAFLOW_API std::string git_commit(const std::string& dir);

// The metrics history of the repository holding `dir` (its git top level, else `dir`
// itself): <root>/reports/metrics.sqlite. The history reporter (from its pipeline's
// directory) and the history commands (from the working directory) share this rule, so
// anywhere inside one repository they read and write one database.
ASAFLOW_API std::string default_history_db(const std::string& dir);

}  // namespace asaflow
