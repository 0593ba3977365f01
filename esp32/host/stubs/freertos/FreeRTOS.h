// Host stand-in for the FreeRTOS types and macros src/main.cpp uses.
#pragma once

#include <cstdint>

typedef int32_t BaseType_t;
typedef uint32_t UBaseType_t;
typedef uint32_t TickType_t;
typedef void* TaskHandle_t;
typedef void* QueueHandle_t;
typedef void (*TaskFunction_t)(void*);
#define pdTRUE 1
#define pdFALSE 0
#define pdPASS 1
#define configMAX_PRIORITIES 25
#define pdMS_TO_TICKS(ms) (static_cast<TickType_t>(ms))
