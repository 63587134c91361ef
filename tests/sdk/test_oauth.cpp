// cwsdk/support/oauth.hpp: the login state machine (interval, slow_down, expiry, denial,
// storing the token) and refresh on 401 (one refresh, one retry, the rotated token stored).
#include <string>

#include <gtest/gtest.h>

#include <cwsdk/support/oauth.hpp>
#include <cwsdk/testing/mock_host.hpp>

namespace {

using cwsdk::Json;
using cwsdk::PollResult;
using cwsdk::Result;
using cwsdk::testing::MockHost;

TEST(Token, FromAServiceReplyAndBack) {
  const Json reply = Json::parse(R"({"access_token":"a1","token_type":"bearer","expires_in":7776000,
      "refresh_token":"r1","scope":"public","created_at":1704164645})");
  auto t = cwsdk::Token::from_reply(reply, 0);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->access_token, "a1");
  EXPECT_EQ(t->token_type, "Bearer");
  EXPECT_EQ(t->expires_at_ms, (1704164645LL + 7776000LL) * 1000);
  auto again = cwsdk::Token::from_reply(t->to_json(), 0);
  ASSERT_TRUE(again);
  EXPECT_EQ(again->to_json(), t->to_json());
  auto no_created =
      cwsdk::Token::from_reply(Json::parse(R"({"access_token":"a","expires_in":60})"), 1000);
  EXPECT_EQ(no_created->expires_at_ms, 61000);
  EXPECT_FALSE(no_created->refresh_token.size());
  for (const char* bad : {R"({})", R"({"access_token":""})", R"({"access_token":5})", R"([])"}) {
    auto r = cwsdk::Token::from_reply(Json::parse(bad), 0);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().status, CW_STATUS_AUTH);
  }
}

TEST(Token, LoadAndStoreThroughTheHostsSecrets) {
  MockHost mock;
  auto none = cwsdk::load_token(mock.host(), "token");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().status, CW_STATUS_AUTH);
  EXPECT_NE(none.error().message.find("cw auth login"), std::string::npos);
  mock.set_secret("token", "not json");
  EXPECT_EQ(cwsdk::load_token(mock.host(), "token").error().status, CW_STATUS_AUTH);
  cwsdk::Token t;
  t.access_token = "a";
  ASSERT_TRUE(cwsdk::store_token(mock.host(), "token", t));
  EXPECT_EQ(cwsdk::load_token(mock.host(), "token")->access_token, "a");
}

class Login : public ::testing::Test {
 protected:
  MockHost mock;
  cwsdk::DeviceFlow flow{mock.host(), "token"};
  int polls = 0;

  cwsdk::DeviceCode code() {
    cwsdk::DeviceCode c;
    c.device_code = "dev-1";
    c.user_code = "ABCD-1234";
    c.verification_url = "https://trakt.tv/activate";
    c.interval_ms = 5000;
    c.expires_in_ms = 600000;
    return c;
  }
  Json poll(const std::function<Result<PollResult>()>& answer) {
    const cwsdk::Reply r = flow.poll([&](const cwsdk::DeviceCode& c) -> Result<PollResult> {
      EXPECT_EQ(c.device_code, "dev-1");
      ++polls;
      return answer();
    });
    Json doc = Json::parse(r.body);
    doc["_status"] = r.status;
    return doc;
  }
};

TEST_F(Login, StartAnswersWhatTheUserNeeds) {
  const cwsdk::Reply r = flow.started(code());
  ASSERT_EQ(r.status, CW_STATUS_OK);
  EXPECT_EQ(Json::parse(r.body), Json::parse(R"({"kind":"device_code","user_code":"ABCD-1234",
      "verification_url":"https://trakt.tv/activate","interval_ms":5000,"expires_in_ms":600000,
      "message":"Open https://trakt.tv/activate and enter the code ABCD-1234"})"));
  EXPECT_TRUE(flow.active());
  cwsdk::DeviceFlow pin(mock.host(), "token", cwsdk::AuthKind::pin);
  EXPECT_EQ(Json::parse(pin.started(code()).body)["kind"], "pin");
  cwsdk::DeviceCode empty;
  EXPECT_EQ(flow.started(empty).status, CW_STATUS_INTERNAL);
}

TEST_F(Login, PollsNoSoonerThanTheIntervalAndSlowsDownWhenAsked) {
  flow.started(code());
  EXPECT_EQ(poll([] { return PollResult::pending(); })["state"], "pending");
  EXPECT_EQ(polls, 1);
  mock.advance_ms(1000);
  EXPECT_EQ(poll([] { return PollResult::pending(); })["state"], "pending");
  EXPECT_EQ(polls, 1);  // too soon: answered without asking the service
  mock.advance_ms(4000);
  const Json slow = poll([] { return PollResult::slow_down(); });
  EXPECT_EQ(slow["state"], "pending");
  EXPECT_EQ(flow.interval_ms(), 10000);
  mock.advance_ms(5000);
  poll([] { return PollResult::pending(); });
  EXPECT_EQ(polls, 2);  // 5 s is now too soon
  mock.advance_ms(5000);
  poll([] { return cwsdk::Failure::of(CW_STATUS_RATE_LIMITED, "HTTP 429"); });
  EXPECT_EQ(polls, 3);
  EXPECT_EQ(flow.interval_ms(), 15000);
  mock.advance_ms(15000);
  const Json flaky = poll([] { return cwsdk::Failure::of(CW_STATUS_TRANSIENT, "HTTP 503"); });
  EXPECT_EQ(flaky["state"], "pending");
  EXPECT_TRUE(flow.active());
}

TEST_F(Login, DoneStoresTheToken) {
  flow.started(code());
  const Json done = poll([] {
    cwsdk::Token t;
    t.access_token = "acc";
    t.refresh_token = "ref";
    return PollResult::done(t);
  });
  EXPECT_EQ(done["state"], "done");
  EXPECT_FALSE(flow.active());
  const auto stored = mock.secret("token");
  ASSERT_TRUE(stored);
  EXPECT_EQ(Json::parse(*stored)["refresh_token"], "ref");
}

TEST_F(Login, DeniedExpiredAndHardFailuresEndTheFlow) {
  flow.started(code());
  EXPECT_EQ(poll([] { return PollResult::denied("the user said no"); })["state"], "denied");
  EXPECT_FALSE(flow.active());
  flow.started(code());
  mock.advance_ms(600000);
  const Json expired = poll([] { return PollResult::pending(); });
  EXPECT_EQ(expired["state"], "expired");
  EXPECT_EQ(polls, 1);  // no request once the code is past its life
  flow.started(code());
  const Json hard = poll([] { return cwsdk::Failure::of(CW_STATUS_AUTH, "invalid client"); });
  EXPECT_EQ(hard["_status"], CW_STATUS_AUTH);
  EXPECT_FALSE(flow.active());
  const Json none = poll([] { return PollResult::pending(); });
  EXPECT_EQ(none["_status"], CW_STATUS_INVALID_ARG);
  EXPECT_EQ(none["message"], "auth_poll: no login in progress; call auth_start first");
}

class Session : public ::testing::Test {
 protected:
  MockHost mock;
  cwsdk::http::Client api{mock.host(), "https://api.example"};
  int refreshes = 0;
  bool refuse = false;
  cwsdk::OAuthSession session{
      mock.host(), [this](const cwsdk::Token& current) -> Result<cwsdk::Token> {
        ++refreshes;
        EXPECT_EQ(current.refresh_token, "r1");
        if (refuse) return cwsdk::Failure::of(CW_STATUS_INTERNAL, "HTTP 400 invalid_grant");
        cwsdk::Token t;
        t.access_token = "a2";  // no refresh_token: the old one stays
        t.expires_at_ms = mock.now_ms() + 3600000;
        return t;
      }};
  void SetUp() override {
    mock.set_secret("token", R"({"access_token":"a1","refresh_token":"r1"})");
    api.authenticator(&session);
  }
};

TEST_F(Session, SendsTheBearerToken) {
  mock.on("GET", "/me").reply_json(200, {{"ok", true}});
  ASSERT_TRUE(api.json(cwsdk::http::Request::get("/me")));
  EXPECT_EQ(mock.requests()[0].header("authorization"), "Bearer a1");
  EXPECT_EQ(refreshes, 0);
}

TEST_F(Session, A401RefreshesStoresTheRotatedTokenAndRetriesOnce) {
  mock.on("GET", "/me")
      .when([](const auto& r) { return r.header("authorization") == "Bearer a1"; })
      .reply(401);
  mock.on("GET", "/me").reply_json(200, {{"ok", true}});
  ASSERT_TRUE(api.json(cwsdk::http::Request::get("/me")));
  EXPECT_EQ(refreshes, 1);
  const Json stored = Json::parse(*mock.secret("token"));
  EXPECT_EQ(stored["access_token"], "a2");
  EXPECT_EQ(stored["refresh_token"], "r1");
  EXPECT_EQ(mock.requests().back().header("authorization"), "Bearer a2");
}

TEST_F(Session, ARefusedRefreshIsAuth) {
  refuse = true;
  mock.on("GET", "/me").reply(401);
  auto r = api.json(cwsdk::http::Request::get("/me"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().status, CW_STATUS_AUTH);
  EXPECT_NE(r.error().message.find("token refresh: HTTP 400 invalid_grant"), std::string::npos);
  EXPECT_NE(r.error().message.find("cw auth login"), std::string::npos);
  EXPECT_EQ(refreshes, 1);
  EXPECT_EQ(Json::parse(*mock.secret("token"))["access_token"], "a1");  // nothing stored
}

TEST_F(Session, AnExpiredTokenIsRefreshedBeforeTheRequest) {
  mock.set_secret("token",
                  R"({"access_token":"a1","refresh_token":"r1","expires_at_ms":1767225630000})");
  mock.on("GET", "/me").reply_json(200, {{"ok", true}});
  ASSERT_TRUE(api.json(cwsdk::http::Request::get("/me")));  // 30 s left: inside the 60 s margin
  EXPECT_EQ(refreshes, 1);
  EXPECT_EQ(mock.requests()[0].header("authorization"), "Bearer a2");
}

TEST_F(Session, NoTokenOrNoRefreshTokenIsAuth) {
  mock.on("GET", "/me").reply(401);
  MockHost empty;
  cwsdk::OAuthSession lonely(empty.host(), nullptr);
  cwsdk::http::Request r = cwsdk::http::Request::get("/me");
  const cwsdk::Status st = lonely.authorize(r);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().status, CW_STATUS_AUTH);
  empty.set_secret("token", R"({"access_token":"a1"})");
  cwsdk::OAuthSession no_refresh(empty.host(), nullptr);
  const cwsdk::Status refreshed = no_refresh.refresh();
  ASSERT_FALSE(refreshed);
  EXPECT_EQ(refreshed.error().status, CW_STATUS_AUTH);
}

}  // namespace
