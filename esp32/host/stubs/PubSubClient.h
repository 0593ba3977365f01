// Host stand-in for knolleary/PubSubClient 2.8 (the calls src/main.cpp makes, same signatures).
// PubSubClient publishes at QoS 0 only and subscribes at QoS 0 or 1.
#pragma once

#include <functional>

#include "Arduino.h"

#define MQTT_CONNECTED 0
#define MQTT_CALLBACK_SIGNATURE std::function<void(char*, uint8_t*, unsigned int)> callback

class PubSubClient {
 public:
  PubSubClient(Client& client);
  PubSubClient& setServer(const char* domain, uint16_t port);
  PubSubClient& setCallback(MQTT_CALLBACK_SIGNATURE);
  PubSubClient& setKeepAlive(uint16_t keepAlive);
  PubSubClient& setSocketTimeout(uint16_t timeout);
  boolean setBufferSize(uint16_t size);
  boolean connect(const char* id, const char* user, const char* pass, const char* willTopic, uint8_t willQos,
                  boolean willRetain, const char* willMessage, boolean cleanSession);
  void disconnect();
  boolean publish(const char* topic, const char* payload);
  boolean subscribe(const char* topic, uint8_t qos);
  boolean loop();
  boolean connected();
  int state();
};
