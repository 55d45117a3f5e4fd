#include "tasks/json_writer.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/map.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string_view>
#include <type_traits>
#include <typeinfo>
#include <unordered_map>
#include <vector>

#include "schemas/verity.pb.h"

namespace verity {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// Where a record is written: `text` holds at least what is written so far (grown in steps of kStep
// or more, zero-filled only then), `end_` is where the record ends, and ~Out trims `text` to it.
// Writers ask room() for the most they may write, then write through a plain pointer: no capacity
// check per byte or per piece.
class Out {
 public:
  explicit Out(std::string& text) : text_(text), end_(text.size()) {}
  ~Out() { text_.resize(end_); }
  Out(const Out&) = delete;
  Out& operator=(const Out&) = delete;

  // Inlined, so a literal's copy is a few moves rather than a call (a record is ~100 pieces).
  [[gnu::always_inline]] char* room(size_t n) {
    if (text_.size() - end_ < n) [[unlikely]] grow(n);
    return text_.data() + end_;
  }
  void done(const char* p) { end_ = static_cast<size_t>(p - text_.data()); }
  [[gnu::always_inline]] void put(char c) { *room(1) = c, ++end_; }
  [[gnu::always_inline]] void put(std::string_view s) {
    std::memcpy(room(s.size()), s.data(), s.size());
    end_ += s.size();
  }

 private:
  [[gnu::noinline]] void grow(size_t n) { text_.resize(end_ + std::max(n, kStep)); }
  static constexpr size_t kStep = 4096;
  std::string& text_;
  size_t end_;
};

// Bytes that JSON strings must escape: '"', '\\' and the control characters.
constexpr bool needs_escape(unsigned char c) { return c < 0x20 || c == '"' || c == '\\'; }

char* write_escape(unsigned char c, char* p) {
  const auto two = [&](char second) {
    p[0] = '\\', p[1] = second;
    return p + 2;
  };
  switch (c) {
    case '"': return two('"');
    case '\\': return two('\\');
    case '\n': return two('n');
    case '\r': return two('r');
    case '\t': return two('t');
    case '\b': return two('b');
    case '\f': return two('f');
    default: {
      static constexpr char kHex[] = "0123456789abcdef";
      const char code[6] = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 15]};
      std::memcpy(p, code, sizeof code);
      return p + sizeof code;
    }
  }
}

// The most write_escaped writes for n bytes: each one escaped as \u00XX, and the 16 a vector store may
// write past the end.
constexpr size_t escaped_room(size_t n) { return 6 * n + 16; }

// [in, end) escaped into p; returns the end of what it wrote. Sixteen bytes per step where SSE2 is
// there (every x86-64): each block is stored whole, then the write position advances to its first
// byte that needs an escape (prompts are long and almost never have one). The last partial block is
// read from a copy padded with spaces, so nothing past `end` is read.
char* write_escaped(const char* in, const char* end, char* p) {
#if defined(__SSE2__)
  const __m128i quote = _mm_set1_epi8('"'), backslash = _mm_set1_epi8('\\'), last_control = _mm_set1_epi8(0x1f);
  while (in != end) {
    const size_t left = static_cast<size_t>(end - in);
    __m128i v;
    unsigned valid = 0xffff;
    if (left >= 16) {
      v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in));
    } else {
      alignas(16) char tail[16];
      std::memset(tail, ' ', sizeof tail);
      std::memcpy(tail, in, left);
      v = _mm_load_si128(reinterpret_cast<const __m128i*>(tail));
      valid = (1u << left) - 1;
    }
    _mm_storeu_si128(reinterpret_cast<__m128i*>(p), v);
    const __m128i control = _mm_cmpeq_epi8(_mm_max_epu8(v, last_control), last_control);  // v <= 0x1f
    const __m128i hit = _mm_or_si128(control, _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)));
    const unsigned hits = static_cast<unsigned>(_mm_movemask_epi8(hit)) & valid;
    if (hits == 0) {
      const size_t taken = std::min<size_t>(left, 16);
      in += taken, p += taken;
      continue;
    }
    const unsigned clean = static_cast<unsigned>(__builtin_ctz(hits));
    in += clean, p += clean;
    p = write_escape(static_cast<unsigned char>(*in++), p);
  }
  return p;
#else
  for (; in != end; ++in) {
    const auto c = static_cast<unsigned char>(*in);
    if (needs_escape(c)) p = write_escape(c, p);
    else *p++ = static_cast<char>(c);
  }
  return p;
#endif
}

void append_string(std::string_view s, Out& out) {
  char* p = out.room(escaped_room(s.size()) + 2);
  *p++ = '"';
  p = write_escaped(s.data(), s.data() + s.size(), p);
  *p++ = '"';
  out.done(p);
}

// Integers without a temporary string; 64-bit ones quoted, as the proto3 JSON mapping asks.
template <class Int>
void append_integer(Int value, bool quoted, Out& out) {
  char* p = out.room(24);
  if (quoted) *p++ = '"';
  p = std::to_chars(p, p + 21, value).ptr;
  if (quoted) *p++ = '"';
  out.done(p);
}

// The shortest text that reads back as exactly `v`, as protobuf prints: a float is read back as a
// float (0.1f prints as 0.1, not as the double it widens to, 0.10000000149011612).
template <class Real>
void append_real(Real v, Out& out) {
  if (std::isnan(v)) { out.put("\"NaN\""); return; }
  if (std::isinf(v)) { out.put(v > 0 ? "\"Infinity\"" : "\"-Infinity\""); return; }
  constexpr int kMostDigits = std::numeric_limits<Real>::max_digits10;
  char trial[32];
  for (int precision = 1; precision <= kMostDigits; ++precision) {
    std::snprintf(trial, sizeof trial, "%.*g", precision, static_cast<double>(v));
    const Real back = std::is_same_v<Real, float> ? static_cast<Real>(std::strtof(trial, nullptr))
                                                   : static_cast<Real>(std::strtod(trial, nullptr));
    if (back == v) break;
  }
  out.put(trial);  // at kMostDigits it reads back exactly
}

void append_value(const Message& m, const Reflection& r, const FieldDescriptor& f, int index, Out& out);
void append_message(const Message& message, Out& out);

// syllogism's statements (four to eleven per task, five scalar fields each) through the generated
// accessors, printed as reflection would print them; only while CategoricalStatement is exactly
// {quantifier, subject, subject_negated, predicate, predicate_negated} of these types in this order
// (a schema change falls back to reflection by itself), and only for the generated class.
bool is_plain_categorical(const Message& m) {
  static const bool plain = [] {
    const google::protobuf::Descriptor* d = pb::CategoricalStatement::descriptor();
    const auto field = [&](int i, const char* name, FieldDescriptor::CppType type) {
      const FieldDescriptor* f = d->field(i);
      return f->name() == name && f->cpp_type() == type && !f->is_repeated() && f->containing_oneof() == nullptr &&
             (type != FieldDescriptor::CPPTYPE_STRING || f->options().ctype() == google::protobuf::FieldOptions::STRING);
    };
    return d->field_count() == 5 && field(0, "quantifier", FieldDescriptor::CPPTYPE_STRING) &&
           field(1, "subject", FieldDescriptor::CPPTYPE_INT32) && field(2, "subject_negated", FieldDescriptor::CPPTYPE_BOOL) &&
           field(3, "predicate", FieldDescriptor::CPPTYPE_INT32) &&
           field(4, "predicate_negated", FieldDescriptor::CPPTYPE_BOOL);
  }();
  // typeid, not GetReflection(): that goes through protobuf's once-only descriptor set-up on every call.
  return typeid(m) == typeid(pb::CategoricalStatement) && plain;
}

void append_categorical(const pb::CategoricalStatement& st, Out& out) {
  const auto append_bool = [&](bool b) { out.put(b ? std::string_view("true") : std::string_view("false")); };
  out.put(std::string_view("{\"quantifier\":"));
  append_string(st.quantifier(), out);
  out.put(std::string_view(",\"subject\":"));
  append_integer(st.subject(), false, out);
  out.put(std::string_view(",\"subject_negated\":"));
  append_bool(st.subject_negated());
  out.put(std::string_view(",\"predicate\":"));
  append_integer(st.predicate(), false, out);
  out.put(std::string_view(",\"predicate_negated\":"));
  append_bool(st.predicate_negated());
  out.put('}');
}

void append_message_value(const Message& value, Out& out) {
  if (is_plain_categorical(value)) append_categorical(static_cast<const pb::CategoricalStatement&>(value), out);
  else append_message(value, out);
}

// One scalar or message value; index < 0 means a singular field.
void append_value(const Message& m, const Reflection& r, const FieldDescriptor& f, int index, Out& out) {
  const bool rep = index >= 0;
  switch (f.cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32: append_integer(rep ? r.GetRepeatedInt32(m, &f, index) : r.GetInt32(m, &f), false, out); break;
    case FieldDescriptor::CPPTYPE_UINT32: append_integer(rep ? r.GetRepeatedUInt32(m, &f, index) : r.GetUInt32(m, &f), false, out); break;
    case FieldDescriptor::CPPTYPE_INT64: append_integer(rep ? r.GetRepeatedInt64(m, &f, index) : r.GetInt64(m, &f), true, out); break;
    case FieldDescriptor::CPPTYPE_UINT64: append_integer(rep ? r.GetRepeatedUInt64(m, &f, index) : r.GetUInt64(m, &f), true, out); break;
    case FieldDescriptor::CPPTYPE_DOUBLE: append_real(rep ? r.GetRepeatedDouble(m, &f, index) : r.GetDouble(m, &f), out); break;
    case FieldDescriptor::CPPTYPE_FLOAT: append_real(rep ? r.GetRepeatedFloat(m, &f, index) : r.GetFloat(m, &f), out); break;
    case FieldDescriptor::CPPTYPE_BOOL: out.put((rep ? r.GetRepeatedBool(m, &f, index) : r.GetBool(m, &f)) ? "true" : "false"); break;
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
    case FieldDescriptor::CPPTYPE_MESSAGE: append_message_value(rep ? r.GetRepeatedMessage(m, &f, index) : r.GetMessage(m, &f), out); break;
  }
}

// A repeated field's values, its container read once: one reflection call for the field instead of
// one for its size and one per value (syllogism level 1: 13 calls per record). Enums and strings not
// held as std::string go value by value (an unknown enum number prints as reflection names it).
void append_repeated(const Message& m, const Reflection& r, const FieldDescriptor& f, Out& out) {
  out.put('[');
  const auto each = [&](const auto& values, const auto& print) {
    bool first = true;
    for (const auto& value : values) {
      if (!first) out.put(',');
      first = false;
      print(value);
    }
  };
  const auto integers = [&](bool quoted) { return [&out, quoted](auto v) { append_integer(v, quoted, out); }; };
  const auto reals = [&](auto v) { append_real(v, out); };
  // The deprecated whole-container accessors: RepeatedFieldRef, their replacement, makes a virtual
  // call per value again.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  switch (f.cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32: each(r.GetRepeatedField<int32_t>(m, &f), integers(false)); break;
    case FieldDescriptor::CPPTYPE_UINT32: each(r.GetRepeatedField<uint32_t>(m, &f), integers(false)); break;
    case FieldDescriptor::CPPTYPE_INT64: each(r.GetRepeatedField<int64_t>(m, &f), integers(true)); break;
    case FieldDescriptor::CPPTYPE_UINT64: each(r.GetRepeatedField<uint64_t>(m, &f), integers(true)); break;
    case FieldDescriptor::CPPTYPE_DOUBLE: each(r.GetRepeatedField<double>(m, &f), reals); break;
    case FieldDescriptor::CPPTYPE_FLOAT: each(r.GetRepeatedField<float>(m, &f), reals); break;
    case FieldDescriptor::CPPTYPE_BOOL:
      each(r.GetRepeatedField<bool>(m, &f), [&](bool b) { out.put(b ? std::string_view("true") : std::string_view("false")); });
      break;
    case FieldDescriptor::CPPTYPE_MESSAGE:
      each(r.GetRepeatedPtrField<Message>(m, &f), [&](const Message& value) { append_message_value(value, out); });
      break;
    case FieldDescriptor::CPPTYPE_STRING:
      if (f.options().ctype() == google::protobuf::FieldOptions::STRING) {
        each(r.GetRepeatedPtrField<std::string>(m, &f), [&](const std::string& value) { append_string(value, out); });
        break;
      }
      [[fallthrough]];
    case FieldDescriptor::CPPTYPE_ENUM:
      for (int k = 0, size = r.FieldSize(m, &f); k < size; ++k) {
        if (k) out.put(',');
        append_value(m, r, f, k, out);
      }
      break;
  }
#pragma GCC diagnostic pop
  out.put(']');
}

// Maps are repeated entry messages; JSON wants an object with keys in a stable (sorted) order.
void append_map(const Message& m, const Reflection& r, const FieldDescriptor& f, Out& out) {
  const auto* key_field = f.message_type()->map_key();
  const auto* value_field = f.message_type()->map_value();
  const int size = r.FieldSize(m, &f);
  std::vector<std::string> number_keys;  // keys not held as a std::string; reserved, so views stay valid
  number_keys.reserve(static_cast<size_t>(size));
  std::vector<std::pair<std::string_view, const Message*>> entries;
  entries.reserve(static_cast<size_t>(size));
  for (int i = 0; i < size; ++i) {
    const Message& entry = r.GetRepeatedMessage(m, &f, i);
    const Reflection& er = *entry.GetReflection();
    if (key_field->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
      std::string scratch;
      const std::string& key = er.GetStringReference(entry, key_field, &scratch);
      if (&key == &scratch) number_keys.push_back(std::move(scratch));
      entries.emplace_back(&key == &scratch ? std::string_view(number_keys.back()) : std::string_view(key), &entry);
    } else {
      std::string number;
      {
        Out number_out(number);
        append_value(entry, er, *key_field, -1, number_out);
      }
      number_keys.push_back(number.front() == '"' ? number.substr(1, number.size() - 2) : number);
      entries.emplace_back(number_keys.back(), &entry);
    }
  }
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  out.put('{');
  for (size_t i = 0; i < entries.size(); ++i) {
    if (i) out.put(',');
    append_string(entries[i].first, out);
    out.put(':');
    append_value(*entries[i].second, *entries[i].second->GetReflection(), *value_field, -1, out);
  }
  out.put('}');
}

using StringMap = google::protobuf::Map<std::string, std::string>;

// A string map as printed last time, with its JSON: a dataset's tasks all carry the same knobs, so
// most calls find the map unchanged and copy the text instead of sorting and escaping it again.
struct PrintedMap {
  std::vector<std::pair<std::string, std::string>> entries;  // in the map's iteration order
  std::string json = "{}";                                   // that of no entries, to begin with
};

// True when iterating `map` gives exactly printed's entries, in order: then it holds just those. (The
// same entries in another order only cost a fresh print.) No hashing: a task's map is the same
// object, unchanged, from task to task.
bool same_map(const StringMap& map, const PrintedMap& printed) {
  if (static_cast<size_t>(map.size()) != printed.entries.size()) return false;
  auto entry = printed.entries.begin();
  for (const auto& [key, value] : map) {
    if (key != entry->first || value != entry->second) return false;
    ++entry;
  }
  return true;
}

void append_string_map(const StringMap& map, PrintedMap& printed, Out& out) {
  if (!same_map(map, printed)) {  // printed anew, then kept: a throw on the way leaves the old pair whole
    std::vector<std::pair<std::string, std::string>> entries(map.begin(), map.end());
    auto sorted = entries;
    std::sort(sorted.begin(), sorted.end());  // keys are distinct: sorted by key
    std::string text;
    {
      Out json(text);
      json.put('{');
      for (size_t i = 0; i < sorted.size(); ++i) {
        if (i) json.put(',');
        append_string(sorted[i].first, json);
        json.put(':');
        append_string(sorted[i].second, json);
      }
      json.put('}');
    }
    printed.json = std::move(text);
    printed.entries = std::move(entries);
  }
  out.put(printed.json);
}

// Trace steps are most of a task's messages (dozens per task for the search families): printed
// through the generated accessors instead of reflection, field by field as reflection would (all
// three fields are always printed). Only while TraceStep is exactly {text, cites, rule}, plain strings
// in that order: a schema change falls back to reflection by itself.
bool trace_step_is_plain() {
  static const bool plain = [] {
    const google::protobuf::Descriptor* d = pb::TraceStep::descriptor();
    const auto plain_string = [&](int i, const char* name, bool repeated) {
      const FieldDescriptor* f = d->field(i);
      return f->name() == name && f->cpp_type() == FieldDescriptor::CPPTYPE_STRING && f->is_repeated() == repeated &&
             f->containing_oneof() == nullptr && f->options().ctype() == google::protobuf::FieldOptions::STRING;
    };
    return d->field_count() == 3 && plain_string(0, "text", false) && plain_string(1, "cites", true) &&
           plain_string(2, "rule", false);
  }();
  return plain;
}

void append_trace_step(const pb::TraceStep& step, Out& out) {
  out.put(std::string_view("{\"text\":"));
  append_string(step.text(), out);
  out.put(std::string_view(",\"cites\":["));
  for (int i = 0; i < step.cites_size(); ++i) {
    if (i) out.put(',');
    append_string(step.cites(i), out);
  }
  out.put(std::string_view("],\"rule\":"));
  append_string(step.rule(), out);
  out.put('}');
}

// What append_json needs of a message type's fields, worked out once per type and thread: the
// reflection calls that find it (is_map, containing_oneof, escaping the name) cost more than
// printing the values of a small task.
struct FieldLayout {
  const FieldDescriptor* field;
  std::string key;  // "name":
  bool presence;    // printed only when set: singular messages and oneof members
};

const std::vector<FieldLayout>& layout_of(const google::protobuf::Descriptor* descriptor) {
  thread_local std::unordered_map<const google::protobuf::Descriptor*, std::vector<FieldLayout>> cache;
  auto [it, fresh] = cache.try_emplace(descriptor);
  if (fresh) {
    for (int i = 0; i < descriptor->field_count(); ++i) {
      const FieldDescriptor* f = descriptor->field(i);
      // Like protobuf's printer with always_print_primitive_fields: singular messages and oneof
      // members only when set; everything else always.
      const bool presence =
          f->containing_oneof() != nullptr || (!f->is_repeated() && f->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE);
      std::string key;
      {
        Out key_out(key);
        append_string(f->name(), key_out);
        key_out.put(':');
      }
      it->second.push_back({f, std::move(key), presence});
    }
  }
  return it->second;
}

// A Task (one per record) through the generated accessors, field by field as the reflective loop
// below prints it: its own fields cost a reflection call each otherwise, its maps a copy into entry
// messages, and its thirteen instance fields a presence check each. Only while Task is exactly the
// shape task_is_plain checks: a schema change falls back to reflection by itself.
bool task_is_plain() {
  static const bool plain = [] {
    const google::protobuf::Descriptor* d = pb::Task::descriptor();
    struct Expected {
      const char* name;
      FieldDescriptor::CppType type;
      bool repeated;
    };
    using T = FieldDescriptor;
    static constexpr Expected kBefore[] = {{"id", T::CPPTYPE_STRING, false},    {"family", T::CPPTYPE_STRING, false},
                                           {"level", T::CPPTYPE_INT32, false},  {"knobs", T::CPPTYPE_MESSAGE, true},
                                           {"seed", T::CPPTYPE_UINT64, false},  {"index", T::CPPTYPE_UINT64, false},
                                           {"prompt", T::CPPTYPE_STRING, false}};
    static constexpr Expected kAfter[] = {{"answer", T::CPPTYPE_STRING, false}, {"trace", T::CPPTYPE_MESSAGE, true},
                                          {"label", T::CPPTYPE_STRING, false},  {"meta", T::CPPTYPE_MESSAGE, true}};
    const auto is = [](const FieldDescriptor* f, const Expected& e) {
      return f->name() == e.name && f->cpp_type() == e.type && f->is_repeated() == e.repeated &&
             f->containing_oneof() == nullptr &&
             (e.type != T::CPPTYPE_STRING || f->options().ctype() == google::protobuf::FieldOptions::STRING);
    };
    const int before = static_cast<int>(std::size(kBefore)), after = static_cast<int>(std::size(kAfter));
    if (d->oneof_decl_count() != 1 || d->field_count() != before + d->oneof_decl(0)->field_count() + after) return false;
    const int members = d->oneof_decl(0)->field_count();
    for (int i = 0; i < before; ++i)
      if (!is(d->field(i), kBefore[i])) return false;
    for (int i = before; i < before + members; ++i)
      if (d->field(i)->containing_oneof() != d->oneof_decl(0) || d->field(i)->cpp_type() != T::CPPTYPE_MESSAGE) return false;
    for (int i = 0; i < after; ++i)
      if (!is(d->field(before + members + i), kAfter[i])) return false;
    const auto string_map = [](const FieldDescriptor* f) {
      return f->is_map() && f->message_type()->map_key()->cpp_type() == T::CPPTYPE_STRING &&
             f->message_type()->map_value()->cpp_type() == T::CPPTYPE_STRING;
    };
    return string_map(d->FindFieldByName("knobs")) && string_map(d->FindFieldByName("meta")) &&
           d->FindFieldByName("trace")->message_type() == pb::TraceStep::descriptor() && trace_step_is_plain();
  }();
  return plain;
}

void append_task(const pb::Task& task, Out& out) {
  thread_local PrintedMap printed_knobs, printed_meta;  // one each: they alternate on every task
  out.put(std::string_view("{\"id\":"));
  append_string(task.id(), out);
  out.put(std::string_view(",\"family\":"));
  append_string(task.family(), out);
  out.put(std::string_view(",\"level\":"));
  append_integer(task.level(), false, out);
  out.put(std::string_view(",\"knobs\":"));
  append_string_map(task.knobs(), printed_knobs, out);
  out.put(std::string_view(",\"seed\":"));
  append_integer(task.seed(), true, out);
  out.put(std::string_view(",\"index\":"));
  append_integer(task.index(), true, out);
  out.put(std::string_view(",\"prompt\":"));
  append_string(task.prompt(), out);
  if (task.instance_case() != pb::Task::INSTANCE_NOT_SET) {
    const Reflection& r = *task.GetReflection();
    const FieldDescriptor* instance = r.GetOneofFieldDescriptor(task, pb::Task::descriptor()->oneof_decl(0));
    out.put(',');
    append_string(instance->name(), out);
    out.put(':');
    append_message(r.GetMessage(task, instance), out);
  }
  out.put(std::string_view(",\"answer\":"));
  append_string(task.answer(), out);
  out.put(std::string_view(",\"trace\":["));
  for (int i = 0; i < task.trace_size(); ++i) {
    if (i) out.put(',');
    append_trace_step(task.trace(i), out);
  }
  out.put(std::string_view("],\"label\":"));
  append_string(task.label(), out);
  out.put(std::string_view(",\"meta\":"));
  append_string_map(task.meta(), printed_meta, out);
  out.put('}');
}

void append_message(const Message& message, Out& out) {
  if (typeid(message) == typeid(pb::Task) && task_is_plain()) {
    append_task(static_cast<const pb::Task&>(message), out);
    return;
  }
  const Reflection& r = *message.GetReflection();
  out.put('{');
  bool first = true;
  for (const FieldLayout& field : layout_of(message.GetDescriptor())) {
    const FieldDescriptor& f = *field.field;
    if (field.presence && !r.HasField(message, &f)) continue;
    if (!first) out.put(',');
    first = false;
    out.put(field.key);
    if (f.is_map()) {
      append_map(message, r, f, out);
    } else if (f.is_repeated()) {
      append_repeated(message, r, f, out);
    } else {
      append_value(message, r, f, -1, out);
    }
  }
  out.put('}');
}

}  // namespace

void append_json(const Message& message, std::string& text) {
  Out out(text);
  append_message(message, out);
}

}  // namespace verity
