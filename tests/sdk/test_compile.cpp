#include <gtest/gtest.h>

#include <cwsdk/support/all.hpp>
#include <cwsdk/testing/mock_host.hpp>

TEST(Compile, Nothing) { SUCCEED(); }
