#include "anilist/graphql_schema.hpp"

#include <algorithm>

namespace cw::fakes::graphql {

namespace {

using nlohmann::json;

std::string quoted(const std::string& s) { return "\"" + s + "\""; }

// A JSON value as graphql-php prints it in messages.
std::string printed(const json& v) { return v.dump(); }

// Walks one operation; every rule appends its errors.
class Validator {
 public:
  Validator(const Schema& schema, const Document& doc, const Operation& op, const json& variables)
      : m_schema(schema),
        m_doc(doc),
        m_op(op),
        m_vars(variables.is_object() ? variables : json()) {}

  std::vector<ValidationError> run() {
    check_variable_definitions();
    const std::string& root =
        m_op.type == "mutation" ? m_schema.mutation_type : m_schema.query_type;
    if (!m_schema.type(root)) {
      add("Schema is not configured for " + m_op.type + "s.", m_op.line, m_op.column);
      return m_errors;
    }
    selections(m_op.selections, root, 0);
    return m_errors;
  }

 private:
  void add(std::string message, int line, int column) {
    if (m_errors.size() < 20) m_errors.push_back({std::move(message), line, column});
  }

  // Variable definitions: input types that exist; provided values that fit their type; every
  // required variable provided.
  void check_variable_definitions() {
    for (const auto& name : m_op.variables) {
      auto it = m_op.variable_types.find(name);
      TypeRefPtr type = it == m_op.variable_types.end() ? nullptr : parse_type_ref(it->second);
      if (!type) continue;
      if (!m_schema.type(type->named())) {
        add("Unknown type " + quoted(type->named()) + ".", m_op.line, m_op.column);
        continue;
      }
      if (!m_schema.is_input(type->named())) {
        add("Variable \"$" + name + "\" cannot be non-input type " + quoted(type->text()) + ".",
            m_op.line, m_op.column);
        continue;
      }
      const bool provided = m_vars.is_object() && m_vars.contains(name);
      if (!provided) {
        if (type->non_null && !m_op.variable_defaults.count(name)) {
          add("Variable \"$" + name + "\" of required type " + quoted(type->text()) +
                  " was not provided.",
              m_op.line, m_op.column);
        }
        continue;
      }
      const json& value = m_vars[name];
      if (auto why = input_error(*type, value)) {
        add("Variable \"$" + name + "\" got invalid value " + printed(value) + "; " + *why,
            m_op.line, m_op.column);
      }
    }
  }

  // Why `value` does not fit input type `type` (nullopt when it fits).
  std::optional<std::string> input_error(const TypeRef& type, const json& value) const {
    if (value.is_null()) {
      if (type.non_null) return "Expected non-nullable type " + type.text() + " not to be null.";
      return std::nullopt;
    }
    if (type.is_list()) {
      if (!value.is_array()) return input_error(*type.of, value);  // input coercion of one item
      for (const auto& item : value) {
        if (auto why = input_error(*type.of, item)) return why;
      }
      return std::nullopt;
    }
    const TypeDef* def = m_schema.type(type.name);
    if (!def) return "Unknown type " + quoted(type.name) + ".";
    const std::string expected = "Expected type " + type.name + ".";
    switch (def->kind) {
      case TypeDef::Kind::enum_type:
        if (!value.is_string() || std::find(def->values.begin(), def->values.end(),
                                            value.get<std::string>()) == def->values.end()) {
          return expected;
        }
        return std::nullopt;
      case TypeDef::Kind::input:
        if (!value.is_object()) return expected;
        for (const auto& [k, v] : value.items()) {
          auto f = def->input_fields.find(k);
          if (f == def->input_fields.end()) {
            return "Field " + quoted(k) + " is not defined by type " + type.name + ".";
          }
          if (auto why = input_error(*f->second.type, v)) return why;
        }
        for (const auto& [k, f] : def->input_fields) {
          if (f.type->non_null && !f.has_default && !value.contains(k)) {
            return "Field " + type.name + "." + k + " of required type " + f.type->text() +
                   " was not provided.";
          }
        }
        return std::nullopt;
      case TypeDef::Kind::scalar:
        if (type.name == "Int" && !value.is_number_integer()) return expected;
        if (type.name == "Float" && !value.is_number()) return expected;
        if (type.name == "String" && !value.is_string()) return expected;
        if (type.name == "Boolean" && !value.is_boolean()) return expected;
        if (type.name == "ID" && !value.is_string() && !value.is_number_integer()) return expected;
        return std::nullopt;
      default:
        return expected;
    }
  }

  // Why the literal `v` (as written in the document) does not fit `type`.
  std::optional<std::string> literal_error(const TypeRef& type, const ValuePtr& v) const {
    if (!v) return std::nullopt;
    if (v->kind == Value::Kind::variable) {
      if (std::find(m_op.variables.begin(), m_op.variables.end(), v->name) ==
          m_op.variables.end()) {
        return "Variable \"$" + v->name + "\" is not defined" +
               (m_op.name.empty() ? std::string(".") : " by operation " + quoted(m_op.name) + ".");
      }
      return std::nullopt;
    }
    if (v->kind == Value::Kind::literal && v->literal.is_null()) {
      if (type.non_null) return "Expected type " + type.text() + ", found null.";
      return std::nullopt;
    }
    if (type.is_list()) {
      if (v->kind != Value::Kind::list) return literal_error(*type.of, v);
      for (const auto& item : v->items) {
        if (auto why = literal_error(*type.of, item)) return why;
      }
      return std::nullopt;
    }
    const TypeDef* def = m_schema.type(type.name);
    if (!def) return std::nullopt;
    const std::string found = v->kind == Value::Kind::enum_value ? v->name
                              : v->kind == Value::Kind::literal  ? printed(v->literal)
                              : v->kind == Value::Kind::list     ? std::string("[...]")
                                                                 : std::string("{...}");
    const std::string expected = "Expected type " + type.name + ", found " + found + ".";
    switch (def->kind) {
      case TypeDef::Kind::enum_type:
        if (v->kind != Value::Kind::enum_value ||
            std::find(def->values.begin(), def->values.end(), v->name) == def->values.end()) {
          return expected;
        }
        return std::nullopt;
      case TypeDef::Kind::input:
        if (v->kind != Value::Kind::object) return expected;
        for (const auto& [k, item] : v->fields) {
          auto f = def->input_fields.find(k);
          if (f == def->input_fields.end()) {
            return "Field " + quoted(k) + " is not defined by type " + type.name + ".";
          }
          if (auto why = literal_error(*f->second.type, item)) return why;
        }
        return std::nullopt;
      case TypeDef::Kind::scalar: {
        if (v->kind != Value::Kind::literal) return expected;
        const json& lit = v->literal;
        if (type.name == "Int" && !lit.is_number_integer()) return expected;
        if (type.name == "Float" && !lit.is_number()) return expected;
        if (type.name == "String" && !lit.is_string()) return expected;
        if (type.name == "Boolean" && !lit.is_boolean()) return expected;
        return std::nullopt;
      }
      default:
        return expected;
    }
  }

  void arguments(const Field& f, const FieldDef& def, const std::string& parent) {
    for (const auto& [name, value] : f.args) {
      auto it = def.args.find(name);
      if (it == def.args.end()) {
        add("Unknown argument " + quoted(name) + " on field " + quoted(f.name) + " of type " +
                quoted(parent) + ".",
            f.line, f.column);
        continue;
      }
      if (auto why = literal_error(*it->second.type, value)) add(*why, f.line, f.column);
    }
    for (const auto& [name, arg] : def.args) {
      if (arg.type->non_null && !arg.has_default && !f.args.count(name)) {
        add("Field " + quoted(f.name) + " argument " + quoted(name) + " of type " +
                quoted(arg.type->text()) + " is required but not provided.",
            f.line, f.column);
      }
    }
  }

  void field(const Field& f, const std::string& parent, int depth) {
    if (f.name == "__typename") {
      if (f.has_selection_set) {
        add("Field \"__typename\" must not have a selection since type \"String!\" has no "
            "subfields.",
            f.line, f.column);
      }
      return;
    }
    const FieldDef* def = m_schema.field(parent, f.name);
    if (!def) {
      add("Cannot query field " + quoted(f.name) + " on type " + quoted(parent) + ".", f.line,
          f.column);
      return;
    }
    arguments(f, *def, parent);
    const std::string& named = def->type->named();
    if (m_schema.is_leaf(named)) {
      if (f.has_selection_set) {
        add("Field " + quoted(f.name) + " must not have a selection since type " +
                quoted(def->type->text()) + " has no subfields.",
            f.line, f.column);
      }
      return;
    }
    if (!f.has_selection_set) {
      add("Field " + quoted(f.name) + " of type " + quoted(def->type->text()) +
              " must have a sub selection.",
          f.line, f.column);
      return;
    }
    selections(f.selections, named, depth + 1);
  }

  void selections(const std::vector<Selection>& sels, const std::string& type, int depth) {
    if (depth > 32) return;
    for (const auto& s : sels) {
      switch (s.kind) {
        case Selection::Kind::field:
          field(s.field, type, depth);
          break;
        case Selection::Kind::inline_fragment: {
          const std::string cond = s.type_condition.empty() ? type : s.type_condition;
          if (!m_schema.type(cond)) {
            add("Unknown type " + quoted(cond) + ".", 0, 0);
            break;
          }
          selections(s.selections, cond, depth + 1);
          break;
        }
        case Selection::Kind::fragment_spread: {
          auto it = m_doc.fragments.find(s.fragment);
          if (it == m_doc.fragments.end()) {
            add("Unknown fragment " + quoted(s.fragment) + ".", 0, 0);
            break;
          }
          if (!m_schema.type(it->second.type_condition)) {
            add("Unknown type " + quoted(it->second.type_condition) + ".", 0, 0);
            break;
          }
          selections(it->second.selections, it->second.type_condition, depth + 1);
          break;
        }
      }
    }
  }

  const Schema& m_schema;
  const Document& m_doc;
  const Operation& m_op;
  json m_vars;
  std::vector<ValidationError> m_errors;
};

}  // namespace

std::string TypeRef::text() const {
  std::string out = of ? "[" + of->text() + "]" : name;
  return non_null ? out + "!" : out;
}

const TypeDef* Schema::type(const std::string& name) const {
  auto it = types.find(name);
  return it == types.end() ? nullptr : &it->second;
}

const FieldDef* Schema::field(const std::string& type_name, const std::string& name) const {
  const TypeDef* t = type(type_name);
  if (!t) return nullptr;
  auto it = t->fields.find(name);
  return it == t->fields.end() ? nullptr : &it->second;
}

bool Schema::is_leaf(const std::string& name) const {
  const TypeDef* t = type(name);
  return t && (t->kind == TypeDef::Kind::scalar || t->kind == TypeDef::Kind::enum_type);
}

bool Schema::is_input(const std::string& name) const {
  const TypeDef* t = type(name);
  return t && (t->kind == TypeDef::Kind::scalar || t->kind == TypeDef::Kind::enum_type ||
               t->kind == TypeDef::Kind::input);
}

bool Schema::can_be(const std::string& abstract, const std::string& concrete) const {
  if (abstract == concrete) return true;
  const TypeDef* a = type(abstract);
  const TypeDef* c = type(concrete);
  if (!a || !c) return false;
  if (a->kind == TypeDef::Kind::union_type) {
    return std::find(a->members.begin(), a->members.end(), concrete) != a->members.end();
  }
  return std::find(c->interfaces.begin(), c->interfaces.end(), abstract) != c->interfaces.end();
}

std::vector<ValidationError> validate(const Schema& schema, const Document& doc,
                                      const Operation& op, const json& variables) {
  return Validator(schema, doc, op, variables).run();
}

json unmodelled_value(const Schema& schema, const TypeRef& type) {
  if (type.is_list()) return json::array();
  const TypeDef* def = schema.type(type.name);
  if (!def) return nullptr;
  switch (def->kind) {
    case TypeDef::Kind::object:
      return json::object();
    case TypeDef::Kind::enum_type:
      return type.non_null && !def->values.empty() ? json(def->values.front()) : json(nullptr);
    case TypeDef::Kind::scalar:
      if (type.name == "Boolean") return false;
      if (!type.non_null) return nullptr;
      if (type.name == "Int") return 0;
      if (type.name == "Float") return 0.0;
      if (type.name == "String" || type.name == "ID") return "";
      return nullptr;
    default:
      return nullptr;  // interfaces and unions need a concrete type the fake does not have
  }
}

}  // namespace cw::fakes::graphql
