// Host stand-in for ESP-IDF's esp_system.h: why the chip last reset.
#pragma once

typedef enum { ESP_RST_UNKNOWN = 0, ESP_RST_POWERON = 1, ESP_RST_PANIC = 4, ESP_RST_TASK_WDT = 6 } esp_reset_reason_t;
esp_reset_reason_t esp_reset_reason(void);
