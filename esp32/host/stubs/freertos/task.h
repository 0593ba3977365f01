#pragma once

#include "FreeRTOS.h"

BaseType_t xTaskCreate(TaskFunction_t code, const char* name, uint32_t stack_depth, void* parameters, UBaseType_t priority,
                       TaskHandle_t* created_task);
void vTaskDelay(TickType_t ticks);
