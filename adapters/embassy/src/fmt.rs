//! Diagnostics: `defmt` on firmware, `log` on hosts, nothing by default.

/// Logs a debug message with one `Debug`/`Format` argument.
macro_rules! debug {
    ($msg:literal) => {{
        #[cfg(feature = "log")]
        log::debug!($msg);
        #[cfg(feature = "defmt")]
        defmt::debug!($msg);
    }};
    ($msg:literal, $arg:expr) => {{
        #[cfg(feature = "log")]
        log::debug!("{} {:?}", $msg, $arg);
        #[cfg(feature = "defmt")]
        defmt::debug!("{=str} {}", $msg, $arg);
        #[cfg(not(any(feature = "log", feature = "defmt")))]
        let _ = &$arg;
    }};
}

pub(crate) use debug;
