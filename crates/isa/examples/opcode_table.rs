fn main() { print!("{}", accelgen_isa::markdown_table()); }
