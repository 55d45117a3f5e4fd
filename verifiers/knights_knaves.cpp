// Scores a knights_knaves completion. The answer must give every person exactly one role, in any
// order and in any of the common spellings:
//   "Alice: knight, Bruno: knave"     "Alice is a knight and Bruno is a knave"
//   "Alice and Clara are knights; Bruno is a knave"     "Knights: Alice, Clara. Knaves: Bruno"
//   "Knights: none. Knaves: Alice, Bruno" ("none" / "nobody" right after a role: an empty list)
// (knight = truth-teller, knave = liar). A person missing, named twice with different roles, an
// unknown name or word, or a negated role ("Alice is not a knight") is rejected: reward 0, format_ok
// false. On puzzles without a unique solution the gold answer is "no unique solution" (synonyms
// accepted); saying so on a puzzle that has one scores 0. Linear in the answer's length.
#include "verifiers/verifiers.h"

#include <algorithm>
#include <map>
#include <set>

#include "solvers/knights_knaves_logic.h"
#include "tasks/answer_extraction.h"
#include "verifiers/label_verifier.h"

namespace verity {

namespace {

class KnightsKnavesVerifier final : public Verifier {
 public:
  pb::Score verify(const pb::Task& task, std::string_view completion) const override;
};

}  // namespace
namespace {

const std::set<std::string> kNoUniquePhrases = {
    "no unique solution", "there is no unique solution", "no unique answer", "no unique assignment",
    "not unique", "the solution is not unique", "cannot be determined", "can not be determined",
    "cannot be uniquely determined", "cannot be determined uniquely", "not uniquely determined",
    "undetermined", "indeterminate", "unanswerable", "no solution", "no consistent assignment",
    "no consistent solution", "inconsistent", "impossible", "ambiguous", "multiple solutions",
    "more than one solution", "unknown", "no unique solution exists", "the puzzle has no unique solution",
    "not enough information"};

// Words that may sit between names and roles without changing the meaning.
const std::set<std::string> kFiller = {
    "is", "are", "a", "an", "the", "and", "both", "all", "also", "be", "must", "therefore", "thus", "so",
    "hence", "while", "whereas", "was", "were", "role", "roles", "answer", "final", "as", "each", "s",
    "person", "people", "then", "of", "them", "whilst", "finally", "who", "which", "he", "she", "they",
    "too", "only", "we", "have", "get", "that", "in", "conclusion", "summary", "solution"};

const std::set<std::string> kNegations = {"not", "isn", "aren", "no", "never", "neither", "nor", "nobody", "none"};

enum class Role { None, Knight, Knave };

// Lower-case words of letters and digits; everything else separates words.
std::vector<std::string> words_of(std::string_view text) {
  std::vector<std::string> words;
  std::string current;
  for (char c : text) {
    const unsigned char u = static_cast<unsigned char>(c);
    if (std::isalnum(u)) {
      current.push_back(static_cast<char>(std::tolower(u)));
    } else if (!current.empty()) {
      words.push_back(std::move(current));
      current.clear();
    }
  }
  if (!current.empty()) words.push_back(std::move(current));
  return words;
}

// The role a word (with the next, for "truth teller") names; `used` words consumed.
Role role_of(const std::vector<std::string>& w, size_t i, size_t& used) {
  used = 1;
  const std::string& s = w[i];
  if (s == "knight" || s == "knights" || s == "truthteller" || s == "truthtellers") return Role::Knight;
  if (s == "knave" || s == "knaves" || s == "liar" || s == "liars") return Role::Knave;
  if (s == "truth" && i + 1 < w.size() && (w[i + 1] == "teller" || w[i + 1] == "tellers")) {
    used = 2;
    return Role::Knight;
  }
  return Role::None;
}

struct Reading {
  std::vector<Role> roles;  // per person
  std::string error;        // why the answer does not assign every person one role
};

// Name-first answers ("Alice and Clara are knights") give the role after the names; role-first ones
// ("Knights: Alice, Clara") before. The first name or role decides which.
Reading read_roles(const std::vector<std::string>& w, const std::vector<std::string>& people) {
  Reading r;
  r.roles.assign(people.size(), Role::None);
  std::map<std::string, int> index;
  for (size_t q = 0; q < people.size(); ++q) index[normalize_answer(people[q])] = static_cast<int>(q);
  enum class Mode { Unknown, NameFirst, RoleFirst } mode = Mode::Unknown;
  std::vector<int> pending;
  Role current = Role::None, last = Role::None;
  auto assign = [&](int q, Role role) {
    if (r.roles[q] != Role::None && r.roles[q] != role && r.error.empty())
      r.error = "contradictory: " + people[q] + " is given two different roles";
    r.roles[q] = role;
  };
  bool just_role = false;  // the previous word named a role (role-first: its list follows)
  for (size_t i = 0; i < w.size() && r.error.empty();) {
    size_t used = 1;
    const Role role = role_of(w, i, used);
    const bool was_role = just_role;
    just_role = role != Role::None;
    if (role != Role::None) {
      if (mode == Mode::Unknown) mode = pending.empty() ? Mode::RoleFirst : Mode::NameFirst;
      if (mode == Mode::RoleFirst) current = role;
      else if (pending.empty() && role != last) r.error = "the role '" + w[i] + "' follows no name";
      for (int q : pending) assign(q, role);
      pending.clear();
      last = role;
    } else if (mode == Mode::RoleFirst && was_role && (w[i] == "none" || w[i] == "nobody" || w[i] == "nothing")) {
      // "Knights: none. Knaves: Olga, Isla.": an empty list for the role just named
    } else if (auto it = index.find(w[i]); it != index.end()) {
      if (mode == Mode::RoleFirst) assign(it->second, current);
      else pending.push_back(it->second);
    } else if (kNegations.count(w[i])) {
      r.error = "negated roles ('" + w[i] + "') are not accepted: name each person's role";
    } else if (!kFiller.count(w[i]) && !std::isdigit(static_cast<unsigned char>(w[i][0]))) {
      r.error = "unknown name or word '" + w[i].substr(0, 40) + "'";
    }
    i += used;
  }
  if (r.error.empty() && !pending.empty()) r.error = "no role given for " + people[pending.front()];
  for (size_t q = 0; q < people.size() && r.error.empty(); ++q)
    if (r.roles[q] == Role::None) r.error = "partial: no role given for " + people[q];
  return r;
}

std::string joined(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : " ") + w;
  return out;
}

}  // namespace

pb::Score KnightsKnavesVerifier::verify(const pb::Task& task, std::string_view completion) const {
  pb::Score score = score_for(task);
  const std::optional<std::string> answer = read_answer(task, completion, score);
  if (!answer) return score;
  const auto& inst = task.knights_knaves();
  const bool gold_unique = task.answer() != kNoUniqueSolution;
  const std::vector<std::string> words = words_of(*answer);

  if (kNoUniquePhrases.count(joined(words))) {
    score.set_format_ok(true);
    score.set_correct(!gold_unique);
    score.set_reward(gold_unique ? 0.0 : 1.0);
    score.set_reason(gold_unique ? "answered " + std::string(kNoUniqueSolution) + ", but the roles are determined"
                                 : "correct: the statements do not determine the roles");
    return score;
  }
  const std::vector<std::string> people(inst.people().begin(), inst.people().end());
  const Reading reading = read_roles(words, people);
  if (!reading.error.empty()) {
    score.set_reason(reading.error);
    return score;
  }
  score.set_format_ok(true);
  if (!gold_unique) {
    score.set_reason("the statements allow no or several role assignments; expected \"" +
                     std::string(kNoUniqueSolution) + "\"");
    return score;
  }
  int right = 0;
  std::string first_wrong;
  for (int q = 0; q < inst.roles_size() && q < static_cast<int>(people.size()); ++q) {
    const bool ok = (reading.roles[q] == Role::Knight) == (inst.roles(q) == "knight");
    right += ok;
    if (!ok && first_wrong.empty()) first_wrong = people[q] + " is a " + inst.roles(q);
  }
  const bool correct = inst.roles_size() == static_cast<int>(people.size()) && right == inst.roles_size();
  score.set_steps_checked(static_cast<int32_t>(people.size()));
  score.set_steps_valid(right);
  score.set_correct(correct);
  score.set_reward(correct ? 1.0 : 0.0);
  score.set_reason(correct ? "correct" : "wrong role: " + first_wrong);
  return score;
}

namespace verifiers {
const Verifier& knights_knaves() {
  static const KnightsKnavesVerifier verifier;
  return verifier;
}
}  // namespace verifiers

}  // namespace verity
