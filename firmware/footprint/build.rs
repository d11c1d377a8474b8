//! Writes `memory.x` (from `memory.in`) where the linker finds it. With the `tls` feature the RAM region is
//! 64 KiB: a TLS read record alone is 16.6 KB (a size report only; not run under QEMU).
fn main() {
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    let memory = std::fs::read_to_string("memory.in").expect("read memory.in");
    let memory = if std::env::var_os("CARGO_FEATURE_TLS").is_some() {
        memory.replace("LENGTH = 16K", "LENGTH = 64K")
    } else {
        memory
    };
    std::fs::write(out.join("memory.x"), memory).expect("write memory.x");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=memory.in");
}
