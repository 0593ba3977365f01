// Build-time settings of one dispenser. Set them in platformio.ini / secrets.ini build_flags
// (see README.md), e.g. -D DISPENSER_MACHINE_ID=4 -D DISPENSER_SECRET=\"...\".
#pragma once

#ifndef DISPENSER_MACHINE_ID
#define DISPENSER_MACHINE_ID 1
#endif
// The machine secret printed by the hub's CLI (`dispenser-hub machine add N`).
#ifndef DISPENSER_SECRET
#define DISPENSER_SECRET ""
#endif
// nullptr: the username is the node name machine_00N.
#ifndef DISPENSER_USERNAME
#define DISPENSER_USERNAME nullptr
#endif
#ifndef HUB_HOST
#define HUB_HOST "192.168.4.1"
#endif
#ifndef HUB_PORT
#define HUB_PORT 1883
#endif
// 1: wired (LAN8720 boards such as WT32-ETH01 / Olimex ESP32-POE); 0: Wi-Fi.
#ifndef DISPENSER_ETHERNET
#define DISPENSER_ETHERNET 0
#endif
#ifndef WIFI_SSID
#define WIFI_SSID ""
#endif
#ifndef WIFI_PASSWORD
#define WIFI_PASSWORD ""
#endif
// Relay / motor-driver input; RELAY_ACTIVE_HIGH 0 for low-triggered relay boards.
#ifndef PIN_RELAY
#define PIN_RELAY 26
#endif
#ifndef RELAY_ACTIVE_HIGH
#define RELAY_ACTIVE_HIGH 1
#endif
// Ultrasonic level sensor (HC-SR04 / JSN-SR04T): trigger out, echo in (5 V echo via a divider).
#ifndef PIN_TRIG
#define PIN_TRIG 5
#endif
#ifndef PIN_ECHO
#define PIN_ECHO 18
#endif
// Distance from the sensor to the hopper bottom (empty) and to the balls when full, in cm.
#ifndef LEVEL_EMPTY_CM
#define LEVEL_EMPTY_CM 60.0f
#endif
#ifndef LEVEL_FULL_CM
#define LEVEL_FULL_CM 10.0f
#endif
// Task watchdog: longer than the longest blocking call (PubSubClient connect: ~6 s).
#ifndef WATCHDOG_TIMEOUT_MS
#define WATCHDOG_TIMEOUT_MS 10000
#endif
// MAX_ON_SECONDS (the longest one control may keep the output on, default 4 h) is read by the
// core (lib/dispenser_core/src/protocol.h); set it here with -D like the others.
// 1: the generic image (issue 16): no bay built in; it enrolls with DISPENSER_ENROLL_SECRET (the
// hub's HUB_ENROLL_SECRET / data/enroll-secret) and keeps the bay the hub assigns in NVS.
#ifndef DISPENSER_GENERIC
#define DISPENSER_GENERIC 0
#endif
#ifndef DISPENSER_ENROLL_SECRET
#define DISPENSER_ENROLL_SECRET ""
#endif
// The status LED that blinks when staff identify an unadopted device (never the relay).
#ifndef PIN_STATUS_LED
#define PIN_STATUS_LED 2
#endif
#ifndef FIRMWARE_VERSION
#define FIRMWARE_VERSION "1.0.0"
#endif
