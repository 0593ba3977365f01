// The dispenser core as a host program speaking MQTT through libmosquitto: the same
// decisions as the ESP32 (lib/dispenser_core), with a simulated relay and level sensor.
// Every event of the core is one JSON line on stdout; the output relay appears as
//   {"event":"output","machine_id":1,"mono_ms":...,"on":true,"reason":"control","session_id":7}
// As on the ESP32, a separate thread checks the fail-safe deadline (Dispenser::failsafePoll),
// so the output goes off on time even while the MQTT loop is blocked. Build with
// `make virtual MAX_ON_SECONDS=8` for a short device maximum.
// Usage: virtual_dispenser --id N [--host H] [--port P] [--username U] [--password S]
//                          [--keepalive S] [--level PCT] [--firmware V]
//    or: virtual_dispenser --mac M --enroll-secret S --nvs FILE [--host H] [--port P] ...
// The second form is the generic image (issue 16): with no bay in FILE (its NVS) it enrolls on
// external/enroll/{mac}, blinks a simulated status LED ({"event":"led"}) when identified, stores
// the bay the hub assigns in FILE and goes on as that machine, in the same process.
#include <arpa/inet.h>
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <mosquitto.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>
#include <functional>
#include <string>
#include <netdb.h>
#include <unistd.h>

#include "dispenser.h"
#include "enrollment.h"
#include "ota.h"

namespace {

volatile std::sig_atomic_t g_stop = 0;

struct Options {
  const char* host = "127.0.0.1";
  int port = 1883;
  int id = 0;
  const char* username = nullptr;
  const char* password = "";
  int keepalive = 10;
  float level = 80.0f;
  const char* firmware = "1.0.0-host";
  const char* mac = nullptr;
  const char* enroll_secret = "";
  const char* nvs = nullptr;
};

bool parseArgs(int argc, char** argv, Options& o) {
  for (int i = 1; i + 1 < argc; i += 2) {
    const char* k = argv[i];
    const char* v = argv[i + 1];
    if (std::strcmp(k, "--host") == 0) o.host = v;
    else if (std::strcmp(k, "--port") == 0) o.port = std::atoi(v);
    else if (std::strcmp(k, "--id") == 0) o.id = std::atoi(v);
    else if (std::strcmp(k, "--username") == 0) o.username = v;
    else if (std::strcmp(k, "--password") == 0) o.password = v;
    else if (std::strcmp(k, "--keepalive") == 0) o.keepalive = std::atoi(v);
    else if (std::strcmp(k, "--level") == 0) o.level = static_cast<float>(std::atof(v));
    else if (std::strcmp(k, "--firmware") == 0) o.firmware = v;
    else if (std::strcmp(k, "--mac") == 0) o.mac = v;
    else if (std::strcmp(k, "--enroll-secret") == 0) o.enroll_secret = v;
    else if (std::strcmp(k, "--nvs") == 0) o.nvs = v;
    else return false;
  }
  bool identity = (o.id >= 1 && o.id <= dc::kMaxMachineId) || (o.mac != nullptr && dc::isMac(o.mac) && o.nvs != nullptr);
  return argc % 2 == 1 && identity && o.port > 0 && o.keepalive > 0;
}

struct MonotonicClock : dc::Clock {
  uint64_t nowMs() override {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000u + static_cast<uint64_t>(ts.tv_nsec / 1000000);
  }
};

struct Relay : dc::OutputPin {
  std::atomic<bool> on{false};  // written by the loop and by the deadline thread
  void set(bool value) override { on = value; }  // the core logs each transition
};

struct FixedSensor : dc::LevelSensor {
  float percent = 80;
  bool readPercent(float& out) override {
    out = percent;
    return true;
  }
};

struct SystemRandom : dc::Random {
  std::mt19937 gen{std::random_device{}()};
  uint32_t next() override { return static_cast<uint32_t>(gen()); }
};

struct StdoutLog : dc::EventLog {
  std::mutex mutex;  // the loop and the deadline thread both log
  void line(const char* json) override {
    std::lock_guard<std::mutex> lock(mutex);
    std::fputs(json, stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
  }
};

// MqttPort over libmosquitto. A fresh handle per attempt: the core owns the retry policy.
class MosquittoPort : public dc::MqttPort, public dc::NetInfo {
 public:
  MosquittoPort(const Options& o) : o_(o) {}
  ~MosquittoPort() override { drop(); }
  // Where connection events and messages go: the Enroller first, then the Dispenser.
  struct Listener {
    virtual ~Listener() = default;
    virtual void connected() = 0;
    virtual void disconnected() = 0;
    virtual void message(const char* topic, const char* payload, size_t len) = 0;
  };
  void attach(Listener* l) { listener_ = l; }
  bool active() const { return mosq_ != nullptr; }

  dc::ConnectResult connect(const dc::ConnectOptions& c) override {
    drop();
    mosq_ = mosquitto_new(c.client_id, c.clean_session, this);
    if (mosq_ == nullptr) return dc::ConnectResult::Failed;
    mosquitto_connect_callback_set(mosq_, onConnect);
    mosquitto_disconnect_callback_set(mosq_, onDisconnect);
    mosquitto_message_callback_set(mosq_, onMessage);
    mosquitto_username_pw_set(mosq_, c.username, c.password);
    if (mosquitto_connect(mosq_, o_.host, o_.port, c.keepalive_s) != MOSQ_ERR_SUCCESS) {
      drop();
      return dc::ConnectResult::Failed;
    }
    return dc::ConnectResult::Pending;  // CONNACK arrives in loop()
  }
  bool subscribe(const char* topic) override { return mosquitto_subscribe(mosq_, nullptr, topic, 1) == MOSQ_ERR_SUCCESS; }
  bool publish(const char* topic, const char* payload) override {
    // QoS 0 like PubSubClient on the ESP32; the hub resends a control whose Confirmation is lost.
    int len = static_cast<int>(std::strlen(payload));
    return mosquitto_publish(mosq_, nullptr, topic, len, payload, 0, false) == MOSQ_ERR_SUCCESS;
  }
  bool ipAddress(char* buf, size_t n) override {
    if (mosq_ == nullptr) return false;
    sockaddr_storage addr{};
    socklen_t len = sizeof addr;
    if (getsockname(mosquitto_socket(mosq_), reinterpret_cast<sockaddr*>(&addr), &len) != 0) return false;
    const void* src = addr.ss_family == AF_INET6 ? static_cast<const void*>(&reinterpret_cast<sockaddr_in6*>(&addr)->sin6_addr)
                                                 : static_cast<const void*>(&reinterpret_cast<sockaddr_in*>(&addr)->sin_addr);
    return inet_ntop(addr.ss_family, src, buf, static_cast<socklen_t>(n)) != nullptr;
  }
  bool rssi(int&) override { return false; }  // wired

  // One network round; false when the connection is gone.
  bool loop() {
    if (mosq_ == nullptr) return false;
    int rc = mosquitto_loop(mosq_, 50, 1);
    if (rc == MOSQ_ERR_SUCCESS) return true;
    drop();
    listener_->disconnected();
    return false;
  }
  void drop() {
    if (mosq_ == nullptr) return;
    mosquitto_destroy(mosq_);
    mosq_ = nullptr;
  }

 private:
  static void onConnect(mosquitto*, void* self, int rc) {
    auto* port = static_cast<MosquittoPort*>(self);
    if (rc == 0) port->listener_->connected();
    else port->listener_->disconnected();
  }
  static void onDisconnect(mosquitto*, void* self, int) { static_cast<MosquittoPort*>(self)->listener_->disconnected(); }
  static void onMessage(mosquitto*, void* self, const mosquitto_message* m) {
    static_cast<MosquittoPort*>(self)->listener_->message(m->topic, static_cast<const char*>(m->payload), static_cast<size_t>(m->payloadlen));
  }
  const Options& o_;
  mosquitto* mosq_ = nullptr;
  Listener* listener_ = nullptr;
};

template <typename T>
struct ListenerFor : MosquittoPort::Listener {
  explicit ListenerFor(T& t) : target(t) {}
  T& target;
  void connected() override { target.onConnected(); }
  void disconnected() override { target.onDisconnected(); }
  void message(const char* topic, const char* payload, size_t len) override { target.onMessage(topic, payload, len); }
};

// NVS on the host: the bay credentials as "id username secret" in one file, written
// tmp + rename so a kill leaves the old contents or the new ones.
struct FileStore : dc::CredentialStore {
  explicit FileStore(const char* p) : path(p) {}
  const char* path;
  bool load(dc::BayCredentials& out) override {
    if (path == nullptr) return false;
    FILE* f = std::fopen(path, "r");
    if (f == nullptr) return false;
    int id = 0;
    char user[sizeof out.username] = {};
    char secret[sizeof out.secret] = {};
    bool ok = std::fscanf(f, "%d %19s %71s", &id, user, secret) == 3 && id >= 1 && id <= dc::kMaxMachineId;
    std::fclose(f);
    if (!ok) return false;
    out.machine_id = id;
    std::snprintf(out.username, sizeof out.username, "%s", user);
    std::snprintf(out.secret, sizeof out.secret, "%s", secret);
    return true;
  }
  bool save(const dc::BayCredentials& c) override {
    char tmp[512];
    std::snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE* f = std::fopen(tmp, "w");
    if (f == nullptr) return false;
    bool ok = std::fprintf(f, "%d %s %s\n", c.machine_id, c.username, c.secret) > 0;
    ok = std::fclose(f) == 0 && ok;
    return ok && std::rename(tmp, path) == 0;
  }
};

struct LogLed : dc::StatusLed {
  explicit LogLed(dc::EventLog& l) : log(l) {}
  dc::EventLog& log;
  void set(bool on) override { log.line(on ? "{\"event\":\"led\",\"on\":true}" : "{\"event\":\"led\",\"on\":false}"); }
};

constexpr uint32_t kBootCheckMs = 3000;
constexpr const char* kFailBootMarker = "SIMULATE-FAILED-BOOT";

struct HostUpdater : dc::Updater {
  bool pending = false;
  dc::UpdateCommand command{};
  void request(const dc::UpdateCommand& c) override {
    command = c;
    pending = true;
  }
};

// A plain HTTP/1.0 GET of http://host:port/path, streaming the body to `sink` (false stops).
bool httpGet(const char* url, const std::function<bool(const uint8_t*, size_t)>& sink, char* problem, size_t n) {
  char host[64] = "";
  int port = 80;
  const char* rest = url + 7;
  const char* slash = std::strchr(rest, '/');
  const char* colon = std::strchr(rest, ':');
  size_t host_len = static_cast<size_t>((colon != nullptr && (slash == nullptr || colon < slash) ? colon : (slash != nullptr ? slash : rest + std::strlen(rest))) - rest);
  if (host_len == 0 || host_len >= sizeof host) return std::snprintf(problem, n, "url: bad host"), false;
  std::memcpy(host, rest, host_len);
  if (colon != nullptr && (slash == nullptr || colon < slash)) port = std::atoi(colon + 1);
  const char* path = slash != nullptr ? slash : "/";
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  char port_text[8];
  std::snprintf(port_text, sizeof port_text, "%d", port);
  if (getaddrinfo(host, port_text, &hints, &found) != 0 || found == nullptr) return std::snprintf(problem, n, "download: no such host"), false;
  int fd = socket(found->ai_family, found->ai_socktype, found->ai_protocol);
  bool ok = fd >= 0 && ::connect(fd, found->ai_addr, found->ai_addrlen) == 0;
  freeaddrinfo(found);
  if (!ok) {
    if (fd >= 0) close(fd);
    return std::snprintf(problem, n, "download: connect failed"), false;
  }
  char request[256];
  int len = std::snprintf(request, sizeof request, "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n", path, host);
  ok = send(fd, request, static_cast<size_t>(len), 0) == len;
  std::string head;
  bool in_body = false;
  uint8_t buf[4096];
  while (ok) {
    ssize_t got = recv(fd, buf, sizeof buf, 0);
    if (got <= 0) break;
    size_t off = 0;
    if (!in_body) {
      head.append(reinterpret_cast<const char*>(buf), static_cast<size_t>(got));
      size_t end = head.find("\r\n\r\n");
      if (end == std::string::npos) continue;
      if (head.compare(0, 12, "HTTP/1.1 200") != 0 && head.compare(0, 12, "HTTP/1.0 200") != 0) {
        std::snprintf(problem, n, "download: %.40s", head.c_str());
        ok = false;
        break;
      }
      in_body = true;
      std::string body = head.substr(end + 4);
      if (!body.empty() && !sink(reinterpret_cast<const uint8_t*>(body.data()), body.size())) break;
      continue;
    }
    if (!sink(buf + off, static_cast<size_t>(got))) break;
  }
  close(fd);
  if (ok && !in_body) std::snprintf(problem, n, "download: no response");
  return ok && in_body;
}

void sleepMs(long ms) {
  timespec ts{ms / 1000, (ms % 1000) * 1000000};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR && !g_stop) {
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!parseArgs(argc, argv, o)) {
    std::fprintf(stderr, "usage: %s --id N [--host H] [--port P] [--username U] [--password S] [--keepalive S] [--level PCT]\n", argv[0]);
    return 2;
  }
  std::signal(SIGINT, [](int) { g_stop = 1; });
  std::signal(SIGTERM, [](int) { g_stop = 1; });
  mosquitto_lib_init();
  MonotonicClock clock;
  Relay relay;
  FixedSensor sensor;
  sensor.percent = o.level;
  SystemRandom random;
  StdoutLog log;
  MosquittoPort mqtt(o);
  FileStore nvs(o.nvs);
  dc::BayCredentials creds{};
  bool have = nvs.load(creds);
  if (!have && o.id == 0) {
    // The generic image, unadopted: enroll until the hub assigns a bay.
    dc::EnrollConfig ec;
    ec.mac = o.mac;
    ec.firmware = o.firmware;
    ec.secret = o.enroll_secret;
    ec.keepalive_s = static_cast<uint16_t>(o.keepalive);
    LogLed led(log);
    dc::Enroller enroller(ec, dc::EnrollPorts{clock, mqtt, mqtt, random, led, nvs, &log});
    ListenerFor<dc::Enroller> el(enroller);
    mqtt.attach(&el);
    enroller.begin();
    while (!g_stop && !enroller.adopted()) {
      if (!mqtt.loop()) sleepMs(50);
      enroller.tick();
    }
    mqtt.drop();  // as the ESP32 restarts: the enrollment login is gone before machine_N logs in
    if (g_stop) {
      log.line("{\"event\":\"stopped\"}");
      mosquitto_lib_cleanup();
      return 0;
    }
    creds = enroller.credentials();
    have = true;
  }
  // Simulated OTA slots (issue 16): the running version, and after an update the new one,
  // booted once "pending verify". An image holding kFailBootMarker never becomes healthy: the
  // simulated bootloader rolls back to the previous slot after kBootCheckMs, as the ESP32's does.
  std::string running = o.firmware;
  std::string previous;
  std::string rolled_back_from;
  bool pending_verify = false;
  bool fail_boot = false;
  const int id = have ? creds.machine_id : o.id;
  o.id = id;
  while (!g_stop) {
    if (pending_verify && fail_boot) {
      char line[160];
      std::snprintf(line, sizeof line, "{\"event\":\"boot\",\"machine_id\":%d,\"firmware\":\"%s\",\"healthy\":false}", id, running.c_str());
      log.line(line);
      dc::BootCheck check(true, clock.nowMs(), kBootCheckMs);
      while (!g_stop && check.decide(clock.nowMs()) == dc::BootDecision::Wait) sleepMs(50);
      if (g_stop) break;
      rolled_back_from = running;
      running = previous;
      pending_verify = fail_boot = false;
      std::snprintf(line, sizeof line, "{\"event\":\"rollback\",\"machine_id\":%d,\"firmware\":\"%s\",\"from\":\"%s\"}", id, running.c_str(), rolled_back_from.c_str());
      log.line(line);
      continue;
    }
    dc::DispenserConfig config;
    config.machine_id = id;
    config.firmware = running.c_str();
    config.username = have ? creds.username : o.username;
    config.password = have ? creds.secret : o.password;
    config.keepalive_s = static_cast<uint16_t>(o.keepalive);
    dc::Dispenser dispenser(config, dc::DispenserPorts{clock, relay, sensor, mqtt, mqtt, random, &log});
    HostUpdater updater;
    dispenser.setUpdater(&updater);
    ListenerFor<dc::Dispenser> dl(dispenser);
    mqtt.attach(&dl);
    dispenser.begin();
    char started[160];
    std::snprintf(started, sizeof started, "{\"event\":\"started\",\"machine_id\":%d,\"max_on_s\":%lu,\"firmware\":\"%s\"}", id,
                  static_cast<unsigned long>(config.max_on_s), running.c_str());
    log.line(started);
    dc::BootCheck check(pending_verify, clock.nowMs(), kBootCheckMs * 10);
    // The ESP32's deadline task: independent of the network loop below.
    std::atomic<bool> stop_deadline{false};
    std::thread deadline([&] {
      while (!stop_deadline) {
        if (dispenser.failsafePoll()) {
          char line[96];
          std::snprintf(line, sizeof line, "{\"event\":\"failsafe_off\",\"machine_id\":%d,\"mono_ms\":%llu}", id,
                        static_cast<unsigned long long>(clock.nowMs()));
          log.line(line);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
    });
    bool reboot = false;
    while (!g_stop && !reboot) {
      if (!mqtt.loop()) sleepMs(50);
      dispenser.tick();
      if (dispenser.link() == dc::LinkState::Connected) {
        check.onHealthy();
        if (!rolled_back_from.empty()) {
          dispenser.publishOta("rolled_back", rolled_back_from.c_str(), "the new image did not come up healthy");
          rolled_back_from.clear();
        }
      }
      dc::BootDecision decision = check.decide(clock.nowMs());
      if (decision == dc::BootDecision::MarkValid) {
        pending_verify = false;
        log.line("{\"event\":\"ota_valid\"}");
      }
      if (!updater.pending) continue;
      updater.pending = false;
      dc::OtaVerifier verifier(updater.command);
      std::string image;
      char problem[128] = "";
      bool fetched = httpGet(updater.command.url, [&](const uint8_t* data, size_t n) {
        if (!verifier.feed(data, n)) return false;
        image.append(reinterpret_cast<const char*>(data), n);
        return true;
      }, problem, sizeof problem);
      dc::VerifyResult result = verifier.finish();
      if (!fetched && result != dc::VerifyResult::TooBig) {
        dispenser.publishOta("failed", updater.command.version, problem);
        continue;
      }
      if (result != dc::VerifyResult::Ok) {
        dispenser.publishOta("refused", updater.command.version, dc::verifyResultText(result));
        continue;
      }
      // "Flash the inactive slot" and reboot into it, pending verify.
      previous = running;
      running = updater.command.version;
      pending_verify = true;
      fail_boot = image.find(kFailBootMarker) != std::string::npos;
      char line[160];
      std::snprintf(line, sizeof line, "{\"event\":\"ota_installed\",\"machine_id\":%d,\"version\":\"%s\"}", id, running.c_str());
      log.line(line);
      reboot = true;
    }
    stop_deadline = true;
    deadline.join();
    dispenser.safeOff();
    mqtt.drop();
  }
  log.line("{\"event\":\"stopped\"}");
  mqtt.drop();
  mosquitto_lib_cleanup();
  return 0;
}
