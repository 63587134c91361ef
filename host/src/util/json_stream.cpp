#include <vector>

#include <cw/util/json_stream.hpp>

namespace cw::util {
namespace {

using nlohmann::json;

// Builds JSON values from SAX events, like nlohmann's own DOM parser, except that the
// elements of the streamed member are built one at a time into `m_element` and handed on.
class StreamingBuilder final : public nlohmann::json_sax<json> {
 public:
  StreamingBuilder(std::string_view member, const std::function<Status(json&&)>& each)
      : m_member(member), m_each(each) {}

  bool null() override { return value(json(nullptr)); }
  bool boolean(bool v) override { return value(json(v)); }
  bool number_integer(number_integer_t v) override { return value(json(v)); }
  bool number_unsigned(number_unsigned_t v) override { return value(json(v)); }
  bool number_float(number_float_t v, const string_t&) override { return value(json(v)); }
  bool string(string_t& v) override { return value(json(std::move(v))); }
  bool binary(binary_t& v) override { return value(json::binary(v)); }

  bool start_object(std::size_t) override { return open(json::object()); }
  bool end_object() override { return close(); }
  bool start_array(std::size_t) override {
    // The streamed member: its elements are read by themselves from here on.
    if (m_stack.size() == 1 && m_key_is_member && m_root.is_object()) {
      if (m_streamed_once) {
        // Built whole, the last copy would win; streamed, both would count.
        m_error = "not one plain document: member '" + std::string(m_member) + "' appears twice";
        return false;
      }
      m_streamed_once = true;
      m_stack.push_back(m_slot);  // the (empty) array in the result
      *m_slot = json::array();
      m_streaming_depth = m_stack.size();
      return true;
    }
    return open(json::array());
  }
  bool end_array() override {
    if (m_streaming_depth != 0 && m_stack.size() == m_streaming_depth) {
      m_streaming_depth = 0;
      m_stack.pop_back();
      return true;
    }
    return close();
  }
  bool key(string_t& k) override {
    json& obj = *m_stack.back();
    m_key_is_member = m_stack.size() == 1 && k == m_member;
    m_slot = &obj[k];
    return true;
  }

  bool parse_error(std::size_t position, const std::string&,
                   const nlohmann::detail::exception& e) override {
    std::string what = e.what();  // "[json.exception.parse_error.101] parse error at ..."
    if (const auto end = what.find("] "); what.rfind('[', 0) == 0 && end != std::string::npos)
      what.erase(0, end + 2);
    m_error = "not valid JSON at offset " + std::to_string(position) + " (" + what + ")";
    return false;
  }

  Result<StreamedDocument> finish(bool ok) {
    if (!m_error.empty()) return make_error(m_error, m_error_kind);
    if (!ok) return make_error("not valid JSON", ErrorKind::invalid_arg);
    return StreamedDocument{std::move(m_root), m_streamed};
  }

 private:
  bool in_stream() const { return m_streaming_depth != 0 && m_stack.size() >= m_streaming_depth; }

  // Where a new value goes: the root, the element being streamed, the next slot of an
  // array, or the object member named by the last key.
  json* place(json&& v) {
    if (m_stack.empty()) {
      m_root = std::move(v);
      return &m_root;
    }
    if (in_stream() && m_stack.size() == m_streaming_depth) {
      m_element = std::move(v);
      return &m_element;
    }
    json& parent = *m_stack.back();
    if (parent.is_array()) {
      parent.push_back(std::move(v));
      return &parent.back();
    }
    *m_slot = std::move(v);
    return m_slot;
  }

  bool value(json&& v) {
    const bool element = in_stream() && m_stack.size() == m_streaming_depth;
    place(std::move(v));
    return element ? hand_on() : true;
  }
  bool open(json&& v) {
    m_stack.push_back(place(std::move(v)));
    return true;
  }
  bool close() {
    m_stack.pop_back();
    if (in_stream() && m_stack.size() == m_streaming_depth) return hand_on();
    return true;
  }
  bool hand_on() {
    ++m_streamed;
    if (auto st = m_each(std::move(m_element)); !st) {
      m_error = st.error().message;
      m_error_kind = st.error().kind;
      return false;
    }
    m_element = json();
    return true;
  }

  std::string_view m_member;
  const std::function<Status(json&&)>& m_each;
  json m_root;
  json m_element;
  std::vector<json*> m_stack;
  json* m_slot = nullptr;
  bool m_key_is_member = false;
  bool m_streamed_once = false;
  std::size_t m_streaming_depth = 0;  // stack depth inside the streamed array; 0: none
  std::size_t m_streamed = 0;
  std::string m_error;
  ErrorKind m_error_kind = ErrorKind::invalid_arg;
};

}  // namespace

Result<StreamedDocument> parse_streaming_member(std::string_view text, std::string_view member,
                                                const std::function<Status(json&&)>& each) {
  StreamingBuilder builder(member, each);
  const bool ok = json::sax_parse(text.begin(), text.end(), &builder);
  return builder.finish(ok);
}

}  // namespace cw::util
