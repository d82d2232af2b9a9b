// repsense_sensor: an ESP32 with an MPU-6050 on I2C, streaming repsense frames (docs/protocol.md).
//
// Default: binary frames over the USB serial port. Set RS_USE_BLE_NUS to 1 to send the same bytes as
// notifications of the Nordic UART Service instead. Copy ../repsense_frame.c and ../repsense_frame.h into this
// folder before building (see ../README.md): the Arduino tools only compile files inside the sketch folder.
//
// Wiring: MPU-6050 VCC 3V3, GND, SDA GPIO21, SCL GPIO22, AD0 low (I2C address 0x68).

#include <Arduino.h>
#include <Wire.h>

#include "repsense_frame.h"

#define RS_USE_BLE_NUS 0

#define SENSOR_ID "esp32-mpu6050"
#define SAMPLE_PERIOD_US 5000u       // 200 Hz
#define SAMPLES_PER_FRAME 10u        // 20 frames/s; 134 bytes per frame on the wire, fits one BLE notification
#define CONFIG_EVERY_US 2000000u     // a CONFIG frame at start and every 2 s, so a late listener can scale data
#define SERIAL_BAUD 921600
#define I2C_SDA 21
#define I2C_SCL 22
#define CHANNELS 6u                  // ax ay az gx gy gz

// MPU-6050 registers (InvenSense register map, rev 4.2).
#define MPU_ADDR 0x68
#define MPU_SMPLRT_DIV 0x19
#define MPU_CONFIG 0x1A
#define MPU_GYRO_CONFIG 0x1B
#define MPU_ACCEL_CONFIG 0x1C
#define MPU_ACCEL_XOUT_H 0x3B
#define MPU_PWR_MGMT_1 0x6B
#define MPU_WHO_AM_I 0x75

// AFS_SEL = 2: +-8 g, 4096 LSB/g. FS_SEL = 2: +-1000 deg/s, 32.8 LSB/(deg/s).
static const float ACC_SCALE_G = 1.0f / 4096.0f;
static const float GYRO_SCALE_DPS = 1.0f / 32.8f;

static const rs_config_t CONFIG = {SAMPLE_PERIOD_US, ACC_SCALE_G, GYRO_SCALE_DPS, SAMPLES_PER_FRAME, SENSOR_ID};

static int16_t batch[SAMPLES_PER_FRAME * CHANNELS];
static uint8_t batch_n = 0;
static uint32_t batch_t_us = 0;  // device time of the batch's first sample
static uint32_t next_sample_us = 0;
static uint32_t last_config_us = 0;
static uint16_t seq = 0;         // counts every frame sent, CONFIG and DATA alike; starts at 0 on every boot
static uint8_t frame_buf[RS_DATA_FRAME_MAX(SAMPLES_PER_FRAME, CHANNELS) > RS_CONFIG_FRAME_MAX
                             ? RS_DATA_FRAME_MAX(SAMPLES_PER_FRAME, CHANNELS)
                             : RS_CONFIG_FRAME_MAX];

// ---------------------------------------------------------------------------------------------------------------
// Transport: USB serial, or BLE Nordic UART Service notifications.

#if RS_USE_BLE_NUS
#include <BLE2902.h>
#include <BLEDevice.h>
#include <BLEServer.h>

#define NUS_SERVICE "6E400001-B5A3-F393-E0A9-E50E24DCCA9E"
#define NUS_RX "6E400002-B5A3-F393-E0A9-E50E24DCCA9E"  // central writes (unused here)
#define NUS_TX "6E400003-B5A3-F393-E0A9-E50E24DCCA9E"  // we notify

static BLEServer *ble_server = nullptr;
static BLECharacteristic *ble_tx = nullptr;
static volatile bool ble_connected = false;
static volatile bool ble_want_config = false;

class ServerCallbacks : public BLEServerCallbacks {
    void onConnect(BLEServer *) override {
        ble_connected = true;
        ble_want_config = true;  // the central's decoder drops DATA until it has a CONFIG
    }
    void onDisconnect(BLEServer *server) override {
        ble_connected = false;
        server->startAdvertising();
    }
};

static void link_begin() {
    BLEDevice::init(SENSOR_ID);
    BLEDevice::setMTU(247);  // 244 bytes per notification once the central agrees
    ble_server = BLEDevice::createServer();
    ble_server->setCallbacks(new ServerCallbacks());
    BLEService *service = ble_server->createService(NUS_SERVICE);
    ble_tx = service->createCharacteristic(NUS_TX, BLECharacteristic::PROPERTY_NOTIFY);
    ble_tx->addDescriptor(new BLE2902());
    service->createCharacteristic(NUS_RX, BLECharacteristic::PROPERTY_WRITE | BLECharacteristic::PROPERTY_WRITE_NR);
    service->start();
    BLEAdvertising *advertising = BLEDevice::getAdvertising();
    advertising->addServiceUUID(NUS_SERVICE);
    advertising->setScanResponse(true);
    BLEDevice::startAdvertising();
}

static bool link_up() { return ble_connected; }

static void link_send(const uint8_t *data, size_t len) {
    // Until the MTU exchange is done the central may only take 20 bytes per notification. The decoder reads a
    // byte stream, so a frame split over several notifications is fine.
    uint16_t mtu = ble_server->getPeerMTU(ble_server->getConnId());
    size_t chunk = mtu > 23 ? (size_t)mtu - 3 : 20;
    for (size_t off = 0; off < len; off += chunk) {
        size_t n = len - off < chunk ? len - off : chunk;
        ble_tx->setValue((uint8_t *)data + off, n);
        ble_tx->notify();
    }
}
#else
static void link_begin() {
    Serial.setTxBufferSize(2048);  // a few frames, so a busy host does not stall sampling
    Serial.begin(SERIAL_BAUD);
}

static bool link_up() { return true; }

static void link_send(const uint8_t *data, size_t len) { Serial.write(data, len); }
#endif

// ---------------------------------------------------------------------------------------------------------------
// Frames.

static void send_config(uint32_t now_us) {
    size_t len = rs_encode_config(frame_buf, sizeof frame_buf, seq, now_us, &CONFIG);
    if (len > 0 && link_up()) {
        link_send(frame_buf, len);
        seq++;
    }
    last_config_us = now_us;
}

static void send_batch() {
    if (batch_n == 0) {
        return;
    }
    size_t len = rs_encode_data(frame_buf, sizeof frame_buf, seq, batch_t_us, batch, batch_n, CHANNELS);
    if (len > 0 && link_up()) {
        link_send(frame_buf, len);
        seq++;
    }
    batch_n = 0;
}

// ---------------------------------------------------------------------------------------------------------------
// MPU-6050.

static void mpu_write(uint8_t reg, uint8_t value) {
    Wire.beginTransmission(MPU_ADDR);
    Wire.write(reg);
    Wire.write(value);
    Wire.endTransmission();
}

static bool mpu_begin() {
    Wire.beginTransmission(MPU_ADDR);
    Wire.write(MPU_WHO_AM_I);
    if (Wire.endTransmission(false) != 0 || Wire.requestFrom(MPU_ADDR, 1) != 1 || Wire.read() != 0x68) {
        return false;
    }
    mpu_write(MPU_PWR_MGMT_1, 0x01);    // wake up, clock from the X gyro PLL
    delay(100);
    mpu_write(MPU_CONFIG, 0x03);        // DLPF 44 Hz (acc) / 42 Hz (gyro); internal rate 1 kHz
    mpu_write(MPU_SMPLRT_DIV, 0x04);    // 1 kHz / (1 + 4) = 200 Hz output rate
    mpu_write(MPU_GYRO_CONFIG, 0x10);   // FS_SEL = 2: +-1000 deg/s
    mpu_write(MPU_ACCEL_CONFIG, 0x10);  // AFS_SEL = 2: +-8 g
    return true;
}

// Reads ax ay az gx gy gz (big-endian on the chip) into out[0..5]; skips the temperature in between.
static bool mpu_read(int16_t *out) {
    uint8_t raw[14];
    Wire.beginTransmission(MPU_ADDR);
    Wire.write(MPU_ACCEL_XOUT_H);
    if (Wire.endTransmission(false) != 0 || Wire.requestFrom(MPU_ADDR, 14) != 14) {
        return false;
    }
    for (int i = 0; i < 14; i++) {
        raw[i] = (uint8_t)Wire.read();
    }
    static const int offsets[6] = {0, 2, 4, 8, 10, 12};
    for (int i = 0; i < 6; i++) {
        out[i] = (int16_t)((raw[offsets[i]] << 8) | raw[offsets[i] + 1]);
    }
    return true;
}

// ---------------------------------------------------------------------------------------------------------------

void setup() {
    link_begin();
    Wire.begin(I2C_SDA, I2C_SCL, 400000);
    while (!mpu_begin()) {
        delay(500);  // no sensor: send nothing, so the host sees no DATA it could misread
    }
#if !RS_USE_BLE_NUS
    // The ESP32 boot ROM prints text on this port: a lone 0x00 ends that junk as a segment of its own.
    static const uint8_t delimiter = 0x00;
    link_send(&delimiter, 1);
#endif
    uint32_t now = micros();
    send_config(now);
    next_sample_us = now + SAMPLE_PERIOD_US;
}

void loop() {
#if RS_USE_BLE_NUS
    if (ble_want_config && batch_n == 0) {
        ble_want_config = false;
        send_config(micros());
    }
#endif
    uint32_t now = micros();
    int32_t late_us = (int32_t)(now - next_sample_us);  // wrap-safe: micros() wraps every 71.6 minutes
    if (late_us < 0) {
        return;
    }
    if (late_us > (int32_t)SAMPLE_PERIOD_US) {
        // We missed sample slots (a blocked write, a flash operation). Frame times are first time + i * period,
        // so close the batch here and restart the schedule rather than stamp samples with the wrong times.
        send_batch();
        next_sample_us = now;
    }
    if (batch_n == 0) {
        batch_t_us = next_sample_us;
    }
    if (mpu_read(&batch[batch_n * CHANNELS])) {
        batch_n++;
    } else {
        send_batch();  // an I2C error leaves a hole: the next batch starts at its own time
    }
    next_sample_us += SAMPLE_PERIOD_US;
    if (batch_n == SAMPLES_PER_FRAME) {
        send_batch();
        // CONFIG only between batches, so frames leave in time order.
        if ((uint32_t)(now - last_config_us) >= CONFIG_EVERY_US) {
            send_config(micros());
        }
    }
}
