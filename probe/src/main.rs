//! `bgp-probe`: the operator's command-line tool.

fn main() {
    println!("bgp-probe {}", env!("CARGO_PKG_VERSION"));
}
