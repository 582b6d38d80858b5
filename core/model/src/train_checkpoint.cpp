#include "train_checkpoint.hpp"

#include <ATen/Context.h>

#include <algorithm>
#include <fstream>
#include <mutex>

#include "asaflow/error.hpp"
#include "asaflow/file_io.hpp"
#include "asaflow/hash.hpp"
#include "asaflow/model/transformer.hpp"

namespace fs = std::filesystem;

namespace asaflow::model {
namespace {

using Curve = std::vector<std::pair<std::int64_t, double>>;

torch::Tensor curve_tensor(const Curve& c) {
  auto t = torch::zeros({std::int64_t(c.size()), 2}, torch::kFloat64);
  for (std::size_t i = 0; i < c.size(); ++i) {
    t[std::int64_t(i)][0] = double(c[i].first);
    t[std::int64_t(i)][1] = c[i].second;
  }
  return t;
}

// `t` as the archive gave it: on the device the checkpoint was read onto (the model's), so
// it comes to the host first (read in place on a CUDA device, it crashed the resumed run).
Curve curve_from(const torch::Tensor& t) {
  Curve c;
  const auto host = t.to(torch::kCPU, torch::kFloat64).contiguous();
  auto a = host.accessor<double, 2>();
  for (std::int64_t i = 0; i < t.size(0); ++i) c.emplace_back(std::int64_t(a[i][0]), a[i][1]);
  return c;
}

fs::path digest_file(const fs::path& file) {
  fs::path d = file;
  d += ".sha256";
  return d;
}

// The digests FILE.sha256 lists (one after a completed save, more after a crash in one).
std::vector<std::string> listed_digests(const fs::path& file) {
  std::ifstream in(digest_file(file));
  std::vector<std::string> listed;
  for (std::string d; in >> d;) listed.push_back(d);
  return listed;
}

// The default generator of `device` (a GPU's: dropout draws from it there), under both its
// own lock and the one every seeding in this library takes.
template <class F>
void with_device_generator(const torch::Device& device, F&& use) {
  std::lock_guard<std::mutex> lock(default_generator_mutex());
  at::Generator generator = at::globalContext().defaultGenerator(device);  // a handle to it
  std::lock_guard<std::mutex> own(generator.mutex());
  use(generator);
}

}  // namespace

bool intact(const fs::path& file) {
  const auto listed = listed_digests(file);
  return !listed.empty() && std::find(listed.begin(), listed.end(), sha256_file(file)) != listed.end();
}

void save_with_digest(const fs::path& file, const std::function<void(const std::string& path)>& write,
                      const std::function<void(const char* moment)>& crash_point) {
  std::string digest;
  replace_file_atomically(file, [&](const fs::path& tmp) {
    write(tmp.string());
    digest = sha256_file(tmp);
    std::string listed = digest + "\n";  // the new digest, and those the current file may match
    for (const auto& d : listed_digests(file)) listed += d + "\n";
    write_file_atomically(digest_file(file), listed);
    if (crash_point) crash_point("digests listed");
  });
  if (crash_point) crash_point("renamed");
  write_file_atomically(digest_file(file), digest + "\n");
}

void remove_with_digest(const fs::path& file) {
  std::error_code ec;
  fs::remove(file, ec);
  fs::remove(digest_file(file), ec);
}

void save_checkpoint(const fs::path& file, const torch::Device& device, AsaTransformer& model,
                     const OptimizerState& optimizer, const RunState& state, at::Generator& rng) {
  save_with_digest(file, [&](const std::string& path) {
    torch::serialize::OutputArchive archive, model_ar, optim_ar;
    model->save(model_ar);
    optimizer.save(optim_ar);
    archive.write("model", model_ar);
    archive.write(optimizer.key, optim_ar);
    // Every number as a float64 scalar: integers up to 2^53 survive exactly.
    RunState::fields(state, [&](const char* name, const auto& value) {
      archive.write(name, torch::tensor(double(value), torch::kFloat64));
    });
    archive.write("train_seconds", torch::tensor(state.seconds_so_far(), torch::kFloat64));
    archive.write("train_loss", curve_tensor(state.result.train_loss));
    archive.write("val_ppl", curve_tensor(state.result.val_ppl));
    archive.write("rng", rng.get_state());
    if (!device.is_cpu()) {  // where dropout drew its masks (a CPU run's are `rng`'s)
      with_device_generator(device, [&](at::Generator& g) { archive.write("device_rng", g.get_state()); });
    }
    archive.save_to(path);
  });
}

void load_checkpoint(const fs::path& file, const torch::Device& device, AsaTransformer& model,
                     const OptimizerState& optimizer, const std::string& step_name, RunState& state,
                     at::Generator& rng) {
  torch::serialize::InputArchive archive, model_ar, optim_ar;
  try {
    archive.load_from(file.string(), device);
    archive.read("model", model_ar);
    if (!archive.try_read(optimizer.key, optim_ar)) {
      throw InputError("cannot resume from '" + file.string() + "': it was written by the " + optimizer.other_steps +
                       " step and this run uses the " + step_name +
                       " step; rerun with the step that wrote it (param step) or delete it to start over");
    }
    model->load(model_ar);
    optimizer.load(optim_ar);
    RunState::fields(state, [&](const char* name, auto& value) {
      torch::Tensor t;
      archive.read(name, t);
      value = static_cast<std::remove_reference_t<decltype(value)>>(t.item<double>());
    });
    // Written since the throughput fix; an older checkpoint restarts the clock.
    if (torch::Tensor t; archive.try_read("train_seconds", t)) state.prior_seconds = t.item<double>();
    torch::Tensor curve, generator_state;
    archive.read("train_loss", curve);
    state.result.train_loss = curve_from(curve);
    archive.read("val_ppl", curve);
    state.result.val_ppl = curve_from(curve);
    archive.read("rng", generator_state);
    rng.set_state(generator_state.cpu());  // the host generator's state (the batches' order)
    // A GPU's generator, where dropout drew there: without it (a checkpoint from before it was
    // saved, or from a CPU run) the resumed run draws from the generator as the run seeded
    // it, other masks than an uninterrupted run's (what a resumed graph-step cell did on an
    // H200, 2026-12-04).
    if (!device.is_cpu() && archive.try_read("device_rng", generator_state)) {
      with_device_generator(device, [&](at::Generator& g) { g.set_state(generator_state.cpu()); });
    }
  } catch (const c10::Error& e) {
    throw InputError("cannot resume from '" + file.string() + "' (" + e.what_without_backtrace() +
                     "): delete it to start over");
  }
}

}  // namespace asaflow::model
