#include <ethos/log/log_copy.hpp>

#include <map>
#include <memory>

#include <ethos/log/log_store.hpp>

namespace ethos {

namespace {

// Rows are inserted in transactions of this many.
constexpr size_t kCopyBatch = 2000;

struct TargetChain {
  std::unique_ptr<LogAppender> appender;
  ChainHead head;
};

}  // namespace

CopyReport copy_log(const std::string& from, const std::string& to, const CopyOptions& options) {
  LogOptions read;
  read.read_only = true;
  LogStores source = open_log_stores(from, read);
  std::map<std::string, std::string, std::less<>> bundle_texts;
  source.reader->bundles([&](std::string_view hash, std::string_view text) {
    bundle_texts.emplace(std::string(hash), std::string(text));
  });

  // The target is set up as a writer with the source's key id (no secret:
  // copying pseudonymises nothing, the rows already are).
  LogOptions write;
  write.key = LogKey{{}, source.reader->key_id(), false};
  const bool to_postgres = parse_log_location(to).kind == LogLocation::Kind::kPostgres;
  std::map<std::string, TargetChain> chains;
  // One writer per chain of the target, each set up as a node of that name.
  auto chain_for = [&](const std::string& name) -> TargetChain& {
    auto it = chains.find(name);
    if (it != chains.end()) return it->second;
    if (name.empty() && to_postgres)
      throw sql::StoreError("copying `" + display_location(from) +
                            "` into a PostgreSQL log needs the name of the chain to copy it to");
    LogOptions o = write;
    o.node_id = name;
    TargetChain t;
    t.appender = open_log_stores(to, o).appender;
    t.head.chain = name;
    return chains.emplace(name, std::move(t)).first->second;
  };

  CopyReport report;
  uint64_t total = source.reader->count({});
  std::vector<LogEntry> batch;
  std::vector<AppendRow> rows;
  std::string batch_chain;
  auto flush = [&] {
    if (batch.empty()) return;
    TargetChain& t = chain_for(batch_chain);
    rows.clear();
    for (auto& e : batch) {
      auto b = bundle_texts.find(e.bundle);
      if (b == bundle_texts.end())
        throw sql::StoreError("`" + display_location(from) + "`: decision `" + e.id +
                              "` refers to bundle `" + e.bundle + "`, which is not in the log");
      rows.push_back({&e, nullptr, &b->first, &b->second});
    }
    t.appender->append_copied(rows);
    t.head.decisions += batch.size();
    t.head.head = batch.back().hash;
    report.decisions += batch.size();
    if (options.progress) options.progress(report.decisions, total);
    batch.clear();
  };
  source.reader->scan({}, [&](const LogEntry& e) {
    std::string chain = e.chain.empty() ? options.chain : e.chain;
    if (!batch.empty() && (chain != batch_chain || batch.size() >= kCopyBatch)) flush();
    batch_chain = chain;
    batch.push_back(e);
    return true;
  });
  flush();
  report.bundles = bundle_texts.size();
  for (auto& [name, t] : chains) report.chains.push_back(t.head);
  return report;
}

}  // namespace ethos
