// Adoption (issue 16): the generic image's enrollment state machine.
#include <cstring>
#include <string>

#include "enrollment.h"
#include "fakes.h"
#include "mini_test.h"

namespace {

struct Led : dc::StatusLed {
  std::vector<bool> writes;
  void set(bool on) override { writes.push_back(on); }
};

struct Nvs : dc::CredentialStore {
  bool ok = true;
  bool saved = false;
  dc::BayCredentials stored{};
  bool load(dc::BayCredentials& out) override {
    if (!saved) return false;
    out = stored;
    return true;
  }
  bool save(const dc::BayCredentials& c) override {
    if (!ok) return false;
    stored = c;
    saved = true;
    return true;
  }
};

struct EnrollWorld {
  fake::Clock clock;
  fake::Mqtt mqtt;
  fake::Net net;
  fake::Random random;
  fake::Log log;
  Led led;
  Nvs nvs;
  dc::EnrollConfig config() {
    dc::EnrollConfig c;
    c.mac = "a4cf12b3c4d5";
    c.firmware = "1.0.0";
    c.secret = "shared-secret";
    return c;
  }
  dc::Enroller enroller{config(), dc::EnrollPorts{clock, mqtt, net, random, led, nvs, &log}};
  void send(const char* json) { enroller.onMessage("external/enroll/a4cf12b3c4d5", json, std::strlen(json)); }
};

}  // namespace

TEST(enroll_mac_spelling) {
  CHECK(dc::isMac("a4cf12b3c4d5"));
  CHECK(!dc::isMac("A4CF12B3C4D5"));
  CHECK(!dc::isMac("a4cf12b3c4d"));
  CHECK(!dc::isMac("a4:cf:12:b3:c4:d5"));
  char out[13];
  CHECK(dc::normalizeMac("A4:CF:12:B3:C4:D5", out));
  CHECK_EQ(std::string(out), std::string("a4cf12b3c4d5"));
  CHECK(!dc::normalizeMac("A4:CF:12:B3:C4", out));
  CHECK(!dc::normalizeMac("A4:CF:12:B3:C4:D5:00", out));
  CHECK(!dc::normalizeMac("g4cf12b3c4d5", out));
}

TEST(enroll_logs_in_with_the_shared_login_and_announces_itself) {
  EnrollWorld w;
  w.enroller.begin();
  w.enroller.tick();
  CHECK_EQ(w.mqtt.connects.size(), 1u);
  CHECK_EQ(std::string(w.mqtt.connects[0].client_id), std::string("enroll_a4cf12b3c4d5"));
  CHECK_EQ(std::string(w.mqtt.connects[0].username), std::string("enroll"));
  CHECK(w.mqtt.connects[0].clean_session);
  CHECK_EQ(w.mqtt.subscribed.size(), 1u);
  CHECK_EQ(w.mqtt.subscribed[0], std::string("external/enroll/a4cf12b3c4d5"));
  CHECK_EQ(w.mqtt.published.size(), 1u);
  CHECK_EQ(w.mqtt.published[0].topic, std::string("external/enroll/a4cf12b3c4d5"));
  CHECK(w.mqtt.published[0].payload.find("\"mac\":\"a4cf12b3c4d5\"") != std::string::npos);
  CHECK(w.mqtt.published[0].payload.find("\"firmware\":\"1.0.0\"") != std::string::npos);
  CHECK(w.mqtt.published[0].payload.find("\"rssi\":-61") != std::string::npos);
  w.clock.ms += 5000;
  w.enroller.tick();
  CHECK_EQ(w.mqtt.published.size(), 2u);  // again every announce_ms
}

TEST(enroll_refused_while_the_window_is_shut_retries_with_backoff) {
  EnrollWorld w;
  w.mqtt.result = dc::ConnectResult::Failed;
  w.enroller.begin();
  w.enroller.tick();
  CHECK_EQ(w.mqtt.connects.size(), 1u);
  w.clock.ms += 100;
  w.enroller.tick();
  CHECK_EQ(w.mqtt.connects.size(), 1u);  // waits for the backoff
  w.clock.ms += 1000;
  w.enroller.tick();
  CHECK_EQ(w.mqtt.connects.size(), 2u);
  CHECK(!w.log.last("enroll_refused").empty());
}

TEST(enroll_identify_blinks_the_led_then_stops) {
  EnrollWorld w;
  w.enroller.begin();
  w.enroller.tick();
  w.send("{\"command\":\"identify\",\"seconds\":2}");
  CHECK(w.enroller.identifying());
  for (int i = 0; i < 10; ++i) {
    w.clock.ms += 250;
    w.enroller.tick();
  }
  CHECK(!w.enroller.identifying());
  CHECK(w.led.writes.size() >= 8);
  CHECK(!w.led.writes.back());  // off at the end
}

TEST(enroll_assign_stores_the_bay_and_refuses_bad_ones) {
  EnrollWorld w;
  w.enroller.begin();
  w.enroller.tick();
  w.send("{\"mac\":\"a4cf12b3c4d5\",\"firmware\":\"1.0.0\"}");  // its own announcement, echoed
  CHECK(!w.enroller.adopted());
  w.send("{\"command\":\"assign\",\"machine_id\":12,\"username\":\"machine_013\",\"secret\":\"s\"}");
  CHECK(!w.enroller.adopted());
  CHECK(w.log.last("enroll_invalid").find("username") != std::string::npos);
  w.send("{\"command\":\"assign\",\"machine_id\":0,\"username\":\"machine_000\",\"secret\":\"s\"}");
  CHECK(!w.enroller.adopted());
  w.send("{\"command\":\"assign\",\"machine_id\":12,\"username\":\"machine_012\",\"secret\":\"\"}");
  CHECK(!w.enroller.adopted());
  w.nvs.ok = false;
  w.send("{\"command\":\"assign\",\"machine_id\":12,\"username\":\"machine_012\",\"secret\":\"abc\"}");
  CHECK(!w.enroller.adopted());  // NVS failed: stay unadopted rather than lose the secret at reboot
  w.nvs.ok = true;
  w.send("{\"command\":\"assign\",\"machine_id\":12,\"username\":\"machine_012\",\"secret\":\"abc\"}");
  CHECK(w.enroller.adopted());
  CHECK_EQ(w.nvs.stored.machine_id, 12);
  CHECK_EQ(std::string(w.nvs.stored.username), std::string("machine_012"));
  CHECK_EQ(std::string(w.nvs.stored.secret), std::string("abc"));
  size_t published = w.mqtt.published.size();
  w.clock.ms += 60000;
  w.enroller.tick();
  CHECK_EQ(w.mqtt.published.size(), published);  // adopted: no more announcements
}
