// The one request splitter (ethos/eval/request_split.hpp): the command
// line's stream of requests and the service's batch.
#include <catch2/catch.hpp>

#include <ethos/eval/request_split.hpp>

using ethos::RequestSplit;

namespace {

struct Split {
  bool ok = false;
  std::vector<std::string> parts;
  std::string error;
};

Split split(std::string_view text, RequestSplit how) {
  Split s;
  std::vector<std::string_view> out;
  s.ok = ethos::split_requests(text, how, out, s.error);
  s.parts.assign(out.begin(), out.end());
  return s;
}

using Parts = std::vector<std::string>;

}  // namespace

TEST_CASE("a stream splits one object, an array, JSON lines and values one after another") {
  CHECK(split(R"({"a": 1})", RequestSplit::kStream).parts == Parts{R"({"a": 1})"});
  CHECK(split(R"([{"a": "]"}, {"b": [1]}])", RequestSplit::kStream).parts ==
        Parts{R"({"a": "]"})", R"({"b": [1]})"});
  CHECK(split("{\"a\": 1}\n{\"b\": \"}\\\"\"}\n", RequestSplit::kStream).parts ==
        Parts{R"({"a": 1})", R"({"b": "}\""})"});
  CHECK(split("\xEF\xBB\xBF{} {}", RequestSplit::kStream).parts == Parts{"{}", "{}"});
}

TEST_CASE("a quote ends a string unless an odd run of backslashes escapes it") {
  // {"a":"\\"} ends after two backslashes (one escaped backslash); three escape the quote.
  CHECK(split(R"({"a":"x\\"} {"b":"}"})", RequestSplit::kStream).parts ==
        Parts{R"({"a":"x\\"})", R"({"b":"}"})"});
  CHECK(split(R"({"a":"\\\"}"} {"b":1})", RequestSplit::kStream).parts ==
        Parts{R"({"a":"\\\"}"})", R"({"b":1})"});
  CHECK(split(R"("\\" "\"\\")", RequestSplit::kStream).parts == Parts{R"("\\")", R"("\"\\")"});
  CHECK(split(R"([{"a":"\\\\"}, {"b":"]\\"}])", RequestSplit::kBatch).parts ==
        Parts{R"({"a":"\\\\"})", R"({"b":"]\\"})"});
}

TEST_CASE("a stream passes on values that are not objects, and an unterminated one to the end") {
  CHECK(split(R"(3, "x" true [1])", RequestSplit::kStream).parts ==
        Parts{"3", R"("x")", "true", "[1]"});
  CHECK(split(R"({"a": 1} {"b": )", RequestSplit::kStream).parts ==
        Parts{R"({"a": 1})", R"({"b": )"});
}

TEST_CASE("a stream refuses an empty text, an empty list and a bracket that closes nothing") {
  Split empty = split(" \n", RequestSplit::kStream);
  CHECK_FALSE(empty.ok);
  CHECK(empty.error == "no request found (empty input)");
  Split list = split("[ ]", RequestSplit::kStream);
  CHECK_FALSE(list.ok);
  CHECK(list.error == "the list holds no request");
  Split closer = split("{} }", RequestSplit::kStream);
  CHECK_FALSE(closer.ok);
  CHECK(closer.error == "unbalanced `}` at byte 3");
  CHECK(closer.parts.empty());
}

TEST_CASE("a batch splits its array's elements, objects or not") {
  Split s = split(R"( [ {"a": "]"} , 3 ,"x",[1] ] )", RequestSplit::kBatch);
  CHECK(s.ok);
  CHECK(s.parts == Parts{R"({"a": "]"})", "3", R"("x")", "[1]"});
  Split empty = split("[]", RequestSplit::kBatch);
  CHECK(empty.ok);
  CHECK(empty.parts.empty());
}

TEST_CASE("a batch's own punctuation is checked, with the byte where it goes wrong") {
  auto error = [](std::string_view text) {
    Split s = split(text, RequestSplit::kBatch);
    CHECK_FALSE(s.ok);
    CHECK(s.parts.empty());
    return s.error;
  };
  CHECK(error("[{}") == "malformed JSON: the batch ends before its `]` at byte 3");
  CHECK(error("[{}, {\"a\": 1") == "malformed JSON: the batch ends inside request 1 at byte 12");
  CHECK(error("[\"abc") == "malformed JSON: the batch ends inside a string at byte 5");
  CHECK(error("[{},,{}]") == "malformed JSON: expected a request at byte 4");
  CHECK(error("[{} {}]") == "malformed JSON: expected `,` or `]` after request 0 at byte 4");
  CHECK(error("[{}] {}") == "malformed JSON: unexpected text after the batch's `]` at byte 5");
}
