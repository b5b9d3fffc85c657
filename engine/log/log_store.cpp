#include <ethos/log/log_store.hpp>

#include <algorithm>
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
  const char* contains = dialect == SqlDialect::kSqlite ? "instr(" : "strpos(";
  if (f.module) {
    // A rule id is `module.rule`: the quoted prefix matches the module's rules only.
    q.params.emplace_back("\"" + *f.module + ".");
    q.sql += std::string(" AND (") + contains + "reasons, " + marker() + ") > 0";
    q.params.emplace_back(*f.module);
    q.sql += " OR default_module = " + marker() + ")";
  }
  if (f.missing) {
    q.params.emplace_back("\"" + *f.missing + "\"");
    q.sql += std::string(" AND ") + contains + "missing_facts, " + marker() + ") > 0";
  }
}

SummaryQueries summary_queries(int64_t bucket_seconds, size_t top, SqlDialect dialect) {
  std::string w = std::to_string(std::max<int64_t>(bucket_seconds, 1));
  // Text sorts by byte in both databases (PostgreSQL's collation may differ).
  std::string by_text = dialect == SqlDialect::kSqlite ? "" : " COLLATE \"C\"";
  // The arrays are JSON (log_entry.hpp): each database takes them apart its way.
  auto elements = [&](const char* column) {
    std::string array = std::string("coalesce(nullif(decisions.") + column + ", ''), '[]')";
    return dialect == SqlDialect::kSqlite
               ? "SELECT j.value, count(*) FROM decisions, json_each(" + array + ") j"
               : "SELECT j.value, count(*) FROM decisions, json_array_elements_text(" + array +
                     "::json) AS j(value)";
  };
  std::string top_tail =
      " GROUP BY j.value ORDER BY 2 DESC, j.value" + by_text + " LIMIT " + std::to_string(top);
  SummaryQueries q;
  q.buckets = {"SELECT (time / " + w + ") * " + w + ", outcome, count(*) FROM decisions",
               " GROUP BY 1, 2 ORDER BY 1, 2"};
  q.rules = {elements("reasons"), top_tail};
  q.missing = {elements("missing_facts"), top_tail};
  q.bundles = {"SELECT bundle, min(time) FROM decisions",
               " GROUP BY bundle ORDER BY 2, bundle" + by_text};
  return q;
}

void add_bucket_count(LogSummary& s, int64_t start, std::string_view outcome, uint64_t n) {
  if (s.buckets.empty() || s.buckets.back().start != start)
    s.buckets.push_back(LogSummary::Bucket{start, 0, 0, 0});
  LogSummary::Bucket& b = s.buckets.back();
  if (outcome == "permit") {
    b.permit += n;
    s.permit += n;
  } else if (outcome == "deny") {
    b.deny += n;
    s.deny += n;
  } else {
    b.escalate += n;
    s.escalate += n;
  }
}

}  // namespace ethos
