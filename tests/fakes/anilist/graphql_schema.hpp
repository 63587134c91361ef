// A GraphQL schema read from SDL (the AniList fake loads AniList's published schema) and the
// validation the real service runs before it executes a document: known fields, arguments and
// types, enum values, leaf/composite selections, variables. Messages follow graphql-php, the
// library AniList's server is built on.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "anilist/graphql_doc.hpp"

namespace cw::fakes::graphql {

struct TypeRef;
using TypeRefPtr = std::shared_ptr<const TypeRef>;

// A type reference: a named type, or a list of one (`of`), either possibly non-null.
struct TypeRef {
  std::string name;  // empty for lists
  TypeRefPtr of;     // list element
  bool non_null = false;
  bool is_list() const { return of != nullptr; }
  const std::string& named() const { return of ? of->named() : name; }
  std::string text() const;  // "[MediaList]!"
};

// Parses "[Int!]!"-style text (variable definitions); nullptr when malformed.
TypeRefPtr parse_type_ref(const std::string& text);

struct InputValueDef {
  TypeRefPtr type;
  bool has_default = false;
};

struct FieldDef {
  TypeRefPtr type;
  std::map<std::string, InputValueDef> args;
};

struct TypeDef {
  enum class Kind { scalar, object, interface, union_type, enum_type, input };
  Kind kind = Kind::scalar;
  std::string name;
  std::map<std::string, FieldDef> fields;             // object, interface
  std::map<std::string, InputValueDef> input_fields;  // input
  std::vector<std::string> values;                    // enum, in declaration order
  std::vector<std::string> members;                   // union
  std::vector<std::string> interfaces;                // object, interface
};

class Schema {
 public:
  std::map<std::string, TypeDef> types;
  std::string query_type = "Query";
  std::string mutation_type = "Mutation";

  const TypeDef* type(const std::string& name) const;
  const FieldDef* field(const std::string& type, const std::string& name) const;
  bool is_leaf(const std::string& type) const;   // scalar or enum
  bool is_input(const std::string& type) const;  // scalar, enum or input
  // True when an object of type `concrete` can appear where `abstract` is expected.
  bool can_be(const std::string& abstract, const std::string& concrete) const;
};

// Parses SDL text (type, interface, union, enum, input, scalar, schema and directive
// definitions, descriptions); the built-in scalars are always present.
std::optional<Schema> parse_schema(const std::string& sdl, ParseError& error);

struct ValidationError {
  std::string message;
  int line = 0;
  int column = 0;
};

// Validates operation `op` of `doc` and the request's variables against `schema`.
std::vector<ValidationError> validate(const Schema& schema, const Document& doc,
                                      const Operation& op, const nlohmann::json& variables);

// The SDL compiled into the sandbox: fixtures/anilist/schema.graphql (AniList's schema, MIT).
const std::string& anilist_schema_sdl();

// The value a resolver answers for a field it does not model: [] for lists, an object for
// object types (to be filled by the selection), false for Boolean, the zero value of a non-null
// scalar, the first value of a non-null enum, and null for what may be null.
nlohmann::json unmodelled_value(const Schema& schema, const TypeRef& type);

}  // namespace cw::fakes::graphql
