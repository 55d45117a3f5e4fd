#include "tasks/json_writer.h"

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "service/scoring.h"
#include "tasks/dataset.h"
#include "tasks/registry/registry.h"

namespace {

using namespace verity;

std::string protobuf_json(const google::protobuf::Message& m) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string out;
  EXPECT_TRUE(google::protobuf::util::MessageToJsonString(m, &out, options).ok());
  return out;
}

template <class M>
void expect_same_as_protobuf(const M& message) {
  const std::string ours = to_json_line(message);
  ASSERT_EQ(nlohmann::json::parse(ours), nlohmann::json::parse(protobuf_json(message))) << ours;
  M back;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(ours, &back).ok()) << ours;
  ASSERT_TRUE(google::protobuf::util::MessageDifferencer::Equals(message, back));
  ASSERT_EQ(ours.find('\n'), std::string::npos);  // one record per line
}

TEST(JsonWriter, MatchesProtobufsJsonMappingForEveryFamily) {
  for (const Family& f : all_families()) {
    for (int level : {1, 5, 10}) {
      const Knobs knobs = resolve_knobs(f.generator, level, {});
      for (uint64_t i = 0; i < 30; ++i) {
        const pb::Task task = make_task(f.generator, knobs, level, 2, i);
        expect_same_as_protobuf(task);
        expect_same_as_protobuf(score_completion(task, "<answer>" + task.answer() + "</answer>"));
        expect_same_as_protobuf(score_completion(task, "nothing"));
      }
    }
  }
}

// A task's trace steps are printed through the generated accessors, not reflection: the same bytes,
// in field order, escapes included, as the reflective path (here for the repeated strings too).
TEST(JsonWriter, TraceStepsAndRepeatedStringsByteForByte) {
  pb::Task task;
  task.set_id("t");
  auto* step = task.add_trace();
  step->set_text("a \"quoted\" step\nwith a \\ and a tab\t");
  step->add_cites("s1");
  step->add_cites("p\"2");
  step->set_rule("forced");
  task.add_trace();  // every field empty
  task.mutable_knights_knaves()->add_people("Ann");
  task.mutable_knights_knaves()->add_people("B\\en");
  const std::string json = to_json_line(task);
  EXPECT_NE(json.find(R"("trace":[{"text":"a \"quoted\" step\nwith a \\ and a tab\t","cites":["s1","p\"2"],)"
                      R"("rule":"forced"},{"text":"","cites":[],"rule":""}],)"),
            std::string::npos)
      << json;
  EXPECT_NE(json.find(R"("people":["Ann","B\\en"],"statements":[],"roles":[])"), std::string::npos) << json;
  expect_same_as_protobuf(task);
}

TEST(JsonWriter, EscapesAndNumbersRoundTrip) {
  pb::Score s;
  s.set_task_id("quote\" backslash\\ newline\n tab\t bell\x07 unicode caf\xc3\xa9");
  s.set_reward(0.1);
  s.set_level(-3);
  expect_same_as_protobuf(s);
  s.set_reward(1.0 / 3.0);
  expect_same_as_protobuf(s);
  pb::DatasetManifest m;
  (*m.mutable_knobs())["b"] = "2";
  (*m.mutable_knobs())["a"] = "1";
  (*m.mutable_label_counts())["Yes"] = 18446744073709551615ull;
  expect_same_as_protobuf(m);
  EXPECT_LT(to_json_line(m).find("\"a\""), to_json_line(m).find("\"b\""));  // sorted keys
}

}  // namespace

namespace {

// The writer keeps the last knobs and meta it printed (per thread) and copies their text while a map is
// unchanged: a map that changes, shrinks to nothing, grows back or returns must still print as itself.
TEST(JsonWriter, ChangedMapsAreNotServedFromTheLastPrintedText) {
  pb::Task task;
  const auto expect_maps = [&](const std::string& knobs, const std::string& meta) {
    const std::string json = to_json_line(task);
    EXPECT_NE(json.find("\"knobs\":" + knobs + ","), std::string::npos) << json;
    EXPECT_NE(json.find("\"meta\":" + meta + "}"), std::string::npos) << json;
  };
  expect_maps("{}", "{}");
  (*task.mutable_knobs())["b"] = "2";
  (*task.mutable_knobs())["a"] = "1";
  expect_maps(R"({"a":"1","b":"2"})", "{}");
  (*task.mutable_knobs())["a"] = "3";  // same keys, a value changed
  expect_maps(R"({"a":"3","b":"2"})", "{}");
  (*task.mutable_meta())["a"] = "3";  // meta as knobs were: its own text, not the knobs'
  (*task.mutable_meta())["b"] = "2";
  expect_maps(R"({"a":"3","b":"2"})", R"({"a":"3","b":"2"})");
  task.mutable_knobs()->erase("b");
  (*task.mutable_knobs())["c"] = "2";  // same size, another key
  expect_maps(R"({"a":"3","c":"2"})", R"({"a":"3","b":"2"})");
  task.clear_knobs();
  task.clear_meta();
  expect_maps("{}", "{}");
  (*task.mutable_knobs())["q\"uote"] = "x";
  expect_maps(R"({"q\"uote":"x"})", "{}");
  expect_same_as_protobuf(task);
}

}  // namespace
