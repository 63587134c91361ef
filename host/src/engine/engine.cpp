// Placeholder translation unit so that cw_engine has a source before the engine lands.
namespace cw::engine {}
