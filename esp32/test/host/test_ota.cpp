// Over-the-air updates (issue 16): SHA-256, the update command, the streaming check, the boot check.
#include <cstring>
#include <string>

#include "dispenser.h"
#include "fakes.h"
#include "mini_test.h"
#include "ota.h"
#include "sha256.h"

namespace {
std::string hexOf(const std::string& data) {
  dc::Sha256 h;
  h.update(reinterpret_cast<const uint8_t*>(data.data()), data.size());
  char out[65];
  h.finishHex(out);
  return out;
}
dc::UpdateCommand command(const std::string& image) {
  dc::UpdateCommand c{};
  std::snprintf(c.version, sizeof c.version, "1.1.0");
  std::snprintf(c.url, sizeof c.url, "http://192.168.4.1:8080/fw/x");
  std::snprintf(c.sha256, sizeof c.sha256, "%s", hexOf(image).c_str());
  c.size = static_cast<uint32_t>(image.size());
  return c;
}
}  // namespace

TEST(ota_sha256_known_answers) {
  CHECK_EQ(hexOf(""), std::string("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
  CHECK_EQ(hexOf("abc"), std::string("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
  CHECK_EQ(hexOf("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"), std::string("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"));
  std::string million(1000000, 'a');
  CHECK_EQ(hexOf(million), std::string("cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"));
}

TEST(ota_verifier_accepts_the_image_and_refuses_others) {
  std::string image(10000, 'x');
  dc::OtaVerifier ok(command(image));
  for (size_t i = 0; i < image.size(); i += 1000) CHECK(ok.feed(reinterpret_cast<const uint8_t*>(image.data()) + i, 1000));
  CHECK(ok.finish() == dc::VerifyResult::Ok);
  std::string corrupt = image;
  corrupt[5000] = 'y';
  dc::OtaVerifier bad(command(image));
  CHECK(bad.feed(reinterpret_cast<const uint8_t*>(corrupt.data()), corrupt.size()));
  CHECK(bad.finish() == dc::VerifyResult::HashMismatch);
  dc::OtaVerifier longer(command(image));
  CHECK(longer.feed(reinterpret_cast<const uint8_t*>(image.data()), image.size()));
  CHECK(!longer.feed(reinterpret_cast<const uint8_t*>("z"), 1));  // more than announced: stop writing
  CHECK(longer.finish() == dc::VerifyResult::TooBig);
  dc::OtaVerifier shorter(command(image));
  CHECK(shorter.feed(reinterpret_cast<const uint8_t*>(image.data()), 10));
  CHECK(shorter.finish() == dc::VerifyResult::SizeMismatch);
}

TEST(ota_boot_check_marks_valid_or_rolls_back) {
  dc::BootCheck normal(false, 0, 1000);
  CHECK(normal.decide(99999) == dc::BootDecision::Nothing);
  dc::BootCheck healthy(true, 0, 1000);
  CHECK(healthy.decide(10) == dc::BootDecision::Wait);
  healthy.onHealthy();
  CHECK(healthy.decide(20) == dc::BootDecision::MarkValid);
  CHECK(healthy.decide(5000) == dc::BootDecision::Nothing);  // once
  dc::BootCheck sick(true, 0, 1000);
  CHECK(sick.decide(999) == dc::BootDecision::Wait);
  CHECK(sick.decide(1000) == dc::BootDecision::RollBack);
}

namespace {
struct RecordingUpdater : dc::Updater {
  int requests = 0;
  dc::UpdateCommand last{};
  void request(const dc::UpdateCommand& c) override {
    ++requests;
    last = c;
  }
};
}  // namespace

TEST(ota_dispenser_takes_an_update_only_when_idle_and_well_formed) {
  fake::World w;
  RecordingUpdater updater;
  w.dispenser.setUpdater(&updater);
  w.start();
  std::string sha(64, 'a');
  std::string update = "{\"machine_id\":1,\"request_type\":\"update\",\"version\":\"1.1.0\",\"url\":\"http://192.168.4.1:8080/fw/ab\",\"sha256\":\"" + sha + "\",\"size\":1000}";
  w.send(update);
  CHECK_EQ(updater.requests, 1);
  CHECK_EQ(std::string(updater.last.version), std::string("1.1.0"));
  CHECK_EQ(updater.last.size, 1000u);
  CHECK(w.mqtt.published.back().payload.find("\"ota\":\"downloading\"") != std::string::npos);
  std::string https = "{\"machine_id\":1,\"request_type\":\"update\",\"version\":\"1.1.0\",\"url\":\"https://x/fw\",\"sha256\":\"" + sha + "\",\"size\":1000}";
  w.send(https);
  CHECK_EQ(updater.requests, 1);
  CHECK(w.mqtt.published.back().payload.find("url: must be an http") != std::string::npos);
  std::string huge = "{\"machine_id\":1,\"request_type\":\"update\",\"version\":\"1.1.0\",\"url\":\"http://x/fw\",\"sha256\":\"" + sha + "\",\"size\":99000000}";
  w.send(huge);
  CHECK_EQ(updater.requests, 1);
  CHECK(w.mqtt.published.back().payload.find("\"ota\":\"refused\"") != std::string::npos);
}
