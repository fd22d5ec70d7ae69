//! `bgpd`: the verifier daemon.
//!
//! The BGP session layer, Adj-RIB-In and verifier land with issues 3 and 4;
//! until then the binary reports its version and what it does not do yet.

fn main() {
    println!("bgpd {}", env!("CARGO_PKG_VERSION"));
    println!(
        "The session layer is not built yet (issue 3): this build decodes nothing and \
         opens no socket. Use `bgp-probe decode` for MRT files."
    );
}
