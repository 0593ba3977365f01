// A tiny test runner (no downloads): TEST(name) registers a case, CHECK/CHECK_EQ record
// failures and go on. Prints TAP-style lines and a final "# tests N passed P failed F".
#pragma once

#include <cstdio>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

namespace mini {

struct Case {
  const char* name;
  void (*fn)();
};

inline std::vector<Case>& cases() {
  static std::vector<Case> all;
  return all;
}

inline int& failures() {
  static int n = 0;
  return n;
}

struct Registrar {
  Registrar(const char* name, void (*fn)()) { cases().push_back({name, fn}); }
};

template <typename T>
std::string show(const T& v) {
  std::ostringstream s;
  s << v;
  return s.str();
}
inline std::string show(const char* v) { return v == nullptr ? "(null)" : "\"" + std::string(v) + "\""; }
inline std::string show(char* v) { return show(static_cast<const char*>(v)); }
inline std::string show(const std::string& v) { return "\"" + v + "\""; }
inline std::string show(bool v) { return v ? "true" : "false"; }

inline void fail(const char* file, int line, const std::string& what) {
  ++failures();
  std::printf("#   %s:%d: %s\n", file, line, what.c_str());
}

template <typename A, typename B>
bool equal(const A& a, const B& b) {
  return a == b;
}
inline bool equal(const char* a, const char* b) { return a != nullptr && b != nullptr && std::strcmp(a, b) == 0; }
inline bool equal(char* a, const char* b) { return equal(static_cast<const char*>(a), b); }
inline bool equal(const std::string& a, const char* b) { return b != nullptr && a == b; }

inline int run() {
  int passed = 0;
  int failed = 0;
  int n = 0;
  for (const Case& c : cases()) {
    int before = failures();
    c.fn();
    ++n;
    if (failures() == before) {
      ++passed;
      std::printf("ok %d - %s\n", n, c.name);
    } else {
      ++failed;
      std::printf("not ok %d - %s\n", n, c.name);
    }
  }
  std::printf("1..%d\n# tests %d passed %d failed %d\n", n, n, passed, failed);
  return failed == 0 && n > 0 ? 0 : 1;
}

}  // namespace mini

#define MINI_CAT2(a, b) a##b
#define MINI_CAT(a, b) MINI_CAT2(a, b)
#define TEST(name)                                                  \
  static void name();                                               \
  static mini::Registrar MINI_CAT(mini_reg_, name)(#name, name);    \
  static void name()
#define CHECK(cond)                                           \
  do {                                                        \
    if (!(cond)) mini::fail(__FILE__, __LINE__, "CHECK(" #cond ")"); \
  } while (0)
#define CHECK_EQ(actual, expected)                                                                    \
  do {                                                                                                \
    const auto& mini_a = (actual);                                                                    \
    const auto& mini_e = (expected);                                                                  \
    if (!mini::equal(mini_a, mini_e))                                                                 \
      mini::fail(__FILE__, __LINE__,                                                                  \
                 std::string(#actual " == " #expected ": got ") + mini::show(mini_a) + ", want " + mini::show(mini_e)); \
  } while (0)
