#include "tasks/json_writer.h"

#include <google/protobuf/descriptor.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

namespace verity {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

void append_string(const std::string& s, std::string& out) {
  out.push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
}

void append_double(double v, std::string& out) {
  if (std::isnan(v)) { out += "\"NaN\""; return; }
  if (std::isinf(v)) { out += v > 0 ? "\"Infinity\"" : "\"-Infinity\""; return; }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  // Shortest representation that reads back exactly.
  for (int precision = 1; precision <= 17; ++precision) {
    char trial[32];
    std::snprintf(trial, sizeof trial, "%.*g", precision, v);
    if (std::strtod(trial, nullptr) == v) {
      out += trial;
      return;
    }
  }
  out += buf;
}

void append_value(const Message& m, const Reflection& r, const FieldDescriptor& f, int index, std::string& out);

// One scalar or message value; index < 0 means a singular field.
void append_value(const Message& m, const Reflection& r, const FieldDescriptor& f, int index, std::string& out) {
  const bool rep = index >= 0;
  switch (f.cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32: out += std::to_string(rep ? r.GetRepeatedInt32(m, &f, index) : r.GetInt32(m, &f)); break;
    case FieldDescriptor::CPPTYPE_UINT32: out += std::to_string(rep ? r.GetRepeatedUInt32(m, &f, index) : r.GetUInt32(m, &f)); break;
    case FieldDescriptor::CPPTYPE_INT64:
      out += "\"" + std::to_string(rep ? r.GetRepeatedInt64(m, &f, index) : r.GetInt64(m, &f)) + "\"";
      break;
    case FieldDescriptor::CPPTYPE_UINT64:
      out += "\"" + std::to_string(rep ? r.GetRepeatedUInt64(m, &f, index) : r.GetUInt64(m, &f)) + "\"";
      break;
    case FieldDescriptor::CPPTYPE_DOUBLE: append_double(rep ? r.GetRepeatedDouble(m, &f, index) : r.GetDouble(m, &f), out); break;
    case FieldDescriptor::CPPTYPE_FLOAT: append_double(rep ? r.GetRepeatedFloat(m, &f, index) : r.GetFloat(m, &f), out); break;
    case FieldDescriptor::CPPTYPE_BOOL: out += (rep ? r.GetRepeatedBool(m, &f, index) : r.GetBool(m, &f)) ? "true" : "false"; break;
    case FieldDescriptor::CPPTYPE_ENUM: {
      const auto* value = rep ? r.GetRepeatedEnum(m, &f, index) : r.GetEnum(m, &f);
      append_string(value->name(), out);
      break;
    }
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string scratch;
      const std::string& s = rep ? r.GetRepeatedStringReference(m, &f, index, &scratch) : r.GetStringReference(m, &f, &scratch);
      append_string(s, out);
      break;
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      append_json(rep ? r.GetRepeatedMessage(m, &f, index) : r.GetMessage(m, &f), out);
      break;
  }
}

// Maps are repeated entry messages; JSON wants an object with keys in a stable (sorted) order.
void append_map(const Message& m, const Reflection& r, const FieldDescriptor& f, std::string& out) {
  const auto* key_field = f.message_type()->map_key();
  const auto* value_field = f.message_type()->map_value();
  std::vector<std::pair<std::string, const Message*>> entries;
  for (int i = 0; i < r.FieldSize(m, &f); ++i) {
    const Message& entry = r.GetRepeatedMessage(m, &f, i);
    const Reflection& er = *entry.GetReflection();
    std::string key;
    if (key_field->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
      key = er.GetString(entry, key_field);
    } else {
      std::string number;
      append_value(entry, er, *key_field, -1, number);
      key = number.front() == '"' ? number.substr(1, number.size() - 2) : number;
    }
    entries.emplace_back(std::move(key), &entry);
  }
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  out.push_back('{');
  for (size_t i = 0; i < entries.size(); ++i) {
    if (i) out.push_back(',');
    append_string(entries[i].first, out);
    out.push_back(':');
    append_value(*entries[i].second, *entries[i].second->GetReflection(), *value_field, -1, out);
  }
  out.push_back('}');
}

}  // namespace

void append_json(const Message& message, std::string& out) {
  const auto* descriptor = message.GetDescriptor();
  const Reflection& r = *message.GetReflection();
  out.push_back('{');
  bool first = true;
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const FieldDescriptor& f = *descriptor->field(i);
    // Like protobuf's printer with always_print_primitive_fields: singular messages and oneof
    // members only when set; everything else always.
    const bool optional_presence = f.containing_oneof() != nullptr ||
                                   (!f.is_repeated() && f.cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE);
    if (optional_presence && !r.HasField(message, &f)) continue;
    if (!first) out.push_back(',');
    first = false;
    append_string(f.name(), out);
    out.push_back(':');
    if (f.is_map()) {
      append_map(message, r, f, out);
    } else if (f.is_repeated()) {
      out.push_back('[');
      for (int k = 0; k < r.FieldSize(message, &f); ++k) {
        if (k) out.push_back(',');
        append_value(message, r, f, k, out);
      }
      out.push_back(']');
    } else {
      append_value(message, r, f, -1, out);
    }
  }
  out.push_back('}');
}

}  // namespace verity
