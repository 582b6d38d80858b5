#include "commands.hpp"

#include <boost/program_options.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "asaflow/artifact_store.hpp"
#include "asaflow/error.hpp"
#include "asaflow/executor.hpp"
#include "asaflow/logging.hpp"
#include "asaflow/pipeline.hpp"
#include "asaflow/plugin_host.hpp"
#include "asaflow/publish.hpp"
#include "asaflow/text_util.hpp"
#include "asaflow/version.hpp"
#include "command_support.hpp"
#include "observers.hpp"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace asaflow::app {
namespace {

const char* kExitCodes =
    "exit codes: 0 success, 1 a stage failed, 2 usage or configuration error, 3 plugin load error\n";

// A built-in command: its name, its arguments and what it does (for the usage text and its
// own --help), and its handler. One table (commands(), after the handlers): a name cannot
// be listed without a handler, nor run one it does not name.
// `options` are the long names of the options it reads, beyond the ones every command
// takes (kShared): its --help lists only those, and any other option is an error.
struct Command {
  std::string name;
  std::string args;
  std::string summary;
  int (*handler)(const Common&);
  std::vector<std::string> options;
};
const std::vector<Command>& commands();
const std::vector<std::string> kShared = {"help", "quiet", "verbose"};

const Command& command_named(const std::string& name) {
  for (const auto& c : commands()) {
    if (c.name == name) return c;
  }
  throw std::logic_error("no built-in command '" + name + "'");
}

// "  NAME ARGS" padded to 20 columns (3 spaces after a longer head), then the summary.
std::string usage_line(std::string head, const std::string& summary) {
  head.resize(head.size() < 18 ? 20 : head.size() + 3, ' ');
  return "  " + head + summary + "\n";
}

}  // namespace

// The helpers command_support.hpp declares, shared with the other command files.
std::vector<std::string> command_names() {
  std::vector<std::string> names;
  for (const auto& c : commands()) names.push_back(c.name);
  return names;
}

std::string user_cache_dir() {
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return std::string(x) + "/asaflow";
  if (const char* h = std::getenv("HOME"); h && *h) return std::string(h) + "/.cache/asaflow";
  return "/tmp/asaflow-cache";
}

// The options every built-in command shares, parsed once: a command reads the ones it
// needs from Common. Errors are ConfigErrors naming the command (exit code 2); --help
// fills Common::help for the caller to print rather than exiting here.
Common parse(const std::string& command, const std::vector<std::string>& args) {
  Common c;
  po::options_description opts("options");
  opts.add_options()("help,h", "show help")("plugin-dir", po::value(&c.plugin_dirs),
                                            "extra directory of plugin libraries (repeatable)")(
      "cache-dir", po::value(&c.cache_dir), "cache directory (default: .asaflow/ beside the pipeline)")(
      "data-dir", po::value(&c.data_dir),
      "where fetched data packages live (default: $ASAFLOW_DATA_DIR or ~/.cache/asaflow/data)")(
      "threads", po::value(&c.threads), "compute threads for stages (default: all cores)")(
      "pipeline,p", po::value(&c.pipeline), "pipeline file (for why)")(
      "jobs,j", po::value(&c.jobs),
      "stages to run in parallel (default 1; with an executor other than local, jobs in flight, default 100)")(
      "executor", po::value(&c.executor),
      "run: where cells run: local (this process) or an executor plugin (process: child processes here; slurm)")(
      "cell", po::value(&c.cell),
      "run: compute this one cell, its inputs from the cache (what an executor's job runs)")(
      "rank", po::value(&c.rank),
      "run --cell: as rank R of a data-parallel group (slurm: from SLURM_PROCID, SLURM_NTASKS, ASAFLOW_RENDEZVOUS)")(
      "world-size", po::value(&c.world_size), "run --cell --rank R: the group's size")(
      "rendezvous", po::value(&c.rendezvous), "run --cell --rank R: HOST:PORT of rank 0")(
      "dry-run,n", po::bool_switch(&c.dry_run), "decide what would run, run nothing")(
      "force", po::value(&c.force), "recompute this stage or cell even if cached (repeatable)")(
      "set", po::value(&c.sets), "NAME=VALUE: override the pipeline's variable NAME (repeatable)")(
      "force-downstream", po::bool_switch(&c.force_downstream), "with --force: also everything downstream")(
      "checkpoints", po::bool_switch(&c.checkpoints), "gc: also remove the checkpoints of interrupted runs")(
      "fail-fast", po::bool_switch(&c.fail_fast), "start no new stage after a failure")(
      "quiet,q", po::bool_switch(&c.quiet), "warnings and errors only, no progress line")(
      "verbose,v", po::bool_switch(&c.verbose), "debug logging")("json", po::bool_switch(&c.json),
                                                                 "print JSON instead of text")(
      "format", po::value(&c.graph_format)->default_value("text"), "dag: text, dot (Graphviz) or mermaid")(
      "csv", po::bool_switch(&c.csv), "runs: one CSV line per run")(
      "sort", po::value(&c.sort),
      "runs: sort by KEY (started, seconds, pipeline, status, a headline metric; -KEY descending)")(
      "filter", po::value(&c.filters),
      "runs: KEY=VALUE, the value's prefix (pipeline=, status=failed, commit=, id=); repeatable")(
      "args", po::value(&c.positional), "positional arguments");
  po::positional_options_description pos;
  pos.add("args", -1);
  // The command's own options, in the order above: what its --help lists and suggests.
  const Command& cmd = command_named(command);
  const auto applies = [&cmd](const std::string& name) {
    const auto in = [&name](const std::vector<std::string>& names) {
      return std::find(names.begin(), names.end(), name) != names.end();
    };
    return in(kShared) || in(cmd.options);
  };
  po::options_description own("options");
  std::vector<std::string> own_names;
  for (const auto& o : opts.options()) {
    if (!applies(o->long_name())) continue;
    own.add(o);
    own_names.push_back("--" + o->long_name());
  }
  const std::string see = "; see asaflow " + command + " --help";
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(opts).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const po::unknown_option& e) {
    std::string msg = "asaflow " + command + ": unknown option '" + e.get_option_name() + "'";
    throw ConfigError(msg + suggestion(e.get_option_name(), own_names) + see);
  } catch (const po::error& e) {
    throw ConfigError("asaflow " + command + ": " + e.what() + see);
  }
  if (vm.count("help")) {  // the caller prints it: no exit from inside parsing
    std::ostringstream text;
    text << "usage: asaflow " << cmd.name << (cmd.args.empty() ? "" : " " + cmd.args) << " [options]\n\n"
         << cmd.summary << "\n\n"
         << own << "\n"
         << kExitCodes;
    c.help = text.str();
    return c;
  }
  // An option another command reads is refused here rather than silently ignored.
  for (const auto& [name, value] : vm) {
    if (name == "args" || value.defaulted() || applies(name)) continue;
    std::vector<std::string> listed(own_names.begin() + 1, own_names.end());  // all but --help
    throw ConfigError("asaflow " + command + ": --" + name + " does not apply to " + command +
                      " (its options: " + join(listed, ", ") + ")" + see);
  }
  if (c.jobs < 1) throw ConfigError("asaflow " + command + ": --jobs must be at least 1");
  c.jobs_given = vm.count("jobs") > 0;
  if (c.threads < 0) throw ConfigError("asaflow " + command + ": --threads must be at least 1");
  if (c.threads == 0) c.threads = int(std::max(1u, std::thread::hardware_concurrency()));
  if (c.data_dir.empty()) {
    const char* env = std::getenv("ASAFLOW_DATA_DIR");
    c.data_dir = env && *env ? env : user_cache_dir() + "/data";
  }
  init_logging(LogOptions{c.quiet, c.verbose});
  return c;
}

std::string plugin_index_file() {
  if (const char* env = std::getenv("ASAFLOW_PLUGIN_INDEX")) return env;  // "" disables it
  return user_cache_dir() + "/plugin-index.json";
}

// The usage text: the built-in commands, then the commands the plugins found on the default
// search path add, each with its plugin's own summary ("asaflow NAME ARGS: what it does").
void print_usage(std::ostream& out) {
  out << "usage: asaflow COMMAND [options]\n\ncommands:\n";
  for (const auto& c : commands()) out << usage_line(c.name + (c.args.empty() ? "" : " " + c.args), c.summary);
  try {
    PluginHost host(plugin_index_file());
    host.discover(PluginHost::search_path({}));
    const auto names = host.names_of_kind("command");
    if (!names.empty()) out << "\nplugin commands (asaflow COMMAND --help for their options):\n";
    for (const auto& name : names) {
      std::string summary = host.find("command", name)->info.summary;
      if (summary.rfind("asaflow ", 0) == 0) summary.erase(0, 8);
      const auto colon = summary.find(": ");
      std::string head = colon == std::string::npos ? name : summary.substr(0, colon);
      const std::string text = colon == std::string::npos ? summary : summary.substr(colon + 2);
      out << usage_line(head, text);  // as the built-in lines
    }
  } catch (const std::exception& e) {
    out << "\nplugin commands: unavailable (" << e.what() << ")\n";
  }
  out << "\n" << kExitCodes;
}

// The plugin host every command starts from: the default search path (beside the
// installation) plus --plugin-dir, whose libraries are only opened when a pipeline or a
// listing needs them (the index caches what each one registers).
std::unique_ptr<PluginHost> make_host(const Common& c) {
  auto host = std::make_unique<PluginHost>(plugin_index_file());
  std::vector<fs::path> extra(c.plugin_dirs.begin(), c.plugin_dirs.end());
  for (const auto& d : extra) {
    if (!fs::is_directory(d)) throw ConfigError("--plugin-dir '" + d.string() + "' is not a directory");
  }
  host->discover(PluginHost::search_path(extra));
  return host;
}

std::string need_pipeline(const std::string& command, const Common& c, std::size_t index) {
  if (c.positional.size() <= index) {
    throw ConfigError("asaflow " + command + ": missing the pipeline file (asaflow " + command + " PIPELINE.yaml)");
  }
  if (c.positional.size() > index + 1) {
    throw ConfigError("asaflow " + command + ": unexpected argument '" + c.positional[index + 1] +
                      "' (one pipeline per command)");
  }
  return c.positional[index];
}

// The pipeline with the run's variables: ${data_dir} and every --set. A --set that names
// no variable of the pipeline is an error in load_pipeline, so a typo cannot silently run
// the full-size pipeline.
Pipeline load(const std::string& file, PluginHost& host, const Common& c) {
  PipelineVars vars;
  vars.builtin["data_dir"] = c.data_dir;
  for (const auto& s : c.sets) {
    const auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw ConfigError("asaflow: --set expects NAME=VALUE, got '" + s + "'");
    }
    if (!vars.overrides.emplace(s.substr(0, eq), s.substr(eq + 1)).second) {
      throw ConfigError("asaflow: --set gives variable '" + s.substr(0, eq) + "' twice");
    }
  }
  return load_pipeline(file, host, vars);
}

fs::path cache_dir_for(const Pipeline& p, const Common& c) {
  return c.cache_dir.empty() ? p.dir / ".asaflow" : fs::path(c.cache_dir);
}

namespace {

// validate loads the pipeline (every diagnostic at once) and runs nothing.
int cmd_validate(const Common& c) {
  auto host = make_host(c);
  Pipeline p = load(need_pipeline("validate", c), *host, c);
  std::cout << "ok: pipeline '" << p.name << "' (" << p.file.string() << "): " << p.stages.size() << " stages, "
            << p.cells.size() << " cells\n";
  return 0;
}

// why: for one stage, each cell's state and the reasons (which key input changed: params,
// upstream outputs, data digests, plugin library, environment), read from the store's
// state records without running anything.
int cmd_why(const Common& c) {
  std::string file = c.pipeline, stage;
  if (c.positional.size() == 2 && file.empty()) {
    file = c.positional[0];
    stage = c.positional[1];
  } else if (c.positional.size() == 1 && !file.empty()) {
    stage = c.positional[0];
  } else {
    throw ConfigError("asaflow why: usage: asaflow why STAGE -p PIPELINE.yaml");
  }
  auto host = make_host(c);
  Pipeline pipeline = load(file, *host, c);
  std::vector<std::string> names;
  bool any = false;
  for (const auto& cell : pipeline.cells) {
    const std::string& name = pipeline.stages[cell.stage].name;
    names.push_back(cell.id);
    if (cell.id == stage || name == stage) any = true;
  }
  if (!any) {
    std::string msg = "asaflow why: no stage '" + stage + "' in pipeline '" + pipeline.name + "'";
    msg += suggestion(stage, names);
    throw ConfigError(msg);
  }
  ArtifactStore store(cache_dir_for(pipeline, c));
  Executor executor(pipeline, *host, store, RunInfo::collect(c.threads, c.data_dir, pipeline.dir.string()));
  RunOptions options;
  options.dry_run = true;
  std::vector<CellReport> reports = executor.run(options);
  for (std::size_t i = 0; i < reports.size(); ++i) {
    const auto& cell = pipeline.cells[i];
    if (cell.id != stage && pipeline.stages[cell.stage].name != stage) continue;
    const auto& r = reports[i];
    if (r.state == CellState::kCached) {
      std::cout << cell.id << ": cached (key " << r.key.substr(0, 12) << "); nothing changed since its last run\n";
    } else if (r.state == CellState::kFailed) {
      std::cout << cell.id << ": cannot compute its key: " << r.error << "\n";
    } else {
      std::cout << cell.id << ": will run because:\n";
      for (const auto& reason : r.reasons) std::cout << "  - " << reason << "\n";
    }
  }
  return 0;
}

// plugins lists every component the host found, with its library and the libraries it
// refused and why (API version, build fingerprint).
int cmd_plugins(const Common& c) {
  auto host = make_host(c);
  for (const ComponentEntry* e : host->entries()) {
    std::cout << e->info.kind << "/" << e->info.name << " " << e->info.version << "  (" << e->plugin_name << " "
              << e->plugin_version << ", " << e->library << ")\n";
    if (!e->info.summary.empty()) std::cout << "    " << e->info.summary << "\n";
    for (const auto& p : e->info.params) {
      std::cout << "    " << p.name << ": " << p.describe() << (p.help.empty() ? "" : " - " + p.help) << "\n";
    }
  }
  return 0;
}

}  // namespace

fs::path cache_dir_from_args(const std::string& command, const Common& c, std::size_t index) {
  if (!c.cache_dir.empty()) return c.cache_dir;
  if (c.positional.size() > index) return fs::absolute(c.positional[index]).parent_path() / ".asaflow";
  throw ConfigError("asaflow " + command + ": give the pipeline file or --cache-dir");
}

namespace {

// cache verify re-hashes every entry against its manifest and evicts what does not match
// (-n: only reports); what it could not read or evict is listed rather than stopping it.
int cmd_cache(const Common& c) {
  if (c.positional.empty() || c.positional[0] != "verify") {
    throw ConfigError("asaflow cache: usage: asaflow cache verify PIPELINE.yaml (or --cache-dir DIR)");
  }
  fs::path dir = cache_dir_from_args("cache verify", c, 1);
  if (!fs::is_directory(dir)) throw ConfigError("asaflow cache verify: no cache at '" + dir.string() + "'");
  ArtifactStore store(dir);
  auto report = store.verify(!c.dry_run);
  for (const auto& p : report.problems) std::cout << "damaged: " << p << "\n";
  for (const auto& p : report.unverified) std::cout << "could not: " << p << "\n";
  std::cout << "verified " << report.checked << " entries in " << dir.string() << ": " << report.problems.size()
            << (c.dry_run ? " damaged (dry run: none evicted)" : " damaged");
  if (!report.unverified.empty()) std::cout << ", " << report.unverified.size() << " things could not be done";
  std::cout << "\n";
  return report.problems.empty() && report.unverified.empty() ? 0 : 1;
}

std::string mib(std::uintmax_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB", double(bytes) / (1024.0 * 1024.0));
  return buf;
}

// gc keeps, for each pipeline in the store, the entries its cells last produced and every
// pinned key; -n lists what would go without deleting anything.
int cmd_gc(const Common& c) {
  fs::path dir = cache_dir_from_args("gc", c, 0);
  if (!fs::is_directory(dir)) throw ConfigError("asaflow gc: no cache at '" + dir.string() + "'");
  ArtifactStore store(dir);
  ArtifactStore::GcOptions options;
  options.dry_run = c.dry_run;
  options.checkpoints = c.checkpoints;
  auto report = store.gc(options);
  const char* verb = c.dry_run ? "would remove" : "removed";
  for (const auto& what : report.removed) std::cout << verb << " " << what << "\n";
  for (const auto& e : report.errors) std::cout << "error: " << e << "\n";
  std::cout << (c.dry_run ? "dry run: would remove " : "removed ") << report.removed_entries
            << " unreferenced entries, " << report.removed_temp << " abandoned temporary entries and "
            << report.removed_scratch << " scratch directories, " << (c.dry_run ? "freeing " : "freed ")
            << mib(report.freed_bytes) << "\n";
  if (report.kept_checkpoints > 0) {
    std::cout << "kept " << report.kept_checkpoints << " checkpoints of interrupted runs ("
              << mib(report.kept_checkpoint_bytes) << "): a rerun resumes from them; --checkpoints removes them\n";
  }
  return report.errors.empty() ? 0 : 1;
}

// asaflow pin PIPELINE [NAME]: pins the keys the pipeline's cells last produced under NAME
// (gc keeps them); without NAME, lists the pins. asaflow unpin PIPELINE NAME removes one.
int cmd_pin(const Common& c) {
  fs::path dir = cache_dir_from_args("pin", c, 0);
  if (!fs::is_directory(dir)) throw ConfigError("asaflow pin: no cache at '" + dir.string() + "'");
  ArtifactStore store(dir);
  if (c.positional.size() < 2) {
    const auto pins = store.pins();
    if (pins.empty()) std::cout << "no pins in " << dir.string() << "\n";
    for (const auto& p : pins) {
      std::cout << p.name << "  pipeline '" << p.pipeline << "', " << p.keys << " cells, " << p.date << "\n";
    }
    return 0;
  }
  auto host = make_host(c);
  const Pipeline pipeline = load(c.positional[0], *host, c);
  const auto info = store.pin(c.positional[1], pipeline.name);
  std::cout << "pinned " << info.keys << " cells of pipeline '" << info.pipeline << "' as '" << info.name
            << "': gc keeps them until `asaflow unpin " << c.positional[0] << " " << info.name << "`\n";
  return 0;
}

int cmd_unpin(const Common& c) {
  if (c.positional.size() != 2) throw ConfigError("asaflow unpin: usage: asaflow unpin PIPELINE NAME");
  fs::path dir = cache_dir_from_args("unpin", c, 0);
  ArtifactStore store(dir);
  if (!store.unpin(c.positional[1])) {
    std::vector<std::string> names;
    for (const auto& p : store.pins()) names.push_back(p.name);
    throw ConfigError("asaflow unpin: no pin '" + c.positional[1] + "' in " + dir.string() +
                      suggestion(c.positional[1], names, "pins"));
  }
  std::cout << "unpinned '" << c.positional[1] << "': the next gc may remove what only it kept\n";
  return 0;
}

// Commands plugins add (kind "command"), e.g. `asaflow annotate`. Options before the
// command's own arguments are not parsed here: the plugin gets every word after its name.
int dispatch_plugin_command(const std::string& command, const std::vector<std::string>& args) {
  init_logging(LogOptions{});
  PluginHost host(plugin_index_file());
  host.discover(PluginHost::search_path({}));
  std::vector<std::string> names = command_names();
  for (const auto& n : host.names_of_kind("command")) names.push_back(n);
  const ComponentEntry* entry = host.find("command", command);
  if (!entry) {
    std::string msg = "unknown command '" + command + "'";
    msg += suggestion(command, names);
    throw ConfigError(msg + "; commands: " + join(names, ", "));
  }
  auto component = std::dynamic_pointer_cast<CommandComponent>(host.instantiate(*entry));
  if (!component) throw PluginError("command/" + command + " does not implement a command");
  const char* env = std::getenv("ASAFLOW_DATA_DIR");
  const std::string data_dir = env && *env ? env : user_cache_dir() + "/data";
  return component->run(args, RunInfo::collect(int(std::max(1u, std::thread::hardware_concurrency())), data_dir));
}

const std::vector<Command>& commands() {
  // A command that loads a pipeline reads --plugin-dir, --data-dir and --set; one that
  // computes cache keys, --threads (part of the environment a key covers).
  static const std::vector<Command> table = {
      {"run",
       "PIPELINE [TARGET...]",
       "run a pipeline (or the targets and what they need), reusing every cached stage",
       [](const Common& c) { return cmd_run(c, false); },
       {"plugin-dir", "cache-dir", "data-dir", "threads", "jobs", "executor", "cell", "rank", "world-size",
        "rendezvous", "dry-run", "force", "set", "force-downstream", "fail-fast"}},
      {"validate",
       "PIPELINE",
       "check a pipeline and report every error, run nothing",
       cmd_validate,
       {"plugin-dir", "data-dir", "set"}},
      {"status",
       "PIPELINE [TARGET...]",
       "each stage: cached, stale (and why) or never run",
       [](const Common& c) { return cmd_run(c, true); },
       {"plugin-dir", "cache-dir", "data-dir", "threads", "executor", "force", "set", "force-downstream"}},
      {"why",
       "STAGE -p PIPELINE",
       "why a stage would rerun: which input, parameter or component changed",
       cmd_why,
       {"plugin-dir", "cache-dir", "data-dir", "threads", "pipeline", "set"}},
      {"plugins", "", "list plugin components, their libraries and parameters", cmd_plugins, {"plugin-dir"}},
      {"cache",
       "verify PIPELINE",
       "re-hash every cache entry; evict the damaged ones (-n: only report)",
       cmd_cache,
       {"cache-dir", "dry-run"}},
      {"gc",
       "PIPELINE",
       "delete cache entries no stage or pin refers to any more (-n: only say what)",
       cmd_gc,
       {"cache-dir", "dry-run", "checkpoints"}},
      {"pin",
       "PIPELINE [NAME]",
       "keep the pipeline's current results through gc under NAME (no NAME: list pins)",
       cmd_pin,
       {"plugin-dir", "cache-dir", "data-dir", "set"}},
      {"unpin", "PIPELINE NAME", "remove a pin", cmd_unpin, {"cache-dir"}},
      {"runs",
       "PIPELINE [RUN RUN]",
       "the runs recorded in the pipeline's store, with their headline figures (--sort, --filter, --json, --csv); two "
       "ids: what changed",
       cmd_runs,
       {"cache-dir", "json", "csv", "sort", "filter"}},
      {"show",
       "PIPELINE CELL",
       "a cell's outputs: directory, files, log, published path, record (--json)",
       cmd_show,
       {"plugin-dir", "cache-dir", "data-dir", "threads", "set", "json"}},
      {"dag",
       "PIPELINE",
       "the pipeline's cells and dependencies (--format text|dot|mermaid)",
       cmd_dag,
       {"plugin-dir", "data-dir", "set", "format"}},
      {"completion", "bash", "a bash completion script: source <(asaflow completion bash)", cmd_completion, {}},
  };
  return table;
}

}  // namespace

int dispatch(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
    print_usage(args.empty() ? std::cerr : std::cout);
    return args.empty() ? 2 : 0;
  }
  if (args[0] == "--version" || args[0] == "version") {
    std::cout << "asaflow " << kVersion << "\n";
    return 0;
  }
  const std::string command = args[0];
  for (const auto& cmd : commands()) {
    if (cmd.name != command) continue;
    Common c = parse(command, std::vector<std::string>(args.begin() + 1, args.end()));
    if (!c.help.empty()) {
      std::cout << c.help;
      return 0;
    }
    return cmd.handler(c);
  }
  return dispatch_plugin_command(command, std::vector<std::string>(args.begin() + 1, args.end()));
}

}  // namespace asaflow::app
