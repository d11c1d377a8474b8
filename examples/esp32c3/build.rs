//! Picks the root certificate built into the image: `PUSHER_CA_DER` (a DER file), else the
//! checked-in `certs/AmazonRootCA1.der`.

use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-env-changed=PUSHER_CA_DER");
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let path = match std::env::var_os("PUSHER_CA_DER") {
        Some(p) => manifest.join(p),
        None => manifest.join("certs/AmazonRootCA1.der"),
    };
    if !path.is_file() {
        panic!("PUSHER_CA_DER: {} is not a file", path.display());
    }
    println!("cargo:rerun-if-changed={}", path.display());
    println!("cargo:rustc-env=PUSHER_CA_DER_PATH={}", path.display());
}
