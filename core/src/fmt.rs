//! Diagnostics shim: `defmt` on firmware, `log` on hosts, nothing by default (never both).

#[allow(unused_macros)]
/// Traces a text with a fixed prefix (the wire, for `--verbose` tools and firmware logs).
macro_rules! trace_text {
    ($prefix:literal, $text:expr) => {{
        #[cfg(feature = "log")]
        log::trace!(concat!($prefix, " {}"), $text);
        #[cfg(feature = "defmt")]
        defmt::trace!("{=str} {=str}", $prefix, $text);
        #[cfg(not(any(feature = "log", feature = "defmt")))]
        let _ = &$text;
    }};
}

#[allow(unused_imports)]
pub(crate) use trace_text;
