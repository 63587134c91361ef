// A small GraphQL document parser for the fake AniList: operations with variable definitions
// and defaults, fields with aliases and arguments, fragments (named and inline) and the
// @include/@skip directives. Enough to serve any query a list-sync client sends; type checking
// is the fake's job, by field name.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace cw::fakes::graphql {

struct Value;
using ValuePtr = std::shared_ptr<Value>;

// An argument value as written: a literal, a $variable, a list or an object.
struct Value {
  enum class Kind { literal, variable, enum_value, list, object };
  Kind kind = Kind::literal;
  nlohmann::json literal;                  // literal
  std::string name;                        // variable name or enum value
  std::vector<ValuePtr> items;             // list
  std::map<std::string, ValuePtr> fields;  // object
};

struct Selection;

struct Field {
  std::string alias;  // empty when not aliased
  std::string name;
  std::map<std::string, ValuePtr> args;
  std::vector<Selection> selections;
  bool has_selection_set = false;
  int line = 0;
  int column = 0;
  const std::string& key() const { return alias.empty() ? name : alias; }
};

struct Selection {
  enum class Kind { field, fragment_spread, inline_fragment };
  Kind kind = Kind::field;
  Field field;                        // field
  std::string fragment;               // fragment spread name
  std::string type_condition;         // inline fragment (may be empty)
  std::vector<Selection> selections;  // inline fragment
  std::map<std::string, std::map<std::string, ValuePtr>> directives;
};

struct Operation {
  std::string type = "query";  // query, mutation, subscription
  std::string name;
  std::map<std::string, nlohmann::json> variable_defaults;  // only variables with defaults
  std::vector<std::string> variables;
  std::map<std::string, std::string> variable_types;  // as written: "[MediaListStatus]!"
  std::vector<Selection> selections;
  int line = 1;
  int column = 1;
};

struct Fragment {
  std::string type_condition;
  std::vector<Selection> selections;
};

struct Document {
  std::vector<Operation> operations;
  std::map<std::string, Fragment> fragments;
};

struct ParseError {
  std::string message;
  int line = 0;
  int column = 0;
};

// Parses `text`; on failure returns the error with the position of the offending token.
std::optional<Document> parse(const std::string& text, ParseError& error);

// Resolves a value against the request variables: a variable that was not supplied and has no
// default resolves to nullopt (the argument counts as absent, as GraphQL specifies).
std::optional<nlohmann::json> resolve_value(const ValuePtr& value, const nlohmann::json& variables,
                                            const Operation& op);

// Fields of a selection set after spreading fragments and applying @include/@skip, in order.
// Fragments whose type condition differs from `type` are skipped (empty type: keep all).
std::vector<const Field*> collect_fields(const std::vector<Selection>& selections,
                                         const Document& doc, const nlohmann::json& variables,
                                         const Operation& op, const std::string& type = "");

}  // namespace cw::fakes::graphql
