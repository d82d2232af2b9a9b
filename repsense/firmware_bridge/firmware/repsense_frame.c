/* repsense_frame.c: see repsense_frame.h. Portable C99, no allocation, no tables. */
#include "repsense_frame.h"

#include <string.h>

uint16_t rs_crc16(uint16_t crc, const uint8_t *data, size_t len)
{
    size_t i;
    int bit;
    for (i = 0; i < len; i++) {
        crc ^= (uint16_t)((uint16_t)data[i] << 8);
        for (bit = 0; bit < 8; bit++) {
            crc = (crc & 0x8000u) ? (uint16_t)((crc << 1) ^ 0x1021u) : (uint16_t)(crc << 1);
        }
    }
    return crc;
}

/* A COBS encoder fed one byte at a time, so a frame is encoded while it is built, with no second buffer.
 * A full block (code 0xFF) is closed lazily, when the next byte arrives: a frame that ends on a full block
 * then needs no extra code byte, which is the canonical encoding. */
typedef struct {
    uint8_t *out;
    size_t cap;
    size_t pos;      /* next free byte in out */
    size_t code_pos; /* where the current block's code byte goes */
    uint8_t code;    /* 1 + bytes in the current block */
    uint16_t crc;
    int overflow;
} rs_writer_t;

static void writer_start(rs_writer_t *w, uint8_t *out, size_t cap)
{
    w->out = out;
    w->cap = cap;
    w->code_pos = 0;
    w->pos = 1;
    w->code = 1;
    w->crc = 0xFFFFu;
    w->overflow = cap < 2u;
}

static void writer_cobs(rs_writer_t *w, uint8_t byte)
{
    if (w->overflow) {
        return;
    }
    if (w->code == 0xFFu) {
        w->out[w->code_pos] = 0xFFu;
        w->code_pos = w->pos++;
        w->code = 1;
    }
    /* The byte written now and the final delimiter must both fit. */
    if (w->pos + 1u >= w->cap) {
        w->overflow = 1;
        return;
    }
    if (byte == 0u) {
        w->out[w->code_pos] = w->code;
        w->code_pos = w->pos++;
        w->code = 1;
    } else {
        w->out[w->pos++] = byte;
        w->code++;
    }
}

static void put_u8(rs_writer_t *w, uint8_t byte)
{
    w->crc = rs_crc16(w->crc, &byte, 1u);
    writer_cobs(w, byte);
}

static void put_u16(rs_writer_t *w, uint16_t v)
{
    put_u8(w, (uint8_t)(v & 0xFFu));
    put_u8(w, (uint8_t)(v >> 8));
}

static void put_u32(rs_writer_t *w, uint32_t v)
{
    put_u16(w, (uint16_t)(v & 0xFFFFu));
    put_u16(w, (uint16_t)(v >> 16));
}

static void put_f32(rs_writer_t *w, float f)
{
    uint32_t bits;
    /* IEEE-754 single precision, as on every target we support; sent little-endian like the integers. */
    memcpy(&bits, &f, sizeof bits);
    put_u32(w, bits);
}

static void put_header(rs_writer_t *w, uint8_t type, uint16_t seq, uint32_t t_us)
{
    put_u8(w, RS_PROTOCOL_VERSION);
    put_u8(w, type);
    put_u16(w, seq);
    put_u32(w, t_us);
}

/* Appends the CRC (not itself part of the CRC) and the delimiter. Returns the frame length or 0. */
static size_t writer_finish(rs_writer_t *w)
{
    uint16_t crc = w->crc;
    writer_cobs(w, (uint8_t)(crc & 0xFFu));
    writer_cobs(w, (uint8_t)(crc >> 8));
    if (w->overflow || w->pos >= w->cap) {
        return 0;
    }
    w->out[w->code_pos] = w->code;
    w->out[w->pos++] = 0x00u;
    return w->pos;
}

size_t rs_cobs_encode(uint8_t *out, size_t cap, const uint8_t *data, size_t len)
{
    rs_writer_t w;
    size_t i;
    /* The writer reserves room for a delimiter, which this function does not write. */
    writer_start(&w, out, cap + 1u);
    for (i = 0; i < len; i++) {
        writer_cobs(&w, data[i]);
    }
    if (w.overflow || w.pos > cap) {
        return 0;
    }
    w.out[w.code_pos] = w.code;
    return w.pos;
}

size_t rs_encode_config(uint8_t *out, size_t cap, uint16_t seq, uint32_t t_us, const rs_config_t *cfg)
{
    rs_writer_t w;
    size_t id_len = 0;
    size_t i;
    if (cfg == NULL) {
        return 0;
    }
    if (cfg->sensor_id != NULL) {
        id_len = strlen(cfg->sensor_id);
    }
    if (id_len > RS_MAX_SENSOR_ID) {
        return 0;
    }
    writer_start(&w, out, cap);
    put_header(&w, RS_FRAME_CONFIG, seq, t_us);
    put_u32(&w, cfg->period_us);
    put_f32(&w, cfg->acc_scale_g);
    put_f32(&w, cfg->gyro_scale_dps);
    put_u8(&w, cfg->samples_per_frame);
    put_u8(&w, (uint8_t)id_len);
    for (i = 0; i < id_len; i++) {
        put_u8(&w, (uint8_t)cfg->sensor_id[i]);
    }
    return writer_finish(&w);
}

size_t rs_encode_data(uint8_t *out, size_t cap, uint16_t seq, uint32_t t_us, const int16_t *samples, uint8_t n,
                      uint8_t channels)
{
    rs_writer_t w;
    size_t i;
    size_t count = (size_t)n * channels;
    if (samples == NULL || n == 0u || (channels != 3u && channels != 6u)) {
        return 0;
    }
    writer_start(&w, out, cap);
    put_header(&w, RS_FRAME_DATA, seq, t_us);
    put_u8(&w, channels);
    put_u8(&w, n);
    for (i = 0; i < count; i++) {
        /* Two's complement on the wire, whatever the host does with negative numbers. */
        put_u16(&w, (uint16_t)samples[i]);
    }
    return writer_finish(&w);
}
