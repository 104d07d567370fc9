/* accelgen_driver.c: see accelgen_driver.h. The sequence is docs/soc.md's "host driver" and the
 * one the Rust testbench (crates/sim/src/axi.rs) and the cocotb test use. */
#include "accelgen_driver.h"
#include "accelgen_regs.h"

#include <string.h>

#define ACCELGEN_POLL_LIMIT 100000000u

static void wr(const struct accelgen_dev *d, uint32_t offset, uint32_t v) {
    if (d->write32) d->write32(d->ctx, offset, v);
    else d->regs[offset / 4] = v;
}

static uint32_t rd(const struct accelgen_dev *d, uint32_t offset) {
    return d->read32 ? d->read32(d->ctx, offset) : d->regs[offset / 4];
}

static uint32_t le32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* START with every interrupt source enabled, wait for the interrupt, read the result and
 * acknowledge it. */
static int start_and_wait(const struct accelgen_dev *dev, struct accelgen_result *res) {
    uint32_t done = ACCELGEN_IRQ_STATUS_DONE_MASK | ACCELGEN_IRQ_STATUS_ERROR_MASK | ACCELGEN_IRQ_STATUS_BUS_ERROR_MASK;
    /* Every interrupt source; START (which also clears IRQ_STATUS). */
    wr(dev, ACCELGEN_IRQ_ENABLE_OFFSET, done);
    wr(dev, ACCELGEN_CTRL_OFFSET, ACCELGEN_CTRL_START_MASK);
    /* The interrupt: DONE alone on success. (Invalidate the window's lines before reading the
     * output on a cached CPU.) */
    if (dev->wait_irq) {
        if (dev->wait_irq(dev->ctx) != 0) return ACCELGEN_E_TIMEOUT;
    } else {
        uint32_t n = 0;
        while ((rd(dev, ACCELGEN_IRQ_STATUS_OFFSET) & done) == 0)
            if (++n == ACCELGEN_POLL_LIMIT) return ACCELGEN_E_TIMEOUT;
    }
    res->irq_status = rd(dev, ACCELGEN_IRQ_STATUS_OFFSET);
    res->status = rd(dev, ACCELGEN_STATUS_OFFSET);
    res->cycles = rd(dev, ACCELGEN_CORE_READ(ACCELGEN_CORE_CYCLES));
    wr(dev, ACCELGEN_IRQ_STATUS_OFFSET, res->irq_status); /* W1C: acknowledge */
    return res->irq_status == ACCELGEN_IRQ_STATUS_DONE_MASK ? ACCELGEN_OK : ACCELGEN_E_RUN;
}

int accelgen_run(const struct accelgen_dev *dev, const uint8_t *image, size_t image_len,
                 const uint8_t *program, size_t program_len, struct accelgen_result *res) {
    size_t i;
    if (rd(dev, ACCELGEN_ID_OFFSET) != ACCELGEN_ID_VALUE) return ACCELGEN_E_ID;
    if (image_len > dev->mem_size) return ACCELGEN_E_SIZE;
    if (program_len % 8 != 0) return ACCELGEN_E_PROGRAM;
    if (dev->mem_bus & 0xFFFu) return ACCELGEN_E_ALIGN;
    /* 1. The memory image at the window's base; MEM_BASE names it. (On a cached CPU, flush the
     *    window's lines here so the accelerator reads what was written.) */
    memcpy(dev->mem, image, image_len);
    wr(dev, ACCELGEN_MEM_BASE_OFFSET, dev->mem_bus);
    /* 2. The program, low half then high half of each word. */
    for (i = 0; i < program_len; i += 8) {
        wr(dev, ACCELGEN_PROG_LO_OFFSET, le32(program + i));
        wr(dev, ACCELGEN_PROG_HI_OFFSET, le32(program + i + 4));
    }
    /* 3. and 4. */
    return start_and_wait(dev, res);
}

int accelgen_run_next(const struct accelgen_dev *dev, const uint8_t *input, size_t input_len,
                      size_t input_offset, struct accelgen_result *res) {
    if (input_offset > dev->mem_size || input_len > dev->mem_size - input_offset) return ACCELGEN_E_SIZE;
    /* 5. The next input over the input region (flush it on a cached CPU), then START again. */
    memcpy(dev->mem + input_offset, input, input_len);
    return start_and_wait(dev, res);
}
