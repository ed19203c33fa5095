/* How the client tools print a result, an event or an agent's line. */
#ifndef ZB_FLEET_PRINT_H
#define ZB_FLEET_PRINT_H

#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

/* The exit status a result's "status" stands for (ok 0, else 1). */
int fleet_result_exit(const cJSON *result);
/* "ok", "error: ...": the result's fields beyond status on lines below. */
void fleet_print_result(FILE *f, const char *agent, const cJSON *result);
/* "12:00:01.250" from milliseconds since the epoch (local time). */
void fleet_clock(char *buf, size_t len, uint64_t unix_ms);
/* A timeline event as one readable line (without the clock). */
void fleet_event_line(char *buf, size_t len, const cJSON *event);
/* One compact JSON line: {"agent":..., key: item}; item is consumed. */
void fleet_print_json(FILE *f, const char *agent, const char *key, cJSON *item);

#endif
