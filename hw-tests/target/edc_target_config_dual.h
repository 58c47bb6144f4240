/** @file edc_target_config_dual.h Both transports (EST-HTTPS and EST-coaps) on Cortex-M. */
#ifndef EDC_TARGET_CONFIG_DUAL_H
#define EDC_TARGET_CONFIG_DUAL_H
#include "edc_target_config.h"
#undef EDC_WITH_EST_COAPS
#define EDC_WITH_EST_COAPS 1
#endif
