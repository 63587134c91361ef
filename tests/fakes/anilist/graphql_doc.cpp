#include "anilist/graphql_doc.hpp"

#include <cctype>
#include <functional>
#include <stdexcept>

#include "anilist/graphql_schema.hpp"

namespace cw::fakes::graphql {

namespace {

using nlohmann::json;

struct Token {
  enum class Kind { name, punct, string, integer, floating, end };
  Kind kind = Kind::end;
  std::string text;
  int line = 1;
  int column = 1;
};

struct Failure {
  ParseError error;
};

class Lexer {
 public:
  explicit Lexer(const std::string& text) : m_text(text) {}

  std::vector<Token> run() {
    std::vector<Token> out;
    for (;;) {
      skip_ignored();
      Token t;
      t.line = m_line;
      t.column = m_col;
      if (m_pos >= m_text.size()) {
        t.kind = Token::Kind::end;
        out.push_back(t);
        return out;
      }
      const char c = m_text[m_pos];
      if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
        t.kind = Token::Kind::name;
        while (m_pos < m_text.size() &&
               (std::isalnum(static_cast<unsigned char>(m_text[m_pos])) || m_text[m_pos] == '_')) {
          t.text += advance();
        }
      } else if (c == '-' || std::isdigit(static_cast<unsigned char>(c))) {
        t.kind = Token::Kind::integer;
        t.text += advance();
        while (m_pos < m_text.size()) {
          const char d = m_text[m_pos];
          if (std::isdigit(static_cast<unsigned char>(d))) {
            t.text += advance();
          } else if (d == '.' || d == 'e' || d == 'E' ||
                     ((d == '+' || d == '-') && (t.text.back() == 'e' || t.text.back() == 'E'))) {
            t.kind = Token::Kind::floating;
            t.text += advance();
          } else {
            break;
          }
        }
      } else if (c == '"') {
        t.kind = Token::Kind::string;
        t.text = read_string();
      } else if (c == '.') {
        if (m_text.compare(m_pos, 3, "...") != 0) fail("Syntax Error: Unexpected \".\".", t);
        advance();
        advance();
        advance();
        t.kind = Token::Kind::punct;
        t.text = "...";
      } else if (std::string("{}()[]:=!$@|&").find(c) != std::string::npos) {
        t.kind = Token::Kind::punct;
        t.text = std::string(1, advance());
      } else {
        fail(std::string("Syntax Error: Unexpected character \"") + c + "\".", t);
      }
      out.push_back(t);
    }
  }

 private:
  [[noreturn]] static void fail(const std::string& message, const Token& at) {
    throw Failure{ParseError{message, at.line, at.column}};
  }

  char advance() {
    const char c = m_text[m_pos++];
    if (c == '\n') {
      ++m_line;
      m_col = 1;
    } else {
      ++m_col;
    }
    return c;
  }

  void skip_ignored() {
    while (m_pos < m_text.size()) {
      const char c = m_text[m_pos];
      if (c == '#') {
        while (m_pos < m_text.size() && m_text[m_pos] != '\n') advance();
      } else if (std::isspace(static_cast<unsigned char>(c)) || c == ',' ||
                 static_cast<unsigned char>(c) == 0xEF) {
        advance();
      } else if (static_cast<unsigned char>(c) == 0xBB || static_cast<unsigned char>(c) == 0xBF) {
        advance();  // UTF-8 byte-order mark
      } else {
        break;
      }
    }
  }

  std::string read_string() {
    Token at{Token::Kind::string, "", m_line, m_col};
    if (m_text.compare(m_pos, 3, "\"\"\"") == 0) {
      m_pos += 3;
      m_col += 3;
      std::string out;
      while (m_pos < m_text.size() && m_text.compare(m_pos, 3, "\"\"\"") != 0) out += advance();
      if (m_pos >= m_text.size()) fail("Syntax Error: Unterminated string.", at);
      m_pos += 3;
      m_col += 3;
      return out;
    }
    advance();
    std::string out;
    while (m_pos < m_text.size() && m_text[m_pos] != '"') {
      char c = advance();
      if (c == '\n') fail("Syntax Error: Unterminated string.", at);
      if (c == '\\' && m_pos < m_text.size()) {
        const char e = advance();
        switch (e) {
          case 'n':
            out += '\n';
            break;
          case 't':
            out += '\t';
            break;
          case 'r':
            out += '\r';
            break;
          case 'b':
            out += '\b';
            break;
          case 'f':
            out += '\f';
            break;
          case 'u': {
            const std::string hex = m_text.substr(m_pos, 4);
            for (int i = 0; i < 4 && m_pos < m_text.size(); ++i) advance();
            const unsigned long cp = std::stoul(hex, nullptr, 16);
            if (cp < 0x80) {
              out += static_cast<char>(cp);
            } else if (cp < 0x800) {
              out += static_cast<char>(0xC0 | (cp >> 6));
              out += static_cast<char>(0x80 | (cp & 0x3F));
            } else {
              out += static_cast<char>(0xE0 | (cp >> 12));
              out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
              out += static_cast<char>(0x80 | (cp & 0x3F));
            }
            break;
          }
          default:
            out += e;
        }
        continue;
      }
      out += c;
    }
    if (m_pos >= m_text.size()) fail("Syntax Error: Unterminated string.", at);
    advance();
    return out;
  }

  const std::string& m_text;
  std::size_t m_pos = 0;
  int m_line = 1;
  int m_col = 1;
};

class Parser {
 public:
  explicit Parser(std::vector<Token> tokens) : m_tokens(std::move(tokens)) {}

  Document document() {
    Document doc;
    while (peek().kind != Token::Kind::end) {
      const Token& t = peek();
      if (t.kind == Token::Kind::punct && t.text == "{") {
        Operation op;
        op.selections = selection_set();
        doc.operations.push_back(std::move(op));
      } else if (t.kind == Token::Kind::name &&
                 (t.text == "query" || t.text == "mutation" || t.text == "subscription")) {
        doc.operations.push_back(operation());
      } else if (t.kind == Token::Kind::name && t.text == "fragment") {
        next();
        const std::string name = expect_name();
        expect_keyword("on");
        Fragment f;
        f.type_condition = expect_name();
        skip_directives();
        f.selections = selection_set();
        doc.fragments[name] = std::move(f);
      } else {
        unexpected(t);
      }
    }
    if (doc.operations.empty()) fail("Syntax Error: Unexpected <EOF>.", peek());
    return doc;
  }

 private:
  [[noreturn]] static void fail(const std::string& message, const Token& at) {
    throw Failure{ParseError{message, at.line, at.column}};
  }
  [[noreturn]] static void unexpected(const Token& t) {
    if (t.kind == Token::Kind::end) fail("Syntax Error: Unexpected <EOF>.", t);
    fail("Syntax Error: Unexpected \"" + t.text + "\".", t);
  }

  const Token& peek() const { return m_tokens[m_pos]; }
  const Token& next() {
    const Token& t = m_tokens[m_pos];
    if (t.kind != Token::Kind::end) ++m_pos;
    return t;
  }
  bool at_punct(const char* p) const {
    return peek().kind == Token::Kind::punct && peek().text == p;
  }
  void expect_punct(const char* p) {
    if (!at_punct(p)) {
      const Token& t = peek();
      if (t.kind == Token::Kind::end)
        fail(std::string("Syntax Error: Expected \"") + p + "\", found <EOF>.", t);
      fail(std::string("Syntax Error: Expected \"") + p + "\", found \"" + t.text + "\".", t);
    }
    next();
  }
  std::string expect_name() {
    if (peek().kind != Token::Kind::name) {
      const Token& t = peek();
      fail("Syntax Error: Expected Name, found " +
               (t.kind == Token::Kind::end ? std::string("<EOF>") : "\"" + t.text + "\"") + ".",
           t);
    }
    return next().text;
  }
  void expect_keyword(const char* k) {
    if (peek().kind != Token::Kind::name || peek().text != k) unexpected(peek());
    next();
  }

  Operation operation() {
    Operation op;
    op.line = peek().line;
    op.column = peek().column;
    op.type = next().text;
    if (peek().kind == Token::Kind::name) op.name = next().text;
    if (at_punct("(")) {
      next();
      while (!at_punct(")")) {
        expect_punct("$");
        const std::string var = expect_name();
        expect_punct(":");
        op.variable_types[var] = type_text();
        op.variables.push_back(var);
        if (at_punct("=")) {
          next();
          ValuePtr def = value(true);
          op.variable_defaults[var] = *resolve_value(def, json::object(), op);
        }
        skip_directives();
        if (peek().kind == Token::Kind::end) unexpected(peek());
      }
      next();
    }
    skip_directives();
    op.selections = selection_set();
    return op;
  }

  // A type reference as written ("Int", "[MediaListStatus]!").
  std::string type_text() {
    std::string out;
    if (at_punct("[")) {
      next();
      out = "[" + type_text();
      expect_punct("]");
      out += "]";
    } else {
      out = expect_name();
    }
    if (at_punct("!")) {
      next();
      out += "!";
    }
    return out;
  }

  void skip_directives() {
    while (at_punct("@")) {
      next();
      expect_name();
      if (at_punct("(")) arguments();
    }
  }

  std::map<std::string, std::map<std::string, ValuePtr>> directives() {
    std::map<std::string, std::map<std::string, ValuePtr>> out;
    while (at_punct("@")) {
      next();
      const std::string name = expect_name();
      out[name] = at_punct("(") ? arguments() : std::map<std::string, ValuePtr>{};
    }
    return out;
  }

  std::map<std::string, ValuePtr> arguments() {
    std::map<std::string, ValuePtr> out;
    expect_punct("(");
    while (!at_punct(")")) {
      const std::string name = expect_name();
      expect_punct(":");
      out[name] = value(false);
      if (peek().kind == Token::Kind::end) unexpected(peek());
    }
    next();
    return out;
  }

  ValuePtr value(bool is_const) {
    auto v = std::make_shared<Value>();
    const Token& t = peek();
    if (t.kind == Token::Kind::punct && t.text == "$") {
      if (is_const) unexpected(t);
      next();
      v->kind = Value::Kind::variable;
      v->name = expect_name();
    } else if (t.kind == Token::Kind::integer) {
      v->literal = std::stoll(next().text);
    } else if (t.kind == Token::Kind::floating) {
      v->literal = std::stod(next().text);
    } else if (t.kind == Token::Kind::string) {
      v->literal = next().text;
    } else if (t.kind == Token::Kind::name) {
      const std::string word = next().text;
      if (word == "true" || word == "false") {
        v->literal = word == "true";
      } else if (word == "null") {
        v->literal = nullptr;
      } else {
        v->kind = Value::Kind::enum_value;
        v->name = word;
      }
    } else if (t.kind == Token::Kind::punct && t.text == "[") {
      next();
      v->kind = Value::Kind::list;
      while (!at_punct("]")) {
        if (peek().kind == Token::Kind::end) unexpected(peek());
        v->items.push_back(value(is_const));
      }
      next();
    } else if (t.kind == Token::Kind::punct && t.text == "{") {
      next();
      v->kind = Value::Kind::object;
      while (!at_punct("}")) {
        const std::string name = expect_name();
        expect_punct(":");
        v->fields[name] = value(is_const);
      }
      next();
    } else {
      unexpected(t);
    }
    return v;
  }

  std::vector<Selection> selection_set() {
    std::vector<Selection> out;
    expect_punct("{");
    if (at_punct("}")) unexpected(peek());
    while (!at_punct("}")) {
      if (peek().kind == Token::Kind::end) expect_name();  // "Expected Name, found <EOF>."
      Selection s;
      if (at_punct("...")) {
        next();
        if (peek().kind == Token::Kind::name && peek().text != "on") {
          s.kind = Selection::Kind::fragment_spread;
          s.fragment = next().text;
          s.directives = directives();
        } else {
          s.kind = Selection::Kind::inline_fragment;
          if (peek().kind == Token::Kind::name && peek().text == "on") {
            next();
            s.type_condition = expect_name();
          }
          s.directives = directives();
          s.selections = selection_set();
        }
      } else {
        s.kind = Selection::Kind::field;
        const Token& first = peek();
        s.field.line = first.line;
        s.field.column = first.column;
        std::string name = expect_name();
        if (at_punct(":")) {
          next();
          s.field.alias = name;
          name = expect_name();
        }
        s.field.name = name;
        if (at_punct("(")) s.field.args = arguments();
        s.directives = directives();
        if (at_punct("{")) {
          s.field.has_selection_set = true;
          s.field.selections = selection_set();
        }
      }
      out.push_back(std::move(s));
    }
    next();
    return out;
  }

  std::vector<Token> m_tokens;
  std::size_t m_pos = 0;
};

// SDL: the definitions of a schema. Descriptions and directives are read and dropped; default
// values only mark an argument as optional.
class SchemaParser {
 public:
  explicit SchemaParser(std::vector<Token> tokens) : m_tokens(std::move(tokens)) {}

  Schema schema() {
    Schema out;
    for (const char* scalar : {"Int", "Float", "String", "Boolean", "ID"}) {
      TypeDef t;
      t.name = scalar;
      out.types[scalar] = t;
    }
    while (peek().kind != Token::Kind::end) {
      description();
      const std::string keyword = expect_name();
      if (keyword == "extend") fail("SDL: \"extend\" is not supported.", peek());
      if (keyword == "schema") {
        directives();
        expect("{");
        while (!at("}")) {
          const std::string op = expect_name();
          expect(":");
          const std::string type = expect_name();
          if (op == "query") out.query_type = type;
          if (op == "mutation") out.mutation_type = type;
        }
        next();
        continue;
      }
      if (keyword == "directive") {
        expect("@");
        expect_name();
        if (at("(")) input_values();
        if (peek().kind == Token::Kind::name && peek().text == "repeatable") next();
        if (expect_name() != "on") unexpected(peek());
        if (at("|")) next();
        expect_name();
        while (at("|")) {
          next();
          expect_name();
        }
        continue;
      }
      TypeDef t;
      t.name = expect_name();
      if (keyword == "scalar") {
        t.kind = TypeDef::Kind::scalar;
        directives();
      } else if (keyword == "type" || keyword == "interface") {
        t.kind = keyword == "type" ? TypeDef::Kind::object : TypeDef::Kind::interface;
        if (peek().kind == Token::Kind::name && peek().text == "implements") {
          next();
          if (at("&")) next();
          t.interfaces.push_back(expect_name());
          while (at("&")) {
            next();
            t.interfaces.push_back(expect_name());
          }
        }
        directives();
        if (at("{")) t.fields = fields();
      } else if (keyword == "union") {
        t.kind = TypeDef::Kind::union_type;
        directives();
        expect("=");
        if (at("|")) next();
        t.members.push_back(expect_name());
        while (at("|")) {
          next();
          t.members.push_back(expect_name());
        }
      } else if (keyword == "enum") {
        t.kind = TypeDef::Kind::enum_type;
        directives();
        expect("{");
        while (!at("}")) {
          description();
          t.values.push_back(expect_name());
          directives();
        }
        next();
      } else if (keyword == "input") {
        t.kind = TypeDef::Kind::input;
        directives();
        t.input_fields = input_values("{", "}");
      } else {
        fail("SDL: unexpected \"" + keyword + "\".", peek());
      }
      out.types[t.name] = std::move(t);
    }
    return out;
  }

 private:
  [[noreturn]] static void fail(const std::string& message, const Token& at) {
    throw Failure{ParseError{message, at.line, at.column}};
  }
  [[noreturn]] static void unexpected(const Token& t) {
    fail("SDL: unexpected \"" + t.text + "\".", t);
  }
  const Token& peek() const { return m_tokens[m_pos]; }
  const Token& next() {
    const Token& t = m_tokens[m_pos];
    if (t.kind != Token::Kind::end) ++m_pos;
    return t;
  }
  bool at(const char* p) const { return peek().kind == Token::Kind::punct && peek().text == p; }
  void expect(const char* p) {
    if (!at(p)) unexpected(peek());
    next();
  }
  std::string expect_name() {
    if (peek().kind != Token::Kind::name) unexpected(peek());
    return next().text;
  }
  void description() {
    if (peek().kind == Token::Kind::string) next();
  }
  void skip_value() {
    if (at("[") || at("{")) {
      const std::string close = at("[") ? "]" : "}";
      next();
      while (!at(close.c_str())) {
        if (peek().kind == Token::Kind::end) unexpected(peek());
        if (close == "}") {
          expect_name();
          expect(":");
        }
        skip_value();
      }
      next();
      return;
    }
    if (at("$")) next();
    next();
  }
  void directives() {
    while (at("@")) {
      next();
      expect_name();
      if (at("(")) {
        next();
        while (!at(")")) {
          expect_name();
          expect(":");
          skip_value();
        }
        next();
      }
    }
  }
  TypeRefPtr type_ref() {
    auto t = std::make_shared<TypeRef>();
    if (at("[")) {
      next();
      t->of = type_ref();
      expect("]");
    } else {
      t->name = expect_name();
    }
    if (at("!")) {
      next();
      t->non_null = true;
    }
    return t;
  }
  std::map<std::string, InputValueDef> input_values(const char* open = "(",
                                                    const char* close = ")") {
    std::map<std::string, InputValueDef> out;
    expect(open);
    while (!at(close)) {
      description();
      const std::string name = expect_name();
      expect(":");
      InputValueDef v;
      v.type = type_ref();
      if (at("=")) {
        next();
        skip_value();
        v.has_default = true;
      }
      directives();
      out[name] = std::move(v);
    }
    next();
    return out;
  }
  std::map<std::string, FieldDef> fields() {
    std::map<std::string, FieldDef> out;
    expect("{");
    while (!at("}")) {
      description();
      const std::string name = expect_name();
      FieldDef f;
      if (at("(")) f.args = input_values();
      expect(":");
      f.type = type_ref();
      directives();
      out[name] = std::move(f);
    }
    next();
    return out;
  }

  std::vector<Token> m_tokens;
  std::size_t m_pos = 0;
};

bool included(const Selection& s, const json& variables, const Operation& op) {
  for (const auto& [name, args] : s.directives) {
    auto it = args.find("if");
    if (it == args.end()) continue;
    const auto v = resolve_value(it->second, variables, op);
    const bool cond = v && v->is_boolean() && v->get<bool>();
    if (name == "include" && !cond) return false;
    if (name == "skip" && cond) return false;
  }
  return true;
}

void collect(const std::vector<Selection>& selections, const Document& doc, const json& variables,
             const Operation& op, const std::string& type, std::vector<const Field*>& out,
             int depth) {
  if (depth > 32) return;  // fragment cycles
  for (const auto& s : selections) {
    if (!included(s, variables, op)) continue;
    switch (s.kind) {
      case Selection::Kind::field: {
        // A repeated key merges into the first occurrence's position (sub-selections are the
        // first one's; list-sync clients do not split selections of one field).
        bool seen = false;
        for (const Field* f : out) seen = seen || f->key() == s.field.key();
        if (!seen) out.push_back(&s.field);
        break;
      }
      case Selection::Kind::fragment_spread: {
        auto it = doc.fragments.find(s.fragment);
        if (it == doc.fragments.end()) break;
        if (!type.empty() && it->second.type_condition != type) break;
        collect(it->second.selections, doc, variables, op, type, out, depth + 1);
        break;
      }
      case Selection::Kind::inline_fragment:
        if (!type.empty() && !s.type_condition.empty() && s.type_condition != type) break;
        collect(s.selections, doc, variables, op, type, out, depth + 1);
        break;
    }
  }
}

}  // namespace

std::optional<Document> parse(const std::string& text, ParseError& error) {
  try {
    Lexer lexer(text);
    Parser parser(lexer.run());
    return parser.document();
  } catch (const Failure& f) {
    error = f.error;
    return std::nullopt;
  } catch (const std::exception& e) {
    error = ParseError{std::string("Syntax Error: ") + e.what(), 1, 1};
    return std::nullopt;
  }
}

std::optional<Schema> parse_schema(const std::string& sdl, ParseError& error) {
  try {
    Lexer lexer(sdl);
    SchemaParser parser(lexer.run());
    return parser.schema();
  } catch (const Failure& f) {
    error = f.error;
    return std::nullopt;
  }
}

TypeRefPtr parse_type_ref(const std::string& text) {
  try {
    Lexer lexer(text);
    std::vector<Token> tokens = lexer.run();
    std::size_t pos = 0;
    auto punct = [&](const char* p) {
      return tokens[pos].kind == Token::Kind::punct && tokens[pos].text == p;
    };
    std::function<TypeRefPtr()> read = [&]() -> TypeRefPtr {
      auto t = std::make_shared<TypeRef>();
      if (punct("[")) {
        ++pos;
        t->of = read();
        if (!t->of || !punct("]")) return nullptr;
        ++pos;
      } else if (tokens[pos].kind == Token::Kind::name) {
        t->name = tokens[pos++].text;
      } else {
        return nullptr;
      }
      if (punct("!")) {
        ++pos;
        t->non_null = true;
      }
      return t;
    };
    TypeRefPtr out = read();
    return out && tokens[pos].kind == Token::Kind::end ? out : nullptr;
  } catch (const Failure&) {
    return nullptr;
  }
}

std::optional<json> resolve_value(const ValuePtr& value, const json& variables,
                                  const Operation& op) {
  if (!value) return std::nullopt;
  switch (value->kind) {
    case Value::Kind::literal:
      return value->literal;
    case Value::Kind::enum_value:
      return json(value->name);
    case Value::Kind::variable: {
      if (variables.is_object()) {
        auto it = variables.find(value->name);
        if (it != variables.end()) return *it;
      }
      auto def = op.variable_defaults.find(value->name);
      if (def != op.variable_defaults.end()) return def->second;
      return std::nullopt;
    }
    case Value::Kind::list: {
      json out = json::array();
      for (const auto& item : value->items) {
        auto v = resolve_value(item, variables, op);
        out.push_back(v ? *v : json());
      }
      return out;
    }
    case Value::Kind::object: {
      json out = json::object();
      for (const auto& [k, item] : value->fields) {
        auto v = resolve_value(item, variables, op);
        if (v) out[k] = *v;
      }
      return out;
    }
  }
  return std::nullopt;
}

std::vector<const Field*> collect_fields(const std::vector<Selection>& selections,
                                         const Document& doc, const json& variables,
                                         const Operation& op, const std::string& type) {
  std::vector<const Field*> out;
  collect(selections, doc, variables, op, type, out, 0);
  return out;
}

}  // namespace cw::fakes::graphql
