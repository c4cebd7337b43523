//! The one logging hook: `setLogger` installs an app's `Logger` (a foreign trait), and every
//! line of the core's `log` facade reaches it with its level and target (`waystation::sync`).
//! Log lines carry no personal data.

use std::sync::{Arc, OnceLock, RwLock};

/// How important a log line is (`Warn`: something the core handled, like a failed sync).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, uniffi::Enum)]
pub enum LogLevel {
    Error,
    Warn,
    Info,
    Debug,
    Trace,
}

/// The `log` facade's levels in [`LogLevel`]'s order.
const LEVELS: [(LogLevel, log::Level); 5] = [
    (LogLevel::Error, log::Level::Error),
    (LogLevel::Warn, log::Level::Warn),
    (LogLevel::Info, log::Level::Info),
    (LogLevel::Debug, log::Level::Debug),
    (LogLevel::Trace, log::Level::Trace),
];

/// Receives the core's log lines on whichever thread logs: be quick, never call Waystation.
#[uniffi::export(with_foreign)]
pub trait Logger: Send + Sync {
    /// One log line: its level, where it comes from, and the message.
    fn log(&self, level: LogLevel, target: String, message: String);
}

/// The installed logger.
static LOGGER: RwLock<Option<Arc<dyn Logger>>> = RwLock::new(None);
/// The `log` facade's one logger per process, installed on the first `set_logger`.
static FORWARDER: OnceLock<()> = OnceLock::new();

struct Forwarder;

impl log::Log for Forwarder {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &log::Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let logger = LOGGER.read().unwrap_or_else(|p| p.into_inner()).clone();
        if let Some(logger) = logger {
            logger.log(
                LEVELS
                    .iter()
                    .find(|l| l.1 == record.level())
                    .map_or(LogLevel::Trace, |l| l.0),
                record.target().to_string(),
                record.args().to_string(),
            );
        }
    }

    fn flush(&self) {}
}

/// Routes the core's log lines at `max_level` and above to `logger`; a later call replaces
/// both.
#[uniffi::export]
pub fn set_logger(logger: Arc<dyn Logger>, max_level: LogLevel) {
    *LOGGER.write().unwrap_or_else(|p| p.into_inner()) = Some(logger);
    FORWARDER.get_or_init(|| {
        // Fails only when a Rust host installed its own logger; the lines then go there.
        let _ = log::set_boxed_logger(Box::new(Forwarder));
    });
    let level = LEVELS
        .iter()
        .find(|l| l.0 == max_level)
        .map_or(log::Level::Trace, |l| l.1);
    log::set_max_level(level.to_level_filter());
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Lines(Mutex<Vec<(LogLevel, String, String)>>);

    impl Logger for Lines {
        fn log(&self, level: LogLevel, target: String, message: String) {
            self.0.lock().unwrap().push((level, target, message));
        }
    }

    #[test]
    fn the_core_log_lines_reach_the_installed_logger_at_its_level() {
        let lines = Arc::new(Lines::default());
        set_logger(lines.clone(), LogLevel::Info);
        log::info!(target: "waystation::sync", "sync done");
        log::debug!(target: "waystation::storage", "not at info");
        // A later call replaces the logger and the level.
        let later = Arc::new(Lines::default());
        set_logger(later.clone(), LogLevel::Debug);
        log::debug!(target: "waystation::storage", "now at debug");
        let line = (
            LogLevel::Info,
            "waystation::sync".into(),
            "sync done".into(),
        );
        assert_eq!(*lines.0.lock().unwrap(), vec![line]);
        assert_eq!(later.0.lock().unwrap().len(), 1);
    }
}
