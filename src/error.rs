//! Errors that reach the user, each with the place it concerns and a fix.

use std::fmt;

/// A configuration problem found by `init` (settings) or when a mapping rule
/// is first seen. `field` is the full path, such as `settings.batchSize` or
/// `mapping.order.complete.settings.eventName`.
#[derive(Clone, Debug, PartialEq)]
pub struct ConfigError {
    pub field: String,
    pub problem: String,
    pub fix: String,
}

impl ConfigError {
    pub fn new(
        field: impl Into<String>,
        problem: impl Into<String>,
        fix: impl Into<String>,
    ) -> Self {
        ConfigError {
            field: field.into(),
            problem: problem.into(),
            fix: fix.into(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "HubSpot destination: {} {}. Fix: {}",
            self.field, self.problem, self.fix
        )
    }
}

impl std::error::Error for ConfigError {}

/// Why one event was not sent, or what was done to it on the way.
#[derive(Clone, Debug, PartialEq)]
pub struct Notice {
    pub level: Level,
    pub event: String,
    pub message: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Error,
    Warn,
    Info,
    /// What went well, for a logger turned up to debug.
    Debug,
}

impl Level {
    /// The collector logger's method name.
    pub fn method(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warn => "warn",
            Level::Info => "info",
            Level::Debug => "debug",
        }
    }
}

impl Notice {
    fn at(level: Level, event: &str, message: impl Into<String>) -> Self {
        Notice {
            level,
            event: event.to_string(),
            message: message.into(),
        }
    }

    pub fn warn(event: &str, message: impl Into<String>) -> Self {
        Notice::at(Level::Warn, event, message)
    }

    pub fn info(event: &str, message: impl Into<String>) -> Self {
        Notice::at(Level::Info, event, message)
    }

    pub fn debug(event: &str, message: impl Into<String>) -> Self {
        Notice::at(Level::Debug, event, message)
    }

    pub fn error(event: &str, message: impl Into<String>) -> Self {
        Notice::at(Level::Error, event, message)
    }
}
