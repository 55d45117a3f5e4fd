#include "tasks/json_reader.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "service/scoring.h"
#include "tasks/dataset.h"
#include "tasks/json_writer.h"
#include "tasks/registry/registry.h"

namespace {

using namespace verity;
using google::protobuf::util::MessageDifferencer;

// protobuf's own parser, the reference.
template <class M>
bool protobuf_parse(const std::string& text, M& out, bool ignore_unknown) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = ignore_unknown;
  return google::protobuf::util::JsonStringToMessage(text, &out, options).ok();
}

std::string camel_case_json(const google::protobuf::Message& m) {
  google::protobuf::util::JsonPrintOptions options;  // lowerCamel json names, defaults omitted
  std::string out;
  EXPECT_TRUE(google::protobuf::util::MessageToJsonString(m, &out, options).ok());
  return out;
}

TEST(JsonReader, ReadsEveryFamilysRecordsInBothNamings) {
  for (const Family& f : all_families()) {
    for (int level : {1, 5, f.generator.max_level()}) {
      const Knobs knobs = resolve_knobs(f.generator, level, {});
      for (uint64_t i = 0; i < 20; ++i) {
        const pb::Task task = make_task(f.generator, knobs, level, 2, i);
        for (const std::string& text : {to_json_line(task), camel_case_json(task)}) {
          pb::Task back;
          ASSERT_EQ(parse_json_message(text, back, false), "") << text;
          ASSERT_TRUE(MessageDifferencer::Equals(task, back)) << f.name() << " " << text;
        }
        const pb::Score score = score_completion(task, "<answer>" + task.answer() + "</answer>");
        pb::Score back;
        ASSERT_EQ(parse_json_message(to_json_line(score), back, false), "");
        ASSERT_TRUE(MessageDifferencer::Equals(score, back));
      }
    }
  }
}

TEST(JsonReader, ErrorsNameTheField) {
  pb::Task task;
  EXPECT_NE(parse_json_message(R"({"level": "three"})", task, false).find("'level'"), std::string::npos);
  EXPECT_NE(parse_json_message(R"({"level": 1.5})", task, false).find("'level'"), std::string::npos);
  EXPECT_NE(parse_json_message(R"({"level": 3000000000})", task, false).find("out of range"), std::string::npos);
  EXPECT_NE(parse_json_message(R"({"trace": [{"text": 1}]})", task, false).find("'text'"), std::string::npos);
  EXPECT_NE(parse_json_message(R"({"knobs": {"a": 1}})", task, false).find("'value'"), std::string::npos);
  EXPECT_NE(parse_json_message(R"({"split": "train"})", task, false).find("unknown field 'split'"), std::string::npos);
  EXPECT_EQ(parse_json_message(R"({"split": "train", "family": "x"})", task, true), "");
  EXPECT_EQ(task.family(), "x");
  EXPECT_EQ(parse_json_message("[1]", task, false), "expected a JSON object, got array");
  EXPECT_EQ(parse_json_message("{", task, false), "not valid JSON");
  EXPECT_EQ(parse_json_message(R"({"seed": "18446744073709551615", "level": null})", task, false), "");
  EXPECT_EQ(task.seed(), 18446744073709551615ull);
}

// Differential test: records with one field replaced by a value of another JSON type (or removed, or
// an unknown field added) must be accepted or refused exactly as protobuf does, with the same result.
TEST(JsonReader, AgreesWithProtobufOnMutatedRecords) {
  const std::vector<nlohmann::json> replacements = {
      nullptr, true, 0, -1, 1.5, 4294967296LL, "7", "x", "NaN", nlohmann::json::array(), nlohmann::json::array({1}),
      nlohmann::json::array({"a"}), nlohmann::json::object(), nlohmann::json::object({{"text", "t"}})};
  int compared = 0;
  for (const Family& f : all_families()) {
    const pb::Task task = make_task(f.generator, resolve_knobs(f.generator, 3, {}), 3, 9, 0);
    const nlohmann::json record = nlohmann::json::parse(to_json_line(task));
    std::vector<std::string> paths;  // top-level fields and the fields of the instance message
    for (const auto& [key, value] : record.items()) {
      paths.push_back(key);
      if (value.is_object() && key != "knobs" && key != "meta")
        for (const auto& [inner, ignored] : value.items()) paths.push_back(key + "/" + inner);
    }
    for (const auto& path : paths) {
      for (const auto& replacement : replacements) {
        nlohmann::json mutated = record;
        mutated[nlohmann::json::json_pointer("/" + path)] = replacement;
        const std::string text = mutated.dump();
        pb::Task ours, theirs;
        const bool ours_ok = parse_json_message(text, ours, false).empty();
        const bool theirs_ok = protobuf_parse(text, theirs, false);
        EXPECT_EQ(ours_ok, theirs_ok) << path << " = " << replacement.dump();
        if (ours_ok && theirs_ok) EXPECT_TRUE(MessageDifferencer::Equals(ours, theirs)) << path << " = " << replacement.dump();
        ++compared;
      }
    }
  }
  EXPECT_GT(compared, 500);
}

}  // namespace
