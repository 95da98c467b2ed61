//! `tandem completions`: a shell completion script, generated from the
//! command line's own definition.

/// `tandem completions`'s arguments.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// bash, zsh or fish.
    pub(crate) shell: clap_complete::Shell,
}

/// Prints the completion script of `command` (the whole `tandem` command
/// line) for the asked-for shell; it needs no checkout.
pub(crate) fn run(args: &Args, mut command: clap::Command) -> bool {
    clap_complete::generate(args.shell, &mut command, "tandem", &mut std::io::stdout());
    true
}
