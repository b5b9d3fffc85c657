#include <ethos/eval/request.hpp>

#include <simdjson.h>
#include <algorithm>
#include <array>
#include <cstring>
#include <new>
#include <nlohmann/json.hpp>

#include <ethos/base/text.hpp>
#include <ethos/base/time.hpp>
#include <ethos/check/policy.hpp>
#include <ethos/eval/evaluator.hpp>

namespace ethos {
namespace {

// Byte classes for the scanner below: JSON whitespace, and the bytes that end
// a plain string scan (the quote, a backslash, control characters, anything
// beyond ASCII).
constexpr uint8_t kSpace = 1, kStop = 2;
constexpr auto kByteClass = [] {
  std::array<uint8_t, 256> c{};
  for (size_t b = 0; b < 0x20; ++b) c[b] = kStop;
  for (size_t b = 0x80; b < 0x100; ++b) c[b] = kStop;
  for (char b : {' ', '\n', '\r', '\t'}) c[static_cast<unsigned char>(b)] |= kSpace;
  c['"'] = kStop;
  c['\\'] = kStop;
  return c;
}();

// The policy's symbols in an open-addressing table (FNV-1a): the binder
// looks up every request string, and this is cheaper than the policy's map.
class SymbolTable {
 public:
  explicit SymbolTable(const std::vector<std::string>& texts) {
    size_t n = 16;
    while (n < texts.size() * 2) n *= 2;
    slots_.assign(n, {});
    mask_ = n - 1;
    for (size_t id = 0; id < texts.size(); ++id) {
      size_t i = hash(texts[id]) & mask_;
      while (slots_[i].text.data()) i = (i + 1) & mask_;
      slots_[i] = {texts[id], static_cast<int32_t>(id)};
    }
  }
  // The symbol id, or -1 when the policy never names the text.
  int32_t find(std::string_view s) const {
    for (size_t i = hash(s) & mask_;; i = (i + 1) & mask_) {
      const Slot& e = slots_[i];
      if (!e.text.data()) return -1;
      if (e.text == s) return e.id;
    }
  }

 private:
  static size_t hash(std::string_view s) {
    uint64_t h = 1469598103934665603ull;
    for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    return static_cast<size_t>(h ^ (h >> 29));
  }
  struct Slot {
    std::string_view text;
    int32_t id = -1;
  };
  std::vector<Slot> slots_;
  size_t mask_ = 0;
};

// An enum's values for a message: "`a`, `b`, `c`".
std::string values_text(const std::vector<std::string>& vals) {
  std::string list;
  for (size_t i = 0; i < vals.size(); ++i) list += (i ? ", " : "") + ("`" + vals[i] + "`");
  return list;
}

// Why `value` does not fit the range of `a`.
std::string out_of_range(const Attribute& a, int64_t value) {
  return "`" + std::to_string(value) + "` is outside the range of `" + a.path + "`, " +
         std::to_string(a.lo) + ".." + std::to_string(a.hi);
}

// The request attributes an IR tree reads, in first-read order.
void facts_read(const Policy& p, uint32_t node, std::vector<uint32_t>& out) {
  // INVARIANT: the tree's depth is bounded by the parser's nesting limit.
  const IrNode& n = p.nodes[node];
  if (n.op == IrOp::kAttr || n.op == IrOp::kIsPresent || n.op == IrOp::kIsMissing) {
    if (std::find(out.begin(), out.end(), n.a) == out.end()) out.push_back(n.a);
    return;
  }
  for_each_child(p, n, [&](uint32_t kid) { facts_read(p, kid, out); });
}

// False, with `error` naming it, when the request breaks an invariant.
bool check_invariants(const Policy& p, const BoundRequest& request, BindError& error) {
  int32_t k = broken_invariant(p, request);
  if (k < 0) return true;
  const Invariant& v = p.invariants[static_cast<size_t>(k)];
  std::vector<uint32_t> slots;
  if (v.when) facts_read(p, *v.when, slots);
  facts_read(p, v.holds, slots);
  std::string facts;
  for (uint32_t slot : slots)
    facts += (facts.empty() ? "" : ", ") + ("`$." + p.schema.attributes[slot].path + "`");
  error.path = "$";
  error.invariant = v.id;
  error.message = "the request breaks invariant `" + v.id + "`: " + v.because;
  if (!facts.empty()) error.message += " (facts: " + facts + ")";
  return false;
}

// The fast path: a JSON scanner that binds as it reads, for requests in the
// common form (no escapes, ASCII text, integers, every field known and named
// once, every required field there). It either binds exactly what the
// simdjson path would, or gives up and leaves the request to that path,
// which also finds and names the error. Nothing is reported from here.
class FastBinder {
 public:
  explicit FastBinder(const Policy& p)
      : p_(p), symbols_(p.symbol_texts), max_depth_(std::max<uint32_t>(1, p.max_depth)) {
    const Schema& s = p.schema;
    auto fields_of = [&](const std::vector<uint32_t>& slots) {
      Fields f;
      for (uint32_t slot : slots) f.push_back({s.attributes[slot].name, slot});
      return f;
    };
    top_ = fields_of(s.top_level);
    record_.resize(s.attributes.size());
    for (size_t a = 0; a < s.attributes.size(); ++a)
      if (s.attributes[a].type.kind == ValueType::kRecord)
        record_[a] = fields_of(s.attributes[a].children);
    seen_.assign(s.attributes.size(), 0);
  }

  // True when bound; false when the request is left to the simdjson path
  // (`out` is then reset by that path).
  bool bind(std::string_view json, BoundRequest& out) {
    if (++generation_ == 0) {
      std::fill(seen_.begin(), seen_.end(), 0);
      generation_ = 1;
    }
    at_ = json.data();
    end_ = json.data() + json.size();
    skip_ws();
    if (!object(top_, out, 1)) return false;
    skip_ws();
    return at_ == end_;
  }

 private:
  struct Field {
    std::string_view name;
    uint32_t slot;
  };
  using Fields = std::vector<Field>;

  static uint8_t byte_class(char c) { return kByteClass[static_cast<unsigned char>(c)]; }

  void skip_ws() {
    while (at_ < end_ && (byte_class(*at_) & kSpace)) ++at_;
  }
  static uint64_t load8(const char* p) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    return v;
  }
  // The key at `at_` if it is exactly `name` (a schema name: plain ASCII).
  bool key_is(std::string_view name) {
    const size_t n = name.size();
    if (static_cast<size_t>(end_ - at_) < n + 2 || at_[0] != '"' || at_[n + 1] != '"') return false;
    const char* k = at_ + 1;
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
      if (load8(k + i) != load8(name.data() + i)) return false;
    for (; i < n; ++i)
      if (k[i] != name[i]) return false;
    at_ += n + 2;
    return true;
  }
  bool eat(char c) {
    if (at_ == end_ || *at_ != c) return false;
    ++at_;
    return true;
  }
  bool literal(std::string_view word) {
    if (static_cast<size_t>(end_ - at_) < word.size() || std::string_view(at_, word.size()) != word)
      return false;
    at_ += word.size();
    return true;
  }
  // A string without escapes, control characters or bytes beyond ASCII.
  bool string(std::string_view& s) {
    if (!eat('"')) return false;
    const char* begin = at_;
    while (at_ < end_ && !(byte_class(*at_) & kStop)) ++at_;
    if (at_ == end_ || *at_ != '"') return false;
    s = {begin, static_cast<size_t>(at_ - begin)};
    ++at_;
    return true;
  }
  // An integer as simdjson reads one into int64 (not -0, no fraction or
  // exponent, within range).
  bool integer(int64_t& v) {
    bool negative = eat('-');
    if (at_ == end_ || *at_ < '0' || *at_ > '9') return false;
    if (*at_ == '0' && (negative || (at_ + 1 < end_ && at_[1] >= '0' && at_[1] <= '9')))
      return false;
    uint64_t mag = 0;
    while (at_ < end_ && *at_ >= '0' && *at_ <= '9') {
      if (mag > (uint64_t{1} << 63) / 10) return false;
      mag = mag * 10 + static_cast<uint64_t>(*at_ - '0');
      ++at_;
    }
    if (at_ < end_ && (*at_ == '.' || *at_ == 'e' || *at_ == 'E')) return false;
    if (negative ? mag > (uint64_t{1} << 63) : mag >= (uint64_t{1} << 63)) return false;
    v = negative ? static_cast<int64_t>(0 - mag) : static_cast<int64_t>(mag);
    return true;
  }

  // `depth`: the object's level, the request being level 1. Past the limit
  // the simdjson path takes over and names the error.
  bool object(const Fields& fields, BoundRequest& out, uint32_t depth) {
    if (depth > max_depth_ || !eat('{')) return false;
    skip_ws();
    size_t next = 0;  // apps usually send fields in schema order
    if (!eat('}')) {
      for (;;) {
        std::string_view key;
        const Field* f = nullptr;
        if (next < fields.size() && key_is(fields[next].name)) {
          f = &fields[next++];
        } else {
          if (!string(key)) return false;
          for (size_t k = 0; k < fields.size(); ++k)
            if (fields[k].name == key) {
              f = &fields[k];
              next = k + 1;
              break;
            }
        }
        if (!f || seen_[f->slot] == generation_) return false;
        seen_[f->slot] = generation_;
        skip_ws();
        if (!eat(':')) return false;
        skip_ws();
        if (!value(f->slot, out, depth)) return false;
        skip_ws();
        if (eat('}')) break;
        if (!eat(',')) return false;
        skip_ws();
      }
    }
    for (const Field& f : fields)
      if (!out.present[f.slot] && !p_.schema.attributes[f.slot].optional) return false;
    return true;
  }

  bool value(uint32_t slot, BoundRequest& out, uint32_t depth) {
    const Attribute& a = p_.schema.attributes[slot];
    if (at_ < end_ && *at_ == 'n') return a.optional && literal("null");
    Value& val = out.values[slot];
    std::string_view s;
    switch (a.type.kind) {
      case ValueType::kBool:
        if (literal("true"))
          val.num = 1;
        else if (literal("false"))
          val.num = 0;
        else
          return false;
        break;
      case ValueType::kInt:
        // Out of its range: the full binder names it.
        if (!integer(val.num) || (a.ranged && (val.num < a.lo || val.num > a.hi))) return false;
        break;
      case ValueType::kString:
        if (!string(s)) return false;
        val.text = keep(out, s);
        val.num = symbols_.find(s);
        break;
      case ValueType::kEnum: {
        if (!string(s)) return false;
        int32_t idx = p_.schema.enum_index(a.type.enum_id, s);
        if (idx < 0) return false;
        val.num = idx;
        break;
      }
      case ValueType::kTimestamp:
        if (!string(s) || !parse_timestamp(s, val.num)) return false;
        break;
      case ValueType::kDuration:
        if (at_ < end_ && *at_ == '"') {
          if (!string(s) || !parse_duration(s, val.num)) return false;
        } else if (!integer(val.num)) {
          return false;
        }
        break;
      case ValueType::kSet: {
        if (depth + 1 > max_depth_ || !eat('[')) return false;
        val.set = static_cast<uint32_t>(out.sets.size());
        SetValue& set = out.sets.emplace_back();
        skip_ws();
        if (!eat(']')) {
          for (;;) {
            if (!string(s)) return false;
            // set<enum { ... }>: a member outside its values is refused (by the full binder).
            if (a.type.elem == ValueType::kEnum && p_.schema.enum_index(a.type.enum_id, s) < 0)
              return false;
            int32_t sym = symbols_.find(s);
            if (sym >= 0)
              set.symbols.push_back(sym);
            else
              set.others.push_back(keep(out, s));
            skip_ws();
            if (eat(']')) break;
            if (!eat(',')) return false;
            skip_ws();
          }
        }
        std::sort(set.symbols.begin(), set.symbols.end());
        break;
      }
      case ValueType::kRecord:
        out.present[slot] = 1;
        return object(record_[slot], out, depth + 1);
      default:
        return false;
    }
    out.present[slot] = 1;
    return true;
  }

  static std::string_view keep(BoundRequest& out, std::string_view s) {
    // INVARIANT: arena capacity >= the input's size, so views stay valid.
    size_t at = out.arena.size();
    out.arena.append(s);
    return {out.arena.data() + at, s.size()};
  }

  const Policy& p_;
  SymbolTable symbols_;
  Fields top_;
  std::vector<Fields> record_;  // by slot, for records
  std::vector<uint32_t> seen_;
  uint32_t generation_ = 0;
  uint32_t max_depth_;
  const char* at_ = nullptr;
  const char* end_ = nullptr;
};

// Reads JSON text as nlohmann's SAX events, without recursion, keeping the
// path of the value being read: what the binder's simdjson path uses to say
// where a request it could not parse goes wrong. It stops at the first
// object or array deeper than `max_depth` (the outermost value is level 1),
// or at the first syntax error or number out of range.
class JsonLocator {
 public:
  enum class Found { kNothing, kTooDeep, kSyntax, kNumberRange };
  explicit JsonLocator(uint32_t max_depth) : max_depth_(max_depth) {}

  Found read(std::string_view json) {
    (void)nlohmann::json::sax_parse(json.begin(), json.end(), this);
    return found_;
  }
  Found found() const { return found_; }
  // `$.a.b[2]`: where it stopped.
  std::string path() const { return "$" + path_; }
  const std::string& message() const { return message_; }

  // ---- nlohmann's SAX interface ----
  bool null() { return scalar(); }
  bool boolean(bool) { return scalar(); }
  bool number_integer(nlohmann::json::number_integer_t) { return scalar(); }
  bool number_unsigned(nlohmann::json::number_unsigned_t) { return scalar(); }
  bool number_float(nlohmann::json::number_float_t, const std::string&) { return scalar(); }
  bool string(std::string&) { return scalar(); }
  bool binary(nlohmann::json::binary_t&) { return scalar(); }
  bool start_object(size_t) { return open(false); }
  bool start_array(size_t) { return open(true); }
  bool key(std::string& k) {
    path_.resize(frames_.back().base);
    path_ += '.';
    path_ += k;
    return true;
  }
  bool end_object() { return close(); }
  bool end_array() { return close(); }
  bool parse_error(size_t, const std::string&, const nlohmann::detail::exception& e) {
    message_ = e.what();
    if (auto pos = message_.find("] "); pos != std::string::npos) message_.erase(0, pos + 2);
    // A number too large for a double is well-formed text at a place of its
    // own; any other error is about the text as a whole (the message says where).
    if (dynamic_cast<const nlohmann::detail::out_of_range*>(&e)) {
      found_ = Found::kNumberRange;
      element();
    } else {
      found_ = Found::kSyntax;
      path_.clear();
    }
    return false;
  }

 private:
  struct Frame {
    size_t base;  // path_'s length at the container's own path
    bool array;
    size_t index = 0;
  };
  // A value begins: an array's element is named by its index.
  void element() {
    if (frames_.empty() || !frames_.back().array) return;
    path_.resize(frames_.back().base);
    path_ += '[' + std::to_string(frames_.back().index) + ']';
  }
  void done() {
    if (!frames_.empty() && frames_.back().array) ++frames_.back().index;
  }
  bool scalar() {
    element();
    done();
    return true;
  }
  bool open(bool array) {
    element();
    if (frames_.size() >= max_depth_) {
      found_ = Found::kTooDeep;
      message_ = "JSON nests deeper than " + std::to_string(max_depth_) + " levels";
      return false;
    }
    frames_.push_back({path_.size(), array});
    return true;
  }
  bool close() {
    path_.resize(frames_.back().base);
    frames_.pop_back();
    done();
    return true;
  }

  uint32_t max_depth_;
  std::vector<Frame> frames_;
  std::string path_;
  std::string message_;
  Found found_ = Found::kNothing;
};

}  // namespace

std::optional<std::string> json_too_deep(std::string_view json, uint32_t max_depth) {
  JsonLocator locator(max_depth);
  if (locator.read(json) != JsonLocator::Found::kTooDeep) return std::nullopt;
  return locator.path();
}

struct RequestBinder::Impl {
  const Policy& policy;
  FastBinder fast;
  bool use_fast = true;
  bool last_fast = false;
  simdjson::dom::parser parser;
  std::string path;  // the JSON path being bound, built as we descend
  // Which attributes this bind has met (seen[slot] == generation): a field
  // named twice is refused, since JSON readers disagree on which one counts.
  std::vector<uint32_t> seen;
  uint32_t generation = 0;
  explicit Impl(const Policy& p) : policy(p), fast(p) {
    // simdjson refuses a document nested deeper than this (DEPTH_ERROR), where
    // a scalar counts as a level of its own: hence one more. (Containers the
    // schema has past the limit are refused while binding.)
    if (parser.allocate(4096, std::max<uint32_t>(1, p.max_depth) + 1) != simdjson::SUCCESS)
      throw std::bad_alloc();
  }

  // Why simdjson could not read `json`, and where.
  bool explain(std::string_view json, simdjson::error_code code, BindError& err) const {
    JsonLocator locator(std::max<uint32_t>(1, policy.max_depth));
    switch (locator.read(json)) {
      case JsonLocator::Found::kTooDeep:
        err.path = locator.path();
        err.message = locator.message();
        return false;
      case JsonLocator::Found::kSyntax:
      case JsonLocator::Found::kNumberRange:
        err.path = locator.path();
        err.message = "malformed JSON: " + locator.message();
        return false;
      case JsonLocator::Found::kNothing:
        break;
    }
    err.path = "$";
    err.message = "malformed JSON: " + std::string(simdjson::error_message(code));
    return false;
  }

  std::string_view keep(BoundRequest& out, std::string_view s) {
    // INVARIANT: arena capacity >= total string bytes of the input, so views stay valid.
    size_t at = out.arena.size();
    out.arena.append(s);
    return {out.arena.data() + at, s.size()};
  }

  bool fail(BindError& err, std::string message) {
    err.path = path.empty() ? "$" : "$" + path;
    err.message = std::move(message);
    return false;
  }

  static const char* json_type(simdjson::dom::element_type t) {
    using T = simdjson::dom::element_type;
    switch (t) {
      case T::ARRAY:
        return "an array";
      case T::OBJECT:
        return "an object";
      case T::INT64:
      case T::UINT64:
        return "an integer";
      case T::DOUBLE:
        return "a number";
      case T::STRING:
        return "a string";
      case T::BOOL:
        return "a boolean";
      case T::NULL_VALUE:
        return "null";
    }
    return "a value";
  }

  // `depth`: the record's level, the request being level 1.
  bool bind_record(simdjson::dom::object obj, int32_t record, BoundRequest& out, BindError& err,
                   uint32_t depth) {
    if (depth > policy.max_depth)
      return fail(err, "JSON nests deeper than " + std::to_string(policy.max_depth) + " levels");
    const Schema& s = policy.schema;
    const std::vector<uint32_t>& fields =
        record < 0 ? s.top_level : s.attributes[static_cast<size_t>(record)].children;
    size_t base = path.size();
    size_t next = 0;  // apps usually send fields in schema order: try the next one first
    for (auto field : obj) {
      std::string_view key = field.key;
      uint32_t slot = UINT32_MAX;
      if (next < fields.size() && s.attributes[fields[next]].name == key) {
        slot = fields[next++];
      } else {
        for (size_t k = 0; k < fields.size(); ++k)
          if (s.attributes[fields[k]].name == key) {
            slot = fields[k];
            next = k + 1;
            break;
          }
      }
      path.resize(base);
      path += '.';
      path += key;
      if (slot == UINT32_MAX) {
        std::vector<std::string> names;
        for (uint32_t f : fields) names.push_back(s.attributes[f].name);
        std::string c = closest(key, names);
        return fail(err, "unknown field `" + std::string(key) + "`" +
                             (c.empty() ? std::string() : "; did you mean `" + c + "`?"));
      }
      if (seen[slot] == generation)
        return fail(err, "duplicate field `" + std::string(key) +
                             "`: a field may appear once (JSON readers disagree on which counts)");
      seen[slot] = generation;
      if (!bind_value(field.value, slot, out, err, depth)) return false;
    }
    path.resize(base);
    for (uint32_t f : fields) {
      const Attribute& a = s.attributes[f];
      if (!out.present[f] && !a.optional) {
        path += '.';
        path += a.name;
        return fail(err, "missing required field `" + a.name + "` (" + type_name(a.type, s) + ")");
      }
    }
    return true;
  }

  bool bind_value(simdjson::dom::element v, uint32_t slot, BoundRequest& out, BindError& err,
                  uint32_t depth) {
    const Attribute& a = policy.schema.attributes[slot];
    using T = simdjson::dom::element_type;
    T t = v.type();
    if (t == T::NULL_VALUE) {
      if (a.optional) return true;  // absent: conditions that need it are unknown
      return fail(err, "`" + a.path + "` is required and may not be null");
    }
    auto expected = [&](const char* what) {
      return fail(err, std::string("expected ") + what + ", found " + json_type(t));
    };
    Value& val = out.values[slot];
    switch (a.type.kind) {
      case ValueType::kBool:
        if (t != T::BOOL) return expected("a boolean");
        val.num = bool(v.get_bool()) ? 1 : 0;
        break;
      case ValueType::kInt:
        if (t == T::INT64)
          val.num = int64_t(v.get_int64());
        else if (t == T::UINT64)
          return fail(err, "integer out of range");
        else
          return expected("an integer");
        if (a.ranged && (val.num < a.lo || val.num > a.hi))
          return fail(err, out_of_range(a, val.num));
        break;
      case ValueType::kString: {
        if (t != T::STRING) return expected("a string");
        std::string_view sv = v.get_string();
        val.text = keep(out, sv);
        val.num = policy.symbol(sv);
        break;
      }
      case ValueType::kEnum: {
        if (t != T::STRING) return expected("a string");
        std::string_view sv = v.get_string();
        int32_t idx = policy.schema.enum_index(a.type.enum_id, sv);
        if (idx < 0) {
          return fail(err, "`" + std::string(sv) + "` is not one of " +
                               values_text(policy.schema.enums[a.type.enum_id]));
        }
        val.num = idx;
        break;
      }
      case ValueType::kTimestamp: {
        if (t != T::STRING) return expected("a timestamp string such as \"2026-11-26T10:15:00Z\"");
        std::string_view sv = v.get_string();
        if (!parse_timestamp(sv, val.num))
          return fail(err, "`" + std::string(sv) +
                               "` is not a timestamp (RFC 3339, e.g. \"2026-11-26T10:15:00Z\", or "
                               "a date \"2026-11-26\")");
        break;
      }
      case ValueType::kDuration: {
        if (t == T::INT64) {
          val.num = int64_t(v.get_int64());
        } else if (t == T::STRING) {
          std::string_view sv = v.get_string();
          if (!parse_duration(sv, val.num))
            return fail(err,
                        "`" + std::string(sv) +
                            "` is not a duration (seconds, or \"30d\", \"12h\", \"15m\", \"45s\")");
        } else {
          return expected("a duration (seconds or a string such as \"30d\")");
        }
        break;
      }
      case ValueType::kSet: {
        if (t != T::ARRAY) return expected("an array of strings");
        if (depth + 1 > policy.max_depth)
          return fail(err,
                      "JSON nests deeper than " + std::to_string(policy.max_depth) + " levels");
        SetValue sv;
        size_t base = path.size();
        size_t i = 0;
        for (auto item : simdjson::dom::array(v)) {
          if (item.type() != T::STRING) {
            path += "[" + std::to_string(i) + "]";
            t = item.type();
            return expected("a string");
          }
          std::string_view s = item.get_string();
          if (a.type.elem == ValueType::kEnum && policy.schema.enum_index(a.type.enum_id, s) < 0) {
            path += "[" + std::to_string(i) + "]";
            return fail(err, "`" + std::string(s) + "` is not one of " +
                                 values_text(policy.schema.enums[a.type.enum_id]));
          }
          int32_t sym = policy.symbol(s);
          if (sym >= 0)
            sv.symbols.push_back(sym);
          else
            sv.others.push_back(keep(out, s));
          ++i;
        }
        path.resize(base);
        std::sort(sv.symbols.begin(), sv.symbols.end());
        val.set = static_cast<uint32_t>(out.sets.size());
        out.sets.push_back(std::move(sv));
        break;
      }
      case ValueType::kRecord: {
        if (t != T::OBJECT) return expected("an object");
        out.present[slot] = 1;
        return bind_record(simdjson::dom::object(v), static_cast<int32_t>(slot), out, err,
                           depth + 1);
      }
      default:
        return fail(err, "unsupported type");
    }
    out.present[slot] = 1;
    return true;
  }
};

RequestBinder::RequestBinder(const Policy& policy, Path path)
    : impl_(std::make_unique<Impl>(policy)) {
  impl_->use_fast = path == Path::kFastThenFull;
}
RequestBinder::~RequestBinder() = default;

bool RequestBinder::last_was_fast() const { return impl_->last_fast; }

bool RequestBinder::bind(std::string_view json, BoundRequest& out, BindError& error) {
  error.invariant.clear();
  const Policy& p = impl_->policy;
  // A UTF-8 byte order mark, which JSON readers may ignore (RFC 8259, 8.1).
  if (json.substr(0, 3) == "\xEF\xBB\xBF") json.remove_prefix(3);
  size_t n = p.schema.attributes.size();
  out.reset(n, json.size());
  impl_->last_fast = impl_->use_fast && impl_->fast.bind(json, out);
  if (impl_->last_fast) return finish(out, error);
  out.reset(n, json.size());
  impl_->path.clear();
  if (impl_->seen.size() != n) impl_->seen.assign(n, 0);
  if (++impl_->generation == 0) {
    std::fill(impl_->seen.begin(), impl_->seen.end(), 0);
    impl_->generation = 1;
  }
  simdjson::dom::element doc;
  auto code = impl_->parser.parse(json.data(), json.size(), true).get(doc);
  // simdjson does not say where; the locator does, and this is the slow path anyway.
  if (code) return impl_->explain(json, code, error);
  if (doc.type() != simdjson::dom::element_type::OBJECT) {
    error.path = "$";
    error.message = "a request is a JSON object";
    return false;
  }
  if (!impl_->bind_record(simdjson::dom::object(doc), -1, out, error, 1)) return false;
  return finish(out, error);
}

bool RequestBinder::finish(BoundRequest& out, BindError& error) const {
  const Policy& p = impl_->policy;
  if (p.schema.request_id_slot >= 0)
    out.request_id = std::string(out.values[static_cast<size_t>(p.schema.request_id_slot)].text);
  if (p.schema.time_slot >= 0) out.time = out.values[static_cast<size_t>(p.schema.time_slot)].num;
  // Ranges were checked as values were read; invariants need the whole request.
  return p.invariants.empty() || check_invariants(p, out, error);
}

bool check_request(const Policy& p, const BoundRequest& request, BindError& error) {
  error.invariant.clear();
  for (const Attribute& a : p.schema.attributes) {
    auto slot = static_cast<size_t>(&a - p.schema.attributes.data());
    if (a.ranged && request.present[slot] &&
        (request.values[slot].num < a.lo || request.values[slot].num > a.hi)) {
      error.path = "$." + a.path;
      error.message = out_of_range(a, request.values[slot].num);
      return false;
    }
  }
  return check_invariants(p, request, error);
}

}  // namespace ethos
