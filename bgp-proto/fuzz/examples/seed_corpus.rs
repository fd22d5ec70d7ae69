//! Writes seed corpora for the fuzz targets from MRT collector files
//! (see `bgp_proto_fuzz::seed` for what goes where).
//!
//! ```text
//! cargo run --release --manifest-path bgp-proto/fuzz/Cargo.toml \
//!     --example seed_corpus -- [DATA_DIR [CORPUS_DIR]]
//! ```
//!
//! DATA_DIR defaults to `$BGP_DATA_DIR`, else `../shared/data/bgp` beside
//! the workspace root (as for the crate's `mrt_files` test). CORPUS_DIR
//! defaults to `corpus/` in the fuzz crate, where `cargo fuzz run` looks.

use std::path::{Path, PathBuf};

fn main() -> bgp_proto_fuzz::seed::Result<()> {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut args = std::env::args_os().skip(1);
    let data_dir = match (args.next(), std::env::var_os("BGP_DATA_DIR")) {
        (Some(d), _) | (None, Some(d)) => PathBuf::from(d),
        // bgp-proto/fuzz -> workspace root -> ../shared/data/bgp
        (None, None) => manifest.join("../../../shared/data/bgp"),
    };
    let corpus_dir = args
        .next()
        .map_or_else(|| manifest.join("corpus"), PathBuf::from);
    for (dir, n) in bgp_proto_fuzz::seed::write_corpora(&data_dir, &corpus_dir)? {
        println!("{}: {n} seeds", dir.display());
    }
    Ok(())
}
