//! How the CLI talks to a person or a script: `--output text|json`, the
//! [`say!`] lines that go to stdout for a person and to stderr when stdout
//! carries JSON, and the elapsed-time display of long waits.

use std::io::{IsTerminal, Write};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// What stdout carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub(crate) enum Output {
    /// Lines for a person.
    #[default]
    Text,
    /// One JSON document, in the shape docs/operating.md's "Machine-readable
    /// output" documents; progress and notes go to stderr.
    Json,
}

static OUTPUT: OnceLock<Output> = OnceLock::new();

/// Sets what stdout carries, once, before any command prints.
pub(crate) fn set_output(output: Output) {
    OUTPUT.set(output).ok();
}

/// What stdout carries (text unless [`set_output`] said otherwise).
pub(crate) fn output() -> Output {
    OUTPUT.get().copied().unwrap_or_default()
}

/// Whether stdout carries JSON.
pub(crate) fn json() -> bool {
    output() == Output::Json
}

/// Prints one line for a person: to stdout, or to stderr when stdout
/// carries JSON (so that `tandem status --output json | jq` still shows the
/// progress on the terminal and never mixes it into the document).
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {
        if $crate::ui::json() { eprintln!($($arg)*) } else { println!($($arg)*) }
    };
}

/// Prints `value` as the command's one JSON document on stdout.
pub(crate) fn emit_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    println!("{text}");
    Ok(())
}

/// How often a wait says it is still waiting when the output is a log,
/// not a terminal.
pub(crate) const PLAIN_EVERY: Duration = Duration::from_secs(30);

/// The elapsed-time display of one long wait (a stack settling, a
/// deployment, a promotion). On a terminal it redraws one status line on
/// stderr at every tick; otherwise (a CI log) it writes a plain line every
/// [`PLAIN_EVERY`], so that the log shows the wait without a line per poll.
pub(crate) struct Waiting {
    what: String,
    started: Instant,
    terminal: bool,
    last_plain: Duration,
    drawn: bool,
}

impl Waiting {
    /// Starts timing a wait for `what` (such as "tandem-dev-region in us-east-1 to settle").
    pub(crate) fn new(what: impl Into<String>) -> Self {
        Self {
            what: what.into(),
            started: Instant::now(),
            terminal: std::io::stderr().is_terminal(),
            last_plain: Duration::ZERO,
            drawn: false,
        }
    }

    /// How long it has waited.
    pub(crate) fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// Shows that it is still waiting.
    pub(crate) fn tick(&mut self) {
        let elapsed = self.elapsed();
        let mut err = std::io::stderr().lock();
        if self.terminal {
            let _ = write!(err, "\r\x1b[2K{}", progress_line(&self.what, elapsed));
            let _ = err.flush();
            self.drawn = true;
        } else if let Some(line) = plain_line(&self.what, elapsed, &mut self.last_plain) {
            let _ = writeln!(err, "{line}");
        }
    }

    /// Clears the status line before other output is printed (a terminal only).
    pub(crate) fn clear(&mut self) {
        if self.drawn {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
            self.drawn = false;
        }
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        self.clear();
    }
}

/// Runs `work`, showing a [`Waiting`] for `what` every second until it ends
/// (one long call, such as a failover function's promotion).
pub(crate) async fn while_waiting<T>(what: &str, work: impl Future<Output = T>) -> T {
    let mut waiting = Waiting::new(what);
    let mut work = std::pin::pin!(work);
    loop {
        tokio::select! {
            done = &mut work => return done,
            () = tokio::time::sleep(Duration::from_secs(1)) => waiting.tick(),
        }
    }
}

/// The terminal's status line: what, and the time so far.
pub(crate) fn progress_line(what: &str, elapsed: Duration) -> String {
    format!("  ... waiting for {what}: {}", format_elapsed(elapsed))
}

/// The plain line for a log: one when another [`PLAIN_EVERY`] has passed
/// since the last (`last` is updated), none otherwise.
pub(crate) fn plain_line(what: &str, elapsed: Duration, last: &mut Duration) -> Option<String> {
    if elapsed < *last + PLAIN_EVERY {
        return None;
    }
    *last = elapsed - Duration::from_secs(elapsed.as_secs() % PLAIN_EVERY.as_secs());
    Some(format!("  still waiting for {what} after {}", format_elapsed(elapsed)))
}

/// `42s`, `3m07s`, `1h02m`.
pub(crate) fn format_elapsed(elapsed: Duration) -> String {
    let s = elapsed.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elapsed_times_read_as_a_person_says_them() {
        assert_eq!(format_elapsed(Duration::from_millis(900)), "0s");
        assert_eq!(format_elapsed(Duration::from_secs(42)), "42s");
        assert_eq!(format_elapsed(Duration::from_secs(187)), "3m07s");
        assert_eq!(format_elapsed(Duration::from_secs(3720)), "1h02m");
    }

    #[test]
    fn a_log_gets_one_plain_line_per_interval_not_one_per_poll() {
        let mut last = Duration::ZERO;
        let mut lines = Vec::new();
        // A poll every 7 s for 100 s.
        for t in (0..=100).step_by(7) {
            if let Some(line) = plain_line("x to settle", Duration::from_secs(t), &mut last) {
                lines.push(line);
            }
        }
        assert_eq!(
            lines,
            [
                "  still waiting for x to settle after 35s",
                "  still waiting for x to settle after 1m03s",
                "  still waiting for x to settle after 1m31s",
            ]
        );
    }

    #[test]
    fn the_terminal_line_names_the_wait_and_the_time() {
        assert_eq!(
            progress_line("tandem-dev-region in us-east-1 to settle", Duration::from_secs(75)),
            "  ... waiting for tandem-dev-region in us-east-1 to settle: 1m15s"
        );
    }
}
