#include <ethos/log/log_store.hpp>

#include <chrono>

#include <ethos/base/hash.hpp>
#include <ethos/log/postgres.hpp>

namespace ethos {

LogLocation parse_log_location(const std::string& location) {
  LogLocation l;
  if (pg::is_postgres_url(location)) {
    l.kind = LogLocation::Kind::kPostgres;
    l.target = location;
  } else if (location.rfind("sqlite:", 0) == 0) {
    l.target = location.substr(7);
  } else {
    l.target = location;
  }
  return l;
}

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string display_location(const std::string& location) {
  return pg::is_postgres_url(location) ? pg::redact_url(location) : location;
}

LogStores open_log_stores(const std::string& location, const LogOptions& options) {
  LogLocation l = parse_log_location(location);
  if (l.kind == LogLocation::Kind::kPostgres) return open_postgres_stores(l.target, options);
  return open_sqlite_stores(l.target, options);
}

std::optional<ChainBreak> ChainWalk::next(const LogEntry& e) {
  std::optional<ChainBreak> brk;
  auto at = [&](ChainBreak::Kind kind, std::string message) {
    brk = ChainBreak{kind, e.seq, e.id, std::move(message)};
  };
  std::string where = "decision `" + e.id + "` (row " + std::to_string(e.seq) + ")";
  if (chain_hash(e.prev_hash, content_hash(e)) != e.hash) {
    at(ChainBreak::Kind::kAltered, where + " was altered: its contents do not match its hash");
  } else if (e.prev_hash != expected_prev_) {
    std::string after = find_by_hash_(e.prev_hash);
    if (!after.empty())
      at(ChainBreak::Kind::kReordered,
         where + " is out of order: it was recorded after decision `" + after + "`, but follows " +
             (prev_id_.empty() ? std::string("nothing") : "decision `" + prev_id_ + "`"));
    else if (prev_id_.empty())
      at(ChainBreak::Kind::kRemoved,
         where + " is the first row, but decisions before it were removed");
    else
      at(ChainBreak::Kind::kRemoved,
         where + " does not follow decision `" + prev_id_ +
             "`: a decision between them was removed, or that one was rewritten");
  }
  expected_prev_ = e.hash;
  prev_id_ = e.id;
  return brk;
}

std::optional<ChainBreak> check_bundle_text(std::string_view hash, std::string_view text) {
  if ("sha256:" + sha256_hex(text) == hash) return std::nullopt;
  return ChainBreak{
      ChainBreak::Kind::kBundleAltered,
      0,
      {},
      "bundle `" + std::string(hash) + "` was altered: its text no longer has that hash"};
}

ChainBreak missing_bundle_break(int64_t seq, std::string_view decision_id,
                                std::string_view bundle) {
  return ChainBreak{ChainBreak::Kind::kBundleAltered, seq, std::string(decision_id),
                    "decision `" + std::string(decision_id) + "` refers to bundle `" +
                        std::string(bundle) + "`, which was removed"};
}

void append_filter(FilterQuery& q, const LogFilter& f, SqlDialect dialect) {
  // After the parameter is pushed: its position is the count.
  auto marker = [&]() {
    return dialect == SqlDialect::kSqlite ? std::string("?")
                                          : "$" + std::to_string(q.params.size());
  };
  auto cond = [&](const char* sql, std::variant<int64_t, std::string> value) {
    q.sql += q.params.empty() ? " WHERE " : " AND ";
    q.params.push_back(std::move(value));
    q.sql += sql;
    q.sql += marker();
  };
  cond("seq > ", f.after_seq);
  if (f.before_seq) cond("seq < ", f.before_seq);
  if (f.from) cond("time >= ", *f.from);
  if (f.to) cond("time <= ", *f.to);
  if (f.outcome) cond("outcome = ", *f.outcome);
  if (f.rule) {
    // Rule ids are identifiers joined by dots: the quoted id matches exactly.
    q.sql += " AND (";
    const char* columns[] = {"reasons", "obligations", "advice", "overridden"};
    for (int i = 0; i < 4; ++i) {
      q.params.emplace_back("\"" + *f.rule + "\"");
      if (i) q.sql += " OR ";
      q.sql += dialect == SqlDialect::kSqlite ? "instr(" : "strpos(";
      q.sql += columns[i];
      q.sql += ", " + marker() + ") > 0";
    }
    q.sql += ")";
  }
}

}  // namespace ethos
