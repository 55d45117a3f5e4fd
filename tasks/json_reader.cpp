#include "tasks/json_reader.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/util/json_util.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

namespace verity {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;
using json = nlohmann::json;

// A type this reader leaves to protobuf: the whole message is then parsed by protobuf.
struct Unsupported {};

struct Failure {
  std::string what;
};

[[noreturn]] void fail(const FieldDescriptor& f, const std::string& what) {
  throw Failure{"field '" + f.name() + "': " + what};
}

const char* kind(const json& v) { return v.type_name(); }

// Integers arrive as JSON numbers or as decimal strings (64-bit values are written as strings).
template <class T>
T to_integer(const FieldDescriptor& f, const json& v) {
  if (v.is_number_integer()) {
    if (v.is_number_unsigned()) {
      const auto u = v.get<uint64_t>();
      if (u > static_cast<uint64_t>(std::numeric_limits<T>::max())) fail(f, "integer out of range");
      return static_cast<T>(u);
    }
    const auto s = v.get<int64_t>();
    if (s < static_cast<int64_t>(std::numeric_limits<T>::min()) ||
        (s > 0 && static_cast<uint64_t>(s) > static_cast<uint64_t>(std::numeric_limits<T>::max())))
      fail(f, "integer out of range");
    return static_cast<T>(s);
  }
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (d != std::floor(d) || d < static_cast<double>(std::numeric_limits<T>::min()) ||
        d > static_cast<double>(std::numeric_limits<T>::max()))
      fail(f, "expected an integer, got " + v.dump());
    return static_cast<T>(d);
  }
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    const json number = json::parse(s, nullptr, /*allow_exceptions=*/false);
    if (s.empty() || s.front() == ' ' || s.back() == ' ' || number.is_discarded() || !number.is_number())
      fail(f, "expected an integer, got \"" + s.substr(0, 40) + "\"");
    return to_integer<T>(f, number);
  }
  fail(f, std::string("expected an integer, got ") + kind(v));
}

double to_double(const FieldDescriptor& f, const json& v) {
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    if (s == "NaN") return std::numeric_limits<double>::quiet_NaN();
    if (s == "Infinity") return std::numeric_limits<double>::infinity();
    if (s == "-Infinity") return -std::numeric_limits<double>::infinity();
    const json number = json::parse(s, nullptr, false);
    if (!s.empty() && s.front() != ' ' && s.back() != ' ' && !number.is_discarded() && number.is_number())
      return number.get<double>();
  }
  fail(f, std::string("expected a number, got ") + kind(v));
}

int to_enum(const FieldDescriptor& f, const json& v) {
  if (v.is_string()) {
    const auto* value = f.enum_type()->FindValueByName(v.get_ref<const std::string&>());
    if (!value) fail(f, "unknown enum value \"" + v.get<std::string>().substr(0, 40) + "\"");
    return value->number();
  }
  return to_integer<int32_t>(f, v);
}

void read_message(const json& object, Message& message, bool ignore_unknown);

// Sets a singular field, or appends one element to a repeated one.
void set_value(const FieldDescriptor& f, const json& v, Message& m, bool ignore_unknown) {
  const Reflection& r = *m.GetReflection();
  const bool rep = f.is_repeated();
  switch (f.cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32: {
      const auto x = to_integer<int32_t>(f, v);
      rep ? r.AddInt32(&m, &f, x) : r.SetInt32(&m, &f, x);
      break;
    }
    case FieldDescriptor::CPPTYPE_INT64: {
      const auto x = to_integer<int64_t>(f, v);
      rep ? r.AddInt64(&m, &f, x) : r.SetInt64(&m, &f, x);
      break;
    }
    case FieldDescriptor::CPPTYPE_UINT32: {
      const auto x = to_integer<uint32_t>(f, v);
      rep ? r.AddUInt32(&m, &f, x) : r.SetUInt32(&m, &f, x);
      break;
    }
    case FieldDescriptor::CPPTYPE_UINT64: {
      const auto x = to_integer<uint64_t>(f, v);
      rep ? r.AddUInt64(&m, &f, x) : r.SetUInt64(&m, &f, x);
      break;
    }
    case FieldDescriptor::CPPTYPE_DOUBLE: {
      const double x = to_double(f, v);
      rep ? r.AddDouble(&m, &f, x) : r.SetDouble(&m, &f, x);
      break;
    }
    case FieldDescriptor::CPPTYPE_FLOAT: {
      const double x = to_double(f, v);
      if (std::isfinite(x) && std::fabs(x) > std::numeric_limits<float>::max()) fail(f, "float out of range");
      rep ? r.AddFloat(&m, &f, static_cast<float>(x)) : r.SetFloat(&m, &f, static_cast<float>(x));
      break;
    }
    case FieldDescriptor::CPPTYPE_BOOL: {
      if (!v.is_boolean()) fail(f, std::string("expected true or false, got ") + kind(v));
      rep ? r.AddBool(&m, &f, v.get<bool>()) : r.SetBool(&m, &f, v.get<bool>());
      break;
    }
    case FieldDescriptor::CPPTYPE_ENUM: {
      const int x = to_enum(f, v);
      rep ? r.AddEnumValue(&m, &f, x) : r.SetEnumValue(&m, &f, x);
      break;
    }
    case FieldDescriptor::CPPTYPE_STRING: {
      if (f.type() == FieldDescriptor::TYPE_BYTES) throw Unsupported{};  // base64: protobuf decodes it
      if (!v.is_string()) fail(f, std::string("expected a string, got ") + kind(v));
      rep ? r.AddString(&m, &f, v.get<std::string>()) : r.SetString(&m, &f, v.get<std::string>());
      break;
    }
    case FieldDescriptor::CPPTYPE_MESSAGE: {
      if (f.message_type()->file()->name().rfind("google/protobuf/", 0) == 0) throw Unsupported{};
      if (!v.is_object()) fail(f, std::string("expected an object, got ") + kind(v));
      read_message(v, rep ? *r.AddMessage(&m, &f) : *r.MutableMessage(&m, &f), ignore_unknown);
      break;
    }
  }
}

// Map keys are JSON strings; the entry's key field may be a string, an integer or a bool.
json map_key(const FieldDescriptor& key_field, const std::string& key) {
  if (key_field.cpp_type() == FieldDescriptor::CPPTYPE_STRING) return key;
  if (key_field.cpp_type() == FieldDescriptor::CPPTYPE_BOOL) {
    if (key == "true" || key == "false") return key == "true";
    fail(key_field, "map key \"" + key.substr(0, 40) + "\" is not true or false");
  }
  return key;  // integers: to_integer reads the decimal string
}

void read_field(const FieldDescriptor& f, const json& v, Message& m, bool ignore_unknown) {
  if (v.is_null()) return;  // null means "unset" in the proto3 JSON mapping
  if (f.is_map()) {
    if (!v.is_object()) fail(f, std::string("expected an object (a map), got ") + kind(v));
    const FieldDescriptor& key = *f.message_type()->map_key();
    const FieldDescriptor& value = *f.message_type()->map_value();
    const Reflection& r = *m.GetReflection();
    for (const auto& [k, item] : v.items()) {
      if (item.is_null()) fail(f, "map value is null");
      Message& entry = *r.AddMessage(&m, &f);
      set_value(key, map_key(key, k), entry, ignore_unknown);
      set_value(value, item, entry, ignore_unknown);
    }
  } else if (f.is_repeated()) {
    if (!v.is_array()) return set_value(f, v, m, ignore_unknown);  // protobuf reads a lone value as [value]
    for (const auto& item : v) {
      if (item.is_null()) fail(f, "array element is null");
      set_value(f, item, m, ignore_unknown);
    }
  } else {
    set_value(f, v, m, ignore_unknown);
  }
}

// By proto name, else by JSON name (lowerCamel unless the .proto sets json_name).
const FieldDescriptor* find_field(const Descriptor& d, const std::string& name) {
  if (const FieldDescriptor* f = d.FindFieldByName(name)) return f;
  if (const FieldDescriptor* f = d.FindFieldByCamelcaseName(name); f && f->json_name() == name) return f;
  for (int i = 0; i < d.field_count(); ++i)
    if (d.field(i)->json_name() == name) return d.field(i);
  return nullptr;
}

void read_message(const json& object, Message& message, bool ignore_unknown) {
  const Descriptor& d = *message.GetDescriptor();
  if (d.file()->name().rfind("google/protobuf/", 0) == 0) throw Unsupported{};
  for (const auto& [name, value] : object.items()) {
    const FieldDescriptor* f = find_field(d, name);
    if (!f) {
      if (ignore_unknown) continue;
      throw Failure{"unknown field '" + name.substr(0, 80) + "' in " + d.name()};
    }
    if (const auto* oneof = f->containing_oneof(); oneof && !value.is_null()) {
      if (message.GetReflection()->HasOneof(message, oneof))
        throw Failure{"oneof '" + oneof->name() + "' is set twice (field '" + f->name() + "')"};
    }
    read_field(*f, value, message, ignore_unknown);
  }
}

std::string parse_with_protobuf(std::string_view text, Message& message, bool ignore_unknown) {
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = ignore_unknown;
  message.Clear();
  const auto status =
      google::protobuf::util::JsonStringToMessage(google::protobuf::StringPiece(text.data(), text.size()), &message,
                                                  options);
  return status.ok() ? "" : std::string(status.message());
}

}  // namespace

std::string parse_json_message(std::string_view text, Message& message, bool ignore_unknown_fields) {
  message.Clear();
  const json object = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (object.is_discarded()) return "not valid JSON";
  if (!object.is_object()) return std::string("expected a JSON object, got ") + object.type_name();
  try {
    read_message(object, message, ignore_unknown_fields);
    return "";
  } catch (const Failure& failure) {
    message.Clear();
    return failure.what;
  } catch (const Unsupported&) {
    return parse_with_protobuf(text, message, ignore_unknown_fields);
  } catch (const std::exception& e) {  // nlohmann type errors on shapes not foreseen above
    message.Clear();
    return e.what();
  }
}

}  // namespace verity
