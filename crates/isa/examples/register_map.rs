//! Prints the host register map as Markdown, for `docs/accelerator.md`:
//! `cargo run -p accelgen-isa --example register_map`.

fn main() {
    print!("{}", accelgen_isa::register_markdown());
}
