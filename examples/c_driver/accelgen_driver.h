/* accelgen_driver.h: a host driver for accel_axi (docs/soc.md), bare-metal or Linux (UIO or
 * /dev/mem). It needs the register window, a CPU view of the accelerator's memory window and its
 * bus address; the register offsets come from the generated hdl_out/<preset>/accelgen_regs.h. */
#ifndef ACCELGEN_DRIVER_H
#define ACCELGEN_DRIVER_H

#include <stddef.h>
#include <stdint.h>

struct accelgen_dev {
    volatile uint32_t *regs; /* the AXI4-Lite window (32-bit registers) */
    /* Register access through functions instead (a simulator, a bus bridge); NULL: `regs`. */
    uint32_t (*read32)(void *ctx, uint32_t offset);
    void (*write32)(void *ctx, uint32_t offset, uint32_t value);
    uint8_t *mem;            /* the memory window as the CPU sees it */
    uint32_t mem_bus;        /* the same window's bus address (4 KiB-aligned) */
    size_t mem_size;         /* its bytes */
    /* Waits for the interrupt (NULL: poll IRQ_STATUS). Returns 0, or -1 on a timeout. */
    int (*wait_irq)(void *ctx);
    void *ctx; /* passed to read32, write32 and wait_irq */
};

/* What a run ended with. */
struct accelgen_result {
    uint32_t irq_status; /* ACCELGEN_IRQ_STATUS_*: DONE alone on success */
    uint32_t status;     /* STATUS: the error code in its CODE field */
    uint32_t cycles;     /* the core's cycle counter (CORE_READ CYCLES) */
};

/* Errors of accelgen_run and accelgen_run_next. */
enum {
    ACCELGEN_OK = 0,
    ACCELGEN_E_ID = -1,       /* ID is not an accelgen register map of version 1 */
    ACCELGEN_E_SIZE = -2,     /* the image does not fit the memory window */
    ACCELGEN_E_PROGRAM = -3,  /* the program is not whole 8-byte words */
    ACCELGEN_E_ALIGN = -4,    /* mem_bus is not 4 KiB-aligned */
    ACCELGEN_E_TIMEOUT = -5,  /* no interrupt */
    ACCELGEN_E_RUN = -6       /* the run ended with an error (see the result) */
};

/* One run: copies `image` (memory_init.bin) to the memory window, loads `program` (program.cbin,
 * little-endian 8-byte words) through PROG_LO/PROG_HI, starts, waits for the interrupt. The
 * output is then at dev->mem + the offset memory.json names. */
int accelgen_run(const struct accelgen_dev *dev, const uint8_t *image, size_t image_len,
                 const uint8_t *program, size_t program_len, struct accelgen_result *res);

/* The next inference of a batch, on the program accelgen_run loaded: copies `input` (the
 * network's input as numpy writes it, x.tobytes()) to the memory window at `input_offset` (the
 * `input` region memory.json names), starts again and waits. A start puts every module register
 * back to its reset value, so the program runs as it did the first time. */
int accelgen_run_next(const struct accelgen_dev *dev, const uint8_t *input, size_t input_len,
                      size_t input_offset, struct accelgen_result *res);

#endif
