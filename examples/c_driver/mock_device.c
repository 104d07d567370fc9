/* mock_device.c: runs accelgen_driver.c against a recording stand-in for accel_axi, for the test
 * crates/accelgen/tests/c_driver.rs. It logs every register write ("W offset value", hex) and
 * the image it finds in memory ("M bytes checksum"), answers ID and, once started, IRQ_STATUS
 * DONE, and prints the driver's return value ("R value").
 *
 * With an input offset and length it then runs the next inference of a batch on the loaded
 * program (accelgen_run_next) with input byte i = 7i + 1 and logs the window again.
 *
 *     mock_device MEMORY_INIT.BIN PROGRAM.CBIN [INPUT_OFFSET INPUT_LEN] */
#include "accelgen_driver.h"
#include "accelgen_regs.h"

#include <stdio.h>
#include <stdlib.h>

struct mock {
    int started;
};

static uint32_t mock_read(void *ctx, uint32_t offset) {
    struct mock *m = ctx;
    if (offset == ACCELGEN_ID_OFFSET) return ACCELGEN_ID_VALUE;
    if (offset == ACCELGEN_IRQ_STATUS_OFFSET) return m->started ? ACCELGEN_IRQ_STATUS_DONE_MASK : 0u;
    if (offset == ACCELGEN_STATUS_OFFSET) return m->started ? ACCELGEN_STATUS_DONE_MASK : 0u;
    return 0;
}

static void mock_write(void *ctx, uint32_t offset, uint32_t value) {
    struct mock *m = ctx;
    printf("W %x %x\n", (unsigned)offset, (unsigned)value);
    if (offset == ACCELGEN_CTRL_OFFSET && (value & ACCELGEN_CTRL_START_MASK)) m->started = 1;
}

static uint8_t *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    uint8_t *buf;
    long n;
    if (!f || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(2);
    }
    buf = malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(2);
    }
    fclose(f);
    *len = (size_t)n;
    return buf;
}

int main(int argc, char **argv) {
    struct mock m = {0};
    struct accelgen_dev dev = {0};
    struct accelgen_result res = {0};
    size_t image_len, program_len, i;
    uint8_t *image, *program;
    uint32_t sum = 0;
    int r;
    if (argc != 3 && argc != 5) {
        fprintf(stderr, "usage: mock_device MEMORY_INIT.BIN PROGRAM.CBIN [INPUT_OFFSET INPUT_LEN]\n");
        return 2;
    }
    image = slurp(argv[1], &image_len);
    program = slurp(argv[2], &program_len);
    dev.mem_size = image_len + 4096;
    dev.mem = calloc(dev.mem_size, 1);
    dev.mem_bus = 0x40000000u;
    dev.read32 = mock_read;
    dev.write32 = mock_write;
    dev.ctx = &m;
    r = accelgen_run(&dev, image, image_len, program, program_len, &res);
    for (i = 0; i < image_len; i++) sum = sum * 31u + dev.mem[i];
    printf("M %lu %x\nR %d\n", (unsigned long)image_len, (unsigned)sum, r);
    if (argc == 5) {
        size_t off = strtoul(argv[3], NULL, 10), len = strtoul(argv[4], NULL, 10);
        uint8_t *x = malloc(len + 1);
        if (!x) return 2;
        for (i = 0; i < len; i++) x[i] = (uint8_t)(7u * i + 1u);
        r = accelgen_run_next(&dev, x, len, off, &res);
        for (sum = 0, i = 0; i < image_len; i++) sum = sum * 31u + dev.mem[i];
        printf("M %lu %x\nR %d\n", (unsigned long)image_len, (unsigned)sum, r);
    }
    return 0;
}
