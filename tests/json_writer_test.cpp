#include "tasks/json_writer.h"

#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/dynamic_message.h>
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

namespace {

// Repeated fields are read a container at a time, one branch per value type. The schema's own messages
// repeat only int32, uint32, strings and messages: this message, built at run time, repeats every value
// type, each printed as protobuf prints it (64-bit integers quoted, a float as its shortest float text).
TEST(JsonWriter, RepeatedFieldsOfEveryValueTypeMatchProtobuf) {
  using google::protobuf::FieldDescriptorProto;
  google::protobuf::FileDescriptorProto file;
  file.set_name("json_writer_every_repeated.proto");
  file.set_package("verity.test");
  file.set_syntax("proto3");
  auto* color = file.add_enum_type();
  color->set_name("Color");
  color->add_value()->set_name("RED"), color->mutable_value(0)->set_number(0);
  color->add_value()->set_name("GREEN"), color->mutable_value(1)->set_number(1);
  auto* inner = file.add_message_type();
  inner->set_name("Inner");
  auto* note = inner->add_field();
  note->set_name("note"), note->set_number(1), note->set_type(FieldDescriptorProto::TYPE_STRING);
  note->set_label(FieldDescriptorProto::LABEL_OPTIONAL);
  auto* all = file.add_message_type();
  all->set_name("EveryRepeated");
  const std::pair<const char*, FieldDescriptorProto::Type> kinds[] = {
      {"i32", FieldDescriptorProto::TYPE_INT32},    {"u32", FieldDescriptorProto::TYPE_UINT32},
      {"i64", FieldDescriptorProto::TYPE_INT64},    {"u64", FieldDescriptorProto::TYPE_UINT64},
      {"s64", FieldDescriptorProto::TYPE_SINT64},   {"f64", FieldDescriptorProto::TYPE_DOUBLE},
      {"f32", FieldDescriptorProto::TYPE_FLOAT},    {"flag", FieldDescriptorProto::TYPE_BOOL},
      {"text", FieldDescriptorProto::TYPE_STRING},  {"color", FieldDescriptorProto::TYPE_ENUM},
      {"inner", FieldDescriptorProto::TYPE_MESSAGE}};
  int number = 0;
  for (const auto& [name, type] : kinds) {
    auto* f = all->add_field();
    f->set_name(name), f->set_number(++number), f->set_type(type);
    f->set_label(FieldDescriptorProto::LABEL_REPEATED);
    if (type == FieldDescriptorProto::TYPE_ENUM) f->set_type_name(".verity.test.Color");
    if (type == FieldDescriptorProto::TYPE_MESSAGE) f->set_type_name(".verity.test.Inner");
  }
  google::protobuf::DescriptorPool pool;
  const google::protobuf::FileDescriptor* built = pool.BuildFile(file);
  ASSERT_NE(built, nullptr);
  google::protobuf::DynamicMessageFactory factory(&pool);
  const google::protobuf::Descriptor* type = built->FindMessageTypeByName("EveryRepeated");
  std::unique_ptr<google::protobuf::Message> message(factory.GetPrototype(type)->New());
  const google::protobuf::Reflection& r = *message->GetReflection();
  EXPECT_EQ(to_json_line(*message),  // every list empty
            R"({"i32":[],"u32":[],"i64":[],"u64":[],"s64":[],"f64":[],"f32":[],"flag":[],"text":[],"color":[],"inner":[]})");
  const auto field = [&](const char* name) { return type->FindFieldByName(name); };
  for (int32_t v : {0, -7, 2147483647}) r.AddInt32(message.get(), field("i32"), v);
  for (uint32_t v : {0u, 4294967295u}) r.AddUInt32(message.get(), field("u32"), v);
  for (int64_t v : {int64_t{-9007199254740993}, int64_t{1}}) r.AddInt64(message.get(), field("i64"), v);
  r.AddUInt64(message.get(), field("u64"), 18446744073709551615ull);
  r.AddInt64(message.get(), field("s64"), -3);
  for (double v : {0.1, -2.5e-300, 1.0 / 3.0}) r.AddDouble(message.get(), field("f64"), v);
  for (float v : {0.1f, 3.0f}) r.AddFloat(message.get(), field("f32"), v);
  for (bool v : {true, false}) r.AddBool(message.get(), field("flag"), v);
  for (const char* v : {"a\"b", "", "line\nbreak"}) r.AddString(message.get(), field("text"), v);
  r.AddEnumValue(message.get(), field("color"), 1);
  r.AddEnumValue(message.get(), field("color"), 0);
  google::protobuf::Message* first = r.AddMessage(message.get(), field("inner"));
  first->GetReflection()->SetString(first, first->GetDescriptor()->FindFieldByName("note"), "x");
  r.AddMessage(message.get(), field("inner"));
  // Compared as parsed JSON (number spellings may differ) and read back into an equal message.
  const std::string ours = to_json_line(*message);
  ASSERT_EQ(nlohmann::json::parse(ours), nlohmann::json::parse(protobuf_json(*message))) << ours;
  EXPECT_NE(ours.find(R"("i64":["-9007199254740993","1"])"), std::string::npos) << ours;
  EXPECT_NE(ours.find(R"("f32":[0.1,3])"), std::string::npos) << ours;  // not 0.10000000149011612
  EXPECT_NE(ours.find(R"("color":["GREEN","RED"])"), std::string::npos) << ours;
  EXPECT_NE(ours.find(R"("inner":[{"note":"x"},{"note":""}])"), std::string::npos) << ours;
  std::unique_ptr<google::protobuf::Message> back(factory.GetPrototype(type)->New());
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(ours, back.get()).ok()) << ours;
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*message, *back));
}

}  // namespace
