/*
 * repsense_frame: the repsense serial frame encoder (COBS + CRC-16/CCITT-FALSE), portable C99.
 *
 * A frame before COBS, all fields little-endian (docs/protocol.md has the bytes and a worked example):
 *
 *     version u8 (=1) | type u8 | seq u16 | t_us u32 | payload | crc16 u16
 *
 *     CONFIG payload: period_us u32 | acc_scale_g f32 | gyro_scale_dps f32 (0 = no gyro)
 *                     | samples_per_frame u8 | id_len u8 | id bytes (UTF-8, at most 32)
 *     DATA payload:   channels u8 (3 or 6) | n u8 | n x channels int16 (ax ay az [gx gy gz] per sample)
 *
 * The encoded frame ends with one 0x00 byte. Sample i of a DATA frame was taken at t_us + i * period_us.
 * No allocation, no tables, no platform headers: the output is written straight into the caller's buffer.
 * The Python twin is repsense/firmware_bridge/framing.py; the tests check both give the same bytes.
 */
#ifndef REPSENSE_FRAME_H
#define REPSENSE_FRAME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RS_PROTOCOL_VERSION 1u
#define RS_FRAME_CONFIG 0x01u
#define RS_FRAME_DATA 0x02u
#define RS_HEADER_LEN 8u
#define RS_CRC_LEN 2u
#define RS_MAX_SENSOR_ID 32u

/* Bytes COBS can make of n bytes, and the on-wire size of frames (COBS, plus the 0x00 delimiter). */
#define RS_COBS_MAX(n) ((n) + (n) / 254u + 1u)
#define RS_DATA_FRAME_MAX(n, channels) (RS_COBS_MAX(RS_HEADER_LEN + 2u + 2u * (n) * (channels) + RS_CRC_LEN) + 1u)
#define RS_CONFIG_FRAME_MAX (RS_COBS_MAX(RS_HEADER_LEN + 14u + RS_MAX_SENSOR_ID + RS_CRC_LEN) + 1u)

typedef struct {
    uint32_t period_us;        /* sample period, microseconds */
    float acc_scale_g;         /* g per accelerometer count */
    float gyro_scale_dps;      /* deg/s per gyro count; 0 when the sensor sends no gyro */
    uint8_t samples_per_frame; /* samples in a full DATA frame */
    const char *sensor_id;     /* NUL-terminated, at most RS_MAX_SENSOR_ID bytes; NULL for none */
} rs_config_t;

/* CRC-16/CCITT-FALSE (poly 0x1021, no reflection); start with crc = 0xFFFF. "123456789" gives 0x29B1. */
uint16_t rs_crc16(uint16_t crc, const uint8_t *data, size_t len);

/* COBS-encodes len bytes into out (no delimiter). Returns the bytes written, or 0 when cap is too small. */
size_t rs_cobs_encode(uint8_t *out, size_t cap, const uint8_t *data, size_t len);

/* A CONFIG frame sent at device time t_us. Returns the bytes written (with the trailing 0x00), or 0 when cap is
 * too small or the sensor id is too long. */
size_t rs_encode_config(uint8_t *out, size_t cap, uint16_t seq, uint32_t t_us, const rs_config_t *cfg);

/* A DATA frame of n samples (1..255) of channels (3 or 6) int16 each, sample after sample, whose first sample
 * was taken at t_us. Returns the bytes written (with the trailing 0x00), or 0 on bad arguments or too small cap. */
size_t rs_encode_data(uint8_t *out, size_t cap, uint16_t seq, uint32_t t_us, const int16_t *samples, uint8_t n,
                      uint8_t channels);

#ifdef __cplusplus
}
#endif

#endif /* REPSENSE_FRAME_H */
